//! The HTTP front: `POST /` with a form body or `GET /?Action=...`, decoded, dispatched, and
//! answered with the XML envelope; every failure is an AWS `ErrorResponse`, never an HTML page.

use std::any::Any;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Response, StatusCode, header};
use axum::response::IntoResponse;
use tower_http::catch_panic::CatchPanicLayer;

use super::error::{error_response, xml_response};
use crate::api::{dispatch, resolve_action};
use crate::model::scope::Scope;
use crate::protocol::sigv4::CredentialScope;
use crate::protocol::{ApiError, QueryParams};
use crate::scopes::Scopes;
use crate::state::{RequestContext, SharedState};

/// The largest form body read; the biggest real request (a create with every list filled) is
/// a few KiB.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The front over one state, the default scope (benches and in-process tests).
pub fn app(state: SharedState) -> Router {
    app_with_scopes(Arc::new(Scopes::single(state)))
}

/// The front over every account and region: each request is served by its scope's state.
pub fn app_with_scopes(scopes: Arc<Scopes>) -> Router {
    Router::new()
        .route("/_health", axum::routing::get(super::control::health))
        .route("/_state", axum::routing::get(super::dashboard::state))
        .route("/_reset", axum::routing::post(super::control::reset))
        .route("/_tls/ca.pem", axum::routing::get(super::control::tls_ca))
        .route("/_faults", axum::routing::post(super::faults::create))
        .route(
            "/_maintenance/{replication_group_id}",
            axum::routing::post(super::control::maintenance),
        )
        .nest(
            "/_toxiproxy",
            super::toxiproxy::routes().with_state(crate::engine::toxics::ToxicRegistry::global()),
        )
        // The query API is `GET /` and `POST /`; anything else gets an AWS-shaped 404 or 405.
        .route("/", axum::routing::get(handle).post(handle))
        .fallback(super::protocol_errors::not_found)
        .method_not_allowed_fallback(super::protocol_errors::method_not_allowed)
        .with_state(scopes)
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

async fn handle(State(scopes): State<Arc<Scopes>>, request: Request) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let request_id = uuid::Uuid::new_v4().to_string();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        let error = ApiError::InvalidParameterValue(format!(
            "The request body is larger than {MAX_BODY_BYTES} bytes."
        ));
        return error_response(&error, &request_id);
    };
    let query = parts.uri.query();
    let params = QueryParams::decode(query, &body);
    // A browser opening the server's URL gets the live dashboard instead of MissingAction.
    if parts.method == axum::http::Method::GET
        && params.optional("Action").is_none_or(str::is_empty)
        && super::dashboard::accepts_html(&parts.headers)
    {
        return super::dashboard::page();
    }
    if let Err(error) = verify_signature(&scopes, &parts, &body) {
        return error_response(&error, &request_id);
    }
    let ctx = match request_context(&scopes, &parts.headers, &params, &request_id) {
        Ok(ctx) => ctx,
        Err(error) => return error_response(&error, &request_id),
    };
    // STS (GetCallerIdentity) shares the endpoint, so providers need no skip flags.
    if let Some(response) = super::sts::answer(&parts.headers, &params, &ctx) {
        return response;
    }
    // Every action sees only its caller's account and region.
    let state = scopes.state_of(&ctx.account, &ctx.region);
    let action_name = params.optional("Action").unwrap_or("");
    let result = match resolve_action(&params).and_then(|action| {
        crate::protocol::api_version::check(&params, action_name).map(|()| action)
    }) {
        Ok(action) => dispatch(action, &state, &params, &ctx).await,
        Err(error) => Err(error),
    };
    let elapsed_us = started.elapsed().as_micros() as u64;
    log_and_respond(result, action_name, elapsed_us, &ctx)
}

/// `--verify-sigv4`: the default scope's verifier checks the request's signature (a refusal is
/// logged at info, since the caller sees only the error).
fn verify_signature(
    scopes: &Scopes,
    parts: &axum::http::request::Parts,
    body: &[u8],
) -> Result<(), ApiError> {
    let state = scopes.default_state();
    let Some(verifier) = &state.settings.verifier else {
        return Ok(());
    };
    let verified = verifier.verify(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query(),
        &parts.headers,
        body,
        state.now(),
    );
    if let Err(error) = &verified {
        tracing::info!(
            status = error.status().as_u16(),
            code = error.code(),
            message = error.message(),
            "request refused by --verify-sigv4"
        );
    }
    verified
}

/// Writes the call's access line (or its failure line) and turns the result into the response.
fn log_and_respond(
    result: Result<String, ApiError>,
    action_name: &str,
    elapsed_us: u64,
    ctx: &RequestContext,
) -> Response<Body> {
    match result {
        Ok(xml) => {
            // The action resolved, so every part of the line is the server's own text: on the
            // plain (not a terminal) path it is written directly, see `logging::write_info`.
            let direct = crate::logging::plain_lines() && !crate::logging::access_at_debug();
            if !direct {
                // Inside the macro, so the line is built only when its level is enabled.
                crate::access_line!("{}", access_line(action_name, elapsed_us, &ctx.request_id));
            } else if tracing::enabled!(target: "elasticache_local::access", tracing::Level::INFO) {
                let line = access_line(action_name, elapsed_us, &ctx.request_id);
                crate::logging::write_info("elasticache_local::access", &line);
            }
            xml_response(StatusCode::OK, xml, &ctx.request_id)
        }
        Err(error) => {
            crate::access_line!(action = %action_name, status = error.status().as_u16(), code = error.code(), message = error.message(), elapsed_us, request_id = %ctx.request_id, "api call failed");
            error_response(&error, &ctx.request_id)
        }
    }
}

/// `api call action=... status=200 elapsed_us=... request_id=...`: the text `tracing` prints
/// for those fields, built in one string. Field by field, `tracing`'s formatting of this one
/// line per call was a sixth of the cost of a cached Describe.
fn access_line(action: &str, elapsed_us: u64, request_id: &str) -> String {
    let mut line = String::with_capacity(96 + action.len());
    line.push_str("api call action=");
    line.push_str(action);
    line.push_str(" status=200 elapsed_us=");
    line.push_str(&elapsed_us.to_string());
    line.push_str(" request_id=");
    line.push_str(request_id);
    line
}

/// The caller's account (from its access key) and region (from its SigV4 credential scope,
/// in the `Authorization` header or a presigned URL's `X-Amz-Credential`, else `--region`).
fn request_context(
    scopes: &Scopes,
    headers: &HeaderMap,
    params: &QueryParams,
    request_id: &str,
) -> Result<RequestContext, ApiError> {
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(CredentialScope::from_authorization)
        .or_else(|| {
            params
                .optional("X-Amz-Credential")
                .and_then(CredentialScope::from_credential)
        });
    let region = credential.as_ref().map_or_else(
        || scopes.default_scope().region.clone(),
        |c| c.region.clone(),
    );
    if !Scope::is_valid_region(&region) {
        return Err(ApiError::IncompleteSignature(format!(
            "Credential should be scoped to a valid region, not '{region}'."
        )));
    }
    let account = scopes
        .accounts
        .account(credential.as_ref().map(|c| c.access_key_id.as_str()));
    Ok(RequestContext {
        request_id: request_id.to_string(),
        region,
        account,
    })
}

fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response<Body> {
    let detail = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(%detail, "request handler panicked");
    ApiError::InternalFailure(format!(
        "The server failed to process the request: {detail}"
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use crate::logging::line_time_tests::Captured;

    #[test]
    fn the_access_line_reads_as_tracing_prints_the_same_fields() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .without_time()
            .with_target(false)
            .with_ansi(false)
            .finish();
        let (action, elapsed_us, request_id) = ("DescribeEvents", 17u64, "5eb6b9b1-df2d");
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(action = %action, status = 200, elapsed_us, request_id = %request_id, "api call");
            tracing::info!("{}", super::access_line(action, elapsed_us, request_id));
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0], lines[1]);
        assert!(
            lines[0].ends_with(
                "api call action=DescribeEvents status=200 elapsed_us=17 request_id=5eb6b9b1-df2d"
            ),
            "{text}"
        );
    }
}
