//! HTTP-level errors (unknown path, wrong method, body too large or too slow, headers too
//! large, malformed requests, too many connections, a refused cross-site request) in the AWS
//! shapes: the query API's XML `ErrorResponse`, or `{"__type", "message"}` on the JSON control
//! routes (`/_health`, `/_state`, `/_reset`), so every client's parser reads a proper error.

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode, header};

use crate::protocol::xml::error_body_of;

/// One HTTP-level error: its status, AWS-style code and message.
#[derive(Debug, Clone)]
pub struct HttpError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl HttpError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// The control routes answer JSON; everything else is the query API.
    pub fn response_for(&self, path: &str) -> Response<Body> {
        if is_json_route(path) {
            self.json_response()
        } else {
            self.xml_response()
        }
    }

    pub fn xml_body(&self, request_id: &str) -> String {
        let fault = if self.status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        error_body_of(fault, self.code, &self.message, request_id)
    }

    pub fn xml_response(&self) -> Response<Body> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let body = self.xml_body(&request_id);
        self.response(body, "text/xml", &request_id)
    }

    pub fn json_response(&self) -> Response<Body> {
        let request_id = uuid::Uuid::new_v4().to_string();
        let body = serde_json::json!({ "__type": self.code, "message": self.message });
        self.response(body.to_string(), "application/json", &request_id)
    }

    fn response(
        &self,
        body: String,
        content_type: &'static str,
        request_id: &str,
    ) -> Response<Body> {
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert(super::error::REQUEST_ID_HEADER, value);
        }
        response
    }

    /// A whole HTTP/1.1 response with `Connection: close`, for errors written on a raw socket
    /// (before or instead of hyper's own bare answer).
    pub fn raw_http1(&self) -> Vec<u8> {
        let body = self.xml_body(&uuid::Uuid::new_v4().to_string());
        format!(
            "HTTP/1.1 {} {}\r\ncontent-type: text/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            self.status.as_u16(),
            self.status.canonical_reason().unwrap_or(""),
            body.len()
        )
        .into_bytes()
    }
}

pub fn is_json_route(path: &str) -> bool {
    path.starts_with("/_")
}

/// `404` for any path but `/` and the control routes.
pub async fn not_found(request: axum::extract::Request) -> Response<Body> {
    let path = request.uri().path().to_string();
    HttpError::new(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("There is no resource at {path}: the ElastiCache query API is served at /."),
    )
    .response_for(&path)
}

/// `405` for a method a route does not take.
pub async fn method_not_allowed(request: axum::extract::Request) -> Response<Body> {
    let path = request.uri().path().to_string();
    HttpError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!("The method {} is not allowed on {path}.", request.method()),
    )
    .response_for(&path)
}
