//! `replication-lag` and `promote` on cluster-mode groups: a shard replica's replication runs
//! through a relay with a toxic while the cluster bus stays direct, a failover to it loses
//! exactly the writes it did not get, the least-lagged replica is promoted by default, and a
//! chosen replica must be one of the failed primary's shard.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{Value, json};

use crate::faults::wait_event;
use crate::support::{
    TestServer, address_of, cluster_client, cluster_get, cluster_nodes, cluster_set,
    configuration_endpoint, create_cluster_on, member_addresses, node_on, redis_cli, wait_until,
};
use crate::support::{inject, inject_ok};

const LONG: Duration = Duration::from_secs(90);

/// A key of shard 0001 (slots 0-8191 of 2 shards): its hash tag `{lag}` is slot 2640.
fn key(i: usize) -> String {
    format!("{{lag}}k{i}")
}

fn dbsize(at: SocketAddr) -> usize {
    redis_cli(at, &["DBSIZE"]).parse().unwrap_or(usize::MAX)
}

async fn wait_dbsize(at: SocketAddr, keys: usize) {
    wait_until(&format!("{keys} keys on {at}"), LONG, || async {
        (dbsize(at) == keys).then_some(())
    })
    .await;
}

/// The `addr=` and `laddr=` of each replica link the primary at `at` serves.
fn replica_links(at: SocketAddr) -> Vec<(String, String)> {
    let field = |line: &str, name: &str| {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(name))
            .unwrap_or_default()
            .to_string()
    };
    redis_cli(at, &["CLIENT", "LIST", "TYPE", "replica"])
        .lines()
        .map(|line| (field(line, "addr="), field(line, "laddr=")))
        .collect()
}

/// How many of the primary's replica links reach it on its own address (not through the
/// relay, whose connections reach the private port it listens on meanwhile).
fn direct_links(primary: SocketAddr) -> (usize, usize) {
    let links = replica_links(primary);
    let direct = links.iter().filter(|l| l.1 == primary.to_string()).count();
    (direct, links.len() - direct)
}

fn lag(member: &str, duration: Option<u64>) -> Value {
    json!({
        "type": "replication-lag", "replication_group_id": "flg", "cache_cluster_id": member,
        "toxic": {"name": "slow", "type": "latency", "attributes": {"latency": 60000}},
        "duration_seconds": duration,
    })
}

struct Shard {
    server: TestServer,
    configuration: SocketAddr,
    primary: SocketAddr,
    lagged: SocketAddr,
    other: SocketAddr,
}

/// A 2 x 2 cluster with 20 keys on shard 0001, its replica 002 lagged (a 60 s latency on its
/// replication stream) and 20 more keys acknowledged by the primary that only 003 got.
async fn lagged_shard(engine: &str, duration: Option<u64>) -> Shard {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_cluster_on(&client, engine, "flg", 2, 2).await;
    let configuration = configuration_endpoint(&group);
    let ports = member_addresses(&client, "flg").await;
    let [primary, lagged, other] =
        ["flg-0001-001", "flg-0001-002", "flg-0001-003"].map(|m| address_of(&ports, m));
    let mut connection = cluster_client(configuration).await;
    for i in 0..20 {
        cluster_set(&mut connection, &key(i), "v").await;
    }
    wait_dbsize(lagged, 20).await;
    let answer = inject_ok(&server, lag("flg-0001-002", duration)).await;
    assert_eq!(answer["members"], json!(["flg-0001-002"]));
    assert_eq!(answer["relays"], json!(["flg-0001-002-replication"]));
    assert_eq!(
        direct_links(primary),
        (1, 1),
        "003 replicates directly, 002 through the relay: {:?}",
        replica_links(primary)
    );
    for i in 20..40 {
        cluster_set(&mut connection, &key(i), "v").await;
    }
    wait_dbsize(other, 40).await;
    assert_eq!(
        dbsize(lagged),
        20,
        "the lagged replica did not get the new writes"
    );
    // The bus is not degraded: every node sees every other healthy, at its own address.
    let view = cluster_nodes(lagged);
    assert_eq!(view.len(), 6, "{view:#?}");
    assert!(view.iter().all(|n| !n.flags.contains("fail")), "{view:#?}");
    assert!(node_on(&view, primary).is_primary);
    Shard {
        server,
        configuration,
        primary,
        lagged,
        other,
    }
}

async fn surviving_keys(configuration: SocketAddr) -> Vec<usize> {
    let mut connection = cluster_client(configuration).await;
    let mut kept = Vec::new();
    for i in 0..40 {
        if cluster_get(&mut connection, &key(i)).await.is_some() {
            kept.push(i);
        }
    }
    kept
}

async fn kill_primary(shard: &Shard, promote: Option<&str>) -> Value {
    let mut body = json!({"type": "kill", "replication_group_id": "flg", "cache_cluster_id": "flg-0001-001", "duration_seconds": 2});
    if let Some(promote) = promote {
        body["promote"] = json!(promote);
    }
    inject_ok(&shard.server, body).await
}

#[tokio::test]
async fn promoting_a_lagged_shard_replica_loses_exactly_the_writes_it_did_not_get() {
    promoting_the_lagged_replica_loses_its_missing_writes("redis").await;
}

#[tokio::test]
async fn promoting_a_lagged_valkey_shard_replica_loses_exactly_the_writes_it_did_not_get() {
    promoting_the_lagged_replica_loses_its_missing_writes("valkey").await;
}

async fn promoting_the_lagged_replica_loses_its_missing_writes(engine: &str) {
    let shard = lagged_shard(engine, None).await;
    kill_primary(&shard, Some("flg-0001-002")).await;
    let client = shard.server.sdk();
    let completed =
        "Failover from primary node flg-0001-001 to replica node flg-0001-002 completed";
    wait_event(&client, "flg", completed).await;
    assert!(node_on(&cluster_nodes(shard.configuration), shard.lagged).is_primary);
    assert_eq!(
        surviving_keys(shard.configuration).await,
        (0..20).collect::<Vec<_>>(),
        "exactly the 20 writes 002 never got are lost"
    );
    // The old primary comes back as a replica of 002, its address its own again.
    wait_event(
        &client,
        "flg-0001-001",
        "Finished recovery for cache nodes 0001",
    )
    .await;
    wait_until("001 back as a replica of 002", LONG, || async {
        let view = cluster_nodes(shard.configuration);
        let (old, new) = (node_on(&view, shard.primary), node_on(&view, shard.lagged));
        (old.primary_id.as_ref() == Some(&new.id)).then_some(())
    })
    .await;
    wait_dbsize(shard.primary, 20).await;
}

#[tokio::test]
async fn without_a_choice_the_least_lagged_shard_replica_takes_over_and_nothing_is_lost() {
    let shard = lagged_shard("redis", None).await;
    kill_primary(&shard, None).await;
    let completed =
        "Failover from primary node flg-0001-001 to replica node flg-0001-003 completed";
    wait_event(&shard.server.sdk(), "flg", completed).await;
    assert!(node_on(&cluster_nodes(shard.configuration), shard.other).is_primary);
    assert_eq!(
        surviving_keys(shard.configuration).await,
        (0..40).collect::<Vec<_>>(),
        "every acknowledged write survives"
    );
    // The lagged replica follows the new primary directly, and catches up.
    wait_dbsize(shard.lagged, 40).await;
}

#[tokio::test]
async fn a_lag_that_ends_sends_the_replica_straight_to_its_primary_again() {
    let shard = lagged_shard("redis", Some(4)).await;
    wait_until("002 replicates directly again", LONG, || async {
        (direct_links(shard.primary) == (2, 0)).then_some(())
    })
    .await;
    wait_dbsize(shard.lagged, 40).await;
    assert_eq!(dbsize(shard.other), 40);
}

#[tokio::test]
async fn promote_must_name_a_replica_of_the_failed_shard_primary() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_cluster_on(&client, "redis", "fpr", 2, 2).await;
    let configuration = configuration_endpoint(&group);
    let ports = member_addresses(&client, "fpr").await;
    let kill = |promote: &str| json!({"type": "kill", "replication_group_id": "fpr", "cache_cluster_id": "fpr-0001-001", "promote": promote});
    for (promote, why) in [
        (
            "fpr-0002-002",
            "is a replica of node group 0002, whose primary this fault does not take down",
        ),
        ("fpr-0002-001", "is the primary of node group 0002"),
        ("fpr-0001-001", "is the primary of node group 0001"),
        ("fpr-0009-002", "is not a member of replication group fpr"),
    ] {
        let (status, answer) = inject(&server, kill(promote)).await;
        assert_eq!(status, 400, "{promote}: {answer}");
        assert_eq!(answer["__type"], "InvalidFault", "{answer}");
        let expected = format!("{promote}, the replica chosen for promotion, {why}");
        assert!(answer.to_string().contains(&expected), "{answer}");
    }
    // The best replica would be 002 (same offset, lower index): 003 is taken because named.
    inject_ok(&server, kill("fpr-0001-003")).await;
    let completed =
        "Failover from primary node fpr-0001-001 to replica node fpr-0001-003 completed";
    wait_event(&client, "fpr", completed).await;
    let view = cluster_nodes(configuration);
    assert!(node_on(&view, address_of(&ports, "fpr-0001-003")).is_primary);
    assert!(!node_on(&view, address_of(&ports, "fpr-0001-002")).is_primary);
}

#[tokio::test]
async fn replication_lag_needs_a_loopback_address_per_node_in_cluster_mode() {
    let server = TestServer::start_with(&["--node-addresses", "shared"]);
    let client = server.sdk();
    create_cluster_on(&client, "redis", "fsh", 2, 1).await;
    let body = json!({"type": "replication-lag", "replication_group_id": "fsh", "cache_cluster_id": "fsh-0001-002"});
    let (status, answer) = inject(&server, body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["__type"], "InvalidFault", "{answer}");
    let expected = "replication lag in cluster mode needs a loopback address per node (--node-addresses loopback)";
    assert!(answer.to_string().contains(expected), "{answer}");
}
