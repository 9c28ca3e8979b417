//! Control endpoints outside the AWS action space, for test isolation the way moto's reset is
//! used: `GET /_health` and `POST /_reset`.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::state::SharedState;

/// Version, groups, nodes the model knows and redis-server processes actually running.
pub async fn health(State(state): State<SharedState>) -> Json<Value> {
    let (groups, members) = {
        let model = state.model();
        let groups: Vec<Value> = model
            .groups()
            .map(|g| json!({ "id": g.id.as_str(), "status": g.status.as_str(), "members": g.members.len() }))
            .collect();
        let members: usize = model.groups().map(|g| g.members.len()).sum();
        (groups, members)
    };
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "groups": groups,
        "members": members,
        "redis_processes": crate::engine::process::live_redis_children(std::process::id()).len(),
    }))
}

/// Deletes every group (stopping its nodes and endpoints), every event and every quota
/// counter; answers once nothing is left running.
pub async fn reset(State(state): State<SharedState>) -> Json<Value> {
    let removed = state.model().reset();
    let ids: Vec<String> = removed.iter().map(|g| g.id.to_string()).collect();
    for id in &ids {
        state.engine.stop_group(id).await;
    }
    tracing::info!(
        groups = ids.len(),
        "reset: every group, event and quota counter removed"
    );
    Json(json!({ "deleted": ids }))
}
