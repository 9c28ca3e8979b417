//! Network toxics through the Toxiproxy API (`/_toxiproxy`): raw HTTP with reqwest checks the
//! JSON shapes and errors, a redis client measures what each toxic does to a group's primary
//! endpoint, and the real Python `toxiproxy-python` client drives the bare-path listener.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::TestServer;
use serde_json::{Value, json};

const GROUP: &str = "tox";

/// A server with one single-node group `tox` from a fixture file.
fn start(extra: &[&str]) -> (TestServer, tempfile::NamedTempFile) {
    let mut fixture = tempfile::NamedTempFile::new().unwrap();
    let groups = json!({ "ReplicationGroups": [{
        "ReplicationGroupId": GROUP,
        "ReplicationGroupDescription": "toxics",
        "NumCacheClusters": 1,
    }]});
    fixture.write_all(groups.to_string().as_bytes()).unwrap();
    let path = fixture.path().to_str().unwrap().to_string();
    let mut args = vec!["--fixtures", path.as_str()];
    args.extend_from_slice(extra);
    (TestServer::start_with(&args), fixture)
}

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    fn of(server: &TestServer) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: format!("{}/_toxiproxy", server.url),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    async fn add(&self, proxy: &str, toxic: Value) -> Value {
        let (status, body) = self
            .call("POST", &format!("/proxies/{proxy}/toxics"), Some(toxic))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn primary_port(&self) -> u16 {
        let (status, proxy) = self
            .call("GET", &format!("/proxies/{GROUP}-primary"), None)
            .await;
        assert_eq!(status, 200, "{proxy}");
        let listen = proxy["listen"].as_str().unwrap();
        listen.rsplit(':').next().unwrap().parse().unwrap()
    }
}

async fn redis_connection(port: u16) -> redis::aio::MultiplexedConnection {
    // No response timeout: the client's default 500 ms would cut the paced replies short.
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap()
}

/// The median of `n` PING round trips on `connection`, and all of them (ms).
async fn ping_rtts(
    connection: &mut redis::aio::MultiplexedConnection,
    n: usize,
) -> (f64, Vec<f64>) {
    let mut rtts = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let pong: String = redis::cmd("PING").query_async(connection).await.unwrap();
        rtts.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(pong, "PONG");
    }
    let mut sorted = rtts.clone();
    sorted.sort_by(f64::total_cmp);
    (sorted[n / 2], rtts)
}

#[tokio::test]
async fn latency_toxic_shows_in_a_redis_clients_round_trip_and_removal_restores_it() {
    let (server, _fixture) = start(&[]);
    let api = Api::of(&server);
    let port = api.primary_port().await;
    let mut existing = redis_connection(port).await;
    let (before, _) = ping_rtts(&mut existing, 20).await;

    let toxic = api
        .add(
            &format!("{GROUP}-primary"),
            json!({"type": "latency", "stream": "downstream", "attributes": {"latency": 100}}),
        )
        .await;
    assert_eq!(
        toxic,
        json!({"name": "latency_downstream", "type": "latency", "stream": "downstream",
               "toxicity": 1.0, "attributes": {"latency": 100, "jitter": 0}})
    );
    let mut fresh = redis_connection(port).await;
    let (median, all) = ping_rtts(&mut fresh, 20).await;
    println!(
        "latency 100 ms downstream: median PING RTT {median:.2} ms, before {before:.3} ms; all {all:.1?}"
    );
    assert!((100.0..=110.0).contains(&median), "median {median} ms");
    // A connection opened before the toxic gets it too, as with Toxiproxy.
    let (live, _) = ping_rtts(&mut existing, 20).await;
    assert!(
        (100.0..=110.0).contains(&live),
        "existing connection {live} ms"
    );

    let (status, _) = api
        .call(
            "DELETE",
            &format!("/proxies/{GROUP}-primary/toxics/latency_downstream"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (after, _) = ping_rtts(&mut fresh, 20).await;
    println!("after DELETE: median PING RTT {after:.3} ms");
    assert!(after < 10.0, "median {after} ms after the toxic is removed");
}

#[tokio::test]
async fn upstream_latency_with_jitter_stays_in_its_band() {
    let (server, _fixture) = start(&[]);
    let api = Api::of(&server);
    let port = api.primary_port().await;
    api.add(
        &format!("{GROUP}-primary"),
        json!({"name": "slow", "type": "latency", "stream": "upstream",
               "attributes": {"latency": 60, "jitter": 20}}),
    )
    .await;
    let mut connection = redis_connection(port).await;
    let (median, all) = ping_rtts(&mut connection, 20).await;
    println!("latency 60±20 ms upstream: median {median:.2} ms, all {all:.1?}");
    assert!(all.iter().all(|rtt| (40.0..=90.0).contains(rtt)), "{all:?}");
    assert!(
        all.iter().any(|rtt| (*rtt - all[0]).abs() > 1.0),
        "jitter varies: {all:?}"
    );
}

/// Writes `pings` PINGs on a fresh connection to `port` and reads until every PONG came, the
/// connection closed, or `within` passed.
fn ping_raw(port: u16, pings: usize, within: Duration) -> (Vec<u8>, std::io::Result<()>, Duration) {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).unwrap();
    socket.set_read_timeout(Some(within)).unwrap();
    let started = Instant::now();
    socket.write_all(&b"PING\r\n".repeat(pings)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let ending = loop {
        if got.len() >= 7 * pings {
            break Ok(());
        }
        match socket.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(error) => break Err(error),
        }
    };
    (got, ending, started.elapsed())
}

#[tokio::test]
async fn timeout_blackholes_then_closes_after_its_timeout() {
    let (server, _fixture) = start(&[]);
    let api = Api::of(&server);
    let port = api.primary_port().await;
    let proxy = format!("{GROUP}-primary");
    api.add(
        &proxy,
        json!({"name": "hole", "type": "timeout", "attributes": {"timeout": 0}}),
    )
    .await;
    let (got, ending, _) = ping_raw(port, 1, Duration::from_millis(500));
    assert!(got.is_empty(), "blackholed, got {got:?}");
    let error = ending.expect_err("no answer and no close: the read times out");
    assert!(
        matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{error}"
    );

    let (status, updated) = api
        .call(
            "POST",
            &format!("/proxies/{proxy}/toxics/hole"),
            Some(json!({"attributes": {"timeout": 300}})),
        )
        .await;
    assert_eq!(
        (status, &updated["attributes"]["timeout"]),
        (200, &json!(300))
    );
    let (got, ending, elapsed) = ping_raw(port, 1, Duration::from_secs(5));
    println!("timeout 300 ms: closed after {elapsed:?}");
    assert!(
        got.is_empty() && ending.is_ok(),
        "closed without data: {got:?} {ending:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(290) && elapsed < Duration::from_secs(2),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn reset_peer_resets_and_limit_data_closes_after_n_bytes() {
    let (server, _fixture) = start(&[]);
    let api = Api::of(&server);
    let port = api.primary_port().await;
    let proxy = format!("{GROUP}-primary");
    api.add(
        &proxy,
        json!({"name": "rst", "type": "reset_peer", "attributes": {"timeout": 0}}),
    )
    .await;
    let (got, ending, _) = ping_raw(port, 1, Duration::from_secs(5));
    let error = ending.expect_err("reset");
    assert_eq!(
        error.kind(),
        std::io::ErrorKind::ConnectionReset,
        "{error}; got {got:?}"
    );
    api.call("DELETE", &format!("/proxies/{proxy}/toxics/rst"), None)
        .await;

    api.add(
        &proxy,
        json!({"name": "cap", "type": "limit_data", "attributes": {"bytes": 10}}),
    )
    .await;
    let (got, ending, _) = ping_raw(port, 2, Duration::from_secs(5));
    assert_eq!(got, b"+PONG\r\n+PO", "exactly 10 bytes of the two PONGs");
    assert!(ending.is_ok(), "then a close: {ending:?}");
}

#[tokio::test]
async fn bandwidth_paces_a_large_reply() {
    let (server, _fixture) = start(&[]);
    let api = Api::of(&server);
    let port = api.primary_port().await;
    let mut connection = redis_connection(port).await;
    let value = vec![b'v'; 500_000];
    let _: () = redis::cmd("SET")
        .arg("big")
        .arg(&value)
        .query_async(&mut connection)
        .await
        .unwrap();
    api.add(
        &format!("{GROUP}-primary"),
        json!({"type": "bandwidth", "attributes": {"rate": 500}}),
    )
    .await;
    let started = Instant::now();
    let got: Vec<u8> = redis::cmd("GET")
        .arg("big")
        .query_async(&mut connection)
        .await
        .unwrap();
    let elapsed = started.elapsed();
    println!("bandwidth 500 KB/s: a 500 kB GET took {elapsed:?}");
    assert_eq!(got.len(), value.len());
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_millis(1500),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn toxicity_zero_does_nothing() {
    let (server, _fixture) = start(&[]);
    let api = Api::of(&server);
    let port = api.primary_port().await;
    api.add(
        &format!("{GROUP}-primary"),
        json!({"type": "latency", "toxicity": 0.0, "attributes": {"latency": 200}}),
    )
    .await;
    for _ in 0..10 {
        let mut connection = redis_connection(port).await;
        let (median, _) = ping_rtts(&mut connection, 3).await;
        assert!(median < 20.0, "toxicity 0 added {median} ms");
    }
}

/// For `n` fresh connections, whether a `reset_peer` toxic of toxicity 0.5 hit each.
async fn reset_pattern(api: &Api, port: u16, n: usize) -> Vec<bool> {
    api.add(
        &format!("{GROUP}-primary"),
        json!({"name": "coin", "type": "reset_peer", "toxicity": 0.5, "attributes": {"timeout": 0}}),
    )
    .await;
    let pattern = (0..n)
        .map(|_| {
            let (got, _, _) = ping_raw(port, 1, Duration::from_secs(5));
            match got.as_slice() {
                b"" => true,
                b"+PONG\r\n" => false,
                other => panic!("unexpected {other:?}"),
            }
        })
        .collect();
    let (status, _) = api.call("POST", "/reset", None).await;
    assert_eq!(status, 204);
    pattern
}

#[tokio::test]
async fn a_seed_makes_toxicity_repeat() {
    let (server, _fixture) = start(&["--toxics-seed", "42"]);
    let api = Api::of(&server);
    let port = api.primary_port().await;
    let first = reset_pattern(&api, port, 16).await;
    let again = reset_pattern(&api, port, 16).await;
    println!("seed 42: {first:?}");
    assert_eq!(
        first, again,
        "POST /reset restarts the numbering: the same draws"
    );
    assert!(first.contains(&true) && first.contains(&false), "{first:?}");

    let (other, _fixture2) = start(&["--toxics-seed", "42"]);
    let other_api = Api::of(&other);
    let other_port = other_api.primary_port().await;
    assert_eq!(
        reset_pattern(&other_api, other_port, 16).await,
        first,
        "same seed, another server"
    );
    drop(other);
    let (third, _fixture3) = start(&["--toxics-seed", "7"]);
    let third_api = Api::of(&third);
    let third_port = third_api.primary_port().await;
    assert_ne!(
        reset_pattern(&third_api, third_port, 16).await,
        first,
        "another seed"
    );
}

#[tokio::test]
async fn api_shapes_and_errors_follow_toxiproxy() {
    let (server, _fixture) = start(&[]);
    let api = Api::of(&server);
    let primary = format!("{GROUP}-primary");

    let (status, proxies) = api.call("GET", "/proxies", None).await;
    assert_eq!(status, 200);
    let names: Vec<&String> = proxies.as_object().unwrap().keys().collect();
    assert_eq!(names, vec![&primary, &format!("{GROUP}-reader")]);
    let shown = &proxies[&primary];
    assert_eq!(shown["name"], json!(primary));
    assert_eq!(shown["enabled"], json!(true));
    assert_eq!(shown["toxics"], json!([]));
    assert!(shown["listen"].as_str().unwrap().starts_with("127.0.0.1:"));
    assert!(
        shown["upstream"]
            .as_str()
            .unwrap()
            .starts_with("127.0.0.1:")
    );

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

#[test]
fn the_python_toxiproxy_client_drives_the_bare_listener() {
    let (server, _fixture) = start(&["--toxiproxy-listen", "127.0.0.1:0"]);
    let log = server.log_text();
    let address = log
        .lines()
        .find(|l| l.contains("toxiproxy API listening"))
        .and_then(|l| l.split("address=").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap().to_string())
        .unwrap_or_else(|| panic!("no toxiproxy listener line in the log:\n{log}"));
    let (host, port) = address.rsplit_once(':').unwrap();
    let script = common::repo_path("tests/python/toxiproxy_flow.py");
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
