//! A web page in the developer's browser must not be able to drive the server: foreign
//! `Host` (DNS rebinding), foreign `Origin` and `Sec-Fetch-Site: cross-site` state changes
//! are refused with AWS-shaped 403s; the SDK, same-origin requests and `--allowed-host` work;
//! with `--verify-sigv4` the control routes need a signature.

use std::process::Command;

use crate::fd_exhaustion::{create_group, primary_port};
use crate::support::{TestServer, assert_botocore_error};

fn group_exists(server: &TestServer, id: &str) -> bool {
    let body =
        format!("Action=DescribeReplicationGroups&Version=2015-02-02&ReplicationGroupId={id}");
    let (status, _, _) = server.post("/", "", &body);
    status == 200
}

#[test]
fn cross_site_and_rebinding_requests_are_refused_and_same_origin_ones_are_not() {
    let server = TestServer::start();
    create_group(&server, "keep", "");
    primary_port(&server, "keep");

    // A cross-origin fetch('/_reset', {method: 'POST'}) from evil.example.
    let (status, _, body) = server.post(
        "/_reset",
        "Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\n",
        "",
    );
    assert_eq!(status, 403, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["__type"], "AccessDenied", "{body}");
    // The same with only one of the two headers.
    assert_eq!(
        server
            .post("/_reset", "Origin: http://evil.example\r\n", "")
            .0,
        403
    );
    assert_eq!(
        server
            .post("/_reset", "Sec-Fetch-Site: cross-site\r\n", "")
            .0,
        403
    );
    assert_eq!(server.post("/_reset", "Origin: null\r\n", "").0, 403);
    // Another port on localhost is another origin (and the same site).
    assert_eq!(
        server
            .post(
                "/_reset",
                "Origin: http://localhost:3000\r\nSec-Fetch-Site: same-site\r\n",
                ""
            )
            .0,
        403
    );

    // A cross-origin HTML form posting DeleteReplicationGroup.
    let delete = "Action=DeleteReplicationGroup&Version=2015-02-02&ReplicationGroupId=keep";
    let (status, _, body) = server.post(
        "/",
        "Origin: http://evil.example\r\nSec-Fetch-Site: cross-site\r\n",
        delete,
    );
    assert_eq!(status, 403);
    assert_botocore_error(&body, 403, "AccessDenied");
    // An <img src="http://localhost/?Action=DeleteReplicationGroup..."> (a GET, no Origin).
    let (status, _, _) = server.get(&format!("/?{delete}"), "Sec-Fetch-Site: cross-site\r\n");
    assert_eq!(status, 403);

    // DNS rebinding: the page's own name in Host.
    let rebound = |path: &str| {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: attacker.example:{}\r\nConnection: close\r\n\r\n",
            server.address().rsplit(':').next().unwrap()
        );
        server.raw(request.as_bytes())
    };
    let (status, _, body) = rebound("/_state");
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("\"groups\""), "no state leaks: {body}");
    let (status, _, body) = rebound("/?Action=DescribeReplicationGroups&Version=2015-02-02");
    assert_eq!(status, 403);
    assert_botocore_error(&body, 403, "AccessDenied");
    assert!(group_exists(&server, "keep"), "nothing was deleted");

    // What still works: loopback names, a same-origin POST, a navigation from elsewhere.
    for host in ["localhost", "127.0.0.1", "[::1]"] {
        let request =
            format!("GET /_state HTTP/1.1\r\nHost: {host}:1\r\nConnection: close\r\n\r\n");
        assert_eq!(server.raw(request.as_bytes()).0, 200, "{host}");
    }
    let (status, _, page) = server.get("/", "Accept: text/html\r\nSec-Fetch-Site: cross-site\r\n");
    assert_eq!(
        status, 200,
        "a link to the dashboard from another site opens it"
    );
    assert!(page.contains("<html") || page.contains("<!doctype") || page.contains("<!DOCTYPE"));
    let origin = format!(
        "Origin: http://{}\r\nSec-Fetch-Site: same-origin\r\n",
        server.address()
    );
    let (status, _, body) = server.post("/_reset", &origin, "");
    assert_eq!(status, 200, "{body}");
    assert!(!group_exists(&server, "keep"), "the same-origin reset ran");
}

#[test]
fn allowed_hosts_are_accepted() {
    let server = TestServer::start_with(&[
        "--allowed-host",
        "elasticache",
        "--allowed-host",
        "box.example:8080",
    ]);
    let get = |host: &str| {
        let request = format!("GET /_state HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
        server.raw(request.as_bytes()).0
    };
    assert_eq!(get("elasticache:9736"), 200);
    assert_eq!(get("box.example:8080"), 200);
    assert_eq!(get("box.example:9736"), 403);
    assert_eq!(get("other.example"), 403);
}

/// Headers botocore's SigV4 signer puts on `method url` with an empty body.
fn botocore_signed(method: &str, url: &str) -> String {
    let script = "import sys, json\nfrom botocore.auth import SigV4Auth\nfrom botocore.awsrequest import AWSRequest\nfrom botocore.credentials import Credentials\nr = AWSRequest(method=sys.argv[1], url=sys.argv[2], data=b'')\nSigV4Auth(Credentials('AKIDCONTROL', 'control-secret'), 'elasticache', 'us-east-1').add_auth(r)\nprint('\\r\\n'.join(f'{k}: {v}' for k, v in r.headers.items() if k.lower() != 'host'), end='')\n";
    let output = Command::new("python3")
        .args(["-c", script, method, url])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn with_verify_sigv4_the_control_routes_need_a_signature() {
    let server = TestServer::start_with(&[
        "--verify-sigv4",
        "--credentials",
        "AKIDCONTROL:control-secret",
    ]);
    let (status, _, body) = server.post("/_reset", "", "");
    assert_eq!(status, 403, "an unsigned reset is refused: {body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["__type"], "MissingAuthenticationToken", "{body}");
    assert_eq!(server.get("/_state", "").0, 403);
    assert_eq!(
        server.get("/_health", "").0,
        200,
        "liveness probes cannot sign"
    );

    let signed = botocore_signed("POST", &format!("{}/_reset", server.url));
    let (status, _, body) = server.post("/_reset", &format!("{signed}\r\n"), "");
    assert_eq!(status, 200, "a signed reset runs: {body}");
    let signed = botocore_signed("GET", &format!("{}/_state", server.url));
    assert_eq!(server.get("/_state", &format!("{signed}\r\n")).0, 200);
}
