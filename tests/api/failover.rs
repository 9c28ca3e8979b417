//! TestFailover on real processes: promotion, events, validation, one in flight, the quota.

use std::time::Duration;

use crate::support::{
    TestServer, admin_cli, assert_replication, code, create_group, create_group_on, describe,
    endpoints, events_for, messages, node_engine, redis_cli, replication_field, wait_for_event,
    wait_until,
};

const FINISHED: &str = "Finished recovery for cache nodes 0001";

#[tokio::test]
async fn test_failover_promotes_a_replica_and_recovers_the_old_primary() {
    failover_promotes_and_recovers("redis").await;
}

#[tokio::test]
async fn test_failover_on_valkey_promotes_a_replica_and_recovers_the_old_primary() {
    failover_promotes_and_recovers("valkey").await;
}

async fn failover_promotes_and_recovers(engine: &str) {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group_on(&client, engine, "shop", 3, true).await;
    let (primary_endpoint, _, before) = endpoints(&group);
    for i in 0..50 {
        assert_eq!(
            redis_cli(
                primary_endpoint,
                &["SET", &format!("key{i}"), &i.to_string()]
            ),
            "OK"
        );
    }
    let old_primary_port = before[0].1;

    let answer = client
        .test_failover()
        .replication_group_id("shop")
        .node_group_id("0001")
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.replication_group().and_then(|g| g.status()),
        Some("available")
    );

    let events = wait_for_event(&client, "shop-001", FINISHED).await;
    let group_events = events_for(&client, "shop").await;
    let failover_events: Vec<_> = [events.clone(), group_events]
        .concat()
        .into_iter()
        .filter(|e| !e.message().unwrap_or_default().starts_with("Cache cluster"))
        .collect();
    let new_primary = describe(&client, "shop").await.unwrap().node_groups()[0]
        .node_group_members()
        .iter()
        .find(|m| m.current_role() == Some("primary"))
        .and_then(|m| m.cache_cluster_id())
        .unwrap()
        .to_string();
    assert_ne!(new_primary, "shop-001");
    let completed =
        format!("Failover from primary node shop-001 to replica node {new_primary} completed");
    // DescribeEvents is newest first: reversed, the five documented events in order.
    let all = client.describe_events().send().await.unwrap();
    let mut sequence: Vec<(String, String, String)> = all
        .events()
        .iter()
        .filter(|e| !e.message().unwrap_or_default().starts_with("Cache cluster"))
        .map(|e| {
            (
                e.source_type().unwrap().as_str().to_string(),
                e.source_identifier().unwrap().to_string(),
                e.message().unwrap().to_string(),
            )
        })
        .collect();
    sequence.reverse();
    let expected = [
        (
            "replication-group",
            "shop",
            "Test Failover API called for node group 0001".to_string(),
        ),
        ("cache-cluster", "shop-001", completed.clone()),
        ("replication-group", "shop", completed),
        (
            "cache-cluster",
            "shop-001",
            "Recovering cache nodes 0001".to_string(),
        ),
        ("cache-cluster", "shop-001", FINISHED.to_string()),
    ];
    let expected: Vec<(String, String, String)> = expected
        .into_iter()
        .map(|(t, s, m)| (t.to_string(), s.to_string(), m))
        .collect();
    assert_eq!(sequence, expected);
    assert_eq!(failover_events.len(), 5);

    // The real state: the new primary is master, every other node replicates from it.
    let group = describe(&client, "shop").await.unwrap();
    let (endpoint_after, _, after) = endpoints(&group);
    assert_eq!(
        endpoint_after, primary_endpoint,
        "the primary endpoint keeps its address"
    );
    let new_primary_port = after.iter().find(|m| m.0 == new_primary).unwrap().1;
    assert_eq!(
        replication_field(new_primary_port, "role").as_deref(),
        Some("master")
    );
    for (id, port, role) in &after {
        if *id == new_primary {
            assert_eq!(role, "primary");
            continue;
        }
        assert_eq!(role, "replica");
        assert_replication(
            *port,
            id,
            &[
                ("master_host", &new_primary_port.ip().to_string()),
                ("master_port", &new_primary_port.port().to_string()),
                ("master_link_status", "up"),
            ],
        );
    }
    assert_eq!(
        after[0].1, old_primary_port,
        "the old primary came back on its own port"
    );
    assert_eq!(
        node_engine(old_primary_port, None).0,
        engine,
        "the recovered node runs the group's engine"
    );
    assert_eq!(
        replication_field(primary_endpoint, "role").as_deref(),
        Some("master")
    );
    for i in 0..50 {
        assert_eq!(
            redis_cli(primary_endpoint, &["GET", &format!("key{i}")]),
            i.to_string(),
            "key{i} survived"
        );
    }
    assert_eq!(
        redis_cli(old_primary_port, &["GET", "key7"]),
        "7",
        "the recovered node resynced"
    );
    assert_eq!(messages(&events)[0], FINISHED);
}

#[tokio::test]
async fn test_failover_validates_before_changing_anything() {
    let server = TestServer::start();
    let client = server.sdk();
    create_group(&client, "auto", 2, true).await;
    create_group(&client, "manual", 2, false).await;
    create_group(&client, "single", 1, false).await;
    let call = |group: &str, node_group: &str| {
        client
            .test_failover()
            .replication_group_id(group)
            .node_group_id(node_group)
            .send()
    };
    assert_eq!(code(call("auto", "00001").await), "InvalidParameterValue");
    assert_eq!(code(call("auto", "abc").await), "InvalidParameterValue");
    assert_eq!(
        code(call("nope", "0001").await),
        "ReplicationGroupNotFoundFault"
    );
    assert_eq!(code(call("auto", "0002").await), "NodeGroupNotFoundFault");
    assert_eq!(
        code(call("manual", "0001").await),
        "InvalidReplicationGroupState"
    );
    assert_eq!(
        code(call("single", "0001").await),
        "InvalidReplicationGroupState"
    );
    let events = client
        .describe_events()
        .source_type(aws_sdk_elasticache::types::SourceType::ReplicationGroup)
        .send()
        .await
        .unwrap();
    assert!(
        !messages(events.events())
            .iter()
            .any(|m| m.starts_with("Test Failover")),
        "rejected calls wrote no event"
    );
}

#[tokio::test]
async fn of_eight_simultaneous_calls_on_one_group_exactly_one_is_accepted() {
    // A promotion delay keeps the first failover in flight while the others arrive.
    let server = TestServer::start_with(&["--promotion-delay-ms", "300"]);
    let client = server.sdk();
    create_group(&client, "race", 3, true).await;
    let calls = (0..8).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .test_failover()
                .replication_group_id("race")
                .node_group_id("0001")
                .send()
                .await
        })
    });
    let mut accepted = 0;
    let mut refused = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        match call.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(error) => refused.push(code::<(), _>(Err(error))),
        }
    }
    assert_eq!(accepted, 1);
    assert_eq!(refused, vec!["InvalidReplicationGroupState"; 7]);
    wait_for_event(&client, "race-001", FINISHED).await;
}

#[tokio::test]
async fn the_quota_is_exact_under_parallel_calls_and_its_window_slides() {
    let server = TestServer::start_with(&["--failover-quota", "3", "--failover-quota-window", "2"]);
    let client = server.sdk();
    let ids: Vec<String> = (0..5).map(|i| format!("q{i}")).collect();
    for id in &ids {
        create_group(&client, id, 2, true).await;
    }
    let calls: Vec<_> = ids
        .iter()
        .map(|id| {
            let (client, id) = (client.clone(), id.clone());
            tokio::spawn(async move {
                client
                    .test_failover()
                    .replication_group_id(id)
                    .node_group_id("0001")
                    .send()
                    .await
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for (id, call) in ids.iter().zip(calls) {
        outcomes.push((
            id.clone(),
            call.await
                .unwrap()
                .map(|_| ())
                .map_err(|e| code::<(), _>(Err(e))),
        ));
    }
    let accepted: Vec<_> = outcomes
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(id, _)| id.clone())
        .collect();
    let refused: Vec<_> = outcomes
        .iter()
        .filter_map(|(id, r)| r.clone().err().map(|c| (id.clone(), c)))
        .collect();
    assert_eq!(accepted.len(), 3, "{outcomes:?}");
    assert!(
        refused
            .iter()
            .all(|(_, c)| c == "APICallRateForCustomerExceeded"),
        "{refused:?}"
    );
    let (refused_group, _) = refused[0].clone();

    // Another account (a 12-digit access key is its own account) has its own quota, and its
    // own group of the same id: the first account's group is not its to fail over.
    let other = server.sdk_with_key("210987654321");
    create_group(&other, &refused_group, 2, true).await;
    other
        .test_failover()
        .replication_group_id(&refused_group)
        .node_group_id("0001")
        .send()
        .await
        .unwrap();
    wait_for_event(&other, &format!("{refused_group}-001"), FINISHED).await;
    for id in &accepted {
        wait_for_event(&client, &format!("{id}-001"), FINISHED).await;
    }
    // The first account is admitted again once its calls leave the 2 s window (rejected calls
    // in between do not count).
    let last = refused[1].0.clone();
    wait_until("the quota window to slide", Duration::from_secs(10), || {
        let (client, last) = (client.clone(), last.clone());
        async move {
            client
                .test_failover()
                .replication_group_id(last)
                .node_group_id("0001")
                .send()
                .await
                .ok()
        }
    })
    .await;
    wait_for_event(&client, &format!("{last}-001"), FINISHED).await;
}

#[tokio::test]
async fn the_aws_timing_profile_keeps_the_primary_down_until_promotion() {
    // Scaled 0.005: 0.3 s to promotion, 0.4 s more to recovery, recovery lasting 3 s.
    let server = TestServer::start_with(&["--timing-profile", "aws", "--time-scale", "0.005"]);
    let client = server.sdk();
    let group = create_group(&client, "slow", 2, true).await;
    let (primary_endpoint, _, _) = endpoints(&group);
    client
        .test_failover()
        .replication_group_id("slow")
        .node_group_id("0001")
        .send()
        .await
        .unwrap();
    wait_until(
        "a write through the primary endpoint to fail",
        Duration::from_secs(5),
        || async { (redis_cli(primary_endpoint, &["SET", "during", "gap"]) != "OK").then_some(()) },
    )
    .await;
    let completed_yet = events_for(&client, "slow")
        .await
        .iter()
        .any(|e| e.message().unwrap_or_default().starts_with("Failover from"));
    assert!(
        !completed_yet,
        "writes fail while the failover is not complete"
    );
    wait_for_event(&client, "slow-001", FINISHED).await;
    assert_eq!(redis_cli(primary_endpoint, &["SET", "after", "gap"]), "OK");
    let mut dated: Vec<(i64, String)> = [
        events_for(&client, "slow").await,
        events_for(&client, "slow-001").await,
    ]
    .concat()
    .iter()
    .map(|e| {
        (
            e.date().unwrap().to_millis().unwrap(),
            e.message().unwrap().to_string(),
        )
    })
    .collect();
    dated.sort();
    let at = |prefix: &str| dated.iter().find(|(_, m)| m.starts_with(prefix)).unwrap().0;
    assert!(
        at("Failover from") - at("Test Failover") >= 300,
        "{dated:?}"
    );
    assert!(at("Recovering") - at("Failover from") >= 400, "{dated:?}");
    assert!(
        at("Finished recovery") - at("Recovering") >= 3000,
        "{dated:?}"
    );
}

#[tokio::test]
async fn when_no_replica_can_be_promoted_the_group_keeps_a_primary_and_says_why() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group(&client, "stuck", 2, true).await;
    let (primary_endpoint, _, members) = endpoints(&group);
    assert_eq!(
        admin_cli(
            members[1].1,
            members[1].1,
            None,
            &["CONFIG", "SET", "replica-priority", "0"]
        )
        .0,
        "OK"
    );
    client
        .test_failover()
        .replication_group_id("stuck")
        .node_group_id("0001")
        .send()
        .await
        .unwrap();
    let events = wait_until("the failure event", Duration::from_secs(20), || async {
        let events = events_for(&client, "stuck").await;
        events
            .iter()
            .any(|e| {
                e.message()
                    .unwrap_or_default()
                    .starts_with("Failover failed")
            })
            .then_some(events)
    })
    .await;
    let failure = events
        .iter()
        .find_map(|e| e.message().filter(|m| m.starts_with("Failover failed")))
        .unwrap();
    assert!(
        failure.contains("replica-priority 0") && failure.contains("restarted empty"),
        "{failure}"
    );
    let group = describe(&client, "stuck").await.unwrap();
    assert_eq!(group.status(), Some("available"));
    let (_, _, after) = endpoints(&group);
    assert_eq!(
        (after[0].2.as_str(), after[1].2.as_str()),
        ("primary", "replica")
    );
    assert_eq!(
        replication_field(primary_endpoint, "role").as_deref(),
        Some("master")
    );
    let replica = after[1].1;
    wait_until(
        "the replica to relink to the restarted primary",
        Duration::from_secs(10),
        || async move {
            (replication_field(replica, "master_link_status").as_deref() == Some("up"))
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        redis_cli(primary_endpoint, &["SET", "k", "v"]),
        "OK",
        "the group takes writes again"
    );
    // The failover is no longer in flight: the group can be deleted.
    client
        .delete_replication_group()
        .replication_group_id("stuck")
        .send()
        .await
        .unwrap();
}
