//! Where a wire error code meets HTTP: its status (as the botocore model gives it) and the
//! `ErrorResponse` it is answered with.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;

use crate::protocol::ApiError;
use crate::protocol::xml::error_body;

// An inherent impl at the edge: the wire-code enum itself (in `protocol`) knows no HTTP, and
// this is the one place a code meets its status.
impl ApiError {
    /// The HTTP status the botocore model gives the code.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::ReplicationGroupNotFoundFault(_)
            | Self::CacheClusterNotFound(_)
            | Self::NodeGroupNotFoundFault(_)
            | Self::TagNotFound(_)
            | Self::CacheParameterGroupNotFound(_)
            | Self::UserNotFound(_)
            | Self::UserGroupNotFound(_)
            | Self::SnapshotNotFoundFault(_)
            | Self::ServerlessCacheNotFoundFault(_)
            | Self::ServerlessCacheSnapshotNotFoundFault(_)
            | Self::GlobalReplicationGroupNotFoundFault(_) => StatusCode::NOT_FOUND,
            // botocore: CacheSubnetGroupNotFoundFault is 400, unlike the other not-found faults.
            Self::InternalFailure(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::MissingAuthenticationToken(_)
            | Self::IncompleteSignature(_)
            | Self::InvalidClientTokenId(_)
            | Self::SignatureDoesNotMatch(_) => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// The `ErrorResponse` envelope for `error`, with its status and the request id.
pub fn error_response(error: &ApiError, request_id: &str) -> Response<Body> {
    xml_response(error.status(), error_body(error, request_id), request_id)
}

/// `x-amzn-RequestId`, lower-case as header names are stored: a static name is not parsed and
/// lower-cased again for every answer.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-amzn-requestid");

/// An XML answer with its request id header.
pub fn xml_response(status: StatusCode, xml: String, request_id: &str) -> Response<Body> {
    let mut response = Response::new(Body::from(xml));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(value) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// An error raised outside a request's context (a panic) gets a request id of its own.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response<Body> {
        error_response(&self, &uuid::Uuid::new_v4().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_codes_are_404_auth_codes_403_and_ours_500() {
        let cases = [
            (ApiError::replication_group_not_found("g"), 404),
            (ApiError::cache_cluster_not_found("c"), 404),
            (ApiError::NodeGroupNotFoundFault("n".into()), 404),
            (ApiError::SignatureDoesNotMatch("s".into()), 403),
            (ApiError::MissingAuthenticationToken("m".into()), 403),
            (ApiError::InternalFailure("i".into()), 500),
            (ApiError::missing_parameter("P"), 400),
            (ApiError::InvalidParameterValue("v".into()), 400),
            (ApiError::CacheSubnetGroupNotFoundFault("s".into()), 400),
            (ApiError::CacheSubnetGroupInUse("s".into()), 400),
            (ApiError::UserNotFound("u".into()), 404),
        ];
        for (error, expected) in cases {
            assert_eq!(error.status().as_u16(), expected, "{error}");
            let sender = expected < 500;
            assert_eq!(error.fault_type() == "Sender", sender, "{error}");
        }
    }
}
