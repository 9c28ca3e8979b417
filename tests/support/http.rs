//! Raw HTTP and query-string helpers, for the checks an SDK would hide: the exact envelope
//! bytes, headers, a browser's `Accept`, a request with no `Accept` at all.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use super::server::TestServer;

/// The XML namespace of every ElastiCache answer.
pub const NS: &str = "xmlns=\"http://elasticache.amazonaws.com/doc/2015-02-02/\"";

/// An API call as raw HTTP: (status, body with the request id replaced by `RID`, request id).
/// Checks that every answer is `text/xml` and carries the same request id in the
/// `x-amzn-RequestId` header and in the body.
pub async fn call(
    server: &TestServer,
    method: reqwest::Method,
    query: &str,
    body: &str,
    auth: Option<&str>,
) -> (u16, String, String) {
    let client = reqwest::Client::new();
    let mut request = client
        .request(method, format!("{}/?{query}", server.url))
        .body(body.to_string());
    request = request.header(
        "Content-Type",
        "application/x-www-form-urlencoded; charset=utf-8",
    );
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    let response = request.send().await.expect("http");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/xml")
    );
    let request_id = headers
        .get("x-amzn-requestid")
        .and_then(|v| v.to_str().ok())
        .expect("x-amzn-RequestId")
        .to_string();
    let text = response.text().await.unwrap();
    assert!(
        text.contains(&request_id),
        "the header and the body carry the same request id"
    );
    (status, text.replace(&request_id, "RID"), request_id)
}

/// `GET path` with an optional `Accept`: (status, content type, body).
pub async fn http_get(
    server: &TestServer,
    path: &str,
    accept: Option<&str>,
) -> (u16, String, String) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", server.url));
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    parts(request.send().await.expect("http")).await
}

/// A response's status, `Content-Type` and body.
pub async fn parts(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, response.text().await.unwrap())
}

/// A raw HTTP/1.1 GET with no `Accept` header at all (reqwest always sends `*/*`).
pub fn raw_get_without_accept(server: &TestServer, path: &str) -> String {
    let address = server.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    response
}

/// `k=v&...`, form-encoded.
pub fn form_encode(pairs: &[(String, String)]) -> String {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        form.append_pair(k, v);
    }
    form.finish()
}

/// Raw HTTP/1.1 on a socket of its own, for what no client library sends: half requests, a
/// foreign `Host`, a cross-site `Origin`.
impl TestServer {
    /// One raw HTTP/1.1 exchange (`request` is sent as is); returns (status, headers, body).
    pub fn raw(&self, request: &[u8]) -> (u16, String, String) {
        raw_exchange(self.address(), request)
    }

    /// A form POST of `body` to `/` with extra header lines (each ending in `\r\n`).
    pub fn post(&self, path: &str, extra_headers: &str, body: &str) -> (u16, String, String) {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n{body}",
            self.address(),
            body.len()
        );
        self.raw(request.as_bytes())
    }

    pub fn get(&self, path: &str, extra_headers: &str) -> (u16, String, String) {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra_headers}\r\n",
            self.address()
        );
        self.raw(request.as_bytes())
    }
}

/// One raw HTTP/1.1 exchange with `address`; returns (status, head, de-chunked body).
pub fn raw_exchange(address: &str, request: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request).expect("send");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, head.to_string(), decode_chunked(head, body))
}

fn decode_chunked(head: &str, body: &str) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

/// `POST /_faults` with `body` (the fault API's JSON): (status, answer).
pub async fn inject(server: &TestServer, body: serde_json::Value) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/_faults", server.url))
        .json(&body)
        .send()
        .await
        .expect("http");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

/// `POST /_maintenance/{id}`: fast-forwards a group's or cluster's deferred changes to its
/// maintenance window; the status and the JSON answer (`Null` for one that is not JSON).
pub async fn fast_forward_maintenance(server: &TestServer, id: &str) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/_maintenance/{id}", server.url))
        .send()
        .await
        .expect("http");
    let status = response.status().as_u16();
    (
        status,
        response.json().await.unwrap_or(serde_json::Value::Null),
    )
}

/// [`inject`] of a fault that must be accepted (200): its answer.
pub async fn inject_ok(server: &TestServer, body: serde_json::Value) -> serde_json::Value {
    let (status, answer) = inject(server, body).await;
    assert_eq!(status, 200, "{answer}");
    answer
}
