//! A node's proxy is its network, not its process: the toxics on a node stay while it is down
//! (listed, editable) and act again on the process that replaces it, after a `kill` fault and
//! the failover and recovery that follow, and after a `restart` fault.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{
    DEADLINE, TestServer, create_group, describe, endpoints, inject_ok, wait_for_event, wait_until,
};
use crate::toxics_support::{Api, ping_rtts, redis_connection};

const FINISHED: &str = "Finished recovery for cache nodes 0001";

async fn proxy(api: &Api, name: &str) -> Value {
    let (status, body) = api.call("GET", &format!("/proxies/{name}"), None).await;
    assert_eq!(status, 200, "{body}");
    body
}

fn toxic_names(proxy: &Value) -> Vec<String> {
    proxy["toxics"]
        .as_array()
        .map(|toxics| {
            toxics
                .iter()
                .map(|t| t["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits until `member`'s proxy is fronted again (its toxics act), then the median PING at
/// `node` through a fresh connection.
async fn slowed_again(api: &Api, member: &str, node: SocketAddr) -> f64 {
    wait_until("the node fronted again", DEADLINE, || async {
        let listed = proxy(api, member).await;
        (listed["upstream"] != listed["listen"]).then_some(())
    })
    .await;
    let mut connection = redis_connection(node).await;
    ping_rtts(&mut connection, 9).await.0
}

#[tokio::test]
async fn a_killed_then_restarted_node_keeps_its_toxics() {
    let server = TestServer::start();
    let client = server.sdk();
    create_group(&client, "ntr", 2, true).await;
    let api = Api::of(&server);
    let group = describe(&client, "ntr").await.expect("the group");
    let (_, _, members) = endpoints(&group);
    let (member, node, _) = members
        .into_iter()
        .find(|(_, _, role)| role == "primary")
        .expect("a primary");
    api.add(
        &member,
        json!({"name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": 200}}),
    )
    .await;

    inject_ok(
        &server,
        json!({"type": "kill", "replication_group_id": "ntr", "cache_cluster_id": member, "duration_seconds": 3}),
    )
    .await;
    // Down, its proxy stays listed with its toxic, and takes another one meanwhile.
    let down = proxy(&api, &member).await;
    assert_eq!(toxic_names(&down), ["slow"], "{down}");
    api.add(
        &member,
        json!({"name": "cut", "type": "bandwidth", "stream": "upstream", "attributes": {"rate": 100000}}),
    )
    .await;
    wait_for_event(&client, &member, FINISHED).await;
    let back = proxy(&api, &member).await;
    assert_eq!(toxic_names(&back), ["cut", "slow"], "{back}");
    let after_kill = slowed_again(&api, &member, node).await;
    println!("{member} at {node} after its kill, failover and recovery: {after_kill:.2} ms");
    assert!(
        (200.0..=220.0).contains(&after_kill),
        "median {after_kill} ms"
    );

    // Now a replica: a restart fault (SIGTERM, then a new process) keeps them too.
    inject_ok(
        &server,
        json!({"type": "restart", "replication_group_id": "ntr", "cache_cluster_id": member, "duration_seconds": 0.5}),
    )
    .await;
    wait_for_event(&client, &member, "Cache node 0001 restarted").await;
    let after_restart = slowed_again(&api, &member, node).await;
    println!("{member} after its restart: {after_restart:.2} ms");
    assert!(
        (200.0..=220.0).contains(&after_restart),
        "median {after_restart} ms"
    );
    assert_eq!(toxic_names(&proxy(&api, &member).await), ["cut", "slow"]);

    // Deleting the group takes its nodes' proxies, parked or not.
    client
        .delete_replication_group()
        .replication_group_id("ntr")
        .send()
        .await
        .expect("delete");
    wait_until("the node's proxy gone", Duration::from_secs(30), || async {
        let (status, _) = api.call("GET", &format!("/proxies/{member}"), None).await;
        (status == 404).then_some(())
    })
    .await;
}
