//! RebootCacheCluster: the nodes named really restart and come back empty, with the parameter
//! changes that waited for a reboot active. A replication group's member reboots its one node:
//! a primary is restarted in place, with no failover, and its replicas resync (to empty).

use super::shape::CacheClusterResult;
use crate::model::cache_cluster::CacheEngine;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};
use crate::workflows::cache_cluster;

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<CacheClusterResult, ApiError> {
    let raw_id = params.required("CacheClusterId")?;
    let node_ids = params.list("CacheNodeIdsToReboot", "CacheNodeId")?;
    if node_ids.is_empty() {
        return Err(ApiError::missing_parameter("CacheNodeIdsToReboot"));
    }
    if let Some(response) = super::member_reboot::run(state, raw_id, &node_ids)? {
        return Ok(response);
    }
    let (cluster, node_ids) = state.model().begin_cluster_reboot(raw_id, &node_ids)?;
    let response = CacheClusterResult::standalone(&cluster);
    let group = cluster.settings.cache_parameter_group_name.as_deref();
    let settings = match cluster.engine {
        CacheEngine::Redis | CacheEngine::Valkey => {
            super::reboot_settings(state, group, &ctx.scope())
        }
        CacheEngine::Memcached => vec![],
    };
    tracing::info!(cluster = %cluster.id, ?node_ids, ?settings, "rebooting cache cluster nodes");
    tokio::spawn(cache_cluster::reboot(
        state.clone(),
        cluster.id,
        node_ids,
        settings,
    ));
    Ok(response)
}
