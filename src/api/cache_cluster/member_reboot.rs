//! RebootCacheCluster of a replication group's member: its one node (`0001`) restarts empty.
//! A primary comes back as the primary (a customer reboot never fails over) and its replicas
//! resync from it, so they are empty too; a replica resyncs from the primary.

use super::shape::CacheClusterResult;
use crate::protocol::ApiError;
use crate::state::SharedState;
use crate::workflows::cache_cluster;

/// `Some` answer when `raw_id` is a member, `None` for any other id.
pub fn run(
    state: &SharedState,
    raw_id: &str,
    node_ids: &[String],
) -> Result<Option<CacheClusterResult>, ApiError> {
    if state.model().group_of_member(raw_id).is_none() {
        return Ok(None);
    }
    if let Some(other) = node_ids.iter().find(|id| *id != crate::workflows::NODE_ID) {
        return Err(ApiError::InvalidParameterValue(format!(
            "Cache node {other} does not exist in cache cluster {raw_id}: a replication group's member has node 0001."
        )));
    }
    let (group, member) = state.model().begin_member_reboot(raw_id)?;
    let settings = reboot_settings(state, &group);
    tracing::info!(group = %group.id, cluster = %member.cluster_id, "rebooting a member's node");
    let response = CacheClusterResult::member(&group, &member, None);
    tokio::spawn(cache_cluster::reboot_member(
        state.clone(),
        group.id.to_string(),
        member.cluster_id,
        settings,
    ));
    Ok(Some(response))
}

/// The parameter group's `requires-reboot` values: the restarted node starts with them.
fn reboot_settings(
    state: &SharedState,
    group: &crate::model::group::ReplicationGroup,
) -> Vec<(String, String)> {
    let scope = crate::model::scope::Scope::new(&group.arn.account, &group.arn.region);
    super::reboot_settings(
        state,
        group.settings.cache_parameter_group_name.as_deref(),
        &scope,
    )
}
