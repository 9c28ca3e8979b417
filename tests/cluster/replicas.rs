//! Increase/DecreaseReplicaCount on a cluster-mode-enabled group for real: a 2-shard group goes
//! 1 -> 2 -> 1 replicas per shard while a cluster client keeps writing and reading; no error
//! reaches it, no acknowledged write is lost, each new replica follows and has caught up with
//! its shard's primary, the removed ones stop and leave every node's view, and a TestFailover
//! afterwards promotes the replica that remained.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::ReplicationGroup;

use super::reshard::{SEEDED, Traffic, assert_nothing_lost, keep_writing};
use crate::support::{
    TestServer, address_of, cluster_client, cluster_nodes, cluster_set, configuration_endpoint,
    create_cluster_on, describe, events_for, member_addresses, messages, node_on, redis_pid_on,
    wait_available, wait_until,
};

const DEADLINE: Duration = Duration::from_secs(120);

/// The member ids of each node group, sorted, as Describe shows them.
fn members_by_shard(group: &ReplicationGroup) -> Vec<(String, Vec<String>)> {
    group
        .node_groups()
        .iter()
        .map(|g| {
            let mut ids: Vec<String> = g
                .node_group_members()
                .iter()
                .map(|m| m.cache_cluster_id().unwrap_or_default().to_string())
                .collect();
            ids.sort();
            (g.node_group_id().unwrap_or_default().to_string(), ids)
        })
        .collect()
}

fn expected(shards: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    shards
        .iter()
        .map(|(id, members)| {
            let members = members.iter().map(|m| format!("copies-{id}-{m}")).collect();
            (id.to_string(), members)
        })
        .collect()
}

/// `INFO replication` of the node at `at`, as `field:value` pairs.
fn replication(at: SocketAddr) -> Vec<(String, String)> {
    let client = redis::Client::open(format!("redis://{at}")).unwrap();
    let mut connection = client.get_connection().unwrap();
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query(&mut connection)
        .unwrap();
    info.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

fn field(info: &[(String, String)], name: &str) -> String {
    let found = info.iter().find(|(k, _)| k == name);
    found.map(|(_, v)| v.clone()).unwrap_or_default()
}

/// Waits until the replica at `replica` is linked to `primary` (in `CLUSTER NODES` and `INFO
/// replication`) and its offset reached the primary's.
async fn assert_in_sync(replica: SocketAddr, primary: SocketAddr) {
    let primary_id = node_on(&cluster_nodes(primary), primary).id;
    let view = cluster_nodes(replica);
    assert_eq!(node_on(&view, replica).primary_id, Some(primary_id));
    wait_until(&format!("{replica} in sync"), DEADLINE, || async {
        let (info, primary_info) = (replication(replica), replication(primary));
        let target = field(&primary_info, "master_repl_offset");
        let linked = field(&info, "master_link_status") == "up"
            && field(&info, "master_port") == primary.port().to_string();
        (linked && field(&info, "slave_repl_offset") == target).then_some(())
    })
    .await;
}

/// Sends the change, sees the group `modifying`, waits until it is available again.
async fn change(
    client: &Client,
    answer: Result<ReplicationGroup, String>,
    members: &[(&str, &[&str])],
) -> ReplicationGroup {
    let group = answer.expect("replica count change accepted");
    assert_eq!(group.status(), Some("modifying"));
    let group = wait_available(client, "copies").await;
    assert_eq!(members_by_shard(&group), expected(members));
    let count: usize = members.iter().map(|(_, m)| m.len()).sum();
    assert_eq!(group.member_clusters().len(), count, "{group:?}");
    group
}

async fn increase(client: &Client) -> Result<ReplicationGroup, String> {
    let answer = client
        .increase_replica_count()
        .replication_group_id("copies")
        .new_replica_count(2)
        .apply_immediately(true)
        .send()
        .await;
    answer
        .map(|a| a.replication_group().unwrap().clone())
        .map_err(|e| format!("{e:?}"))
}

async fn decrease(client: &Client) -> Result<ReplicationGroup, String> {
    // One shard's replica named, the other's chosen (the highest-numbered): both paths.
    let answer = client
        .decrease_replica_count()
        .replication_group_id("copies")
        .new_replica_count(1)
        .replicas_to_remove("copies-0001-002")
        .replicas_to_remove("copies-0002-003")
        .apply_immediately(true)
        .send()
        .await;
    answer
        .map(|a| a.replication_group().unwrap().clone())
        .map_err(|e| format!("{e:?}"))
}

#[tokio::test]
async fn one_to_two_to_one_replicas_per_shard_while_a_cluster_client_writes_loses_nothing() {
    one_to_two_to_one_replicas("redis").await;
}

#[tokio::test]
async fn one_to_two_to_one_valkey_replicas_per_shard_while_a_cluster_client_writes_loses_nothing() {
    one_to_two_to_one_replicas("valkey").await;
}

async fn one_to_two_to_one_replicas(engine: &str) {
    if !crate::support::engine_available(engine) {
        return;
    }
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_cluster_on(&client, engine, "copies", 2, 1).await;
    let configuration = configuration_endpoint(&group);
    let mut seeding = cluster_client(configuration).await;
    for i in 0..SEEDED {
        cluster_set(&mut seeding, &format!("seed:{i}"), &format!("seed:{i}")).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(keep_writing(
        cluster_client(configuration).await,
        stop.clone(),
    ));

    let two: [(&str, &[&str]); 2] = [
        ("0001", &["001", "002", "003"]),
        ("0002", &["001", "002", "003"]),
    ];
    change(&client, increase(&client).await, &two).await;
    let ports = member_addresses(&client, "copies").await;
    assert_eq!(cluster_nodes(configuration).len(), 6);
    for shard in ["0001", "0002"] {
        let primary = address_of(&ports, &format!("copies-{shard}-001"));
        assert_in_sync(address_of(&ports, &format!("copies-{shard}-003")), primary).await;
    }

    let one: [(&str, &[&str]); 2] = [("0001", &["001", "003"]), ("0002", &["001", "002"])];
    change(&client, decrease(&client).await, &one).await;
    stop.store(true, Ordering::Relaxed);
    let traffic: Traffic = writer.await.unwrap();
    assert_nothing_lost(configuration, &traffic).await;
    eprintln!(
        "{} writes, {} reads while replicas came and went",
        traffic.acknowledged.len(),
        traffic.reads
    );
    assert_removed_gone(&ports, &["copies-0001-002", "copies-0002-003"]);
    assert_replica_count_events(&client).await;
    failover_to_the_new_replica(&client, &ports).await;
}

/// No process on the removed members' addresses, and none of the remaining nodes lists them.
fn assert_removed_gone(ports: &[(String, SocketAddr)], removed: &[&str]) {
    let gone: Vec<SocketAddr> = removed.iter().map(|m| address_of(ports, m)).collect();
    for addr in &gone {
        assert_eq!(redis_pid_on(*addr), None, "a node still runs on {addr}");
    }
    for (member, addr) in ports.iter().filter(|(_, a)| !gone.contains(a)) {
        let view = cluster_nodes(*addr);
        assert_eq!(view.len(), 4, "{member} sees {view:#?}");
        assert!(view.iter().all(|n| !gone.contains(&n.addr)), "{member}");
    }
}

async fn assert_replica_count_events(client: &Client) {
    let said = messages(&events_for(client, "copies").await);
    for expected in [
        "Increase replica count started for replication group copies",
        "Increase replica count completed for replication group copies",
        "Decrease replica count started for replication group copies",
        "Decrease replica count completed for replication group copies",
    ] {
        let found = said.iter().any(|m| m.starts_with(expected));
        assert!(found, "{expected} not in {said:?}");
    }
}

/// TestFailover on 0001 promotes copies-0001-003, the replica added by the increase.
async fn failover_to_the_new_replica(client: &Client, ports: &[(String, SocketAddr)]) {
    client
        .test_failover()
        .replication_group_id("copies")
        .node_group_id("0001")
        .send()
        .await
        .expect("TestFailover on 0001");
    let promoted = address_of(ports, "copies-0001-003");
    let old = address_of(ports, "copies-0001-001");
    let completed =
        "Failover from primary node copies-0001-001 to replica node copies-0001-003 completed";
    wait_until("copies-0001-003 promoted", DEADLINE, || async {
        let said = messages(&events_for(client, "copies").await);
        let view = cluster_nodes(promoted);
        let new_primary = node_on(&view, promoted);
        let follows = node_on(&view, old).primary_id == Some(new_primary.id.clone());
        let group = describe(client, "copies").await?;
        let done = said.iter().any(|m| m == completed) && group.status() == Some("available");
        (done && new_primary.is_primary && new_primary.slots == ["0-8191"] && follows).then_some(())
    })
    .await;
}
