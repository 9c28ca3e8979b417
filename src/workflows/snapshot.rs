//! Taking a snapshot: one RDB per node group, BGSAVEd on the node the runtime picks and copied
//! into the snapshot's files, then the model's record goes `available` (or `failed`, its files
//! removed). The model lock is never held across the engine's work.

use crate::engine::snapshot::save_rdb;
use crate::state::SharedState;

/// Takes snapshot `name` of `group_id` (its record is `creating`), preferring `preferred`'s
/// node with cluster mode disabled. Returns once the record is `available` or `failed`.
pub async fn take(state: &SharedState, name: &str, group_id: &str, preferred: Option<&str>) {
    let outcome = save_all(state, name, group_id, preferred).await;
    let now = state.now();
    match outcome {
        Ok(sizes) => {
            tracing::info!(snapshot = %name, group = %group_id, "snapshot available");
            state.model().finish_snapshot(name, &sizes, true, now);
        }
        Err(reason) => {
            tracing::error!(snapshot = %name, group = %group_id, %reason, "snapshot failed");
            state.engine.delete_snapshot_files(name);
            state.model().fail_snapshot(name, reason, true, now);
        }
    }
}

async fn save_all(
    state: &SharedState,
    name: &str,
    group_id: &str,
    preferred: Option<&str>,
) -> Result<Vec<(String, u64)>, String> {
    let handle = state.engine.runtime(group_id).map_err(|e| e.to_string())?;
    // Taken under the group's lock and released: a failover may run while the RDB is written,
    // and a node gone meanwhile fails the snapshot rather than blocking the group.
    let sources = handle.lock().await.snapshot_sources(preferred);
    let mut sizes = Vec::new();
    for source in sources {
        let file = state.engine.snapshot_file(name, &source.node_group_id);
        let size = save_rdb(&source, file).await.map_err(|e| e.to_string())?;
        sizes.push((source.node_group_id.clone(), size));
    }
    Ok(sizes)
}
