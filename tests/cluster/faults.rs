//! The fault-injection API (`POST /_faults`) on cluster-mode groups: a killed or frozen shard
//! primary fails over to its shard's replica, an AZ power interruption moves every primary out
//! of the zone, and the nodes come back, as replicas, when the fault ends.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::NodeGroupConfiguration;
use serde_json::json;

use crate::support::{
    ClusterNode, Connect, TestServer, address_of, cluster_client, cluster_get, cluster_nodes,
    cluster_set, configuration_endpoint, connect_outcome, create_cluster_on, events_for, inject_ok,
    is_alive, member_addresses, messages, node_on, redis_pid_on, wait_available, wait_until,
};

const FINISHED: &str = "Finished recovery for cache nodes 0001";
/// A failover, a hold-down and a recovery in a row, on a loaded machine.
const LONG: Duration = Duration::from_secs(90);

pub(crate) async fn wait_event(client: &Client, source: &str, message: &str) -> Vec<String> {
    wait_until(&format!("{message:?} on {source}"), LONG, || async {
        let said = messages(&events_for(client, source).await);
        said.contains(&message.to_string()).then_some(said)
    })
    .await
}

/// Waits until the cluster (seen through the configuration endpoint) has `primary` as a
/// primary and `replica` as its replica.
async fn wait_replica_of(configuration: SocketAddr, replica: SocketAddr, primary: SocketAddr) {
    wait_until("the node is back as a replica", LONG, || async {
        let view = cluster_nodes(configuration);
        let (primary, replica) = (node_on(&view, primary), node_on(&view, replica));
        (primary.is_primary && replica.primary_id.as_ref() == Some(&primary.id)).then_some(())
    })
    .await;
}

fn primary_view(configuration: SocketAddr, at: SocketAddr) -> ClusterNode {
    node_on(&cluster_nodes(configuration), at)
}

#[tokio::test]
async fn a_killed_shard_primary_fails_over_is_held_down_and_comes_back_as_a_replica() {
    let server = TestServer::start_with(&["--health-check-interval-ms", "100"]);
    let client = server.sdk();
    let group = create_cluster_on(&client, "redis", "fkc", 2, 1).await;
    let configuration = configuration_endpoint(&group);
    let ports = member_addresses(&client, "fkc").await;
    let mut connection = cluster_client(configuration).await;
    for i in 0..100 {
        cluster_set(&mut connection, &format!("k{i}"), &i.to_string()).await;
    }
    let (old, replica) = (
        address_of(&ports, "fkc-0001-001"),
        address_of(&ports, "fkc-0001-002"),
    );
    let old_pid = redis_pid_on(old).expect("shard 1's primary runs");
    let injected = Instant::now();
    let answer = inject_ok(
        &server,
        json!({"type": "kill", "replication_group_id": "fkc", "cache_cluster_id": "fkc-0001-001", "duration_seconds": 6}),
    )
    .await;
    assert_eq!(answer["members"], json!(["fkc-0001-001"]));
    assert!(!is_alive(old_pid), "SIGKILLed before the answer");
    let completed =
        "Failover from primary node fkc-0001-001 to replica node fkc-0001-002 completed";
    wait_event(&client, "fkc", completed).await;
    let promoted = primary_view(configuration, replica);
    assert!(promoted.is_primary, "{promoted:?}");
    if injected.elapsed() < Duration::from_secs(5) {
        // Still inside the fault: the health monitor (100 ms) must not have restarted it.
        assert_eq!(
            redis_pid_on(old),
            None,
            "held down for the fault's duration"
        );
    }
    let said = wait_event(&client, "fkc-0001-001", FINISHED).await;
    assert!(
        injected.elapsed() >= Duration::from_secs(6),
        "back only after the duration"
    );
    for expected in [
        "Cache node 0001 failed: the node stopped answering",
        completed,
        "Recovering cache nodes 0001",
    ] {
        assert!(said.contains(&expected.to_string()), "{said:?}");
    }
    wait_replica_of(configuration, old, replica).await;
    assert!(redis_pid_on(old).is_some_and(|pid| pid != old_pid));
    // The other shard kept its primary, and no acknowledged key is lost.
    assert!(primary_view(configuration, address_of(&ports, "fkc-0002-001")).is_primary);
    for i in 0..100 {
        let value = cluster_get(&mut connection, &format!("k{i}")).await;
        assert_eq!(value.as_deref(), Some(i.to_string().as_str()), "k{i}");
    }
}

#[tokio::test]
async fn a_frozen_shard_primary_is_detected_and_failed_over() {
    let server = TestServer::start_with(&["--health-check-interval-ms", "100"]);
    let client = server.sdk();
    let group = create_cluster_on(&client, "redis", "ffc", 2, 1).await;
    let configuration = configuration_endpoint(&group);
    let ports = member_addresses(&client, "ffc").await;
    let old = address_of(&ports, "ffc-0002-001");
    let old_pid = redis_pid_on(old).expect("shard 2's primary runs");
    inject_ok(
        &server,
        json!({"type": "freeze", "replication_group_id": "ffc", "cache_cluster_id": "ffc-0002-001", "duration_seconds": 40}),
    )
    .await;
    let said = wait_event(&client, "ffc-0002-001", FINISHED).await;
    assert!(
        said.contains(
            &"Failover from primary node ffc-0002-001 to replica node ffc-0002-002 completed"
                .to_string()
        ),
        "{said:?}"
    );
    assert!(!is_alive(old_pid), "the frozen process was killed");
    wait_replica_of(configuration, old, address_of(&ports, "ffc-0002-002")).await;
}

#[tokio::test]
async fn an_az_power_interruption_moves_every_primary_out_of_the_zone_until_it_returns() {
    let server = TestServer::start();
    let client = server.sdk();
    let shard = |id: &str, slots: &str| {
        NodeGroupConfiguration::builder()
            .node_group_id(id)
            .slots(slots)
            .replica_count(1)
            .primary_availability_zone("us-east-1a")
            .replica_availability_zones("us-east-1b")
            .build()
    };
    client
        .create_replication_group()
        .replication_group_id("fazc")
        .replication_group_description("fault lab")
        .num_node_groups(2)
        .node_group_configuration(shard("0001", "0-8191"))
        .node_group_configuration(shard("0002", "8192-16383"))
        .send()
        .await
        .expect("create");
    let group = wait_available(&client, "fazc").await;
    let configuration = configuration_endpoint(&group);
    let ports = member_addresses(&client, "fazc").await;
    let mut connection = cluster_client(configuration).await;
    for i in 0..100 {
        cluster_set(&mut connection, &format!("k{i}"), "v").await;
    }
    let before = cluster_nodes(configuration);
    let bus_of = |member: &str| {
        node_on(&before, address_of(&ports, member))
            .bus
            .expect("a bus port")
    };
    let answer = inject_ok(
        &server,
        json!({"type": "az-power-interruption", "replication_group_id": "fazc", "availability_zone": "us-east-1a", "duration_seconds": 6}),
    )
    .await;
    assert_eq!(answer["members"], json!(["fazc-0001-001", "fazc-0002-001"]));
    for shard in ["0001", "0002"] {
        let completed = format!(
            "Failover from primary node fazc-{shard}-001 to replica node fazc-{shard}-002 completed"
        );
        wait_event(&client, "fazc", &completed).await;
    }
    let view = cluster_nodes(configuration);
    for shard in ["0001", "0002"] {
        let (down, up) = (
            address_of(&ports, &format!("fazc-{shard}-001")),
            address_of(&ports, &format!("fazc-{shard}-002")),
        );
        assert!(node_on(&view, up).is_primary, "{view:#?}");
        if !messages(&events_for(&client, &format!("fazc-{shard}-001")).await)
            .contains(&"Recovering cache nodes 0001".to_string())
        {
            assert_eq!(
                connect_outcome(down),
                Connect::TimedOut,
                "its host is gone while the zone is out"
            );
            // Its cluster bus too: the other nodes' pings to it go unanswered.
            assert_eq!(
                connect_outcome(bus_of(&format!("fazc-{shard}-001"))),
                Connect::TimedOut,
                "its bus port is gone with its host"
            );
        }
        // The other nodes see it fail (unless it is already back).
        let member = format!("fazc-{shard}-001");
        let flagged = wait_until("the others flag the node failing", LONG, || async {
            if node_on(&cluster_nodes(up), down).flags.contains("fail") {
                return Some(true);
            }
            let said = messages(&events_for(&client, &member).await);
            said.contains(&"Recovering cache nodes 0001".to_string())
                .then_some(false)
        })
        .await;
        println!("{member} flagged failing by its shard's new primary: {flagged}");
    }
    for shard in ["0001", "0002"] {
        let member = format!("fazc-{shard}-001");
        let said = wait_event(&client, &member, FINISHED).await;
        assert!(
            said.contains(&"Cache node 0001 failed: power interrupted in us-east-1a".to_string()),
            "{said:?}"
        );
        let (back, primary) = (
            address_of(&ports, &member),
            address_of(&ports, &format!("fazc-{shard}-002")),
        );
        wait_replica_of(configuration, back, primary).await;
    }
    for i in 0..100 {
        let value = cluster_get(&mut connection, &format!("k{i}")).await;
        assert_eq!(value.as_deref(), Some("v"), "k{i}");
    }
}

#[tokio::test]
async fn an_entire_cluster_failure_comes_back_empty_with_the_same_endpoints_and_slots() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_cluster_on(&client, "redis", "fcf", 2, 1).await;
    let configuration = configuration_endpoint(&group);
    let mut ports = member_addresses(&client, "fcf").await;
    ports.sort();
    let slots_before: Vec<(SocketAddr, Vec<String>)> = cluster_nodes(configuration)
        .into_iter()
        .filter(|n| n.is_primary)
        .map(|n| (n.addr, n.slots))
        .collect();
    let mut connection = cluster_client(configuration).await;
    for i in 0..50 {
        cluster_set(&mut connection, &format!("k{i}"), "v").await;
    }
    let pids: Vec<u32> = ports
        .iter()
        .map(|(_, at)| redis_pid_on(*at).unwrap())
        .collect();
    let answer = inject_ok(
        &server,
        json!({"type": "cluster-failure", "replication_group_id": "fcf", "duration_seconds": 3}),
    )
    .await;
    assert_eq!(
        answer["members"].as_array().map(Vec::len),
        Some(4),
        "{answer}"
    );
    assert!(pids.iter().all(|pid| !is_alive(*pid)), "every node failed");
    for (member, _) in &ports {
        let said = wait_event(&client, member, FINISHED).await;
        assert!(
            said.contains(&"Cache node 0001 failed: every node of the cluster failed".to_string()),
            "{said:?}"
        );
    }
    let mut after = member_addresses(&client, "fcf").await;
    after.sort();
    assert_eq!(after, ports, "same node endpoints");
    let described = wait_available(&client, "fcf").await;
    assert_eq!(
        configuration_endpoint(&described),
        configuration,
        "same configuration endpoint"
    );
    let slots_after: Vec<(SocketAddr, Vec<String>)> = cluster_nodes(configuration)
        .into_iter()
        .filter(|n| n.is_primary)
        .map(|n| (n.addr, n.slots))
        .collect();
    // Each node lists `CLUSTER NODES` in its own order, and the endpoint picks any node.
    let (mut slots_after, mut slots_before) = (slots_after, slots_before);
    slots_after.sort();
    slots_before.sort();
    assert_eq!(slots_after, slots_before, "same primaries, same slots");
    for (member, at) in &ports {
        assert_eq!(
            crate::support::redis_cli(*at, &["DBSIZE"]),
            "0",
            "{member} came back empty"
        );
    }
    let mut fresh = cluster_client(configuration).await;
    cluster_set(&mut fresh, "after", "written").await;
    assert_eq!(
        cluster_get(&mut fresh, "after").await.as_deref(),
        Some("written")
    );
}

#[tokio::test]
async fn a_restarted_shard_replica_writes_shutdown_and_restart_events_and_resyncs() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_cluster_on(&client, "redis", "frs", 2, 1).await;
    let configuration = configuration_endpoint(&group);
    let ports = member_addresses(&client, "frs").await;
    let mut connection = cluster_client(configuration).await;
    for i in 0..50 {
        cluster_set(&mut connection, &format!("k{i}"), "v").await;
    }
    let (replica, primary) = (
        address_of(&ports, "frs-0002-002"),
        address_of(&ports, "frs-0002-001"),
    );
    let old_pid = redis_pid_on(replica).expect("the replica runs");
    inject_ok(
        &server,
        json!({"type": "restart", "replication_group_id": "frs", "cache_cluster_id": "frs-0002-002", "duration_seconds": 2}),
    )
    .await;
    let said = wait_event(&client, "frs-0002-002", "Cache node 0001 restarted").await;
    for expected in [
        "Cache node 0001 shutdown",
        "Recovering cache nodes 0001",
        FINISHED,
    ] {
        assert!(said.contains(&expected.to_string()), "{said:?}");
    }
    assert!(!said.iter().any(|m| m.starts_with("Failover")), "{said:?}");
    assert!(redis_pid_on(replica).is_some_and(|pid| pid != old_pid));
    wait_replica_of(configuration, replica, primary).await;
    let keys_on_shard: usize = crate::support::redis_cli(primary, &["DBSIZE"])
        .parse()
        .unwrap();
    wait_until("the restarted replica resynced", LONG, || async {
        let dbsize = crate::support::redis_cli(replica, &["DBSIZE"]);
        (dbsize.parse::<usize>().ok() == Some(keys_on_shard)).then_some(())
    })
    .await;
}
