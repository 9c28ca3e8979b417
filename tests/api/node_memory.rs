//! A node type's memory on the live nodes: `INFO memory` `maxmemory` is the type's memory less
//! the parameter group's reservation (25% by default, as AWS reports it), from the start, after
//! a node-type change applied at once, on nodes added later, and its behaviour (`OOM` under
//! `noeviction` once the data outgrows it).

use std::net::SocketAddr;

use crate::cache_clusters::wait_standalone_node;
use crate::parameter_groups::{create_parameter_group, modify};
use crate::support::{
    DEADLINE, TestServer, connect, create_cluster, fast_forward_maintenance, increase_replicas,
    member_addresses, wait_available, wait_members, wait_until,
};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// `maxmemory` of a node with `gib` GiB under a `reserved_percent` reservation.
fn expected(gib: f64, reserved_percent: u64) -> String {
    let memory = (gib * GIB) as u64;
    (memory - memory * reserved_percent / 100).to_string()
}

/// `maxmemory` as the node's `INFO memory` reports it.
fn info_maxmemory(node: SocketAddr) -> String {
    let mut connection = connect(node, None).expect("connect to the node");
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query(&mut connection)
        .expect("INFO memory");
    let line = info.lines().find_map(|l| l.strip_prefix("maxmemory:"));
    line.unwrap_or_default().trim().to_string()
}

/// Waits until every member node of `group_id` reports `maxmemory` = `value`.
async fn wait_maxmemory(client: &aws_sdk_elasticache::Client, group_id: &str, value: &str) {
    let nodes = member_addresses(client, group_id).await;
    assert!(!nodes.is_empty());
    for (member, node) in nodes {
        let what = format!("{member} to report maxmemory {value}");
        wait_until(&what, DEADLINE, || async move {
            (info_maxmemory(node) == value).then_some(())
        })
        .await;
    }
}

/// A two-node cache.t4g.micro group `id`, available.
async fn create_micro_group(client: &aws_sdk_elasticache::Client, id: &str) {
    client
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description("node memory")
        .cache_node_type("cache.t4g.micro")
        .num_cache_clusters(2)
        .send()
        .await
        .expect("create a cache.t4g.micro group");
    wait_available(client, id).await;
}

#[tokio::test]
async fn the_node_type_is_each_nodes_maxmemory_and_follows_a_change() {
    let server = TestServer::start();
    let client = server.sdk();
    create_micro_group(&client, "micro").await;
    // AWS's own figure for a 0.5 GiB node in a default group: 402653184 bytes.
    assert_eq!(expected(0.5, 25), "402653184");
    wait_maxmemory(&client, "micro", "402653184").await;

    let modified = client
        .modify_replication_group()
        .replication_group_id("micro")
        .cache_node_type("cache.t4g.small")
        .apply_immediately(true)
        .send()
        .await
        .expect("modify the node type");
    assert_eq!(
        modified.replication_group().and_then(|g| g.status()),
        Some("modifying")
    );
    let group = wait_available(&client, "micro").await;
    assert_eq!(group.cache_node_type(), Some("cache.t4g.small"));
    let small = expected(1.37, 25);
    wait_maxmemory(&client, "micro", &small).await;
    // A node started later runs the new type too.
    increase_replicas(&client, "micro", 2).await;
    wait_members(&client, "micro", 3).await;
    wait_available(&client, "micro").await;
    wait_maxmemory(&client, "micro", &small).await;
}

#[tokio::test]
async fn cluster_mode_and_standalone_nodes_get_their_node_types_memory() {
    let server = TestServer::start();
    let client = server.sdk();
    // No CacheNodeType: the default one, cache.t4g.micro.
    create_cluster(&client, "shards", 2, 1).await;
    wait_maxmemory(&client, "shards", &expected(0.5, 25)).await;

    client
        .create_cache_cluster()
        .cache_cluster_id("solo")
        .engine("redis")
        .cache_node_type("cache.t3.small")
        .send()
        .await
        .expect("create a standalone cluster");
    let (_, node) = wait_standalone_node(&client, "solo").await;
    assert_eq!(info_maxmemory(node), expected(1.37, 25));
    client
        .modify_cache_cluster()
        .cache_cluster_id("solo")
        .cache_node_type("cache.t3.medium")
        .apply_immediately(true)
        .send()
        .await
        .expect("modify the standalone node type");
    let medium = expected(3.09, 25);
    wait_until("solo to report the new maxmemory", DEADLINE, || async {
        (info_maxmemory(node) == medium).then_some(())
    })
    .await;
}

/// With 99% reserved a cache.t4g.micro keeps ~5 MiB for data: under `noeviction` a write past
/// it is refused with `OOM`, as on an ElastiCache node that is full.
#[tokio::test]
async fn a_full_node_refuses_writes_under_noeviction() {
    let server = TestServer::start();
    let client = server.sdk();
    create_parameter_group(&client, "tiny", "redis7").await;
    modify(
        &client,
        "tiny",
        &[
            ("reserved-memory-percent", "99"),
            ("maxmemory-policy", "noeviction"),
        ],
    )
    .await;
    client
        .create_replication_group()
        .replication_group_id("full")
        .replication_group_description("node memory")
        .cache_node_type("cache.t4g.micro")
        .cache_parameter_group_name("tiny")
        .num_cache_clusters(1)
        .send()
        .await
        .expect("create a group with 99% reserved");
    wait_available(&client, "full").await;
    wait_maxmemory(&client, "full", &expected(0.5, 99)).await;
    let (_, node) = member_addresses(&client, "full").await[0].clone();
    let mut connection = connect(node, None).expect("connect to the node");
    let value = "x".repeat(100 * 1024);
    let refused = (0..200).find_map(|i| {
        let written: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("key-{i}"))
            .arg(&value)
            .query(&mut connection);
        written.err()
    });
    let error = refused.expect("a write past maxmemory is refused");
    assert!(error.to_string().contains("OOM"), "{error}");
}

/// A node type deferred to the maintenance window (`ApplyImmediately=false`) leaves the nodes'
/// memory as it is until the window (fast-forwarded by `POST /_maintenance/{id}`).
#[tokio::test]
async fn a_deferred_node_type_reaches_the_nodes_at_the_window() {
    let server = TestServer::start();
    let client = server.sdk();
    create_micro_group(&client, "later").await;
    let micro = expected(0.5, 25);
    wait_maxmemory(&client, "later", &micro).await;
    client
        .modify_replication_group()
        .replication_group_id("later")
        .cache_node_type("cache.t4g.medium")
        .apply_immediately(false)
        .send()
        .await
        .expect("defer the node type");
    for (member, node) in member_addresses(&client, "later").await {
        assert_eq!(info_maxmemory(node), micro, "{member} before the window");
    }
    let (status, _) = fast_forward_maintenance(&server, "later").await;
    assert_eq!(status, 200);
    wait_available(&client, "later").await;
    wait_maxmemory(&client, "later", &expected(3.09, 25)).await;
}

/// `reserved-memory-percent` changed in a group in use reaches the running nodes' maxmemory.
#[tokio::test]
async fn a_changed_reservation_reaches_the_running_nodes() {
    let server = TestServer::start();
    let client = server.sdk();
    create_parameter_group(&client, "reserve", "redis7").await;
    client
        .create_replication_group()
        .replication_group_id("reserve")
        .replication_group_description("node memory")
        .cache_node_type("cache.t4g.micro")
        .cache_parameter_group_name("reserve")
        .num_cache_clusters(2)
        .send()
        .await
        .expect("create with a custom group");
    wait_available(&client, "reserve").await;
    wait_maxmemory(&client, "reserve", &expected(0.5, 25)).await;
    modify(&client, "reserve", &[("reserved-memory-percent", "50")]).await;
    wait_maxmemory(&client, "reserve", &expected(0.5, 50)).await;
}
