//! TestFailover on one shard, and automatic failover when a shard primary dies: the real
//! cluster changes only that shard, keeps every key, and clients keep working.

use std::net::SocketAddr;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::{
    DEADLINE, TestServer, address_of, cluster_client, cluster_get, cluster_nodes, cluster_set,
    code, configuration_endpoint, create_cluster_on, events_for, member_addresses, messages,
    node_on, redis_cli, redis_pid_on, signal, wait_for_event, wait_until,
};

const FINISHED: &str = "Finished recovery for cache nodes 0001";

#[tokio::test]
async fn test_failover_on_one_shard_moves_only_its_primary_and_keeps_every_key() {
    failover_on_one_shard("redis").await;
}

#[tokio::test]
async fn test_failover_on_one_valkey_shard_moves_only_its_primary_and_keeps_every_key() {
    failover_on_one_shard("valkey").await;
}

async fn failover_on_one_shard(engine: &str) {
    if !crate::support::engine_available(engine) {
        return;
    }
    // The recovery delay keeps the first failover in flight while the second call arrives.
    let server = TestServer::start_with(&["--recovery-delay-ms", "800"]);
    let client = server.sdk();
    let group = create_cluster_on(&client, engine, "orders", 3, 1).await;
    let configuration = configuration_endpoint(&group);
    let ports = member_addresses(&client, "orders").await;
    let mut connection = cluster_client(configuration).await;
    for i in 0..300 {
        cluster_set(&mut connection, &format!("order:{i}"), &i.to_string()).await;
    }
    let before = cluster_nodes(configuration);
    let old_primary_port = address_of(&ports, "orders-0002-001");
    let old_primary_pid = redis_pid_on(old_primary_port).expect("shard 2's primary runs");

    // A reader on shard 1's primary throughout: the other shards must keep serving.
    let shard_one = address_of(&ports, "orders-0001-001");
    let reading = Arc::new(AtomicBool::new(true));
    let reader = tokio::spawn(read_until_stopped(
        shard_one,
        first_key_on(shard_one),
        reading.clone(),
    ));

    let answer = client
        .test_failover()
        .replication_group_id("orders")
        .node_group_id("0002")
        .send()
        .await
        .expect("TestFailover on 0002");
    assert_eq!(
        answer.replication_group().and_then(|g| g.status()),
        Some("available")
    );
    // One node replacement at a time per cluster-mode group: another shard must wait.
    let second = client
        .test_failover()
        .replication_group_id("orders")
        .node_group_id("0003")
        .send()
        .await;
    assert_eq!(code(second), "InvalidReplicationGroupState");

    let events = wait_for_event(&client, "orders-0002-001", FINISHED).await;
    reading.store(false, Ordering::SeqCst);
    let (reads, errors) = reader.await.unwrap();
    assert!(
        reads > 10,
        "the reader ran during the failover ({reads} reads)"
    );
    assert_eq!(errors, Vec::<String>::new(), "shard 1 kept serving");
    let completed =
        "Failover from primary node orders-0002-001 to replica node orders-0002-002 completed";
    assert_eq!(
        messages(&events)
            .into_iter()
            .rev()
            .filter(|m| !m.starts_with("Cache cluster created"))
            .collect::<Vec<_>>(),
        [completed, "Recovering cache nodes 0001", FINISHED,]
    );
    let group_messages = messages(&events_for(&client, "orders").await);
    assert!(group_messages.contains(&"Test Failover API called for node group 0002".to_string()));
    assert!(group_messages.contains(&completed.to_string()));
    assert!(!group_messages.iter().any(|m| m.contains("node group 0003")));

    // The old primary really died and came back as a replica of the new one; the other shards
    // kept their primaries.
    let new_primary_port = address_of(&ports, "orders-0002-002");
    let after = cluster_nodes(configuration);
    let new_primary = node_on(&after, new_primary_port);
    assert!(new_primary.is_primary, "{new_primary:?}");
    assert_eq!(new_primary.slots, ["5461-10922"]);
    let old_primary = node_on(&after, old_primary_port);
    assert_eq!(
        old_primary.primary_id.as_ref(),
        Some(&new_primary.id),
        "{old_primary:?}"
    );
    assert_ne!(redis_pid_on(old_primary_port), Some(old_primary_pid));
    for shard in ["0001", "0003"] {
        let port = address_of(&ports, &format!("orders-{shard}-001"));
        let (now, then) = (node_on(&after, port), node_on(&before, port));
        assert_eq!(
            (now.id, now.is_primary, now.slots),
            (then.id, then.is_primary, then.slots),
            "shard {shard} must keep its primary"
        );
    }

    // Every key is still there, through the same cluster connection.
    for i in 0..300 {
        let value = cluster_get(&mut connection, &format!("order:{i}")).await;
        assert_eq!(value.as_deref(), Some(i.to_string().as_str()), "order:{i}");
    }
    cluster_set(&mut connection, "order:after", "written").await;
    // A client with the old map gets one redirect, straight to the new primary's own address
    // (the one it announces), where a cluster client can follow it.
    let key = (0..300)
        .map(|i| format!("order:{i}"))
        .find(|k| {
            redis_cli(new_primary_port, &["CLUSTER", "KEYSLOT", k])
                .parse::<u32>()
                .is_ok_and(|s| (5461..=10922).contains(&s))
        })
        .expect("a key in shard 2");
    assert_eq!(
        redis_cli(shard_one, &["GET", &key])
            .split_whitespace()
            .last(),
        Some(new_primary_port.to_string().as_str())
    );
    assert!(!redis_cli(new_primary_port, &["GET", &key]).is_empty());
}

#[tokio::test]
async fn a_killed_shard_primary_is_replaced_by_its_replica_automatically() {
    killed_shard_primary_is_replaced("redis").await;
}

#[tokio::test]
async fn a_killed_valkey_shard_primary_is_replaced_by_its_replica_automatically() {
    killed_shard_primary_is_replaced("valkey").await;
}

async fn killed_shard_primary_is_replaced(engine: &str) {
    if !crate::support::engine_available(engine) {
        return;
    }
    let server = TestServer::start_with(&["--health-check-interval-ms", "100"]);
    let client = server.sdk();
    let group = create_cluster_on(&client, engine, "sessions", 3, 1).await;
    let configuration = configuration_endpoint(&group);
    let ports = member_addresses(&client, "sessions").await;
    let mut connection = cluster_client(configuration).await;
    for i in 0..100 {
        cluster_set(&mut connection, &format!("session:{i}"), "live").await;
    }
    let primary_port = address_of(&ports, "sessions-0001-001");
    let pid = redis_pid_on(primary_port).expect("shard 1's primary runs");
    signal(pid, libc::SIGKILL);

    let events = wait_for_event(&client, "sessions-0001-001", FINISHED).await;
    let all = messages(&events);
    assert!(
        all.contains(&"Failover from primary node sessions-0001-001 to replica node sessions-0001-002 completed".to_string()),
        "{all:?}"
    );
    let replica_port = address_of(&ports, "sessions-0001-002");
    let view = wait_until(
        "the cluster agrees on the new primary",
        DEADLINE,
        || async {
            let view = cluster_nodes(configuration);
            let promoted = node_on(&view, replica_port);
            let recovered = node_on(&view, primary_port);
            (promoted.is_primary && recovered.primary_id.as_ref() == Some(&promoted.id))
                .then_some(view)
        },
    )
    .await;
    assert!(view.iter().all(|n| !n.flags.contains("fail")), "{view:#?}");
    for i in 0..100 {
        assert_eq!(
            cluster_get(&mut connection, &format!("session:{i}"))
                .await
                .as_deref(),
            Some("live")
        );
    }
}

/// A key whose slot the node on `port` serves.
fn first_key_on(port: SocketAddr) -> String {
    let view = cluster_nodes(port);
    let me = view
        .iter()
        .find(|n| n.flags.contains("myself"))
        .expect("myself");
    let (first, last) = me.slots[0].split_once('-').expect("a slot range");
    let (first, last): (u32, u32) = (first.parse().unwrap(), last.parse().unwrap());
    (0..)
        .map(|i| format!("order:{i}"))
        .find(|key| {
            let slot: u32 = redis_cli(port, &["CLUSTER", "KEYSLOT", key])
                .parse()
                .unwrap();
            (first..=last).contains(&slot)
        })
        .unwrap()
}

/// GETs `key` on one node over one connection until `reading` is cleared; returns the number
/// of answers and every error.
async fn read_until_stopped(
    port: SocketAddr,
    key: String,
    reading: Arc<AtomicBool>,
) -> (usize, Vec<String>) {
    let client = redis::Client::open(format!("redis://{port}")).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    let (mut reads, mut errors) = (0, Vec::new());
    while reading.load(Ordering::SeqCst) {
        match redis::cmd("GET")
            .arg(&key)
            .query_async::<Option<String>>(&mut connection)
            .await
        {
            Ok(_) => reads += 1,
            Err(error) => errors.push(error.to_string()),
        }
    }
    (reads, errors)
}
