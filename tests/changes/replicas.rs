//! IncreaseReplicaCount and DecreaseReplicaCount on real processes: new redis-servers that
//! replicate with the data, removed ones that stop, the rules, and the events.

use aws_sdk_elasticache::types::ReplicationGroup;

use crate::support::{
    DEADLINE, TestServer, assert_replication, code, code_and_message, create_group,
    decrease_replicas, describe, endpoints, events_for, increase_replicas, live_children,
    member_ids, messages, port_accepts, redis_cli, replication_field, wait_available,
    wait_event_starting, wait_for_event, wait_members, wait_until,
};

/// Every live redis-server child of the server, one per member.
fn assert_one_process_per_member(server: &TestServer, group: &ReplicationGroup) {
    assert_eq!(
        live_children(server.pid()).len(),
        group.member_clusters().len(),
        "one redis-server per member of {:?}",
        group.member_clusters()
    );
}

#[tokio::test]
async fn increase_replica_count_starts_real_replicas_that_hold_the_data() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group(&client, "grow", 2, false).await;
    assert_one_process_per_member(&server, &group);
    let (primary_endpoint, _, before) = endpoints(&group);
    for i in 0..30 {
        assert_eq!(
            redis_cli(
                primary_endpoint,
                &["SET", &format!("key{i}"), &i.to_string()]
            ),
            "OK"
        );
    }

    let pending = &increase_replicas(&client, "grow", 3).await;
    assert_eq!(pending.status(), Some("modifying"));
    assert_eq!(
        member_ids(pending),
        ["grow-001", "grow-002", "grow-003", "grow-004"],
        "the response lists the new members"
    );

    let group = wait_available(&client, "grow").await;
    assert_eq!(
        member_ids(&group),
        ["grow-001", "grow-002", "grow-003", "grow-004"]
    );
    let (endpoint_after, _, members) = endpoints(&group);
    assert_eq!(endpoint_after, primary_endpoint);
    assert_eq!(&members[..2], &before[..], "the old members are untouched");
    let primary_port = before[0].1;
    for (id, port, role) in &members[2..] {
        assert_eq!(role, "replica", "{id}");
        assert_replication(
            *port,
            id,
            &[
                ("role", "slave"),
                ("master_host", &primary_port.ip().to_string()),
                ("master_port", &primary_port.port().to_string()),
                ("master_link_status", "up"),
            ],
        );
        for i in [0, 17, 29] {
            assert_eq!(
                redis_cli(*port, &["GET", &format!("key{i}")]),
                i.to_string(),
                "{id} has key{i}"
            );
        }
    }
    assert_eq!(
        replication_field(primary_port, "connected_slaves").as_deref(),
        Some("3")
    );
    assert_one_process_per_member(&server, &group);

    let started = wait_event_starting(
        &client,
        "grow",
        "Increase replica count started for replication group grow on ",
    )
    .await;
    let completed = wait_event_starting(
        &client,
        "grow",
        "Increase replica count completed for replication group grow on ",
    )
    .await;
    eprintln!("{started}\n{completed}");
    for id in ["grow-003", "grow-004"] {
        wait_for_event(&client, id, "Cache cluster created").await;
    }
    // In order (DescribeEvents is newest first): started, each member created, completed.
    let all = client.describe_events().send().await.unwrap();
    let mut sequence: Vec<(String, String)> = all
        .events()
        .iter()
        .map(|e| {
            (
                e.source_identifier().unwrap_or_default().to_string(),
                e.message().unwrap_or_default().to_string(),
            )
        })
        .filter(|(source, message)| {
            message.contains("replica count") || (source != "grow-001" && source != "grow-002")
        })
        .collect();
    sequence.reverse();
    assert_eq!(
        sequence,
        [
            ("grow".to_string(), started.clone()),
            ("grow-003".to_string(), "Cache cluster created".to_string()),
            ("grow-004".to_string(), "Cache cluster created".to_string()),
            ("grow".to_string(), completed.clone()),
        ]
    );
    // Writes after the change reach the new replicas too.
    assert_eq!(redis_cli(primary_endpoint, &["SET", "later", "yes"]), "OK");
    let newest = members[3].1;
    wait_until("the new write on grow-004", DEADLINE, || async {
        (redis_cli(newest, &["GET", "later"]) == "yes").then_some(())
    })
    .await;
}

#[tokio::test]
async fn decrease_replica_count_stops_the_named_or_the_highest_replicas() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group(&client, "shrink", 4, false).await;
    assert_one_process_per_member(&server, &group);
    let (primary_endpoint, _, members) = endpoints(&group);
    let port_of = |id: &str| members.iter().find(|m| m.0 == id).unwrap().1;
    assert_eq!(redis_cli(primary_endpoint, &["SET", "kept", "yes"]), "OK");

    // The named replica.
    let answer = client
        .decrease_replica_count()
        .replication_group_id("shrink")
        .replicas_to_remove("shrink-002")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.replication_group().and_then(|g| g.status()),
        Some("modifying")
    );
    let group = wait_available(&client, "shrink").await;
    assert_eq!(
        member_ids(&group),
        ["shrink-001", "shrink-003", "shrink-004"]
    );
    assert!(
        !port_accepts(port_of("shrink-002")),
        "shrink-002's port is closed"
    );
    assert_one_process_per_member(&server, &group);
    wait_for_event(&client, "shrink-002", "Cache cluster deleted").await;
    wait_event_starting(
        &client,
        "shrink",
        "Decrease replica count started for replication group shrink on ",
    )
    .await;
    wait_event_starting(
        &client,
        "shrink",
        "Decrease replica count completed for replication group shrink on ",
    )
    .await;
    assert_eq!(
        replication_field(port_of("shrink-001"), "connected_slaves").as_deref(),
        Some("2")
    );

    // A count: the highest-numbered replica goes.
    decrease_replicas(&client, "shrink", 1).await;
    let group = wait_members(&client, "shrink", 2).await;
    assert_eq!(member_ids(&group), ["shrink-001", "shrink-003"]);
    assert!(!port_accepts(port_of("shrink-004")));
    assert!(port_accepts(port_of("shrink-003")));
    assert_one_process_per_member(&server, &group);
    wait_for_event(&client, "shrink-004", "Cache cluster deleted").await;
    assert_eq!(redis_cli(port_of("shrink-003"), &["GET", "kept"]), "yes");

    // With automatic failover off, the last replica may go too.
    decrease_replicas(&client, "shrink", 0).await;
    let group = wait_members(&client, "shrink", 1).await;
    assert_eq!(member_ids(&group), ["shrink-001"]);
    assert_one_process_per_member(&server, &group);
    assert_eq!(redis_cli(primary_endpoint, &["GET", "kept"]), "yes");

    // And grow back: the lowest free ids are reused.
    increase_replicas(&client, "shrink", 1).await;
    let group = wait_members(&client, "shrink", 2).await;
    assert_eq!(member_ids(&group), ["shrink-001", "shrink-002"]);
    assert_one_process_per_member(&server, &group);
    let (_, _, members) = endpoints(&group);
    assert_eq!(redis_cli(members[1].1, &["GET", "kept"]), "yes");
}

/// What an `InvalidParameterValue` refusal's message must be.
enum Expected {
    Exact(&'static str),
    Names(&'static [&'static str]),
}
use Expected::{Exact, Names};

impl Expected {
    fn check(&self, (code_, message): (String, String)) {
        assert_eq!(code_, "InvalidParameterValue", "{message}");
        match self {
            Exact(expected) => assert_eq!(message, *expected),
            Names(names) => {
                for name in *names {
                    assert!(message.contains(name), "{name:?} in {message}");
                }
            }
        }
    }
}

#[tokio::test]
async fn replica_count_rules_are_refused_with_their_wire_codes() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group(&client, "guard", 2, true).await;
    let decrease = || {
        client
            .decrease_replica_count()
            .replication_group_id("guard")
            .apply_immediately(true)
    };
    let increase = || {
        client
            .increase_replica_count()
            .replication_group_id("guard")
            .apply_immediately(true)
    };

    // Each refused change: its wire code, then either the whole message (`Exact`) or words it
    // must contain (`Names`); `Names(&[])` checks the code only.
    const AT_LEAST_ONE: &str =
        "Must have at least 1 replica when cluster mode is disabled with auto failover enabled.";
    let decreases = [
        (decrease().new_replica_count(0), Exact(AT_LEAST_ONE)),
        (
            decrease().replicas_to_remove("guard-002"),
            Exact(AT_LEAST_ONE),
        ),
        (
            decrease().replicas_to_remove("guard-001"),
            Names(&["primary"]),
        ),
        (decrease().replicas_to_remove("guard-005"), Names(&[])),
        // Decrease to the current count.
        (decrease().new_replica_count(1), Names(&[])),
    ];
    for (request, expected) in decreases {
        expected.check(code_and_message(request.send().await));
    }
    let increases = [
        (increase().new_replica_count(1), Names(&["greater"])),
        (increase().new_replica_count(0), Names(&[])),
    ];
    for (request, expected) in increases {
        expected.check(code_and_message(request.send().await));
    }

    assert_eq!(
        code(
            client
                .increase_replica_count()
                .replication_group_id("nope")
                .new_replica_count(2)
                .apply_immediately(true)
                .send()
                .await
        ),
        "ReplicationGroupNotFoundFault"
    );
    assert_eq!(
        code(
            client
                .decrease_replica_count()
                .replication_group_id("nope")
                .new_replica_count(0)
                .apply_immediately(true)
                .send()
                .await
        ),
        "ReplicationGroupNotFoundFault"
    );

    // Nothing changed.
    let after = describe(&client, "guard").await.unwrap();
    assert_eq!(after.status(), Some("available"));
    assert_eq!(member_ids(&after), member_ids(&group));
    assert_one_process_per_member(&server, &after);
    let events = messages(&events_for(&client, "guard").await);
    assert!(
        events.iter().all(|m| !m.contains("replica count")),
        "{events:?}"
    );

    // While one change runs, another is refused.
    increase().new_replica_count(2).send().await.unwrap();
    assert_eq!(
        code(increase().new_replica_count(3).send().await),
        "InvalidReplicationGroupState"
    );
    let group = wait_available(&client, "guard").await;
    assert_eq!(member_ids(&group), ["guard-001", "guard-002", "guard-003"]);
    assert_one_process_per_member(&server, &group);

    // With automatic failover on, one replica may go as long as one stays; the health monitor
    // does not take the removed node for a failed one.
    decrease()
        .replicas_to_remove("guard-002")
        .send()
        .await
        .unwrap();
    let group = wait_available(&client, "guard").await;
    assert_eq!(member_ids(&group), ["guard-001", "guard-003"]);
    assert_one_process_per_member(&server, &group);
    increase().new_replica_count(2).send().await.unwrap();
    let group = wait_available(&client, "guard").await;
    assert_eq!(member_ids(&group), ["guard-001", "guard-003", "guard-002"]);
    assert_one_process_per_member(&server, &group);
    let (_, _, members) = endpoints(&group);
    assert_eq!(
        members.iter().map(|m| m.2.as_str()).collect::<Vec<_>>(),
        ["primary", "replica", "replica"]
    );
    let all = client.describe_events().send().await.unwrap();
    let unexpected: Vec<String> = messages(all.events())
        .into_iter()
        .filter(|m| m.contains("failed") || m.contains("Failover") || m.contains("Recover"))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
}
