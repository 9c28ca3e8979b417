//! The fault-injection API (`POST /_faults`): each fault's events, recovery and data outcome,
//! checked on the real redis-server processes with the redis crate.

use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_elasticache::Client;
use serde_json::json;

use crate::support::{
    Connect, TestServer, connect_outcome, describe, endpoints, events_for, inject, inject_ok,
    is_alive, messages, redis_cli, redis_pid_on, replication_field, wait_available, wait_for_event,
    wait_until,
};

const FINISHED: &str = "Finished recovery for cache nodes 0001";
const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

/// A group of three nodes with automatic failover, one per zone of [`ZONES`].
async fn group_in_three_zones(client: &Client, id: &str) -> Vec<(String, SocketAddr, String)> {
    client
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description("fault lab")
        .num_cache_clusters(3)
        .automatic_failover_enabled(true)
        .set_preferred_cache_cluster_azs(Some(ZONES.map(String::from).to_vec()))
        .send()
        .await
        .expect("create");
    let group = wait_available(client, id).await;
    endpoints(&group).2
}

fn set_keys(at: SocketAddr, range: std::ops::Range<usize>) {
    for i in range {
        assert_eq!(redis_cli(at, &["SET", &format!("k{i}"), "v"]), "OK");
    }
}

fn has_key(at: SocketAddr, i: usize) -> bool {
    redis_cli(at, &["EXISTS", &format!("k{i}")]) == "1"
}

async fn primary_member(client: &Client, id: &str) -> (String, SocketAddr, String) {
    let group = describe(client, id).await.expect("group");
    let (_, _, members) = endpoints(&group);
    members
        .into_iter()
        .find(|m| m.2 == "primary")
        .expect("a primary")
}

/// Waits until the primary endpoint answers as a primary (after a failover or a comeback).
async fn wait_writable(endpoint: SocketAddr) {
    wait_until(
        "the primary endpoint is writable",
        Duration::from_secs(20),
        || async move {
            (replication_field(endpoint, "role").as_deref() == Some("master")).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_kill_fault_fails_the_primary_over_and_brings_it_back_as_a_replica() {
    let server = TestServer::start();
    let client = server.sdk();
    let members = group_in_three_zones(&client, "fkill").await;
    let primary_endpoint = endpoints(&describe(&client, "fkill").await.unwrap()).0;
    set_keys(primary_endpoint, 0..10);
    let old_pid = redis_pid_on(members[0].1).unwrap();
    let answer = inject_ok(
        &server,
        json!({"type": "kill", "replication_group_id": "fkill", "cache_cluster_id": "fkill-001", "promote": "fkill-003"}),
    )
    .await;
    assert_eq!(answer["members"], json!(["fkill-001"]));
    assert!(
        !is_alive(old_pid),
        "the primary was SIGKILLed before the answer"
    );
    let events = wait_for_event(&client, "fkill-001", FINISHED).await;
    let said = messages(&events);
    for expected in [
        "Cache node 0001 failed: the node stopped answering",
        "Failover from primary node fkill-001 to replica node fkill-003 completed",
        "Recovering cache nodes 0001",
    ] {
        assert!(said.contains(&expected.to_string()), "{said:?}");
    }
    assert_eq!(
        primary_member(&client, "fkill").await.0,
        "fkill-003",
        "the chosen replica"
    );
    wait_writable(primary_endpoint).await;
    assert!(
        (0..10).all(|i| has_key(primary_endpoint, i)),
        "nothing was lost"
    );
    assert_eq!(
        replication_field(members[0].1, "role").as_deref(),
        Some("slave")
    );
}

#[tokio::test]
async fn replication_lag_then_failover_loses_exactly_the_unreplicated_writes() {
    let server = TestServer::start();
    let client = server.sdk();
    let members = group_in_three_zones(&client, "flag").await;
    let primary_endpoint = endpoints(&describe(&client, "flag").await.unwrap()).0;
    set_keys(primary_endpoint, 0..10);
    let cut = |member: &str| json!({"type": "replication-lag", "replication_group_id": "flag", "cache_cluster_id": member});
    let answer = inject_ok(&server, cut("flag-002")).await;
    assert_eq!(answer["relays"], json!(["flag-002-replication"]));
    set_keys(primary_endpoint, 10..20); // reach 003 only
    inject_ok(&server, cut("flag-003")).await;
    set_keys(primary_endpoint, 20..30); // acknowledged by the primary, replicated nowhere
    assert!(!has_key(members[1].1, 10) && !has_key(members[2].1, 20));
    inject_ok(
        &server,
        json!({"type": "kill", "replication_group_id": "flag", "cache_cluster_id": "flag-001"}),
    )
    .await;
    wait_for_event(&client, "flag-001", FINISHED).await;
    assert_eq!(
        primary_member(&client, "flag").await.0,
        "flag-003",
        "the least-lagged replica was promoted"
    );
    wait_writable(primary_endpoint).await;
    let kept: Vec<usize> = (0..30).filter(|i| has_key(primary_endpoint, *i)).collect();
    assert_eq!(
        kept,
        (0..20).collect::<Vec<_>>(),
        "exactly k20..k29 were lost"
    );
    wait_until(
        "flag-002 resynced from the new primary",
        Duration::from_secs(20),
        || async { has_key(members[1].1, 19).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn an_az_power_interruption_keeps_the_primary_out_of_the_zone_until_it_returns() {
    let server = TestServer::start();
    let client = server.sdk();
    let members = group_in_three_zones(&client, "faz").await;
    let primary_endpoint = endpoints(&describe(&client, "faz").await.unwrap()).0;
    set_keys(primary_endpoint, 0..5);
    let answer = inject_ok(
        &server,
        json!({"type": "az-power-interruption", "replication_group_id": "faz", "availability_zone": ZONES[0], "duration_seconds": 4}),
    )
    .await;
    assert_eq!(answer["members"], json!(["faz-001"]));
    wait_for_event(
        &client,
        "faz",
        "Failover from primary node faz-001 to replica node faz-002 completed",
    )
    .await;
    assert_eq!(
        connect_outcome(members[0].1),
        Connect::TimedOut,
        "the node in the failed zone stays down, its host gone, while the zone is out"
    );
    let group = describe(&client, "faz").await.unwrap();
    let zone_of = |id: &str| {
        group
            .member_clusters()
            .iter()
            .position(|m| m == id)
            .map(|i| ZONES[i])
    };
    let primary = primary_member(&client, "faz").await.0;
    assert_ne!(zone_of(&primary), Some(ZONES[0]));
    let events = wait_for_event(&client, "faz-001", FINISHED).await;
    assert!(messages(&events).contains(&format!(
        "Cache node 0001 failed: power interrupted in {}",
        ZONES[0]
    )));
    assert_eq!(
        primary_member(&client, "faz").await.0,
        "faz-002",
        "no failback"
    );
    assert_eq!(
        replication_field(members[0].1, "role").as_deref(),
        Some("slave"),
        "back in its zone, at its address, as a replica"
    );
    assert!((0..5).all(|i| has_key(primary_endpoint, i)));
}

#[tokio::test]
async fn a_frozen_primary_is_detected_by_the_health_monitor_and_failed_over() {
    let server = TestServer::start();
    let client = server.sdk();
    let members = group_in_three_zones(&client, "ffrz").await;
    let old_pid = redis_pid_on(members[0].1).unwrap();
    inject_ok(
        &server,
        json!({"type": "freeze", "replication_group_id": "ffrz", "cache_cluster_id": "ffrz-001", "duration_seconds": 40}),
    )
    .await;
    let events = wait_for_event(&client, "ffrz-001", FINISHED).await;
    assert!(
        messages(&events)
            .iter()
            .any(|m| m.starts_with("Failover from primary node ffrz-001")),
        "{:?}",
        messages(&events)
    );
    assert!(
        !is_alive(old_pid),
        "the frozen process was killed, never resumed as a primary"
    );
    assert_ne!(primary_member(&client, "ffrz").await.0, "ffrz-001");
}

#[tokio::test]
async fn an_entire_cluster_failure_comes_back_empty_at_the_same_endpoints() {
    let server = TestServer::start();
    let client = server.sdk();
    let members = group_in_three_zones(&client, "fall").await;
    let before = describe(&client, "fall").await.unwrap();
    let (primary_endpoint, reader_endpoint, _) = endpoints(&before);
    set_keys(primary_endpoint, 0..10);
    let pids: Vec<u32> = members.iter().map(|m| redis_pid_on(m.1).unwrap()).collect();
    let answer = inject_ok(
        &server,
        json!({"type": "cluster-failure", "replication_group_id": "fall"}),
    )
    .await;
    assert_eq!(
        answer["members"],
        json!(["fall-001", "fall-002", "fall-003"])
    );
    for member in ["fall-001", "fall-002", "fall-003"] {
        let events = wait_for_event(&client, member, FINISHED).await;
        assert!(
            messages(&events)
                .contains(&"Cache node 0001 failed: every node of the cluster failed".to_string())
        );
    }
    let after = describe(&client, "fall").await.unwrap();
    let (primary_after, reader_after, members_after) = endpoints(&after);
    assert_eq!(
        (primary_after, reader_after),
        (primary_endpoint, reader_endpoint)
    );
    assert_eq!(members_after, members, "same addresses, same roles");
    for (member, pid) in members.iter().zip(pids) {
        assert!(
            !is_alive(pid) && redis_pid_on(member.1) != Some(pid),
            "{} was recreated",
            member.0
        );
    }
    wait_writable(primary_endpoint).await;
    assert_eq!(
        redis_cli(primary_endpoint, &["DBSIZE"]),
        "0",
        "every node came back empty"
    );
    let all = messages(&events_for(&client, "fall").await);
    assert!(
        !all.iter().any(|m| m.starts_with("Failover")),
        "no replica was left to promote: {all:?}"
    );
}

#[tokio::test]
async fn a_restarted_replica_writes_shutdown_and_restart_events_and_resyncs() {
    let server = TestServer::start();
    let client = server.sdk();
    let members = group_in_three_zones(&client, "frst").await;
    let primary_endpoint = endpoints(&describe(&client, "frst").await.unwrap()).0;
    set_keys(primary_endpoint, 0..5);
    let old_pid = redis_pid_on(members[2].1).unwrap();
    inject_ok(
        &server,
        json!({"type": "restart", "replication_group_id": "frst", "cache_cluster_id": "frst-003", "duration_seconds": 0.5}),
    )
    .await;
    let events = wait_for_event(&client, "frst-003", "Cache node 0001 restarted").await;
    assert!(messages(&events).contains(&"Cache node 0001 shutdown".to_string()));
    assert_eq!(
        primary_member(&client, "frst").await.0,
        "frst-001",
        "a replica's restart fails nothing over"
    );
    assert_ne!(redis_pid_on(members[2].1), Some(old_pid));
    wait_until("frst-003 resynced", Duration::from_secs(20), || async {
        has_key(members[2].1, 4).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_fault_request_that_does_not_fit_is_refused_and_names_the_problem() {
    let server = TestServer::start();
    let cases = [
        (
            json!({"type": "kill", "replication_group_id": "nope", "cache_cluster_id": "nope-001"}),
            404,
            "Replication group nope not found.",
        ),
        (
            json!({"type": "melt", "replication_group_id": "g"}),
            400,
            "unknown fault type",
        ),
        (
            json!({"type": "kill", "replication_group_id": "g"}),
            400,
            "kill needs cache_cluster_id",
        ),
        (
            json!({"type": "cluster-failure", "replication_group_id": "g", "availability_zone": "x"}),
            400,
            "availability_zone does not apply to cluster-failure",
        ),
        (
            json!({"type": "kill", "replication_group_id": "g", "cache_cluster_id": "g-001", "colour": 1}),
            400,
            "unknown field `colour`",
        ),
        (
            json!({"type": "freeze", "replication_group_id": "g", "cache_cluster_id": "g-001", "duration_seconds": -1}),
            400,
            "duration_seconds must be between",
        ),
    ];
    for (body, status, message) in cases {
        let (got, answer) = inject(&server, body.clone()).await;
        assert_eq!(got, status, "{body}: {answer}");
        let text = answer.to_string();
        assert!(text.contains(message), "{body}: {text}");
    }
}
