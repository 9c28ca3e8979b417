//! `POST /_faults`: inject a failure into a replication group (see `workflows::faults`). The
//! body is JSON; an unknown field, or a field the fault type does not take, is refused with a
//! 400 rather than ignored.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{Response, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use super::protocol_errors::HttpError;
use crate::engine::toxics::spec::{NewToxic, parse_create};
use crate::scopes::Scopes;
use crate::workflows::faults::{Fault, FaultError, FaultKind, inject};

/// The longest fault a request may ask for (a day): a typo must not hold nodes down forever.
const MAX_DURATION_SECONDS: f64 = 86_400.0;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultBody {
    #[serde(rename = "type")]
    kind: String,
    replication_group_id: String,
    cache_cluster_id: Option<String>,
    availability_zone: Option<String>,
    duration_seconds: Option<f64>,
    promote: Option<String>,
    toxic: Option<Value>,
}

pub async fn create(State(scopes): State<Arc<Scopes>>, body: Bytes) -> Response<Body> {
    let fault = match parse(&body) {
        Ok(fault) => fault,
        Err(message) => return bad_request(message),
    };
    let group_id = fault.group_id.to_ascii_lowercase();
    let Some(state) = scopes
        .all()
        .into_iter()
        .map(|(_, state)| state)
        .find(|state| state.model().group(&group_id).is_ok())
    else {
        return FaultError::NotFound(format!("Replication group {group_id} not found."))
            .into_response();
    };
    let (kind, duration) = (fault.kind.name(), fault.duration);
    match inject(&state, fault).await {
        Ok(injected) => Json(json!({
            "type": kind,
            "replication_group_id": group_id,
            "members": injected.members,
            "relays": injected.relays,
            "duration_seconds": duration.map(|d| d.as_secs_f64()),
        }))
        .into_response(),
        Err(error) => error.into_response(),
    }
}

impl IntoResponse for FaultError {
    fn into_response(self) -> Response<Body> {
        let (status, code, message) = match self {
            Self::NotFound(m) => (StatusCode::NOT_FOUND, "NotFound", m),
            Self::Invalid(m) => (StatusCode::BAD_REQUEST, "InvalidFault", m),
            Self::Busy(m) => (StatusCode::CONFLICT, "InvalidReplicationGroupState", m),
        };
        HttpError::new(status, code, message).json_response()
    }
}

fn bad_request(message: String) -> Response<Body> {
    HttpError::new(StatusCode::BAD_REQUEST, "InvalidFault", message).json_response()
}

fn parse(body: &[u8]) -> Result<Fault, String> {
    let body: FaultBody =
        serde_json::from_slice(body).map_err(|e| format!("bad fault body: {e}"))?;
    let duration = match body.duration_seconds {
        None => None,
        Some(s) if s.is_finite() && (0.0..=MAX_DURATION_SECONDS).contains(&s) => {
            Some(Duration::from_secs_f64(s))
        }
        Some(s) => {
            return Err(format!(
                "duration_seconds must be between 0 and {MAX_DURATION_SECONDS}, not {s}"
            ));
        }
    };
    let kind = kind_of(&body)?;
    if body.promote.is_some()
        && matches!(
            kind,
            FaultKind::Freeze { .. } | FaultKind::ReplicationLag { .. }
        )
    {
        return Err(format!(
            "promote does not apply to {}: the health monitor or a later failover picks the replica",
            kind.name()
        ));
    }
    Ok(Fault {
        group_id: body.replication_group_id,
        kind,
        duration,
        promote: body.promote,
    })
}

/// The fault type and its own fields; a field another type takes is an error.
fn kind_of(body: &FaultBody) -> Result<FaultKind, String> {
    let needs_member = matches!(
        body.kind.as_str(),
        "kill" | "restart" | "freeze" | "replication-lag"
    );
    let member = match (&body.cache_cluster_id, needs_member) {
        (Some(member), true) => member.to_ascii_lowercase(),
        (None, true) => return Err(format!("{} needs cache_cluster_id", body.kind)),
        (Some(_), false) => {
            return Err(format!("cache_cluster_id does not apply to {}", body.kind));
        }
        (None, false) => String::new(),
    };
    if body.availability_zone.is_some() && body.kind != "az-power-interruption" {
        return Err(format!("availability_zone does not apply to {}", body.kind));
    }
    if body.toxic.is_some() && body.kind != "replication-lag" {
        return Err(format!("toxic does not apply to {}", body.kind));
    }
    Ok(match body.kind.as_str() {
        "kill" => FaultKind::Kill { member },
        "restart" => FaultKind::Restart { member },
        "freeze" => FaultKind::Freeze { member },
        "cluster-failure" => FaultKind::ClusterFailure,
        "az-power-interruption" => FaultKind::AzPowerInterruption {
            zone: body
                .availability_zone
                .clone()
                .ok_or("az-power-interruption needs availability_zone")?,
        },
        "replication-lag" => FaultKind::ReplicationLag {
            member,
            toxic: replication_toxic(body.toxic.as_ref())?,
        },
        other => {
            return Err(format!(
                "unknown fault type {other:?}: one of kill, restart, freeze, az-power-interruption, cluster-failure, replication-lag"
            ));
        }
    })
}

/// The toxic on the replication link, in Toxiproxy's shape; by default a cut (a `timeout`
/// toxic with no timeout on the primary-to-replica stream: the data is dropped).
fn replication_toxic(toxic: Option<&Value>) -> Result<NewToxic, String> {
    let default = json!({
        "name": "replication_cut", "type": "timeout", "stream": "downstream",
        "attributes": {"timeout": 0},
    });
    let mut toxic = toxic.cloned().unwrap_or(default);
    if let Some(fields) = toxic.as_object_mut() {
        fields
            .entry("stream")
            .or_insert_with(|| Value::from("downstream"));
    }
    parse_create(toxic.to_string().as_bytes()).map_err(|e| format!("toxic: {e}"))
}
