//! The cache cluster actions: standalone clusters (Redis or Memcached) and, through
//! CreateCacheCluster/DeleteCacheCluster, the replicas of cluster-mode-disabled groups.

mod add_member;
mod cluster_settings;
pub(super) mod create_cache_cluster;
pub(super) mod delete_cache_cluster;
pub(super) mod describe_cache_clusters;
mod member_reboot;
pub(super) mod modify_cache_cluster;
pub(super) mod reboot_cache_cluster;
pub(super) mod shape;

use crate::model::scope::Scope;
use crate::state::SharedState;

/// The `requires-reboot` values of parameter group `name` (none for the defaults): what a
/// rebooted Redis node starts with.
fn reboot_settings(
    state: &SharedState,
    name: Option<&str>,
    scope: &Scope,
) -> Vec<(String, String)> {
    let Some(name) = name else {
        return vec![];
    };
    state
        .model()
        .parameter_group(name, scope)
        .map(|g| g.reboot_settings())
        .unwrap_or_default()
}
