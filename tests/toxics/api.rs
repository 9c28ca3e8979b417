//! Toxiproxy's JSON shapes, status codes and errors; the Python client on the bare listener.

use std::time::Duration;

use serde_json::json;

use crate::support::raw_exchange;
use crate::toxics_support::{Api, GROUP, ping_raw, start};

#[tokio::test]
async fn api_shapes_and_errors_follow_toxiproxy() {
    let (server, _fixture) = start(&[]);
    let api = Api::of(&server);
    let primary = format!("{GROUP}-primary");

    let (status, proxies) = api.call("GET", "/proxies", None).await;
    assert_eq!(status, 200);
    let names: Vec<&String> = proxies.as_object().unwrap().keys().collect();
    let node = format!("{GROUP}-001");
    assert_eq!(names, vec![&node, &primary, &format!("{GROUP}-reader")]);
    // A node without toxics is not fronted: it listens where its proxy says it does.
    assert_eq!(proxies[&node]["upstream"], proxies[&node]["listen"]);
    let shown = &proxies[&primary];
    assert_eq!(shown["name"], json!(primary));
    assert_eq!(shown["enabled"], json!(true));
    assert_eq!(shown["toxics"], json!([]));
    // Each endpoint listens on its own loopback address, at the group's port.
    assert!(shown["listen"].as_str().unwrap().starts_with("127."));
    assert!(shown["upstream"].as_str().unwrap().starts_with("127."));

    let not_found = json!({"error": "proxy not found", "status": 404});
    assert_eq!(
        api.call("GET", "/proxies/nope", None).await,
        (404, not_found.clone())
    );
    assert_eq!(
        api.call("GET", "/proxies/nope/toxics", None).await,
        (404, not_found.clone())
    );
    let toxic = json!({"name": "l", "type": "latency", "attributes": {"latency": 1}});
    assert_eq!(
        api.call("POST", "/proxies/nope/toxics", Some(toxic.clone()))
            .await,
        (404, not_found)
    );
    api.add(&primary, toxic.clone()).await;
    let toxics = format!("/proxies/{primary}/toxics");
    assert_eq!(
        api.call("POST", &toxics, Some(toxic)).await,
        (409, json!({"error": "toxic already exists", "status": 409}))
    );
    assert_eq!(
        api.call("GET", &format!("{toxics}/other"), None).await,
        (404, json!({"error": "toxic not found", "status": 404}))
    );
    assert_eq!(
        api.call(
            "POST",
            &toxics,
            Some(json!({"type": "latency", "stream": "sideways"}))
        )
        .await,
        (
            400,
            json!({"error": "stream was invalid, can be either upstream or downstream", "status": 400})
        )
    );
    assert_eq!(
        api.call("POST", &toxics, Some(json!({"type": "gremlin"})))
            .await,
        (400, json!({"error": "invalid toxic type", "status": 400}))
    );
    let (status, bad) = api
        .call(
            "POST",
            &toxics,
            Some(json!({"type": "latency", "attributes": {"latency": "x"}})),
        )
        .await;
    assert_eq!((status, &bad["status"]), (400, &json!(400)));
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .starts_with("bad request body: "),
        "{bad}"
    );
    let (status, listed) = api.call("GET", &toxics, None).await;
    assert_eq!((status, listed.as_array().unwrap().len()), (200, 1));

    // Proxies are endpoints: creating or deleting one is refused, saying why.
    let (status, refused) = api
        .call(
            "POST",
            "/proxies",
            Some(json!({"name": "x", "upstream": "127.0.0.1:1"})),
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("endpoints of replication groups"),
        "{refused}"
    );
    assert_eq!(
        api.call(
            "POST",
            "/proxies",
            Some(json!({"name": primary, "upstream": "127.0.0.1:1"}))
        )
        .await,
        (409, json!({"error": "proxy already exists", "status": 409}))
    );
    assert_eq!(
        api.call("DELETE", &format!("/proxies/{primary}"), None)
            .await
            .0,
        400
    );

    // Disabled: connections are closed at once; enabled again: served.
    let port = api.primary_port().await;
    let (status, disabled) = api
        .call(
            "POST",
            &format!("/proxies/{primary}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!((status, &disabled["enabled"]), (200, &json!(false)));
    // Closed with the PING unread, so the kernel may answer with a reset instead of a FIN.
    let (got, ending, _) = ping_raw(port, 1, Duration::from_secs(5));
    let ended = ending.map_or_else(
        |e| e.kind() == std::io::ErrorKind::ConnectionReset,
        |()| true,
    );
    assert!(got.is_empty() && ended, "{got:?}");
    let (status, _) = api.call("POST", "/reset", None).await;
    assert_eq!(status, 204);
    let (status, after_reset) = api.call("GET", &format!("/proxies/{primary}"), None).await;
    assert_eq!(
        (status, &after_reset["enabled"], &after_reset["toxics"]),
        (200, &json!(true), &json!([]))
    );
    let (got, ending, _) = ping_raw(port, 1, Duration::from_secs(5));
    assert_eq!(got, b"+PONG\r\n", "{ending:?}");

    let (status, version) = api.call("GET", "/version", None).await;
    assert_eq!(status, 200);
    assert!(
        version["version"]
            .as_str()
            .unwrap()
            .contains("Toxiproxy API"),
        "{version}"
    );
}

/// The `--toxiproxy-listen 127.0.0.1:0` listener's address, from its log line.
fn bare_listener(server: &crate::support::TestServer) -> String {
    let log = server.log_text();
    log.lines()
        .find(|l| l.contains("toxiproxy API listening"))
        .and_then(|l| l.split("address=").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no toxiproxy listener line in the log:\n{log}"))
}

#[test]
fn the_python_toxiproxy_client_drives_the_bare_listener() {
    let (server, _fixture) = start(&["--toxiproxy-listen", "127.0.0.1:0"]);
    let address = bare_listener(&server);
    let (host, port) = address.rsplit_once(':').unwrap();
    let script = crate::support::repo_path("tests/python/toxiproxy_flow.py");
    let output = std::process::Command::new("python3")
        .arg(script)
        .env("TOXIPROXY_HOST", host)
        .env("TOXIPROXY_PORT", port)
        .env("PROXY", format!("{GROUP}-primary"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success() && stdout.contains("PASS "),
        "toxiproxy_flow.py failed (CI must `pip install toxiproxy-python`):\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A web page cannot reach the bare listener either: a foreign Host (DNS rebinding) and a
/// cross-site POST are refused with 403 before any toxic changes; a client's own calls pass.
#[test]
fn the_bare_listener_refuses_foreign_hosts_and_cross_site_requests() {
    let (server, _fixture) = start(&["--toxiproxy-listen", "127.0.0.1:0"]);
    let address = bare_listener(&server);
    let proxy = format!("{GROUP}-primary");
    let toxic = r#"{"name":"evil","type":"timeout","attributes":{"timeout":0}}"#;
    let post = |headers: &str| {
        let request = format!(
            "POST /proxies/{proxy}/toxics HTTP/1.1\r\nHost: {address}\r\n{headers}\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{toxic}",
            toxic.len()
        );
        raw_exchange(&address, request.as_bytes())
    };
    let (status, _, body) = post("Origin: http://evil.example\r\n");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("AccessDenied"), "{body}");
    let rebound = "GET /proxies HTTP/1.1
Host: attacker.example
Connection: close

";
    let (status, _, body) = raw_exchange(&address, rebound.as_bytes());
    assert_eq!(status, 403, "{body}");
    let list = format!(
        "GET /proxies/{proxy}/toxics HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    );
    let (status, _, body) = raw_exchange(&address, list.as_bytes());
    assert_eq!(
        (status, body.as_str()),
        (200, "[]"),
        "the refused toxic was not added"
    );
    let (status, _, body) = post("");
    assert_eq!(status, 200, "a client's own POST is obeyed: {body}");
}
