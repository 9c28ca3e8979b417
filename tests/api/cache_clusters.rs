//! RebootCacheCluster of a replication group's members, checked on the real nodes through the
//! `redis` crate: the node restarts empty; a primary's reboot is no failover (roles, endpoints
//! and events say so) and its replicas resync to empty; a replica resyncs; the parameter
//! changes that waited for a reboot are active on the rebooted node only. The standalone and
//! Memcached flows are in tests/python/cache_cluster_flow.py (boto3, redis-py, pymemcache).

use redis::Commands;

use crate::parameter_groups::{config_get, create_parameter_group, modify};
use crate::support::{
    DEADLINE, TestServer, address_of, address_of_endpoint, cache_cluster, code, connect, describe,
    endpoints, events_for, member_addresses, messages, redis_pid_on, replication_field, signal,
    wait_available, wait_cache_cluster_available, wait_deleted, wait_for_event, wait_until,
};

pub(crate) async fn reboot(client: &aws_sdk_elasticache::Client, member: &str) {
    let answer = client
        .reboot_cache_cluster()
        .cache_cluster_id(member)
        .cache_node_ids_to_reboot("0001")
        .send()
        .await
        .expect("reboot");
    let status = answer
        .cache_cluster()
        .and_then(|c| c.cache_cluster_status());
    assert_eq!(status, Some("rebooting cache cluster nodes"));
    wait_until(&format!("{member} rebooted"), DEADLINE, || async {
        let messages = messages(&events_for(client, member).await);
        let cluster = cache_cluster(client, member).await;
        (cluster.cache_cluster_status() == Some("available")
            && messages.contains(&"Cache node 0001 restarted".to_string()))
        .then_some(())
    })
    .await;
}

fn get(port: impl crate::support::At, key: &str) -> Option<String> {
    connect(port, None).unwrap().get(key).unwrap()
}

async fn apply_status(client: &aws_sdk_elasticache::Client, member: &str) -> String {
    let cluster = cache_cluster(client, member).await;
    let group = cluster
        .cache_parameter_group()
        .expect("its parameter group");
    group
        .parameter_apply_status()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_rebooted_primary_comes_back_empty_without_a_failover_and_its_replicas_resync() {
    let server = TestServer::start();
    let client = server.sdk();
    create_parameter_group(&client, "reboots", "redis7").await;
    client
        .create_replication_group()
        .replication_group_id("rb")
        .replication_group_description("reboots")
        .num_cache_clusters(3)
        .automatic_failover_enabled(true)
        .cache_parameter_group_name("reboots")
        .send()
        .await
        .expect("create");
    let group = wait_available(&client, "rb").await;
    let (primary_endpoint, _, _) = endpoints(&group);
    let ports = member_addresses(&client, "rb").await;
    let (primary, replicas) = (address_of(&ports, "rb-001"), ["rb-002", "rb-003"]);
    let _: () = connect(primary, None)
        .unwrap()
        .set("kept", "before")
        .unwrap();
    for replica in replicas {
        let port = address_of(&ports, replica);
        wait_until("the replica has the key", DEADLINE, || async {
            get(port, "kept").map(|_| ())
        })
        .await;
    }
    // `databases` needs a restart: pending-reboot on every member until its node reboots.
    modify(&client, "reboots", &[("databases", "32")]).await;
    assert_eq!(apply_status(&client, "rb-001").await, "pending-reboot");

    reboot(&client, "rb-001").await;
    assert_eq!(get(primary, "kept"), None, "the primary restarted empty");
    for replica in replicas {
        let port = address_of(&ports, replica);
        wait_until("the replica resynced to empty", DEADLINE, || async {
            get(port, "kept").is_none().then_some(())
        })
        .await;
        assert_eq!(
            (
                replication_field(port, "master_host"),
                replication_field(port, "master_port")
            ),
            (
                Some(primary.ip().to_string()),
                Some(primary.port().to_string())
            )
        );
    }
    assert_no_failover(&client, primary_endpoint, &ports).await;
    assert_eq!(
        config_get(primary, "databases"),
        "32",
        "active after the reboot"
    );
    assert_eq!(apply_status(&client, "rb-001").await, "in-sync");
    assert_eq!(apply_status(&client, "rb-002").await, "pending-reboot");
    assert_eq!(config_get(address_of(&ports, "rb-002"), "databases"), "16");

    a_rebooted_replica_resyncs(&client, primary).await;
    let bad_node = client
        .reboot_cache_cluster()
        .cache_cluster_id("rb-001")
        .cache_node_ids_to_reboot("0002")
        .send()
        .await;
    assert_eq!(code(bad_node), "InvalidParameterValue");
    client
        .delete_replication_group()
        .replication_group_id("rb")
        .send()
        .await
        .expect("delete");
    wait_deleted(&client, "rb").await;
}

/// A rebooted replica resyncs from the primary: it has the data again, and its new parameter.
async fn a_rebooted_replica_resyncs(
    client: &aws_sdk_elasticache::Client,
    primary: std::net::SocketAddr,
) {
    let _: () = connect(primary, None).unwrap().set("after", "yes").unwrap();
    reboot(client, "rb-002").await;
    let replica = address_of(&member_addresses(client, "rb").await, "rb-002");
    assert_eq!(get(replica, "after").as_deref(), Some("yes"));
    assert_eq!(replication_field(replica, "role").as_deref(), Some("slave"));
    assert_eq!(config_get(replica, "databases"), "32");
    assert_eq!(apply_status(client, "rb-002").await, "in-sync");
}

/// After a reboot of `rb-001`: the same primary endpoint, roles, ports, and no failover event.
async fn assert_no_failover(
    client: &aws_sdk_elasticache::Client,
    primary_endpoint: std::net::SocketAddr,
    ports: &[(String, std::net::SocketAddr)],
) {
    let group = describe(client, "rb").await.expect("the group");
    let (endpoint_after, _, members) = endpoints(&group);
    assert_eq!(endpoint_after, primary_endpoint);
    let roles: Vec<(&str, &str)> = members
        .iter()
        .map(|(id, _, role)| (id.as_str(), role.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("rb-001", "primary"),
            ("rb-002", "replica"),
            ("rb-003", "replica")
        ],
        "no failover: roles unchanged"
    );
    assert_eq!(member_addresses(client, "rb").await, ports, "same ports");
    let all: Vec<String> = [
        events_for(client, "rb").await,
        events_for(client, "rb-001").await,
    ]
    .concat()
    .iter()
    .flat_map(|e| e.message().map(str::to_string))
    .collect();
    assert!(!all.iter().any(|m| m.contains("ailover")), "{all:?}");
    assert!(
        all.contains(&"Cache node 0001 shutdown".to_string()),
        "{all:?}"
    );
}

/// Waits until standalone cluster `id` is `available` with its first node's endpoint, and
/// returns the cluster as described then with that node's address (one Describe per probe).
pub(crate) async fn wait_standalone_node(
    client: &aws_sdk_elasticache::Client,
    id: &str,
) -> (
    aws_sdk_elasticache::types::CacheCluster,
    std::net::SocketAddr,
) {
    wait_cache_cluster_available(client, id, |cluster| {
        let endpoint = cluster.cache_nodes().first()?.endpoint()?;
        Some((cluster.clone(), address_of_endpoint(endpoint)))
    })
    .await
}

#[tokio::test]
async fn a_standalone_redis_reboot_applies_its_pending_parameters() {
    let server = TestServer::start();
    let client = server.sdk();
    create_parameter_group(&client, "solo", "redis7").await;
    client
        .create_cache_cluster()
        .cache_cluster_id("solo")
        .engine("redis")
        .cache_parameter_group_name("solo")
        .send()
        .await
        .expect("create");
    let (_, node_port) = wait_standalone_node(&client, "solo").await;
    assert_eq!(
        node_port.port(),
        6379,
        "the node listens on its own address at 6379"
    );
    modify(&client, "solo", &[("databases", "20"), ("timeout", "77")]).await;
    assert_eq!(config_get(node_port, "timeout"), "77", "immediate at once");
    assert_eq!(apply_status(&client, "solo").await, "pending-reboot");
    let _: () = connect(node_port, None).unwrap().set("k", "v").unwrap();
    reboot(&client, "solo").await;
    assert_eq!(get(node_port, "k"), None);
    assert_eq!(config_get(node_port, "databases"), "20");
    assert_eq!(config_get(node_port, "timeout"), "77");
    assert_eq!(apply_status(&client, "solo").await, "in-sync");

    // A killed node is replaced, empty, on its port (there is no replica to fail over to).
    let _: () = connect(node_port, None).unwrap().set("k", "v").unwrap();
    let pid = redis_pid_on(node_port).expect("the node's pid");
    signal(pid, libc::SIGKILL);
    wait_for_event(&client, "solo", "Finished recovery for cache nodes 0001").await;
    assert!(
        messages(&events_for(&client, "solo").await)
            .contains(&"Recovering cache nodes 0001".to_string())
    );
    assert_eq!(get(node_port, "k"), None, "the replacement is empty");
    assert_ne!(redis_pid_on(node_port), Some(pid));
    client
        .delete_cache_cluster()
        .cache_cluster_id("solo")
        .send()
        .await
        .expect("delete");
    let gone = wait_until("solo deleted", DEADLINE, || async {
        let answer = client
            .describe_cache_clusters()
            .cache_cluster_id("solo")
            .send()
            .await;
        answer.is_err().then(|| code(answer))
    })
    .await;
    assert_eq!(gone, "CacheClusterNotFound");
}
