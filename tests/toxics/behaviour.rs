//! What each toxic does to a redis client's traffic through the primary endpoint.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::toxics_support::{Api, GROUP, ping_raw, ping_rtts, redis_connection, start, start_on};

#[tokio::test]
async fn latency_toxic_shows_in_a_redis_clients_round_trip_and_removal_restores_it() {
    latency_toxic_round_trip("redis").await;
}

#[tokio::test]
async fn latency_toxic_on_a_valkey_endpoint_shows_in_the_round_trip_and_removal_restores_it() {
    latency_toxic_round_trip("valkey").await;
}

async fn latency_toxic_round_trip(engine: &str) {
    if !crate::support::engine_available(engine) {
        return;
    }
    let (server, _fixture) = start_on(engine, &[]);
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
    // No reply comes sooner than latency - jitter: a hard property. Scheduling on a loaded
    // machine can only add to a round trip, so above the band only the median is bounded.
    assert!(all.iter().all(|rtt| *rtt >= 40.0), "{all:?}");
    assert!(
        (40.0..=90.0).contains(&median),
        "median {median} ms: {all:?}"
    );
    assert!(
        all.iter().any(|rtt| (*rtt - all[0]).abs() > 1.0),
        "jitter varies: {all:?}"
    );
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
async fn reset_pattern(api: &Api, port: std::net::SocketAddr, n: usize) -> Vec<bool> {
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
