//! Append-only files: `appendonly` / `appendfsync` of a (redis2.8) parameter group reach the
//! nodes of replication groups and standalone cache clusters, at create and on Modify, seen
//! through `INFO persistence` on a plain client connection (clients cannot run CONFIG) and
//! CONFIG GET under the engine's private name; writes grow the AOF. AOF and automatic failover
//! are mutually exclusive (AWS's Multi-AZ guide), on every path that could combine them.

use std::net::SocketAddr;

use aws_sdk_elasticache::Client;

use crate::parameter_groups::{create_parameter_group, modify, wait_nodes_config};
use crate::support::{
    DEADLINE, TestServer, code_and_message, connect, member_addresses, wait_available, wait_until,
};

/// The version whose family (redis2.8) still lets a group change `appendonly`; the nodes run
/// the local redis-server.
const VERSION: &str = "2.8.24";

fn persistence_field(at: SocketAddr, field: &str) -> Option<String> {
    let mut connection = connect(at, None).ok()?;
    let info: String = redis::cmd("INFO")
        .arg("persistence")
        .query(&mut connection)
        .ok()?;
    let prefix = format!("{field}:");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(|value| value.trim().to_string())
}

/// Waits until the node reports `aof_enabled` = `enabled` with no rewrite under way.
async fn wait_aof(at: SocketAddr, enabled: &str) {
    let what = format!("{at} to report aof_enabled:{enabled}");
    wait_until(&what, DEADLINE, || async move {
        let on = persistence_field(at, "aof_enabled")? == enabled;
        let idle = persistence_field(at, "aof_rewrite_in_progress")? == "0";
        (on && idle).then_some(())
    })
    .await;
}

fn aof_size(at: SocketAddr) -> u64 {
    persistence_field(at, "aof_current_size")
        .and_then(|size| size.parse().ok())
        .unwrap_or(0)
}

/// `appendfsync no` (not the default, so its arrival is visible): `always` fsyncs on every
/// write, and on a disk shared with other test runs that can hold a node's main thread past the
/// health monitor's PING deadline, which restarts the node.
async fn aof_group(client: &Client) {
    create_parameter_group(client, "aof", "redis2.8").await;
    modify(
        client,
        "aof",
        &[("appendonly", "yes"), ("appendfsync", "no")],
    )
    .await;
}

/// A write to the primary lands in the AOF of the primary and of the replica.
async fn writes_reach_the_aof(primary: SocketAddr, nodes: &[SocketAddr]) {
    let before: Vec<u64> = nodes.iter().map(|n| aof_size(*n)).collect();
    let value = "v".repeat(1000);
    let mut connection = connect(primary, None).expect("connect to the primary");
    for i in 0..100 {
        let _: () = redis::cmd("SET")
            .arg(format!("key:{i}"))
            .arg(&value)
            .query(&mut connection)
            .unwrap_or_else(|e| panic!("SET on {primary}: {e}"));
    }
    for (node, before) in nodes.iter().zip(before) {
        let what = format!("{node}'s AOF to hold the writes");
        let node = *node;
        wait_until(&what, DEADLINE, || async move {
            (aof_size(node) >= before + 100_000).then_some(())
        })
        .await;
        assert_eq!(
            persistence_field(node, "aof_last_write_status").as_deref(),
            Some("ok")
        );
    }
}

#[tokio::test]
async fn appendonly_in_a_parameter_group_turns_on_aof_on_the_group_nodes() {
    let server = TestServer::start();
    let client = server.sdk();
    aof_group(&client).await;
    let create = |id: &str, failover: bool| {
        client
            .create_replication_group()
            .replication_group_id(id)
            .replication_group_description("aof")
            .engine("redis")
            .engine_version(VERSION)
            .num_cache_clusters(2)
            .automatic_failover_enabled(failover)
            .cache_parameter_group_name("aof")
            .send()
    };
    let (error, message) = code_and_message(create("ha", true).await);
    assert_eq!(error, "InvalidParameterCombination");
    assert!(message.contains("append-only"), "{message}");

    create("web", false).await.expect("create with AOF");
    wait_available(&client, "web").await;
    wait_nodes_config(&client, "web", "appendonly", "yes").await;
    wait_nodes_config(&client, "web", "appendfsync", "no").await;
    let members = member_addresses(&client, "web").await;
    let nodes: Vec<SocketAddr> = members.iter().map(|(_, at)| *at).collect();
    for node in &nodes {
        wait_aof(*node, "1").await;
    }
    let primary = members.iter().find(|(m, _)| m == "web-001").unwrap().1;
    writes_reach_the_aof(primary, &nodes).await;

    // Automatic failover cannot join a group writing an AOF.
    let failover = client
        .modify_replication_group()
        .replication_group_id("web")
        .automatic_failover_enabled(true)
        .apply_immediately(true)
        .send()
        .await;
    assert_eq!(code_and_message(failover).0, "InvalidParameterCombination");
    let group = wait_available(&client, "web").await;
    assert_eq!(
        group.automatic_failover(),
        Some(&aws_sdk_elasticache::types::AutomaticFailoverStatus::Disabled)
    );

    // Off on the running nodes; then failover may be turned on, and AOF may not come back.
    modify(&client, "aof", &[("appendonly", "no")]).await;
    for node in &nodes {
        wait_aof(*node, "0").await;
    }
    client
        .modify_replication_group()
        .replication_group_id("web")
        .automatic_failover_enabled(true)
        .apply_immediately(true)
        .send()
        .await
        .expect("automatic failover without AOF");
    wait_until("automatic failover enabled", DEADLINE, || async {
        let group = wait_available(&client, "web").await;
        (group.automatic_failover()
            == Some(&aws_sdk_elasticache::types::AutomaticFailoverStatus::Enabled))
        .then_some(())
    })
    .await;
    let back_on = client
        .modify_cache_parameter_group()
        .cache_parameter_group_name("aof")
        .parameter_name_values(crate::parameter_groups::pair("appendonly", "yes"))
        .send()
        .await;
    let (error, message) = code_and_message(back_on);
    assert_eq!(error, "InvalidParameterCombination");
    assert!(message.contains("web"), "{message}");
    // Nor by switching to another group that writes one.
    create_parameter_group(&client, "aof-on", "redis2.8").await;
    modify(&client, "aof-on", &[("appendonly", "yes")]).await;
    let switch = client
        .modify_replication_group()
        .replication_group_id("web")
        .cache_parameter_group_name("aof-on")
        .apply_immediately(true)
        .send()
        .await;
    assert_eq!(code_and_message(switch).0, "InvalidParameterCombination");
    assert_eq!(
        persistence_field(primary, "aof_enabled").as_deref(),
        Some("0")
    );
}

#[tokio::test]
async fn appendonly_reaches_a_standalone_cache_cluster() {
    let server = TestServer::start();
    let client = server.sdk();
    aof_group(&client).await;
    client
        .create_cache_cluster()
        .cache_cluster_id("solo")
        .engine("redis")
        .engine_version(VERSION)
        .cache_parameter_group_name("aof")
        .send()
        .await
        .expect("create a standalone cluster with AOF");
    let (_, node) = crate::cache_clusters::wait_standalone_node(&client, "solo").await;
    wait_aof(node, "1").await;
    writes_reach_the_aof(node, &[node]).await;
    // A standalone cluster has no automatic failover: the group may turn AOF off and on.
    modify(&client, "aof", &[("appendonly", "no")]).await;
    wait_aof(node, "0").await;
    modify(&client, "aof", &[("appendonly", "yes")]).await;
    wait_aof(node, "1").await;
    // A rebooted node starts again with the group's values, AOF included.
    crate::cache_clusters::reboot(&client, "solo").await;
    wait_aof(node, "1").await;
    writes_reach_the_aof(node, &[node]).await;
}
