//! The HTTP front: `POST /` with a form body or `GET /?Action=...`, decoded, dispatched, and
//! answered with the XML envelope; every failure is an AWS `ErrorResponse`, never an HTML page.

use std::any::Any;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;

use crate::api::{dispatch, resolve_action};
use crate::protocol::sigv4::CredentialScope;
use crate::protocol::xml::error_body;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

/// The account quotas are counted against when a request carries no SigV4 credential.
pub const DEFAULT_ACCOUNT: &str = "default";

/// The largest form body read; the biggest real request (a create with every list filled) is
/// a few KiB.
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub fn app(state: SharedState) -> Router {
    Router::new()
        .route("/_health", axum::routing::get(crate::control::health))
        .route("/_state", axum::routing::get(crate::dashboard::state))
        .route("/_reset", axum::routing::post(crate::control::reset))
        // The query API is `GET /` and `POST /`; anything else gets an AWS-shaped 404 or 405.
        .route("/", axum::routing::get(handle).post(handle))
        .fallback(crate::http_errors::not_found)
        .method_not_allowed_fallback(crate::http_errors::method_not_allowed)
        .with_state(state)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

async fn handle(State(state): State<SharedState>, request: Request) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let ctx = request_context(&state, &parts.headers);
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        let error = ApiError::InvalidParameterValue(format!(
            "The request body is larger than {MAX_BODY_BYTES} bytes."
        ));
        return error_response(&error, &ctx.request_id);
    };
    let query = parts.uri.query();
    let params = QueryParams::decode(query, &body);
    // A browser opening the server's URL gets the live dashboard instead of MissingAction.
    if parts.method == axum::http::Method::GET
        && params.optional("Action").is_none_or(str::is_empty)
        && crate::dashboard::accepts_html(&parts.headers)
    {
        return crate::dashboard::page();
    }
    if let Some(verifier) = &state.settings.verifier
        && let Err(error) = verifier.verify(
            parts.method.as_str(),
            parts.uri.path(),
            query,
            &parts.headers,
            &body,
            state.now(),
        )
    {
        tracing::info!(
            status = error.status().as_u16(),
            code = error.code(),
            message = error.message(),
            "request refused by --verify-sigv4"
        );
        return error_response(&error, &ctx.request_id);
    }
    let action_name = params.optional("Action").unwrap_or("");
    let result = match resolve_action(&params).and_then(|action| {
        crate::protocol::api_version::check(&params, action_name).map(|()| action)
    }) {
        Ok(action) => dispatch(action, &state, &params, &ctx).await,
        Err(error) => Err(error),
    };
    let elapsed_us = started.elapsed().as_micros() as u64;
    match result {
        Ok(xml) => {
            tracing::info!(action = %action_name, status = 200, elapsed_us, request_id = %ctx.request_id, "api call");
            xml_response(StatusCode::OK, xml, &ctx.request_id)
        }
        Err(error) => {
            tracing::info!(action = %action_name, status = error.status().as_u16(), code = error.code(), message = error.message(), elapsed_us, request_id = %ctx.request_id, "api call failed");
            error_response(&error, &ctx.request_id)
        }
    }
}

fn request_context(state: &SharedState, headers: &HeaderMap) -> RequestContext {
    let scope = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(CredentialScope::from_authorization);
    RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        region: scope
            .as_ref()
            .map_or_else(|| state.settings.region.clone(), |s| s.region.clone()),
        account: scope.map_or_else(|| DEFAULT_ACCOUNT.to_string(), |s| s.access_key_id),
    }
}

pub fn error_response(error: &ApiError, request_id: &str) -> Response<Body> {
    xml_response(error.status(), error_body(error, request_id), request_id)
}

fn xml_response(status: StatusCode, xml: String, request_id: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(xml));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-RequestId", value);
    }
    response
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(%detail, "request handler panicked");
    let error = ApiError::InternalFailure(format!(
        "The server failed to process the request: {detail}"
    ));
    error_response(&error, &uuid::Uuid::new_v4().to_string())
}
