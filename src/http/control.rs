//! Control endpoints outside the AWS action space, for test isolation the way moto's reset is
//! used: `GET /_health` and `POST /_reset`. Both cover every account and region. And
//! `GET /_tls/ca.pem`, the CA clients verify TLS nodes against. `POST /_maintenance/{id}`
//! fast-forwards a group to its next maintenance window.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::scopes::Scopes;

/// Version, groups (with their account and region), nodes the model knows and redis-server
/// processes actually running.
pub async fn health(State(scopes): State<Arc<Scopes>>) -> Json<Value> {
    let mut groups = Vec::new();
    let mut members = 0;
    for (scope, state) in scopes.all() {
        let model = state.model();
        for g in model.groups() {
            members += g.members.len();
            groups.push(json!({
                "id": g.id.as_str(), "status": g.status.as_str(), "members": g.members.len(),
                "account": scope.account, "region": scope.region,
            }));
        }
    }
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "groups": groups,
        "members": members,
        "redis_processes": crate::engine::process::live_redis_children(std::process::id()).len(),
    }))
}

/// Deletes every group of every account and region (stopping its nodes and endpoints), every
/// tag, event and quota counter; answers once nothing is left running.
pub async fn reset(State(scopes): State<Arc<Scopes>>) -> Json<Value> {
    let mut ids = Vec::new();
    for (_, state) in scopes.all() {
        let removed = state.model().reset();
        let clusters = state.model().take_cache_clusters();
        for group in removed {
            state.engine.stop_group(group.id.as_str()).await;
            ids.push(group.id.to_string());
        }
        for cluster in clusters {
            state.engine.stop_cache_cluster(&cluster.id).await;
            ids.push(cluster.id);
        }
    }
    tracing::info!(
        groups = ids.len(),
        "reset: every group, tag, event and quota counter of every account and region removed"
    );
    Json(json!({ "deleted": ids }))
}

/// `GET /_tls/ca.pem`: the CA certificate every TLS node's certificate chains to (also
/// `<data dir>/tls-ca.pem`), for `redis-cli --tls --cacert` or redis-py's `ssl_ca_certs`.
pub async fn tls_ca(State(scopes): State<Arc<Scopes>>) -> impl axum::response::IntoResponse {
    let pem = scopes.default_state().engine.ca().cert_pem().to_string();
    (
        [(axum::http::header::CONTENT_TYPE, "application/x-pem-file")],
        pem,
    )
}

/// `POST /_maintenance/{ReplicationGroupId}`: the group's next maintenance window, now: what
/// `ApplyImmediately=false` deferred is applied (answers once it is), the group's events
/// written, its pending values cleared. The group is looked up in every account and region;
/// an id that names no group but a standalone cache cluster starts that cluster's deferred
/// node change (it answers `modifying`; the cluster is `available` once the nodes changed).
pub async fn maintenance(
    State(scopes): State<Arc<Scopes>>,
    Path(group_id): Path<String>,
) -> (StatusCode, Json<Value>) {
    let found = scopes
        .all()
        .into_iter()
        .find(|(_, state)| state.model().group(&group_id).is_ok());
    let Some((_, state)) = found else {
        if let Some(answer) = cluster_maintenance(&scopes, &group_id) {
            return answer;
        }
        let message = format!("ReplicationGroup {group_id} not found.");
        return (
            StatusCode::NOT_FOUND,
            Json(json!({ "__type": "ReplicationGroupNotFoundFault", "message": message })),
        );
    };
    match crate::workflows::maintenance::apply_now(&state, &group_id).await {
        Ok(applied) => {
            let status = state.model().group(&group_id).map(|g| g.status.as_str());
            (
                StatusCode::OK,
                Json(
                    json!({ "replication_group_id": group_id, "applied": applied, "status": status.ok() }),
                ),
            )
        }
        Err(error) => (
            StatusCode::CONFLICT,
            Json(json!({ "__type": error.code(), "message": error.to_string() })),
        ),
    }
}

/// `POST /_maintenance/{CacheClusterId}` of a standalone cluster; `None` when no scope has one
/// of that id.
fn cluster_maintenance(scopes: &Scopes, cluster_id: &str) -> Option<(StatusCode, Json<Value>)> {
    let (_, state) = scopes
        .all()
        .into_iter()
        .find(|(_, state)| state.model().cache_cluster(cluster_id).is_ok())?;
    let answer = match crate::workflows::cluster_maintenance::start_now(&state, cluster_id) {
        Ok(applied) => {
            let model = state.model();
            let status = model
                .cache_cluster(cluster_id)
                .map(|c| crate::model::resource::Lifecycle::as_str(c.status));
            (
                StatusCode::OK,
                Json(
                    json!({ "cache_cluster_id": cluster_id, "applied": applied, "status": status.ok() }),
                ),
            )
        }
        Err(error) => (
            StatusCode::CONFLICT,
            Json(json!({ "__type": error.code(), "message": error.to_string() })),
        ),
    };
    Some(answer)
}
