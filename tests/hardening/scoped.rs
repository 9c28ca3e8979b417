//! The hardening holds for every account and region, not only the default scope: a request
//! whose credentials name another region still needs the right `Version`, is still refused
//! with a foreign `Host` or a cross-site `Origin`, and still times out when half sent.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::{TestServer, assert_botocore_error, wait_blocking};

/// An `Authorization` header whose credential scope is eu-west-1 (unverified: no
/// --verify-sigv4), which routes the request to the (default account, eu-west-1) scope.
const OTHER_REGION: &str = "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20250101/eu-west-1/elasticache/aws4_request, SignedHeaders=host, Signature=00\r\n";

fn eu_scope_seen(server: &TestServer) -> bool {
    server
        .log_text()
        .lines()
        .any(|l| l.contains("new account/region scope") && l.contains("eu-west-1"))
}

#[test]
fn a_scoped_request_needs_the_version_and_passes_the_host_and_origin_checks() {
    let server = TestServer::start_with(&["--body-read-timeout-ms", "600"]);
    let (status, _, body) = server.post("/", OTHER_REGION, "Action=DescribeReplicationGroups");
    assert_eq!(status, 400, "{body}");
    assert_botocore_error(&body, 400, "MissingParameter");
    assert!(body.contains("parameter Version"), "{body}");
    assert!(eu_scope_seen(&server), "the request reached its own scope");

    let wrong = "Action=DescribeReplicationGroups&Version=2012-01-01";
    let (status, _, body) = server.post("/", OTHER_REGION, wrong);
    assert_eq!(status, 400, "{body}");
    assert_botocore_error(&body, 400, "InvalidAction");

    let right = "Action=DescribeReplicationGroups&Version=2015-02-02";
    let (status, _, body) = server.post("/", OTHER_REGION, right);
    assert_eq!(status, 200, "{body}");

    // The Host/Origin guard sits in front of every scope.
    let rebound = format!(
        "POST / HTTP/1.1\r\nHost: attacker.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n{OTHER_REGION}\r\n{right}",
        right.len()
    );
    let (status, _, body) = server.raw(rebound.as_bytes());
    assert_eq!(status, 403, "{body}");
    assert_botocore_error(&body, 403, "AccessDenied");
    let cross_site = format!("{OTHER_REGION}Origin: http://evil.example\r\n");
    let delete = "Action=DeleteReplicationGroup&Version=2015-02-02&ReplicationGroupId=x";
    let (status, _, body) = server.post("/", &cross_site, delete);
    assert_eq!(status, 403, "{body}");
    assert_botocore_error(&body, 403, "AccessDenied");

    // And so do the timeouts: a scoped request whose body never arrives gets a 408.
    let mut half_body = TcpStream::connect(server.address()).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n{OTHER_REGION}\r\nAction=Desc"
    );
    half_body.write_all(head.as_bytes()).unwrap();
    half_body
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut reply = String::new();
    let _ = half_body.read_to_string(&mut reply);
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    let body = reply.split_once("\r\n\r\n").unwrap().1;
    assert_botocore_error(body, 408, "RequestTimeout");
    // The server still answers after all of it.
    wait_blocking("the server to answer again", Duration::from_secs(5), || {
        let (status, _, _) = server.get("/_health", "");
        (status == 200).then_some(())
    });
}
