//! The engine half of Increase/DecreaseReplicaCount: start and sync, or stop, real nodes.

use std::net::SocketAddrV4;

use crate::engine::{EngineError, Runtime};
use crate::state::SharedState;

/// `added`: each new member with its node group; `removed`: the members to stop.
pub async fn run(
    state: SharedState,
    group_id: String,
    increase: bool,
    added: Vec<(String, String)>,
    removed: Vec<String>,
) {
    let (started, failure) = match state.engine.runtime(&group_id) {
        Ok(handle) => {
            let mut runtime = handle.lock().await;
            change(&mut runtime, &added, &removed).await
        }
        Err(error) => (Vec::new(), Some(error.to_string())),
    };
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

/// The new members that run (with their addresses) and the first failure, if any.
async fn change(
    runtime: &mut Runtime,
    added: &[(String, String)],
    removed: &[String],
) -> (Vec<(String, SocketAddrV4)>, Option<String>) {
    if let Runtime::Cluster(cluster) = runtime {
        let mut failure = None;
        if !added.is_empty() {
            failure = cluster.add_replicas(added).await.err();
        }
        if !removed.is_empty() && failure.is_none() {
            failure = cluster.remove_replicas(removed).await.err();
        }
        let started = cluster
            .node_addresses()
            .into_iter()
            .filter(|(member, _)| added.iter().any(|(id, _)| id == member))
            .collect();
        return (started, failure.map(|e: EngineError| e.to_string()));
    }
    let mut started = Vec::new();
    let mut failure = None;
    for (member, _) in added {
        match runtime.add_replica(member).await {
            Ok(address) => started.push((member.clone(), address)),
            Err(error) => {
                failure = Some(error.to_string());
                break;
            }
        }
    }
    for member in removed {
        if let Err(error) = runtime.remove_replica(member).await {
            failure.get_or_insert(error.to_string());
        }
    }
    (started, failure)
}
