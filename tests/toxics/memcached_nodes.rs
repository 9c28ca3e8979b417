//! Toxics on a Memcached cache cluster's nodes: every node is a proxy from the start, named
//! `<CacheClusterId>-<CacheNodeId>`, listening at the node's own address (the one Auto Discovery
//! and DescribeCacheClusters give). A memcached client sees a node's toxics on that node only,
//! on a connection opened before the toxic too; they stay across a RebootCacheCluster of the
//! node and go with the node.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::support::{
    DEADLINE, TestServer, address_of_endpoint, cache_cluster, events_for, messages,
    wait_cache_cluster_available, wait_until,
};
use crate::toxics_support::Api;

const CLUSTER: &str = "mctox";

fn latency(ms: u64) -> Value {
    json!({"name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": ms}})
}

/// A memcached text-protocol client on one connection.
struct Memcached {
    stream: BufReader<TcpStream>,
}

impl Memcached {
    async fn connect(at: SocketAddr) -> Self {
        let stream = TcpStream::connect(at).await.expect("connect to the node");
        stream.set_nodelay(true).unwrap();
        Self {
            stream: BufReader::new(stream),
        }
    }

    /// Sends `command` and reads its reply up to the line `last` (or an error line).
    async fn call(&mut self, command: &str, last: &str) -> String {
        self.stream
            .get_mut()
            .write_all(command.as_bytes())
            .await
            .unwrap();
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            let read = tokio::time::timeout(DEADLINE, self.stream.read_line(&mut line)).await;
            assert!(read.expect("a reply in time").unwrap() > 0, "cut: {reply}");
            reply.push_str(&line);
            if line.trim_end() == last || line.contains("ERROR") {
                return reply;
            }
        }
    }

    async fn set(&mut self, key: &str, value: &str) {
        let command = format!("set {key} 0 0 {}\r\n{value}\r\n", value.len());
        assert_eq!(self.call(&command, "STORED").await, "STORED\r\n");
    }

    /// The median of `n` round trips of `get key` (ms); every reply is checked.
    async fn median_get(&mut self, key: &str, n: usize) -> f64 {
        let mut rtts = Vec::new();
        for _ in 0..n {
            let started = Instant::now();
            let reply = self.call(&format!("get {key}\r\n"), "END").await;
            rtts.push(started.elapsed().as_secs_f64() * 1000.0);
            assert!(reply.starts_with(&format!("VALUE {key} ")), "{reply}");
        }
        rtts.sort_by(f64::total_cmp);
        rtts[n / 2]
    }
}

async fn create_memcached(server: &TestServer, nodes: i32) -> Vec<(String, SocketAddr)> {
    (server.sdk().create_cache_cluster())
        .cache_cluster_id(CLUSTER)
        .engine("memcached")
        .num_cache_nodes(nodes)
        .send()
        .await
        .expect("create the memcached cluster");
    node_addresses(server).await
}

/// The cluster's nodes by id and address, once it is available.
async fn node_addresses(server: &TestServer) -> Vec<(String, SocketAddr)> {
    wait_cache_cluster_available(&server.sdk(), CLUSTER, |cluster| {
        (cluster.cache_nodes().iter())
            .map(|n| {
                let id = n.cache_node_id()?.to_string();
                Some((id, address_of_endpoint(n.endpoint()?)))
            })
            .collect::<Option<Vec<_>>>()
    })
    .await
}

async fn proxies(api: &Api) -> Value {
    let (status, body) = api.call("GET", "/proxies", None).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Within 10% of `expected` ms, over the connection's own round trip `base`.
fn assert_about(measured: f64, base: f64, expected: f64, what: &str) {
    let added = measured - base;
    assert!(
        (expected * 0.9..=expected * 1.1).contains(&added),
        "{what}: {measured:.2} ms, {base:.2} ms without the toxic: {added:.2} ms added, not {expected} ms"
    );
}

#[tokio::test]
async fn a_latency_toxic_on_a_memcached_node_slows_that_node_only() {
    let server = TestServer::start();
    let nodes = create_memcached(&server, 2).await;
    let ids: Vec<&str> = nodes.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["0001", "0002"]);
    let (slow_node, fast_node) = (nodes[0].1, nodes[1].1);
    let api = Api::of(&server);
    let listed = proxies(&api).await;
    for (id, at) in &nodes {
        let name = format!("{CLUSTER}-{id}");
        let proxy = &listed[&name];
        assert_eq!(proxy["name"], json!(name), "{listed}");
        assert_eq!(proxy["listen"], json!(at.to_string()), "{proxy}");
        let upstream = proxy["upstream"].as_str().unwrap_or_default();
        assert!(upstream.starts_with("unix:/"), "{proxy}");
        assert!(
            upstream.ends_with(&format!("/{id}/memcached.sock")),
            "{proxy}"
        );
    }

    // A connection opened before the toxic: the front is there from the start, so it passes it.
    let mut before = Memcached::connect(slow_node).await;
    before.set("k", "v1").await;
    let mut other = Memcached::connect(fast_node).await;
    other.set("k", "v2").await;
    let base = before.median_get("k", 15).await;
    let other_base = other.median_get("k", 15).await;

    api.add(&format!("{CLUSTER}-0001"), latency(200)).await;
    let slowed = before.median_get("k", 9).await;
    let fresh = Memcached::connect(slow_node).await.median_get("k", 9).await;
    let unaffected = other.median_get("k", 15).await;
    println!(
        "memcached {CLUSTER}-0001 at {slow_node}: {base:.3} ms, with 200 ms latency {slowed:.2} ms (a fresh connection {fresh:.2} ms); {CLUSTER}-0002: {other_base:.3} ms, then {unaffected:.3} ms"
    );
    assert_about(
        slowed,
        base,
        200.0,
        "the connection opened before the toxic",
    );
    assert_about(fresh, base, 200.0, "a connection opened after it");
    assert!(unaffected < 20.0, "the other node: {unaffected} ms");

    // Auto Discovery goes through the toxics too, and still gives the nodes' own addresses.
    let started = Instant::now();
    let discovery = before.call("config get cluster\r\n", "END").await;
    assert!(
        started.elapsed() >= Duration::from_millis(180),
        "{discovery}"
    );
    for (_, at) in &nodes {
        let entry = format!("{}|{}|{}", at.ip(), at.ip(), at.port());
        assert!(discovery.contains(&entry), "{entry} in {discovery}");
    }

    let (status, body) = (api.call(
        "DELETE",
        &format!("/proxies/{CLUSTER}-0001/toxics/slow"),
        None,
    ))
    .await;
    assert_eq!(status, 204, "{body}");
    let restored = before.median_get("k", 15).await;
    assert!(restored < 20.0, "{restored} ms after the toxic is removed");

    disabling_closes_and_enabling_serves(&api, slow_node, before).await;
}

/// Disabled, node `0001` closes its connections, open (`before`) and new; enabled, it serves again.
async fn disabling_closes_and_enabling_serves(api: &Api, slow_node: SocketAddr, before: Memcached) {
    let path = format!("/proxies/{CLUSTER}-0001");
    let (status, body) = api
        .call("POST", &path, Some(json!({"enabled": false})))
        .await;
    assert_eq!((status, &body["enabled"]), (200, &json!(false)), "{body}");
    assert!(closed(before).await, "the open connection is closed");
    assert!(
        closed(Memcached::connect(slow_node).await).await,
        "a new one too"
    );
    let (status, body) = api
        .call("POST", &path, Some(json!({"enabled": true})))
        .await;
    assert_eq!((status, &body["enabled"]), (200, &json!(true)), "{body}");
    assert!(Memcached::connect(slow_node).await.median_get("k", 3).await < 20.0);
}

/// True when the node closes `connection` (a `version` gets no answer but the end).
async fn closed(mut connection: Memcached) -> bool {
    let _ = connection.stream.get_mut().write_all(b"version\r\n").await;
    let mut line = String::new();
    let read = tokio::time::timeout(DEADLINE, connection.stream.read_line(&mut line)).await;
    matches!(read.expect("closed or answered in time"), Ok(0) | Err(_))
}

#[tokio::test]
async fn a_rebooted_memcached_node_keeps_its_toxics_and_a_deleted_one_takes_them_along() {
    let server = TestServer::start();
    let nodes = create_memcached(&server, 2).await;
    let node = nodes[0].1;
    let api = Api::of(&server);
    let name = format!("{CLUSTER}-0001");
    let mut connection = Memcached::connect(node).await;
    connection.set("k", "before").await;
    let base = connection.median_get("k", 15).await;
    api.add(&name, latency(200)).await;

    let client = server.sdk();
    (client.reboot_cache_cluster())
        .cache_cluster_id(CLUSTER)
        .cache_node_ids_to_reboot("0001")
        .send()
        .await
        .expect("reboot");
    wait_until("node 0001 rebooted", DEADLINE, || async {
        let restarted = messages(&events_for(&client, CLUSTER).await)
            .contains(&"Cache node 0001 restarted".to_string());
        let available =
            cache_cluster(&client, CLUSTER).await.cache_cluster_status() == Some("available");
        (restarted && available).then_some(())
    })
    .await;
    assert_eq!(
        node_addresses(&server).await,
        nodes,
        "same nodes, same addresses"
    );
    let listed = proxies(&api).await;
    let toxics = listed[&name]["toxics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(toxics.len(), 1, "{listed}");

    let mut after = Memcached::connect(node).await;
    let started = Instant::now();
    assert_eq!(
        after.call("get k\r\n", "END").await,
        "END\r\n",
        "rebooted empty"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(180),
        "the toxic acts at once"
    );
    after.set("k", "after").await;
    let slowed = after.median_get("k", 9).await;
    println!("rebooted {name}: {base:.3} ms before the toxic, {slowed:.2} ms with it");
    assert_about(slowed, base, 200.0, "the rebooted node");

    (client.delete_cache_cluster())
        .cache_cluster_id(CLUSTER)
        .send()
        .await
        .expect("delete");
    wait_until("the nodes' proxies gone", DEADLINE, || async {
        let listed = proxies(&api).await;
        let names: Vec<&String> = listed.as_object()?.keys().collect();
        names
            .iter()
            .all(|n| !n.starts_with(&format!("{CLUSTER}-")))
            .then_some(())
    })
    .await;
}
