//! STS on the ElastiCache endpoint: a request `protocol::sts::classify` calls STS is answered
//! here, before ElastiCache's action table is consulted. `GetCallerIdentity` names the root of
//! the caller's account (the account its access key resolves to, as for every other action);
//! every other STS operation gets STS's unknown-operation error in the request's form.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};

use super::error::{error_response, xml_response};
use crate::protocol::sts::{
    self, CallerIdentity, JSON_CONTENT_TYPE, QUERY_VERSION, RequestFacts, StsForm,
};
use crate::protocol::{ApiError, QueryParams};
use crate::state::RequestContext;

const GET_CALLER_IDENTITY: &str = "GetCallerIdentity";
const X_AMZ_TARGET: HeaderName = HeaderName::from_static("x-amz-target");

/// The answer when the request is for STS; `None` lets ElastiCache handle it.
pub fn answer(
    headers: &HeaderMap,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Option<Response<Body>> {
    let header = |name: &HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let facts = RequestFacts {
        signing_service: header(&header::AUTHORIZATION).and_then(sts::signing_service),
        target: header(&X_AMZ_TARGET),
        action: params.optional("Action"),
        version: params.optional("Version"),
    };
    let form = sts::classify(&facts)?;
    let operation = sts::operation(form, &facts).unwrap_or("");
    tracing::info!(action = %operation, account = %ctx.account, "sts call");
    let identity = CallerIdentity::root(&ctx.account);
    Some(match (form, operation == GET_CALLER_IDENTITY) {
        (StsForm::Query, true) => xml_response(
            StatusCode::OK,
            sts::query_response(&identity, &ctx.request_id),
            &ctx.request_id,
        ),
        (StsForm::Json, true) => json_response(StatusCode::OK, sts::json_response(&identity), ctx),
        (StsForm::Query, false) => {
            let error = ApiError::InvalidAction(format!(
                "Could not find operation {operation} for version {QUERY_VERSION}"
            ));
            error_response(&error, &ctx.request_id)
        }
        (StsForm::Json, false) => {
            let body = serde_json::json!({
                "__type": "com.amazon.coral.service#UnknownOperationException",
                "message": format!("Could not find operation {operation}"),
            });
            json_response(StatusCode::BAD_REQUEST, body.to_string(), ctx)
        }
    })
}

fn json_response(status: StatusCode, body: String, ctx: &RequestContext) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    if let Ok(value) = HeaderValue::from_str(&ctx.request_id) {
        headers.insert(super::error::REQUEST_ID_HEADER, value);
    }
    response
}
