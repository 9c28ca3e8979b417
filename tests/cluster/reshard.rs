//! ModifyReplicationGroupShardConfiguration for real: a cluster goes 2 -> 3 -> 2 shards while a
//! cluster client keeps writing and reading; no error reaches it, no acknowledged write is
//! lost, every key ends on the shard owning its slot, and Describe shows the migration's
//! progress, then the new shards.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::ReplicationGroup;
use redis::cluster_async::ClusterConnection;

use crate::support::{
    TestServer, cluster_client, cluster_nodes, cluster_set, code, configuration_endpoint,
    create_cluster_on, describe, events_for, messages,
};

/// Keys written before the resharding, spread over every slot.
pub(super) const SEEDED: usize = 3000;
/// A resharding of a few thousand keys takes seconds; a loaded machine gets ample room.
const RESHARD_DEADLINE: Duration = Duration::from_secs(120);

/// What the writing client saw: every acknowledged write (key -> value) and every error.
#[derive(Default)]
pub(super) struct Traffic {
    pub(super) acknowledged: HashMap<String, String>,
    errors: Vec<String>,
    pub(super) reads: usize,
}

/// Writes a new key and reads an older one back, over and over, until `stop`.
pub(super) async fn keep_writing(
    mut connection: ClusterConnection,
    stop: Arc<AtomicBool>,
) -> Traffic {
    let mut traffic = Traffic::default();
    let mut n = 0usize;
    while !stop.load(Ordering::Relaxed) {
        let (key, value) = (format!("live:{n}"), format!("v{n}"));
        let set: redis::RedisResult<()> = redis::cmd("SET")
            .arg(&key)
            .arg(&value)
            .query_async(&mut connection)
            .await;
        match set {
            Ok(()) => {
                traffic.acknowledged.insert(key, value);
            }
            Err(e) => traffic.errors.push(format!("SET {key}: {e}")),
        }
        let old = format!("seed:{}", (n * 7919) % SEEDED);
        let got: redis::RedisResult<Option<String>> = redis::cmd("GET")
            .arg(&old)
            .query_async(&mut connection)
            .await;
        match got {
            Ok(Some(v)) if v == old => traffic.reads += 1,
            Ok(other) => traffic.errors.push(format!("GET {old}: {other:?}")),
            Err(e) => traffic.errors.push(format!("GET {old}: {e}")),
        }
        n += 1;
    }
    traffic
}

/// Calls the action, then polls Describe until the group is available again: every progress
/// percentage seen on the way.
async fn reshard_and_watch(
    client: &Client,
    call: aws_sdk_elasticache::operation::modify_replication_group_shard_configuration::builders::ModifyReplicationGroupShardConfigurationFluentBuilder,
) -> (ReplicationGroup, Vec<f64>) {
    let answer = call.send().await.expect("resharding accepted");
    let group = answer.replication_group().expect("the group");
    assert_eq!(group.status(), Some("modifying"));
    let id = group.replication_group_id().unwrap().to_string();
    // TestFailover is refused while the group is modifying, as AWS refuses it.
    let failover = client
        .test_failover()
        .replication_group_id(&id)
        .node_group_id("0001")
        .send()
        .await;
    assert_eq!(code(failover), "InvalidReplicationGroupState");
    let mut seen = Vec::new();
    let until = std::time::Instant::now() + RESHARD_DEADLINE;
    loop {
        let group = describe(client, &id).await.expect("the group");
        let progress = group
            .pending_modified_values()
            .and_then(|p| p.resharding())
            .and_then(|r| r.slot_migration())
            .and_then(|s| s.progress_percentage());
        if let Some(progress) = progress.filter(|p| seen.last() != Some(p)) {
            seen.push(progress);
        }
        if group.status() == Some("available") {
            return (group, seen);
        }
        assert!(
            std::time::Instant::now() < until,
            "resharding of {id} did not finish"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// For every primary: the number of keys in each slot it serves and in none else; panics when
/// a key lies in a slot its node does not own. The total number of keys.
fn check_keys_on_owners(configuration: SocketAddr) -> usize {
    let mut total = 0;
    for node in cluster_nodes(configuration).iter().filter(|n| n.is_primary) {
        let owned: Vec<u32> = node
            .slots
            .iter()
            .filter(|s| !s.starts_with('['))
            .flat_map(|range| {
                let (a, b) = range.split_once('-').unwrap_or((range, range));
                a.parse::<u32>().unwrap()..=b.parse::<u32>().unwrap()
            })
            .collect();
        let client = redis::Client::open(format!("redis://{}", node.addr)).unwrap();
        let mut connection = client.get_connection().unwrap();
        let mut pipe = redis::pipe();
        for slot in 0..16384u32 {
            pipe.cmd("CLUSTER").arg("COUNTKEYSINSLOT").arg(slot);
        }
        let counts: Vec<usize> = pipe.query(&mut connection).unwrap();
        for (slot, count) in counts.iter().enumerate() {
            if *count > 0 {
                assert!(
                    owned.contains(&(slot as u32)),
                    "{} holds {count} keys of slot {slot}, which it does not own",
                    node.addr
                );
            }
        }
        let dbsize: usize = redis::cmd("DBSIZE").query(&mut connection).unwrap();
        assert_eq!(dbsize, counts.iter().sum::<usize>(), "{}", node.addr);
        total += dbsize;
    }
    total
}

fn slots_of(group: &ReplicationGroup) -> Vec<(String, String)> {
    group
        .node_groups()
        .iter()
        .map(|g| {
            let id = g.node_group_id().unwrap().to_string();
            (id, g.slots().unwrap_or_default().to_string())
        })
        .collect()
}

/// Asks for `count` shards (removing `remove`), watches it through, checks the slots and the
/// number of members afterwards; the progress seen.
async fn reshard_to(
    client: &Client,
    count: i32,
    remove: Option<&str>,
    slots: &[(&str, &str)],
    members: usize,
) -> Vec<f64> {
    let call = client
        .modify_replication_group_shard_configuration()
        .replication_group_id("moving")
        .node_group_count(count)
        .set_node_groups_to_remove(remove.map(|id| vec![id.to_string()]))
        .apply_immediately(true);
    let (group, progress) = reshard_and_watch(client, call).await;
    let expected: Vec<(String, String)> = slots
        .iter()
        .map(|(id, s)| (id.to_string(), s.to_string()))
        .collect();
    assert_eq!(slots_of(&group), expected);
    assert_eq!(group.member_clusters().len(), members, "{group:?}");
    let pending = group.pending_modified_values().unwrap();
    assert!(pending.resharding().is_none(), "{pending:?}");
    progress
}

/// No error reached the client and every acknowledged write reads back.
pub(super) async fn assert_nothing_lost(configuration: SocketAddr, traffic: &Traffic) {
    let errors = &traffic.errors;
    assert!(errors.is_empty(), "{:?}", &errors[..errors.len().min(10)]);
    let writes = traffic.acknowledged.len();
    assert!(writes > 100, "only {writes} writes");
    let mut check = cluster_client(configuration).await;
    for (key, value) in &traffic.acknowledged {
        let got: Option<String> = redis::cmd("GET")
            .arg(key)
            .query_async(&mut check)
            .await
            .unwrap();
        assert_eq!(got.as_deref(), Some(value.as_str()), "{key}");
    }
}

/// Each resharding's progress stayed within 0-100, never went back, and was seen in between.
fn assert_progress_rose(seen: &[Vec<f64>]) {
    for seen in seen {
        assert!(seen.iter().all(|p| (0.0..=100.0).contains(p)), "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert!(seen.iter().any(|p| *p > 0.0 && *p < 100.0), "{seen:?}");
    }
}

async fn assert_resharding_events(client: &Client) {
    let said = messages(&events_for(client, "moving").await);
    for expected in [
        "Online resharding started for replication group moving: from 2 to 3 node groups",
        "Online resharding completed for replication group moving: 3 node groups",
        "Online resharding started for replication group moving: from 3 to 2 node groups",
        "Online resharding completed for replication group moving: 2 node groups",
    ] {
        let found = said.iter().any(|m| m == expected);
        assert!(found, "{expected} not in {said:?}");
    }
}

#[tokio::test]
async fn two_to_three_to_two_shards_while_a_cluster_client_writes_loses_nothing() {
    two_to_three_to_two_shards("redis").await;
}

#[tokio::test]
async fn two_to_three_to_two_valkey_shards_while_a_cluster_client_writes_loses_nothing() {
    two_to_three_to_two_shards("valkey").await;
}

async fn two_to_three_to_two_shards(engine: &str) {
    if !crate::support::engine_available(engine) {
        return;
    }
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_cluster_on(&client, engine, "moving", 2, 1).await;
    let configuration = configuration_endpoint(&group);
    let mut seeding = cluster_client(configuration).await;
    for i in 0..SEEDED {
        cluster_set(&mut seeding, &format!("seed:{i}"), &format!("seed:{i}")).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let connection = cluster_client(configuration).await;
    let writer = tokio::spawn(keep_writing(connection, stop.clone()));

    let three = [
        ("0001", "0-5461"),
        ("0002", "8192-13652"),
        ("0003", "5462-8191,13653-16383"),
    ];
    let out = reshard_to(&client, 3, None, &three, 6).await;
    assert!(check_keys_on_owners(configuration) >= SEEDED);
    let two = [("0001", "0-8191"), ("0002", "8192-16383")];
    let back = reshard_to(&client, 2, Some("0003"), &two, 4).await;
    assert_eq!(cluster_nodes(configuration).len(), 4);

    stop.store(true, Ordering::Relaxed);
    let traffic = writer.await.unwrap();
    assert_nothing_lost(configuration, &traffic).await;
    let total = check_keys_on_owners(configuration);
    assert_eq!(total, SEEDED + traffic.acknowledged.len());
    eprintln!(
        "progress seen: out {out:?}, in {back:?}; {} writes, {} reads",
        traffic.acknowledged.len(),
        traffic.reads
    );
    assert_progress_rose(&[out, back]);
    assert_resharding_events(&client).await;
}
