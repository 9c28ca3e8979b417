//! A standalone cluster's maintenance window: the node-count change and node type
//! `ApplyImmediately=false` deferred (`CacheCluster::deferred_nodes`, `deferred_node_type`) start when the cluster's day clock (scaled by
//! `--time-scale`, as a group's is) enters its `PreferredMaintenanceWindow` (AWS's default one
//! when none was given: the one DescribeCacheClusters reports), or at once by
//! `POST /_maintenance/{CacheClusterId}`. Either way as an immediate change runs.

use super::maintenance::next_window;
use crate::model::Model;
use crate::model::cache_cluster::ClusterStatus;
use crate::protocol::ApiError;
use crate::state::SharedState;

/// Waits for the cluster's next maintenance window, then starts the deferred change; ends when
/// nothing is deferred any more (started, fast-forwarded, or the cluster gone).
pub fn watch(state: SharedState, cluster_id: String) {
    tokio::spawn(async move {
        let started = state.now();
        let probe = |model: &Model| {
            let cluster = model.cache_cluster(&cluster_id).ok()?;
            let deferred = cluster.deferred_nodes.is_some() || cluster.deferred_node_type.is_some();
            let window = cluster.settings.stored.preferred_maintenance_window.clone();
            deferred.then(|| (window, cluster.status == ClusterStatus::Available))
        };
        while next_window(&state, started, probe).await {
            match start_now(&state, &cluster_id) {
                Ok(_) => return,
                Err(error) => {
                    tracing::debug!(cluster = %cluster_id, %error, "maintenance postponed")
                }
            }
        }
    });
}

/// Applies the deferred changes now: the node type recorded, the node change started (the
/// cluster goes `modifying`; the nodes change in the background); false when nothing was
/// deferred.
pub fn start_now(state: &SharedState, cluster_id: &str) -> Result<bool, ApiError> {
    let Some(nodes) = state.model().begin_deferred_changes(cluster_id)? else {
        return Ok(false);
    };
    let id = state.model().cache_cluster(cluster_id)?.id.clone();
    // A deferred node type reaches the node's maxmemory (the same value again without one).
    let (state_now, id_now) = (state.clone(), id.clone());
    tokio::spawn(
        async move { super::node_memory::apply_to_cache_cluster(&state_now, &id_now).await },
    );
    let Some((pending, add)) = nodes else {
        return Ok(true);
    };
    tracing::info!(cluster = %id, add, remove = ?pending.to_remove, "applying the node change deferred to the maintenance window");
    tokio::spawn(super::cache_cluster::change_nodes(
        state.clone(),
        id,
        add,
        pending.to_remove,
    ));
    Ok(true)
}
