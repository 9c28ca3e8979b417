//! Automatic failover on real failures: kill -9 and SIGSTOP of a primary, a dead replica, a
//! dead primary without automatic failover, and shutdown in the middle of a workflow.

use std::net::SocketAddr;

use std::time::Duration;

use crate::support::{
    TestServer, admin_cli, assert_replication, create_group, create_group_on, describe, endpoints,
    engine_available, events_for, is_alive, messages, redis_cli, redis_pid_on, replication_field,
    signal, wait_for_event, wait_until,
};

const FINISHED: &str = "Finished recovery for cache nodes 0001";

async fn write_keys(port: SocketAddr, count: usize) {
    for i in 0..count {
        assert_eq!(
            redis_cli(port, &["SET", &format!("key{i}"), &i.to_string()]),
            "OK"
        );
    }
}

/// Waits until every replica has applied everything the primary has.
async fn wait_replicated(primary: SocketAddr, replicas: &[SocketAddr]) {
    let target: i64 = replication_field(primary, "master_repl_offset")
        .unwrap()
        .parse()
        .unwrap();
    for &replica in replicas {
        wait_until(
            "replica caught up",
            Duration::from_secs(10),
            || async move {
                let offset: i64 = replication_field(replica, "slave_repl_offset")?
                    .parse()
                    .ok()?;
                (offset >= target).then_some(())
            },
        )
        .await;
    }
}

async fn primary_fails_and_a_replica_takes_over(engine: &str, group_id: &str, fail: i32) {
    if !engine_available(engine) {
        return;
    }
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group_on(&client, engine, group_id, 3, true).await;
    let (primary_endpoint, _, members) = endpoints(&group);
    write_keys(primary_endpoint, 30).await;
    wait_replicated(members[0].1, &[members[1].1, members[2].1]).await;
    let old_pid = redis_pid_on(members[0].1).expect("primary pid");
    signal(old_pid, fail);

    let old_primary = format!("{group_id}-001");
    let events = wait_for_event(&client, &old_primary, FINISHED).await;
    assert!(
        !is_alive(old_pid),
        "the failed process is gone for good (a frozen one is killed)"
    );
    let group = describe(&client, group_id).await.unwrap();
    let (endpoint_after, _, after) = endpoints(&group);
    let new_primary = after.iter().find(|m| m.2 == "primary").unwrap().clone();
    assert_ne!(new_primary.0, old_primary);
    let old_messages = messages(&events);
    let completed = format!(
        "Failover from primary node {old_primary} to replica node {} completed",
        new_primary.0
    );
    assert!(old_messages.contains(&completed), "{old_messages:?}");
    assert!(
        old_messages
            .iter()
            .any(|m| m.starts_with("Cache node 0001 failed")),
        "{old_messages:?}"
    );
    assert!(messages(&events_for(&client, group_id).await).contains(&completed));
    assert_eq!(endpoint_after, primary_endpoint);
    assert_eq!(
        replication_field(primary_endpoint, "role").as_deref(),
        Some("master")
    );
    for i in 0..30 {
        assert_eq!(
            redis_cli(primary_endpoint, &["GET", &format!("key{i}")]),
            i.to_string()
        );
    }
    let recovered = after.iter().find(|m| m.0 == old_primary).unwrap();
    assert_eq!(recovered.2, "replica");
    assert_ne!(
        redis_pid_on(recovered.1),
        Some(old_pid),
        "a fresh process replaced the failed one"
    );
    assert_replication(
        recovered.1,
        "the recovered node",
        &[
            ("master_host", &new_primary.1.ip().to_string()),
            ("master_port", &new_primary.1.port().to_string()),
            ("master_link_status", "up"),
        ],
    );
}

#[tokio::test]
async fn a_primary_killed_with_sigkill_is_replaced_by_its_best_replica_and_recovered() {
    primary_fails_and_a_replica_takes_over("redis", "killed", libc::SIGKILL).await;
}

#[tokio::test]
async fn a_valkey_primary_killed_with_sigkill_is_replaced_by_its_best_replica_and_recovered() {
    primary_fails_and_a_replica_takes_over("valkey", "killed", libc::SIGKILL).await;
}

#[tokio::test]
async fn a_frozen_primary_is_detected_killed_and_replaced() {
    primary_fails_and_a_replica_takes_over("redis", "frozen", libc::SIGSTOP).await;
}

#[tokio::test]
async fn a_killed_replica_is_replaced_and_resynced() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group(&client, "rep", 2, true).await;
    let (primary_endpoint, _, members) = endpoints(&group);
    write_keys(primary_endpoint, 10).await;
    let replica_pid = redis_pid_on(members[1].1).unwrap();
    signal(replica_pid, libc::SIGKILL);
    let events = wait_for_event(&client, "rep-002", FINISHED).await;
    assert!(messages(&events).contains(&"Recovering cache nodes 0001".to_string()));
    let group = describe(&client, "rep").await.unwrap();
    let (_, _, after) = endpoints(&group);
    assert_eq!(
        (after[0].2.as_str(), after[1].2.as_str()),
        ("primary", "replica"),
        "the primary did not change"
    );
    assert_eq!(
        replication_field(after[1].1, "master_link_status").as_deref(),
        Some("up")
    );
    assert_eq!(
        redis_cli(after[1].1, &["GET", "key9"]),
        "9",
        "the new replica resynced"
    );
}

#[tokio::test]
async fn a_dead_primary_without_automatic_failover_is_restarted_in_place_and_loses_its_data() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group(&client, "manual", 2, false).await;
    let (primary_endpoint, _, members) = endpoints(&group);
    write_keys(primary_endpoint, 5).await;
    wait_replicated(members[0].1, &[members[1].1]).await;
    // A snapshot on disk (as a full sync or a user's SAVE leaves) must not come back.
    let (port, node) = (members[0].1, members[0].1);
    assert_eq!(admin_cli(port, node, None, &["SAVE"]).0, "OK");
    signal(redis_pid_on(members[0].1).unwrap(), libc::SIGKILL);
    wait_for_event(&client, "manual-001", FINISHED).await;
    let (_, _, after) = endpoints(&describe(&client, "manual").await.unwrap());
    assert_eq!(
        (after[0].0.as_str(), after[0].2.as_str()),
        ("manual-001", "primary")
    );
    assert_eq!(after[0].1, members[0].1, "same port");
    assert_eq!(
        redis_cli(primary_endpoint, &["DBSIZE"]),
        "0",
        "the restarted primary is empty, as AWS warns"
    );
    let replica = after[1].1;
    wait_until(
        "the replica to resync from the empty primary",
        Duration::from_secs(10),
        || async move {
            (replication_field(replica, "master_link_status").as_deref() == Some("up")
                && redis_cli(replica, &["DBSIZE"]) == "0")
                .then_some(())
        },
    )
    .await;
    assert_eq!(redis_cli(primary_endpoint, &["SET", "again", "1"]), "OK");
}

/// Stops the server (`hard`: SIGKILL, else SIGTERM) while a slow failover is in flight, and
/// checks that every node died with it.
async fn stop_during_a_slow_failover(group_id: &str, hard: bool) {
    // The aws profile scaled by 0.01 keeps the failover in flight for over half a second.
    let mut server = TestServer::start_with(&["--timing-profile", "aws", "--time-scale", "0.01"]);
    let client = server.sdk();
    let group = create_group(&client, group_id, 3, true).await;
    let (_, _, members) = endpoints(&group);
    let pids: Vec<u32> = members.iter().map(|m| redis_pid_on(m.1).unwrap()).collect();
    client
        .test_failover()
        .replication_group_id(group_id)
        .node_group_id("0001")
        .send()
        .await
        .unwrap();
    wait_until(
        "the primary to be killed",
        Duration::from_secs(5),
        || async { (!is_alive(pids[0])).then_some(()) },
    )
    .await;
    if hard {
        server.kill_hard();
    } else {
        assert!(server.stop(), "a clean exit on SIGTERM, even mid-failover");
    }
    for pid in pids {
        wait_until(
            "nodes to die with the server",
            Duration::from_secs(10),
            || async move { (!is_alive(pid)).then_some(()) },
        )
        .await;
    }
    for member in &members {
        assert_eq!(
            redis_pid_on(member.1),
            None,
            "nothing listens on {}",
            member.1
        );
    }
}

#[tokio::test]
async fn sigterm_during_a_slow_failover_leaves_no_node_running() {
    stop_during_a_slow_failover("midway", false).await;
}

#[tokio::test]
async fn sigkill_during_a_slow_failover_leaves_no_node_running() {
    stop_during_a_slow_failover("crashmid", true).await;
}

#[tokio::test]
async fn a_node_that_keeps_failing_is_retried_with_backoff_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("refuse");
    let wrapper = dir.path().join("redis-server");
    // The real redis-server, except that it refuses to start while the marker file exists.
    let script = format!(
        "#!/bin/sh\nif [ -e '{}' ] && [ \"$1\" != --version ]; then echo 'FATAL: refusing to start (test double)'; exit 1; fi\nexec redis-server \"$@\"\n",
        marker.display()
    );
    std::fs::write(&wrapper, script).unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let server = TestServer::start_with(&[
        "--redis-server",
        wrapper.to_str().unwrap(),
        "--health-check-interval-ms",
        "100",
    ]);
    let client = server.sdk();
    let group = create_group_on(&client, "redis", "flaky", 2, true).await;
    let (_, _, members) = endpoints(&group);
    std::fs::write(&marker, "").unwrap();
    signal(redis_pid_on(members[1].1).unwrap(), libc::SIGKILL);

    let failures = wait_until("two failed recoveries", Duration::from_secs(20), || async {
        let events = events_for(&client, "flaky-002").await;
        let failed: Vec<i64> = events
            .iter()
            .filter(|e| {
                e.message()
                    .unwrap_or_default()
                    .starts_with("Failed to recover cache nodes 0001")
            })
            .map(|e| e.date().unwrap().to_millis().unwrap())
            .collect();
        (failed.len() >= 2).then_some((failed, messages(&events)))
    })
    .await;
    let (dates, all) = failures;
    assert!(
        all.iter()
            .any(|m| m.contains("refusing to start (test double)")),
        "the reason is reported: {all:?}"
    );
    // Newest first: the retry waited out its backoff (2 s after the first failure), not a hot loop.
    assert!(
        dates[0] - dates[1] >= 1900,
        "retried after {} ms",
        dates[0] - dates[1]
    );

    std::fs::remove_file(&marker).unwrap();
    wait_for_event(&client, "flaky-002", FINISHED).await;
    let (_, _, after) = endpoints(&describe(&client, "flaky").await.unwrap());
    assert_eq!(
        replication_field(after[1].1, "master_link_status").as_deref(),
        Some("up")
    );
}
