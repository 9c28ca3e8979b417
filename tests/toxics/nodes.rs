//! Toxics on a node's own address (the proxy named by its member id): a redis client of the
//! node's `ReadEndpoint` sees them, the endpoints of other nodes do not, a cluster client sees
//! them on the keys of that node's shard only, and the engine keeps working (a failover).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    DEADLINE, TestServer, cluster_client, cluster_nodes, configuration_endpoint, create_cluster,
    create_group, describe, endpoints, inject, live_children, redis_cli, wait_for_event,
    wait_until,
};
use crate::toxics_support::{Api, ping_raw, ping_rtts, redis_connection};

const FINISHED: &str = "Finished recovery for cache nodes 0001";

fn latency(ms: u64) -> Value {
    json!({"name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": ms}})
}

async fn proxy(api: &Api, name: &str) -> Value {
    let (status, body) = api.call("GET", &format!("/proxies/{name}"), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn median_ping(at: SocketAddr) -> f64 {
    let mut connection = redis_connection(at).await;
    ping_rtts(&mut connection, 15).await.0
}

/// The group's primary endpoint and its replica member's id and `ReadEndpoint`.
async fn replica_of(server: &TestServer, id: &str) -> (SocketAddr, String, SocketAddr) {
    let group = describe(&server.sdk(), id).await.expect("the group");
    let (primary, _, members) = endpoints(&group);
    let (member, addr, _) = members
        .into_iter()
        .find(|(_, _, role)| role == "replica")
        .expect("a replica");
    (primary, member, addr)
}

#[tokio::test]
async fn a_latency_toxic_on_a_replica_shows_on_its_read_endpoint_only() {
    let server = TestServer::start();
    create_group(&server.sdk(), "ntx", 2, true).await;
    let api = Api::of(&server);
    let (primary, member, node) = replica_of(&server, "ntx").await;
    let listed = proxy(&api, &member).await;
    assert_eq!(listed["listen"], json!(node.to_string()), "{listed}");
    assert_eq!(listed["upstream"], listed["listen"], "no toxic: no front");
    let before = median_ping(node).await;

    api.add(&member, latency(200)).await;
    let fronted = proxy(&api, &member).await;
    assert_ne!(fronted["upstream"], fronted["listen"], "{fronted}");
    let slowed = median_ping(node).await;
    let unaffected = median_ping(primary).await;
    println!(
        "replica {member} at {node}: {before:.2} ms, with 200 ms latency {slowed:.2} ms; primary endpoint {unaffected:.2} ms"
    );
    assert!((200.0..=220.0).contains(&slowed), "median {slowed} ms");
    assert!(unaffected < 10.0, "primary endpoint {unaffected} ms");
    // The engine still reaches the node directly: its health check keeps it available.
    assert_eq!(redis_cli(node, &["PING"]), "PONG");

    let (status, body) = api
        .call("DELETE", &format!("/proxies/{member}/toxics/slow"), None)
        .await;
    assert_eq!(status, 204, "{body}");
    let restored = median_ping(node).await;
    assert!(
        restored < 10.0,
        "median {restored} ms after the toxic is removed"
    );
    let back = proxy(&api, &member).await;
    assert_eq!(
        back["upstream"], back["listen"],
        "the node has its address back"
    );
}

/// A key whose slot `at` (any node) says is in `0..8192` (shard 0001) or not.
fn key_of_shard(at: SocketAddr, first: bool) -> String {
    (0..)
        .map(|i| format!("k{i}"))
        .find(|key| {
            let slot: u32 = redis_cli(at, &["CLUSTER", "KEYSLOT", key]).parse().unwrap();
            (slot < 8192) == first
        })
        .unwrap()
}

async fn timed_get(connection: &mut redis::cluster_async::ClusterConnection, key: &str) -> f64 {
    let mut times = Vec::new();
    for _ in 0..9 {
        let started = std::time::Instant::now();
        let _: Option<String> = redis::cmd("GET")
            .arg(key)
            .query_async(connection)
            .await
            .unwrap_or_else(|e| panic!("GET {key}: {e}"));
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

#[tokio::test]
async fn a_toxic_on_a_cluster_node_slows_its_shard_only_and_the_bus_stays_up() {
    let server = TestServer::start();
    let group = create_cluster(&server.sdk(), "ntc", 2, 0).await;
    let configuration = configuration_endpoint(&group);
    let api = Api::of(&server);
    let node: SocketAddr = proxy(&api, "ntc-0001-001").await["listen"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (near, far) = (key_of_shard(node, true), key_of_shard(node, false));
    api.add("ntc-0001-001", latency(200)).await;

    let mut connection = cluster_client(configuration).await;
    let (slowed, direct) = (
        timed_get(&mut connection, &near).await,
        timed_get(&mut connection, &far).await,
    );
    println!(
        "GET {near} (shard 0001, toxic) {slowed:.1} ms; GET {far} (shard 0002) {direct:.1} ms"
    );
    assert!((200.0..=220.0).contains(&slowed), "shard 0001: {slowed} ms");
    assert!(direct < 10.0, "shard 0002: {direct} ms");
    // The cluster bus is on its own port: no node is seen failing.
    let view = cluster_nodes(node);
    assert_eq!(view.len(), 2, "{view:#?}");
    assert!(view.iter().all(|n| !n.flags.contains("fail")), "{view:#?}");
}

#[tokio::test]
async fn a_group_fails_over_with_a_latency_toxic_on_its_replica() {
    let server = TestServer::start();
    let client = server.sdk();
    create_group(&client, "ntf", 2, true).await;
    let api = Api::of(&server);
    let (_, member, node) = replica_of(&server, "ntf").await;
    let old_primary = if member == "ntf-001" {
        "ntf-002"
    } else {
        "ntf-001"
    };
    api.add(&member, latency(200)).await;

    client
        .test_failover()
        .replication_group_id("ntf")
        .node_group_id("0001")
        .send()
        .await
        .expect("TestFailover accepted");
    wait_for_event(&client, old_primary, FINISHED).await;
    let promoted = wait_until("the toxic replica promoted", DEADLINE, || async {
        let group = describe(&client, "ntf").await?;
        let (_, _, members) = endpoints(&group);
        let role = members.iter().find(|(m, _, _)| *m == member)?.2.clone();
        (group.status() == Some("available") && role == "primary").then_some(group)
    })
    .await;
    let (primary, _, _) = endpoints(&promoted);
    // The promoted node kept its toxic: the primary endpoint now leads to it through it.
    let slowed = median_ping(primary).await;
    assert!(
        (200.0..=220.0).contains(&slowed),
        "primary endpoint {slowed} ms"
    );
    assert_eq!(redis_cli(node, &["ROLE"]).lines().next(), Some("master"));
    // The failed primary, which had no toxic, was restarted by its recovery: none now either.
    let recovered = proxy(&api, old_primary).await;
    assert_eq!(recovered["toxics"], json!([]), "{recovered}");
    assert_eq!(recovered["upstream"], recovered["listen"], "{recovered}");

    client
        .delete_replication_group()
        .replication_group_id("ntf")
        .send()
        .await
        .expect("delete");
    let pid = server.pid();
    wait_until("no node left", Duration::from_secs(30), || async {
        live_children(pid).is_empty().then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_cluster_primary_takes_either_node_toxics_or_a_replication_lag_front_not_both() {
    let server = TestServer::start();
    create_cluster(&server.sdk(), "ntl", 2, 1).await;
    let api = Api::of(&server);
    let lag = json!({
        "type": "replication-lag", "replication_group_id": "ntl", "cache_cluster_id": "ntl-0001-002",
        "toxic": {"name": "slow", "type": "latency", "attributes": {"latency": 1000}},
    });
    api.add("ntl-0001-001", latency(50)).await;
    let (status, refused) = inject(&server, lag.clone()).await;
    assert_ne!(status, 200, "{refused}");
    assert!(
        refused.to_string().contains("has network toxics"),
        "{refused}"
    );

    let (status, body) = api
        .call("DELETE", "/proxies/ntl-0001-001/toxics/slow", None)
        .await;
    assert_eq!(status, 204, "{body}");
    let (status, answer) = inject(&server, lag).await;
    assert_eq!(status, 200, "{answer}");
    let (status, refused) = api
        .call("POST", "/proxies/ntl-0001-001/toxics", Some(latency(50)))
        .await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("replication-lag"), "{refused}");
    let listed = proxy(&api, "ntl-0001-001").await;
    assert_eq!(
        listed["toxics"],
        json!([]),
        "a toxic that cannot act is not kept"
    );
}

#[tokio::test]
async fn a_disabled_node_closes_its_connections_and_enabling_gives_its_address_back() {
    let (server, _fixture) = crate::toxics_support::start(&[]);
    let api = Api::of(&server);
    let node: SocketAddr = proxy(&api, "tox-001").await["listen"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, body) = api
        .call("POST", "/proxies/tox-001", Some(json!({"enabled": false})))
        .await;
    assert_eq!((status, &body["enabled"]), (200, &json!(false)), "{body}");
    let (got, ending, elapsed) = ping_raw(node, 1, Duration::from_secs(5));
    assert!(
        got.is_empty() && elapsed < Duration::from_secs(2),
        "closed at once: {got:?} {ending:?} {elapsed:?}"
    );

    let (status, body) = api
        .call("POST", "/proxies/tox-001", Some(json!({"enabled": true})))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["upstream"], body["listen"], "{body}");
    let (got, _, _) = ping_raw(node, 1, Duration::from_secs(5));
    assert_eq!(got, b"+PONG\r\n");
}
