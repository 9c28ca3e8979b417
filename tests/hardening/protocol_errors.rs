//! Every protocol-level error is an AWS `ErrorResponse` botocore reads as a ClientError with
//! the right code: malformed HTTP, URI and headers too large, wrong method, unknown path,
//! body too large, and a missing or wrong `Version`.

use crate::support::{TestServer, assert_botocore_error};

#[test]
fn protocol_errors_have_aws_bodies() {
    let server = TestServer::start();
    let check = |request: Vec<u8>, status: u16, code: &str| {
        let (got, head, body) = server.raw(&request);
        assert_eq!(got, status, "{head}\n{body}");
        assert!(
            head.to_ascii_lowercase().contains("content-type: text/xml"),
            "{head}"
        );
        assert_botocore_error(&body, status, code);
    };
    check(b"GARBAGE\r\n\r\n".to_vec(), 400, "BadRequest");
    check(
        b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n".to_vec(),
        400,
        "BadRequest",
    );
    let long_uri = format!(
        "GET /?Action=DescribeEvents&Pad={} HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "x".repeat(70_000)
    );
    check(long_uri.into_bytes(), 414, "RequestURITooLong");
    let many_headers: String = (0..150).map(|i| format!("X-Pad-{i}: v\r\n")).collect();
    check(
        format!("GET / HTTP/1.1\r\nHost: localhost\r\n{many_headers}\r\n").into_bytes(),
        431,
        "RequestHeaderFieldsTooLarge",
    );
    let close = "Host: localhost\r\nConnection: close\r\n";
    check(
        format!("PUT / HTTP/1.1\r\n{close}Content-Length: 0\r\n\r\n").into_bytes(),
        405,
        "MethodNotAllowed",
    );
    check(
        format!("DELETE /?Action=DescribeEvents HTTP/1.1\r\n{close}\r\n").into_bytes(),
        405,
        "MethodNotAllowed",
    );
    check(
        format!("GET /nope HTTP/1.1\r\n{close}\r\n").into_bytes(),
        404,
        "NotFound",
    );
    check(
        format!("POST /v1/thing HTTP/1.1\r\n{close}Content-Length: 0\r\n\r\n").into_bytes(),
        404,
        "NotFound",
    );
    let big = format!(
        "Action=DescribeEvents&Version=2015-02-02&Pad={}",
        "x".repeat(2 * 1024 * 1024)
    );
    let (status, _, body) = server.post("/", "", &big);
    assert_eq!(status, 400);
    assert_botocore_error(&body, 400, "InvalidParameterValue");

    let (status, _, body) = server.post("/", "", "Action=DescribeEvents");
    assert_eq!(status, 400);
    assert_botocore_error(&body, 400, "MissingParameter");
    assert!(body.contains("Version"), "{body}");
    let (status, _, body) = server.post("/", "", "Action=DescribeEvents&Version=2014-01-01");
    assert_eq!(status, 400);
    assert_botocore_error(&body, 400, "InvalidAction");
    assert!(
        body.contains("Could not find operation DescribeEvents for version 2014-01-01"),
        "{body}"
    );
    let (status, _, _) = server.post("/", "", "Action=DescribeEvents&Version=2015-02-02");
    assert_eq!(status, 200);
    // A JSON control route answers JSON.
    let (status, _, body) = server.get("/_reset", "");
    assert_eq!(status, 405);
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["__type"], "MethodNotAllowed");
}
