//! Parameter groups on live nodes: values CONFIG SET at start and on Modify/Reset, observed
//! through a plain redis client on each node's own port and through their behaviour (keyspace
//! events); `pending-reboot`; switching groups; `cluster-enabled yes` choosing cluster mode.

use std::net::SocketAddr;

use std::time::Duration;

use crate::parameter_groups::{
    config_get, create_parameter_group, modify, pair, wait_nodes_config,
};
use crate::support::{
    TestServer, cache_cluster, code, code_and_message, connect, member_addresses, node_engine,
    wait_available, wait_deleted,
};

#[tokio::test]
async fn parameter_changes_reach_the_live_nodes() {
    parameter_changes_reach_live_nodes("redis", "redis7").await;
}

#[tokio::test]
async fn parameter_changes_reach_the_live_valkey_nodes() {
    parameter_changes_reach_live_nodes("valkey", "valkey8").await;
}

async fn parameter_changes_reach_live_nodes(engine: &str, family: &str) {
    if !crate::support::engine_available(engine) {
        return;
    }
    let server = TestServer::start();
    let client = server.sdk();
    create_parameter_group(&client, "live", family).await;
    modify(&client, "live", &[("timeout", "120")]).await;

    let missing = client
        .create_replication_group()
        .replication_group_id("nogroup")
        .replication_group_description("x")
        .cache_parameter_group_name("absent")
        .send()
        .await;
    assert_eq!(code(missing), "CacheParameterGroupNotFound");
    create_parameter_group(&client, "old-family", "redis6.x").await;
    let mismatch = client
        .create_replication_group()
        .replication_group_id("mismatch")
        .replication_group_description("x")
        .engine(engine)
        .cache_parameter_group_name("old-family")
        .send()
        .await;
    let (error, message) = code_and_message(mismatch);
    assert_eq!(error, "InvalidParameterCombination");
    assert!(message.contains("redis6.x"), "{message}");
    let shards = client
        .create_replication_group()
        .replication_group_id("shards")
        .replication_group_description("x")
        .engine(engine)
        .cache_parameter_group_name("live")
        .num_node_groups(2)
        .send()
        .await;
    assert_eq!(code(shards), "InvalidParameterCombination");

    client
        .create_replication_group()
        .replication_group_id("web")
        .replication_group_description("parameters")
        .engine(engine)
        .num_cache_clusters(2)
        .cache_parameter_group_name("LIVE")
        .send()
        .await
        .expect("create with a parameter group");
    let group = wait_available(&client, "web").await;
    assert_eq!(group.cluster_enabled(), Some(false));
    let (_, first_node) = member_addresses(&client, "web").await[0].clone();
    assert_eq!(node_engine(first_node, None).0, engine);
    // The group's values are on the nodes from the start.
    wait_nodes_config(&client, "web", "timeout", "120").await;
    let member = cache_cluster(&client, "web-001").await;
    let status = member.cache_parameter_group().unwrap();
    assert_eq!(status.cache_parameter_group_name(), Some("live"));
    assert_eq!(status.parameter_apply_status(), Some("in-sync"));

    // An immediate parameter reaches every running node: the value, then the behaviour.
    modify(
        &client,
        "live",
        &[
            ("maxmemory-policy", "allkeys-lru"),
            ("notify-keyspace-events", "KEA"),
        ],
    )
    .await;
    wait_nodes_config(&client, "web", "maxmemory-policy", "allkeys-lru").await;
    wait_nodes_config(&client, "web", "notify-keyspace-events", "AKE").await;
    let ports = member_addresses(&client, "web").await;
    let primary = ports.iter().find(|(m, _)| m == "web-001").unwrap().1;
    let event = tokio::task::spawn_blocking(move || keyspace_event(primary))
        .await
        .unwrap();
    assert_eq!(
        event,
        ("__keyspace@0__:watched".to_string(), "set".to_string())
    );

    // A requires-reboot parameter waits for a reboot: pending-reboot on every member.
    modify(&client, "live", &[("databases", "32")]).await;
    for id in ["web-001", "web-002"] {
        let cluster = cache_cluster(&client, id).await;
        let status = cluster.cache_parameter_group().unwrap();
        assert_eq!(
            status.parameter_apply_status(),
            Some("pending-reboot"),
            "{id}"
        );
        assert_eq!(status.cache_node_ids_to_reboot(), ["0001"]);
    }
    assert_eq!(
        config_get(primary, "databases"),
        "16",
        "not applied before a reboot"
    );

    let in_use = client
        .delete_cache_parameter_group()
        .cache_parameter_group_name("live")
        .send()
        .await;
    assert_eq!(code(in_use), "InvalidCacheParameterGroupState");

    // Reset goes back to the family default on the nodes too.
    client
        .reset_cache_parameter_group()
        .cache_parameter_group_name("live")
        .parameter_name_values(pair("maxmemory-policy", ""))
        .send()
        .await
        .expect("reset");
    wait_nodes_config(&client, "web", "maxmemory-policy", "volatile-lru").await;

    // ModifyReplicationGroup switches groups: the new group's values reach the nodes.
    create_parameter_group(&client, "other", family).await;
    modify(&client, "other", &[("maxmemory-policy", "allkeys-random")]).await;
    client
        .modify_replication_group()
        .replication_group_id("web")
        .cache_parameter_group_name("other")
        .apply_immediately(true)
        .send()
        .await
        .expect("switch parameter group");
    wait_available(&client, "web").await;
    wait_nodes_config(&client, "web", "maxmemory-policy", "allkeys-random").await;
    // `live` set timeout 120; `other` leaves it at the default.
    wait_nodes_config(&client, "web", "timeout", "0").await;
    let switched = cache_cluster(&client, "web-002").await;
    assert_eq!(
        switched
            .cache_parameter_group()
            .unwrap()
            .cache_parameter_group_name(),
        Some("other")
    );
    let cluster_group = client
        .modify_replication_group()
        .replication_group_id("web")
        .cache_parameter_group_name(format!("default.{family}.cluster.on"))
        .send()
        .await;
    assert_eq!(code(cluster_group), "InvalidParameterCombination");

    client
        .delete_replication_group()
        .replication_group_id("web")
        .send()
        .await
        .unwrap();
    wait_deleted(&client, "web").await;
    client
        .delete_cache_parameter_group()
        .cache_parameter_group_name("live")
        .send()
        .await
        .expect("delete once no group uses it");
}

/// Subscribes to keyspace events on the node, writes a key, and returns the first event.
fn keyspace_event(port: SocketAddr) -> (String, String) {
    let mut subscriber = connect(port, None).unwrap();
    let mut pubsub = subscriber.as_pubsub();
    pubsub.psubscribe("__keyspace@0__:*").unwrap();
    pubsub
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut writer = connect(port, None).unwrap();
    let _: () = redis::cmd("SET")
        .arg("watched")
        .arg("1")
        .query(&mut writer)
        .unwrap();
    let message = pubsub.get_message().expect("a keyspace event");
    (
        message.get_channel_name().to_string(),
        message.get_payload().unwrap(),
    )
}

#[tokio::test]
async fn cluster_enabled_in_the_group_makes_cluster_mode() {
    let server = TestServer::start();
    let client = server.sdk();
    create_parameter_group(&client, "sharded", "redis7").await;
    modify(
        &client,
        "sharded",
        &[
            ("cluster-enabled", "yes"),
            ("maxmemory-policy", "allkeys-lfu"),
        ],
    )
    .await;
    client
        .create_replication_group()
        .replication_group_id("cm")
        .replication_group_description("cluster mode from the group")
        .cache_parameter_group_name("sharded")
        .send()
        .await
        .expect("create");
    let group = wait_available(&client, "cm").await;
    assert_eq!(group.cluster_enabled(), Some(true));
    assert!(group.configuration_endpoint().is_some());
    let ports = member_addresses(&client, "cm").await;
    let port = ports[0].1;
    assert_eq!(config_get(port, "cluster-enabled"), "yes");
    assert_eq!(config_get(port, "maxmemory-policy"), "allkeys-lfu");

    // Without a group, shards get the cluster-mode default group.
    client
        .create_replication_group()
        .replication_group_id("plain")
        .replication_group_description("default group")
        .num_node_groups(2)
        .send()
        .await
        .expect("create");
    wait_available(&client, "plain").await;
    let member = cache_cluster(&client, "plain-0001-001").await;
    assert_eq!(
        member
            .cache_parameter_group()
            .unwrap()
            .cache_parameter_group_name(),
        Some("default.redis7.cluster.on")
    );
    let default_on = client
        .create_replication_group()
        .replication_group_id("plain-two")
        .replication_group_description("explicit")
        .cache_parameter_group_name("default.redis7.cluster.on")
        .cluster_mode(aws_sdk_elasticache::types::ClusterMode::Disabled)
        .send()
        .await;
    assert_eq!(code(default_on), "InvalidParameterCombination");
}

/// A group created without `CacheParameterGroupName` runs its family's defaults where they
/// differ from the engine's own (redis-server's `noeviction` would refuse writes at maxmemory
/// where an ElastiCache node evicts volatile keys), and so does one with a custom group.
#[tokio::test]
async fn new_nodes_run_the_family_defaults_that_differ_from_the_engines() {
    let server = TestServer::start();
    let client = server.sdk();
    crate::support::create_group(&client, "defaults", 2, false).await;
    create_parameter_group(&client, "custom", "redis7").await;
    modify(&client, "custom", &[("timeout", "120")]).await;
    client
        .create_replication_group()
        .replication_group_id("custom")
        .replication_group_description("x")
        .cache_parameter_group_name("custom")
        .send()
        .await
        .expect("create with a custom group");
    wait_available(&client, "custom").await;
    for (name, value) in [
        ("maxmemory-policy", "volatile-lru"),
        ("maxmemory-samples", "3"),
        ("replica-lazy-flush", "yes"),
    ] {
        wait_nodes_config(&client, "defaults", name, value).await;
        wait_nodes_config(&client, "custom", name, value).await;
    }
    wait_nodes_config(&client, "custom", "timeout", "120").await;
}
