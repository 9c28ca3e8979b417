//! The engine half of Increase/DecreaseReplicaCount: start and sync, or stop, real nodes.

use crate::state::SharedState;

pub async fn run(
    state: SharedState,
    group_id: String,
    increase: bool,
    added: Vec<String>,
    removed: Vec<String>,
) {
    let mut started = Vec::new();
    let mut failure = None;
    match state.engine.runtime(&group_id) {
        Ok(handle) => {
            let mut runtime = handle.lock().await;
            for member in &added {
                match runtime.add_replica(member).await {
                    Ok(address) => started.push((member.clone(), address)),
                    Err(error) => {
                        failure = Some(error.to_string());
                        break;
                    }
                }
            }
            for member in &removed {
                if let Err(error) = runtime.remove_replica(member).await {
                    failure.get_or_insert(error.to_string());
                }
            }
        }
        Err(error) => failure = Some(error.to_string()),
    }
    if let Some(reason) = &failure {
        tracing::error!(group = %group_id, %reason, "replica count change failed");
    }
    state.model().finish_replica_change(
        &group_id,
        increase,
        &started,
        &removed,
        failure,
        state.now(),
    );
    tracing::info!(group = %group_id, ?started, ?removed, "replica count changed");
}
