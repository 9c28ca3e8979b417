//! Toxiproxy's HTTP API over the endpoint proxies, in its JSON shapes, status codes and error
//! bodies (`{"error": "...", "status": N}`), so Toxiproxy client libraries drive our endpoints
//! unchanged. Served under `/_toxiproxy` on the main listener and, with `--toxiproxy-listen`,
//! at the bare paths for clients that only take a host and port.
//!
//! The proxies are the endpoints (`<group>-primary`, `<group>-reader`,
//! `<group>-configuration`), the nodes (by member id) and the replication relays: they come and
//! go with their groups, so creating, deleting and re-pointing proxies is refused with a 400
//! that says so. A node's toxics act once its front is up, so a change answers only then.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Response, StatusCode, header};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::engine::toxics::ToxicsError;
use crate::engine::toxics::registry::ProxyView;
use crate::engine::toxics::spec::parse_create;
use std::sync::Arc;

use crate::engine::toxics::ToxicRegistry;

/// The one registry of the endpoints' toxics (a process-wide one: see `ToxicRegistry::global`).
type Registry = Arc<ToxicRegistry>;

/// What `GET /version` reports: ours, and the Toxiproxy API release whose shapes we follow.
const VERSION: &str = concat!(
    "elasticache-local ",
    env!("CARGO_PKG_VERSION"),
    " (Toxiproxy API 2.12)"
);

/// How long a change may take to act on a node (its front moves the node's port).
const SETTLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits for the change just made to `proxy` to act; its failure as a 400 that says why.
async fn settle(toxics: &ToxicRegistry, proxy: &str) -> Result<(), ToxicsError> {
    toxics
        .settled(proxy, SETTLE_LIMIT)
        .await
        .map_err(ToxicsError::Unsupported)
}

/// A removal is done whatever the front does: it is gone from the proxy, and a front slow to
/// close (its node busy) follows later.
async fn settle_removal(toxics: &ToxicRegistry, proxy: &str) {
    if let Err(error) = settle(toxics, proxy).await {
        tracing::warn!(proxy, %error, "toxics removed; the node's front has not followed yet");
    }
}

const NOT_AN_ENDPOINT: &str = "proxies are the endpoints of replication groups: they are created and deleted with their groups (CreateReplicationGroup, DeleteReplicationGroup), not through this API";

pub fn routes() -> Router<Registry> {
    Router::new()
        .route("/reset", post(reset))
        .route("/version", get(version))
        .route("/populate", post(populate))
        .route("/proxies", get(proxy_index).post(proxy_create))
        .route(
            "/proxies/{proxy}",
            get(proxy_show)
                .post(proxy_update)
                .patch(proxy_update)
                .delete(proxy_delete),
        )
        .route(
            "/proxies/{proxy}/toxics",
            get(toxic_index).post(toxic_create),
        )
        .route(
            "/proxies/{proxy}/toxics/{toxic}",
            get(toxic_show)
                .post(toxic_update)
                .patch(toxic_update)
                .delete(toxic_delete),
        )
        .fallback(not_found)
}

/// Serves the API at its bare paths on `address` (`--toxiproxy-listen`), in the background,
/// behind the same Host/Origin checks as the main listener (`allowed_host`: `--allowed-host`).
pub async fn serve(
    address: std::net::SocketAddr,
    toxics: Registry,
    allowed_host: &[String],
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| format!("cannot listen on --toxiproxy-listen {address}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(address = %bound, "toxiproxy API listening");
    let policy = std::sync::Arc::new(super::guard::HostPolicy::new(bound, allowed_host));
    let app = routes()
        .with_state(toxics)
        .layer(axum::middleware::from_fn_with_state(
            policy,
            super::guard::browser_guard,
        ));
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "toxiproxy API listener failed");
        }
    });
    Ok(())
}

type Answer = Result<Response<Body>, ToxicsError>;

fn status_of(error: &ToxicsError) -> StatusCode {
    match error {
        ToxicsError::ProxyNotFound | ToxicsError::ToxicNotFound => StatusCode::NOT_FOUND,
        ToxicsError::ProxyAlreadyExists | ToxicsError::ToxicAlreadyExists => StatusCode::CONFLICT,
        ToxicsError::BadRequestBody(_)
        | ToxicsError::MissingField(_)
        | ToxicsError::InvalidStream
        | ToxicsError::InvalidToxicType
        | ToxicsError::Unsupported(_) => StatusCode::BAD_REQUEST,
    }
}

impl axum::response::IntoResponse for ToxicsError {
    fn into_response(self) -> axum::response::Response {
        let status = status_of(&self);
        let body = json!({ "error": self.to_string(), "status": status.as_u16() });
        tracing::info!(status = status.as_u16(), error = %self, "toxiproxy api call refused");
        // Toxiproxy writes its errors with Go's http.Error, which ends them with a newline.
        json_response(status, format!("{body}\n"))
    }
}

fn json_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn ok(value: Value) -> Answer {
    Ok(json_response(StatusCode::OK, value.to_string()))
}

fn no_content() -> Answer {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

fn proxy_json(proxy: &ProxyView) -> Value {
    json!({
        "name": proxy.name,
        "listen": proxy.listen,
        "upstream": proxy.upstream,
        "enabled": proxy.enabled,
        "toxics": proxy.toxics.iter().map(|t| t.to_json()).collect::<Vec<_>>(),
    })
}

/// No such route. Toxiproxy answers a plain-text `404 page not found`; this answers its JSON
/// error shape, as every other error here, so clients and the OpenAPI description see one shape.
async fn not_found() -> Response<Body> {
    let body = json!({ "error": "404 page not found", "status": 404 });
    json_response(StatusCode::NOT_FOUND, format!("{body}\n"))
}

async fn version() -> Response<Body> {
    let mut response = json_response(StatusCode::OK, format!("{{\"version\": \"{VERSION}\"}}\n"));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    response
}

async fn reset(State(toxics): State<Registry>) -> Answer {
    toxics.reset();
    for proxy in toxics.proxies() {
        settle_removal(&toxics, &proxy.name).await;
    }
    no_content()
}

async fn proxy_index(State(toxics): State<Registry>) -> Answer {
    let proxies: Map<String, Value> = toxics
        .proxies()
        .iter()
        .map(|p| (p.name.clone(), proxy_json(p)))
        .collect();
    ok(Value::Object(proxies))
}

/// The fields of a proxy a client may send.
#[derive(Deserialize)]
struct ProxyBody {
    #[serde(default)]
    name: String,
    listen: Option<String>,
    #[serde(default)]
    upstream: Option<String>,
    enabled: Option<bool>,
}

fn parse_proxy(body: &[u8]) -> Result<ProxyBody, ToxicsError> {
    serde_json::from_slice(body).map_err(|e| ToxicsError::BadRequestBody(e.to_string()))
}

/// Toxiproxy's checks (body, name, upstream, duplicate), then a refusal: see the module doc.
async fn proxy_create(State(toxics): State<Registry>, body: Bytes) -> Answer {
    let input = parse_proxy(&body)?;
    if input.name.is_empty() {
        return Err(ToxicsError::MissingField("name"));
    }
    if input.upstream.as_deref().is_none_or(str::is_empty) {
        return Err(ToxicsError::MissingField("upstream"));
    }
    if toxics.proxy(&input.name).is_ok() {
        return Err(ToxicsError::ProxyAlreadyExists);
    }
    Err(ToxicsError::Unsupported(format!(
        "cannot create proxy {}: {NOT_AN_ENDPOINT}",
        input.name
    )))
}

async fn populate() -> Answer {
    Err(ToxicsError::Unsupported(format!(
        "cannot populate proxies: {NOT_AN_ENDPOINT}"
    )))
}

async fn proxy_show(State(toxics): State<Registry>, Path(proxy): Path<String>) -> Answer {
    ok(proxy_json(&toxics.proxy(&proxy)?))
}

/// Enables or disables a proxy. `listen` and `upstream` may be sent (Toxiproxy's clients send
/// the whole proxy back) but must be the current values: an endpoint's port is fixed and its
/// upstream follows the group's nodes.
async fn proxy_update(
    State(toxics): State<Registry>,
    Path(proxy): Path<String>,
    body: Bytes,
) -> Answer {
    let current = toxics.proxy(&proxy)?;
    let input = parse_proxy(&body)?;
    if input.listen.as_ref().is_some_and(|l| *l != current.listen) {
        return Err(ToxicsError::Unsupported(format!(
            "proxy {proxy} listens on {} (the endpoint's port) and cannot be moved",
            current.listen
        )));
    }
    if input
        .upstream
        .as_ref()
        .is_some_and(|u| *u != current.upstream)
    {
        return Err(ToxicsError::Unsupported(format!(
            "proxy {proxy}'s upstream is {} and follows the group's nodes; it cannot be set",
            current.upstream
        )));
    }
    let enabled = input.enabled.unwrap_or(current.enabled);
    toxics.set_enabled(&proxy, enabled)?;
    if let Err(error) = settle(&toxics, &proxy).await {
        let _ = toxics.set_enabled(&proxy, current.enabled);
        return Err(error);
    }
    let updated = toxics.proxy(&proxy)?;
    tracing::info!(proxy, enabled, "toxiproxy: proxy updated");
    ok(proxy_json(&updated))
}

async fn proxy_delete(State(toxics): State<Registry>, Path(proxy): Path<String>) -> Answer {
    toxics.proxy(&proxy)?;
    Err(ToxicsError::Unsupported(format!(
        "cannot delete proxy {proxy}: {NOT_AN_ENDPOINT}"
    )))
}

async fn toxic_index(State(toxics): State<Registry>, Path(proxy): Path<String>) -> Answer {
    let toxics = toxics.proxy(&proxy)?.toxics;
    ok(Value::Array(toxics.iter().map(|t| t.to_json()).collect()))
}

async fn toxic_create(
    State(toxics): State<Registry>,
    Path(proxy): Path<String>,
    body: Bytes,
) -> Answer {
    toxics.proxy(&proxy)?;
    let toxic = toxics.add_toxic(&proxy, parse_create(&body)?)?;
    if let Err(error) = settle(&toxics, &proxy).await {
        // A toxic that cannot act is not kept.
        let _ = toxics.remove_toxic(&proxy, &toxic.name);
        return Err(error);
    }
    ok(toxic.to_json())
}

async fn toxic_show(
    State(toxics): State<Registry>,
    Path((proxy, toxic)): Path<(String, String)>,
) -> Answer {
    ok(toxics.toxic(&proxy, &toxic)?.to_json())
}

async fn toxic_update(
    State(toxics): State<Registry>,
    Path((proxy, toxic)): Path<(String, String)>,
    body: Bytes,
) -> Answer {
    ok(toxics.update_toxic(&proxy, &toxic, &body)?.to_json())
}

async fn toxic_delete(
    State(toxics): State<Registry>,
    Path((proxy, toxic)): Path<(String, String)>,
) -> Answer {
    toxics.remove_toxic(&proxy, &toxic)?;
    settle_removal(&toxics, &proxy).await;
    no_content()
}
