//! A cluster mode enabled group survives a server restart: the same node groups and slots (as
//! they were, not recomputed), members, roles, addresses and configuration endpoint, every key
//! of both shards, and a TestFailover right after works.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use aws_sdk_elasticache::types::{NodeGroupConfiguration, ParameterNameValue, ReplicationGroup};

use super::restarts::{start_on, wait_model_holds, wait_saved};
use crate::support::{
    cluster_client, cluster_get, cluster_nodes, cluster_set, configuration_endpoint, connect,
    is_alive, live_children, member_addresses, node_on, private_command, redis_cli, wait_available,
    wait_blocking, wait_for_event,
};

const GROUP: &str = "sharded";
const KEYS: usize = 200;
const FINISHED: &str = "Finished recovery for cache nodes 0001";
const PARAMETERS: &str = "sharded-params";
const POLICY: &str = "allkeys-lfu";

/// `CONFIG GET name` on the node at `at` (under the run's private name for CONFIG).
fn config_get(at: SocketAddr, name: &str) -> String {
    let mut connection = connect(at, None).expect("connect to the node");
    let answer: Vec<String> = redis::cmd(&private_command(at, "CONFIG"))
        .arg("GET")
        .arg(name)
        .query(&mut connection)
        .expect("CONFIG GET");
    answer.get(1).cloned().unwrap_or_default()
}

/// Two shards of a primary and a replica, with uneven slots (an even split would hide slots
/// recomputed at start) and a parameter group of its own.
async fn create_sharded(client: &aws_sdk_elasticache::Client) -> ReplicationGroup {
    client
        .create_cache_parameter_group()
        .cache_parameter_group_name(PARAMETERS)
        .cache_parameter_group_family("redis7")
        .description("kept across restarts")
        .send()
        .await
        .expect("create parameter group");
    let mut modify = client
        .modify_cache_parameter_group()
        .cache_parameter_group_name(PARAMETERS);
    for (name, value) in [("cluster-enabled", "yes"), ("maxmemory-policy", POLICY)] {
        let pair = ParameterNameValue::builder()
            .parameter_name(name)
            .parameter_value(value)
            .build();
        modify = modify.parameter_name_values(pair);
    }
    modify.send().await.expect("modify parameter group");
    let shard = |id: &str, slots: &str| {
        NodeGroupConfiguration::builder()
            .node_group_id(id)
            .slots(slots)
            .replica_count(1)
            .build()
    };
    client
        .create_replication_group()
        .replication_group_id(GROUP)
        .replication_group_description("two shards")
        .cluster_mode(aws_sdk_elasticache::types::ClusterMode::Enabled)
        .cache_parameter_group_name(PARAMETERS)
        .node_group_configuration(shard("0001", "0-999"))
        .node_group_configuration(shard("0002", "1000-16383"))
        .send()
        .await
        .expect("create a cluster-mode group");
    wait_available(client, GROUP).await
}

/// Every node group's id and slots.
fn node_groups(group: &ReplicationGroup) -> Vec<(String, String)> {
    (group.node_groups().iter())
        .map(|g| {
            let id = g.node_group_id().unwrap_or_default().to_string();
            (id, g.slots().unwrap_or_default().to_string())
        })
        .collect()
}

/// Every member with its address and whether the cluster sees it as a primary, by member id.
async fn members(client: &aws_sdk_elasticache::Client, group: &ReplicationGroup) -> Members {
    let view = cluster_nodes(configuration_endpoint(group));
    let mut members: Members = (member_addresses(client, GROUP).await.into_iter())
        .map(|(id, addr)| (id, addr, node_on(&view, addr).is_primary))
        .collect();
    members.sort();
    members
}

type Members = Vec<(String, SocketAddr, bool)>;

async fn write_keys(configuration: SocketAddr) {
    let mut connection = cluster_client(configuration).await;
    for i in 0..KEYS {
        cluster_set(&mut connection, &format!("key:{i}"), &format!("value{i}")).await;
    }
}

async fn assert_keys(configuration: SocketAddr) {
    let mut connection = cluster_client(configuration).await;
    for i in 0..KEYS {
        let value = cluster_get(&mut connection, &format!("key:{i}")).await;
        assert_eq!(value, Some(format!("value{i}")), "key:{i}");
    }
}

/// The group as it was before the stop: described, its members, and each primary holding keys.
async fn prepared(client: &aws_sdk_elasticache::Client) -> (ReplicationGroup, Members) {
    let group = create_sharded(client).await;
    let uneven = [("0001", "0-999"), ("0002", "1000-16383")].map(|(a, b)| (a.into(), b.into()));
    assert_eq!(node_groups(&group), uneven);
    write_keys(configuration_endpoint(&group)).await;
    let members = members(client, &group).await;
    let primaries: Vec<SocketAddr> = (members.iter().filter(|m| m.2)).map(|m| m.1).collect();
    assert_eq!(primaries.len(), 2, "{members:?}");
    for primary in &primaries {
        let keys: usize = redis_cli(*primary, &["DBSIZE"]).parse().unwrap();
        assert!(keys > 0, "keys on the shard of {primary}");
    }
    (group, members)
}

async fn assert_comes_back(dir: &Path, before: &ReplicationGroup, members_before: &Members) {
    let server = start_on(dir);
    let client = server.sdk();
    let after = wait_available(&client, GROUP).await;
    let configuration = configuration_endpoint(&after);
    assert_eq!(
        configuration,
        configuration_endpoint(before),
        "same endpoint"
    );
    assert_eq!(
        node_groups(&after),
        node_groups(before),
        "same shards and slots"
    );
    assert_eq!(
        &members(&client, &after).await,
        members_before,
        "same nodes and roles"
    );
    assert_keys(configuration).await;
    for (member, addr, _) in members_before {
        assert_eq!(config_get(*addr, "maxmemory-policy"), POLICY, "{member}");
    }

    // A TestFailover on shard 0001 right after: its replica takes over, every key stays.
    let primary = (members_before.iter())
        .find(|(id, _, primary)| *primary && id.starts_with("sharded-0001"))
        .map(|m| m.0.clone())
        .expect("shard 0001's primary");
    client
        .test_failover()
        .replication_group_id(GROUP)
        .node_group_id("0001")
        .send()
        .await
        .expect("TestFailover");
    wait_for_event(&client, &primary, FINISHED).await;
    let failed_over = wait_available(&client, GROUP).await;
    let now = members(&client, &failed_over).await;
    let shard_primary = now
        .iter()
        .find(|(id, _, is_primary)| *is_primary && id.starts_with("sharded-0001"));
    assert_ne!(shard_primary.map(|m| &m.0), Some(&primary), "{now:?}");
    assert_keys(configuration).await;
}

#[tokio::test]
async fn a_cluster_mode_group_survives_a_sigterm_restart_with_its_shards_and_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_on(dir.path());
    let client = server.sdk();
    let (before, members) = prepared(&client).await;
    let children = live_children(server.pid());
    assert_eq!(children.len(), 4, "two primaries and two replicas");
    assert!(server.stop(), "SIGTERM ends the server cleanly");
    for pid in children {
        assert!(!is_alive(pid), "node {pid} stopped with the server");
    }

    assert_comes_back(dir.path(), &before, &members).await;
}

#[tokio::test]
async fn a_cluster_mode_group_survives_a_sigkill_once_its_writes_are_saved() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_on(dir.path());
    let client = server.sdk();
    let (before, members) = prepared(&client).await;
    for (_, addr, primary) in &members {
        if *primary {
            wait_saved(*addr);
        }
    }
    wait_model_holds(dir.path(), "groups", GROUP);
    let children = live_children(server.pid());
    assert_eq!(children.len(), 4);
    server.kill_hard();
    wait_blocking(
        "every node of the killed server to be gone",
        Duration::from_secs(10),
        || children.iter().all(|pid| !is_alive(*pid)).then_some(()),
    );

    assert_comes_back(dir.path(), &before, &members).await;
}

#[tokio::test]
async fn a_resharded_group_comes_back_with_the_slots_it_had_at_the_stop() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_on(dir.path());
    let client = server.sdk();
    prepared(&client).await;
    client
        .modify_replication_group_shard_configuration()
        .replication_group_id(GROUP)
        .node_group_count(3)
        .apply_immediately(true)
        .send()
        .await
        .expect("resharding accepted");
    let resharded = wait_available(&client, GROUP).await;
    let shards = node_groups(&resharded);
    assert_eq!(shards.len(), 3, "{shards:?}");
    assert!(
        !shards.iter().any(|(_, slots)| slots == "0-999"),
        "slots moved: {shards:?}"
    );
    let members = members(&client, &resharded).await;
    assert_eq!(members.len(), 6, "{members:?}");
    assert!(server.stop(), "SIGTERM ends the server cleanly");

    assert_comes_back(dir.path(), &resharded, &members).await;
}
