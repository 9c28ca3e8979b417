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
