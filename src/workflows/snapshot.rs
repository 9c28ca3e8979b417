//! Taking a snapshot: one RDB per node group, BGSAVEd on the node the runtime picks and copied
//! into the snapshot's files, then the model's record goes `available` (or `failed`, its files
//! removed). The model lock is never held across the engine's work.

use crate::engine::snapshot::save_rdb;
use crate::state::SharedState;

/// What a snapshot is taken of.
#[derive(Debug, Clone)]
pub enum SnapshotOf {
    /// A replication group, preferring `preferred`'s node with cluster mode disabled.
    Group {
        group_id: String,
        preferred: Option<String>,
    },
    /// A standalone Redis or Valkey cache cluster: its one node.
    CacheCluster(String),
}

impl SnapshotOf {
    fn id(&self) -> &str {
        match self {
            Self::Group { group_id, .. } => group_id,
            Self::CacheCluster(cluster_id) => cluster_id,
        }
    }
}

/// Takes snapshot `name` (its record is `creating`). Returns once the record is `available`
/// or `failed`.
pub async fn take(state: &SharedState, name: &str, of: &SnapshotOf) {
    let outcome = save_all(state, name, of).await;
    let now = state.now();
    let source = of.id();
    match outcome {
        Ok(sizes) => {
            tracing::info!(snapshot = %name, %source, "snapshot available");
            state.model().finish_snapshot(name, &sizes, true, now);
        }
        Err(reason) => {
            tracing::error!(snapshot = %name, %source, %reason, "snapshot failed");
            state.engine.delete_snapshot_files(name);
            state.model().fail_snapshot(name, reason, true, now);
        }
    }
}

async fn save_all(
    state: &SharedState,
    name: &str,
    of: &SnapshotOf,
) -> Result<Vec<(String, u64)>, String> {
    // Taken under the runtime's lock and released: a failover may run while the RDB is
    // written, and a node gone meanwhile fails the snapshot rather than blocking the group.
    let sources = match of {
        SnapshotOf::Group {
            group_id,
            preferred,
        } => {
            let handle = state.engine.runtime(group_id).map_err(|e| e.to_string())?;
            let runtime = handle.lock().await;
            runtime.snapshot_sources(preferred.as_deref())
        }
        SnapshotOf::CacheCluster(cluster_id) => {
            let handle = (state.engine.cache_cluster(cluster_id)).map_err(|e| e.to_string())?;
            let runtime = handle.lock().await;
            vec![runtime.snapshot_source().map_err(|e| e.to_string())?]
        }
    };
    let mut sizes = Vec::new();
    for source in sources {
        let file = state.engine.snapshot_file(name, &source.node_group_id);
        let size = save_rdb(&source, file).await.map_err(|e| e.to_string())?;
        sizes.push((source.node_group_id.clone(), size));
    }
    Ok(sizes)
}
