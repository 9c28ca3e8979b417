//! ModifyReplicationGroup on real processes: its rules, the modifying status and stored
//! settings (promotion and AUTH tokens: promotion.rs, auth_tokens.rs).

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::{
    AutomaticFailoverStatus, MultiAzStatus, PendingAutomaticFailoverStatus, ReplicationGroup,
};

use crate::support::{
    DEADLINE, TestServer, assert_replication, cache_cluster, code, code_and_message, create_group,
    create_group_on, describe, endpoints, events_for, increase_replicas, live_children, member_ids,
    messages, redis_cli, wait_available, wait_for_event, wait_until,
};

const NOT_AVAILABLE: &str = "Replication group must be in available state to modify.";
const FINISHED: &str = "Finished recovery for cache nodes 0001";

/// Waits until the group is `available` again and its automatic failover reads `status`.
async fn wait_automatic_failover(
    client: &Client,
    id: &str,
    status: AutomaticFailoverStatus,
) -> ReplicationGroup {
    wait_until(
        &format!("{id} available with automatic failover {status:?}"),
        DEADLINE,
        || async {
            describe(client, id).await.filter(|g| {
                g.status() == Some("available") && g.automatic_failover() == Some(&status)
            })
        },
    )
    .await
}

/// A ModifyReplicationGroup answer that turns automatic failover on or off: `modifying`, the
/// transitional status now, the final one pending.
fn assert_failover_changing(
    group: &ReplicationGroup,
    now: AutomaticFailoverStatus,
    pending: PendingAutomaticFailoverStatus,
) {
    assert_eq!(group.status(), Some("modifying"));
    assert_eq!(group.automatic_failover(), Some(&now));
    assert_eq!(
        group
            .pending_modified_values()
            .and_then(|p| p.automatic_failover_status()),
        Some(&pending)
    );
}

#[tokio::test]
async fn each_modify_rule_is_refused_with_its_wire_code_and_nothing_changes() {
    let server = TestServer::start();
    let client = server.sdk();
    create_group(&client, "single", 1, false).await;
    create_group(&client, "manual", 2, false).await;
    create_group(&client, "auto", 2, true).await;
    let modify = |id: &str| {
        client
            .modify_replication_group()
            .replication_group_id(id)
            .apply_immediately(true)
    };

    // Each refused request: its wire code and what its message must name (nothing where only
    // the code is checked).
    let refused = [
        (
            modify("single").automatic_failover_enabled(true),
            "InvalidParameterCombination",
            &["at least 2 cache clusters"][..],
        ),
        (
            modify("manual").multi_az_enabled(true),
            "InvalidParameterCombination",
            &["automatic failover"],
        ),
        (
            modify("auto").primary_cluster_id("auto-002"),
            "InvalidParameterCombination",
            &["PrimaryClusterId"],
        ),
        // Naming the current primary is the same rule: automatic failover is still on.
        (
            modify("auto").primary_cluster_id("auto-001"),
            "InvalidParameterCombination",
            &[],
        ),
        (
            modify("manual").primary_cluster_id("auto-002"),
            "InvalidParameterValue",
            &["auto-002", "manual"],
        ),
        (
            modify("manual").primary_cluster_id("manual-004"),
            "InvalidParameterValue",
            &[],
        ),
        (
            modify("manual").auth_token("a-token-of-sixteen-chars"),
            "InvalidParameterCombination",
            &["AuthTokenUpdateStrategy"],
        ),
        (
            modify("nope").replication_group_description("x"),
            "ReplicationGroupNotFoundFault",
            &[],
        ),
    ];
    for (request, expected_code, named) in refused {
        let (code_, message) = code_and_message(request.send().await);
        assert_eq!(code_, expected_code, "{message}");
        for name in named {
            assert!(message.contains(name), "{name:?} in {message}");
        }
    }

    // Nothing changed: still available, settings as created, no modification events.
    for (id, af) in [
        ("single", AutomaticFailoverStatus::Disabled),
        ("manual", AutomaticFailoverStatus::Disabled),
        ("auto", AutomaticFailoverStatus::Enabled),
    ] {
        let group = describe(&client, id).await.unwrap();
        assert_eq!(group.status(), Some("available"), "{id}");
        assert_eq!(group.automatic_failover(), Some(&af), "{id}");
        assert_eq!(group.multi_az(), Some(&MultiAzStatus::Disabled), "{id}");
        assert_eq!(group.auth_token_enabled(), Some(false), "{id}");
        assert_eq!(group.description(), Some("test group"), "{id}");
        let roles: Vec<String> = endpoints(&group).2.into_iter().map(|m| m.2).collect();
        assert_eq!(roles[0], "primary", "{id}: the primary did not move");
        let events = messages(&events_for(&client, id).await);
        assert!(
            events.iter().all(|m| !m.contains("has been turned")
                && !m.starts_with("Primary cache cluster")
                && !m.starts_with("Failed to modify")),
            "{id}: {events:?}"
        );
    }
    assert_eq!(live_children(server.pid()).len(), 5);
}

#[tokio::test]
async fn a_group_that_is_not_available_cannot_be_modified() {
    let server = TestServer::start();
    let client = server.sdk();
    let modify = |id: &str| {
        client
            .modify_replication_group()
            .replication_group_id(id)
            .apply_immediately(true)
            .replication_group_description("changed")
    };

    // Still `creating`, right after CreateReplicationGroup answered.
    let created = client
        .create_replication_group()
        .replication_group_id("busy")
        .replication_group_description("test group")
        .num_cache_clusters(2)
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.replication_group().and_then(|g| g.status()),
        Some("creating")
    );
    let (code_, message) = code_and_message(modify("busy").send().await);
    assert_eq!(
        (code_.as_str(), message.as_str()),
        ("InvalidReplicationGroupState", NOT_AVAILABLE)
    );
    wait_available(&client, "busy").await;

    // `modifying` while a replica is being added (a real redis-server starts and syncs).
    let growing = increase_replicas(&client, "busy", 2).await;
    assert_eq!(growing.status(), Some("modifying"));
    let (code_, message) = code_and_message(modify("busy").send().await);
    assert_eq!(
        (code_.as_str(), message.as_str()),
        ("InvalidReplicationGroupState", NOT_AVAILABLE)
    );
    let group = wait_available(&client, "busy").await;
    assert_eq!(
        group.description(),
        Some("test group"),
        "the refused modifications changed nothing"
    );
    assert_eq!(member_ids(&group).len(), 3);

    // Now it is accepted: a description-only change is applied at once and the group stays
    // `available`, as on AWS.
    let answer = modify("busy").send().await.unwrap();
    let answered = answer.replication_group();
    assert_eq!(answered.and_then(|g| g.status()), Some("available"));
    assert_eq!(answered.and_then(|g| g.description()), Some("changed"));
    let group = wait_until("the new description", DEADLINE, || async {
        describe(&client, "busy")
            .await
            .filter(|g| g.status() == Some("available") && g.description() == Some("changed"))
    })
    .await;
    assert_eq!(member_ids(&group).len(), 3);
}

#[tokio::test]
async fn automatic_failover_goes_enabling_then_enabled_and_disabling_then_disabled() {
    let server = TestServer::start();
    let client = server.sdk();
    create_group(&client, "flip", 2, false).await;
    let modify = || {
        client
            .modify_replication_group()
            .replication_group_id("flip")
            .apply_immediately(true)
    };

    // Turn it on.
    let answer = modify()
        .automatic_failover_enabled(true)
        .send()
        .await
        .unwrap();
    assert_failover_changing(
        answer.replication_group().unwrap(),
        AutomaticFailoverStatus::Enabling,
        PendingAutomaticFailoverStatus::Enabled,
    );
    let group = wait_automatic_failover(&client, "flip", AutomaticFailoverStatus::Enabled).await;
    assert_eq!(
        group
            .pending_modified_values()
            .and_then(|p| p.automatic_failover_status()),
        None,
        "nothing pending once available"
    );
    wait_for_event(
        &client,
        "flip",
        "Automatic failover has been turned on for replication group flip",
    )
    .await;

    // Multi-AZ needs automatic failover, which is now on.
    modify().multi_az_enabled(true).send().await.unwrap();
    wait_until("Multi-AZ enabled", DEADLINE, || async {
        describe(&client, "flip").await.filter(|g| {
            g.status() == Some("available") && g.multi_az() == Some(&MultiAzStatus::Enabled)
        })
    })
    .await;
    wait_for_event(
        &client,
        "flip",
        "Multi-AZ has been turned on for replication group flip",
    )
    .await;
    assert_eq!(
        code(modify().automatic_failover_enabled(false).send().await),
        "InvalidParameterCombination",
        "automatic failover cannot go while Multi-AZ stays"
    );

    // With automatic failover on, TestFailover is accepted; while it runs, no modification.
    client
        .test_failover()
        .replication_group_id("flip")
        .node_group_id("0001")
        .send()
        .await
        .expect("TestFailover accepted once automatic failover is on");
    let (code_, message) = code_and_message(
        modify()
            .automatic_failover_enabled(false)
            .multi_az_enabled(false)
            .send()
            .await,
    );
    assert_eq!(
        (code_.as_str(), message.as_str()),
        ("InvalidReplicationGroupState", NOT_AVAILABLE),
        "refused during the failover"
    );
    wait_for_event(&client, "flip-001", FINISHED).await;

    // Turn both off in one request, once the failover has ended.
    let answer = wait_until(
        "a modification admitted after the failover",
        DEADLINE,
        || async {
            match modify()
                .automatic_failover_enabled(false)
                .multi_az_enabled(false)
                .send()
                .await
            {
                Ok(answer) => Some(answer),
                Err(error) => {
                    let code_ = code::<(), _>(Err(error));
                    assert_eq!(code_, "InvalidReplicationGroupState");
                    None
                }
            }
        },
    )
    .await;
    assert_failover_changing(
        answer.replication_group().unwrap(),
        AutomaticFailoverStatus::Disabling,
        PendingAutomaticFailoverStatus::Disabled,
    );
    let group = wait_automatic_failover(&client, "flip", AutomaticFailoverStatus::Disabled).await;
    assert_eq!(group.multi_az(), Some(&MultiAzStatus::Disabled));
    wait_for_event(
        &client,
        "flip",
        "Automatic failover has been turned off for replication group flip",
    )
    .await;
    wait_for_event(
        &client,
        "flip",
        "Multi-AZ has been turned off for replication group flip",
    )
    .await;
    assert_eq!(
        code(
            client
                .test_failover()
                .replication_group_id("flip")
                .node_group_id("0001")
                .send()
                .await
        ),
        "InvalidReplicationGroupState",
        "TestFailover is refused again once automatic failover is off"
    );
    assert_eq!(live_children(server.pid()).len(), 2);
}

#[tokio::test]
async fn stored_settings_are_reported_by_both_describe_actions() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group_on(&client, "redis", "store", 2, false).await;
    let (primary_endpoint, _, _) = endpoints(&group);
    let topic = "arn:aws:sns:us-east-1:123456789012:cache-events";
    // The parameter group must exist (CacheParameterGroupNotFound otherwise, as on AWS).
    client
        .create_cache_parameter_group()
        .cache_parameter_group_name("sessions-params")
        .cache_parameter_group_family("redis7")
        .description("the shop's session parameters")
        .send()
        .await
        .unwrap();
    let answer = client
        .modify_replication_group()
        .replication_group_id("store")
        .apply_immediately(true)
        .replication_group_description("the shop's sessions")
        .cache_node_type("cache.m6g.large")
        .snapshot_retention_limit(7)
        .snapshot_window("03:00-04:00")
        .preferred_maintenance_window("Mon:01:00-mon:02:30")
        .notification_topic_arn(topic)
        .notification_topic_status("inactive")
        .cache_parameter_group_name("sessions-params")
        .security_group_ids("sg-0123abcd")
        .security_group_ids("sg-4567abcd")
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer.replication_group().and_then(|g| g.status()),
        Some("modifying")
    );

    let group = wait_until("the stored settings", DEADLINE, || async {
        describe(&client, "store").await.filter(|g| {
            g.status() == Some("available") && g.description() == Some("the shop's sessions")
        })
    })
    .await;
    assert_eq!(group.cache_node_type(), Some("cache.m6g.large"));
    assert_eq!(group.snapshot_retention_limit(), Some(7));
    assert_eq!(group.snapshot_window(), Some("03:00-04:00"));
    assert_eq!(
        group.automatic_failover(),
        Some(&AutomaticFailoverStatus::Disabled)
    );

    for id in ["store-001", "store-002"] {
        let cluster = cache_cluster(&client, id).await;
        assert_eq!(cluster.replication_group_id(), Some("store"), "{id}");
        assert_eq!(cluster.cache_node_type(), Some("cache.m6g.large"), "{id}");
        assert_eq!(
            cluster.preferred_maintenance_window(),
            Some("mon:01:00-mon:02:30"),
            "{id}"
        );
        let notification = cluster
            .notification_configuration()
            .unwrap_or_else(|| panic!("{id}: no NotificationConfiguration"));
        assert_eq!(notification.topic_arn(), Some(topic), "{id}");
        assert_eq!(notification.topic_status(), Some("inactive"), "{id}");
        assert_eq!(
            cluster
                .cache_parameter_group()
                .and_then(|p| p.cache_parameter_group_name()),
            Some("sessions-params"),
            "{id}"
        );
        let security_groups: Vec<&str> = cluster
            .security_groups()
            .iter()
            .filter_map(|s| s.security_group_id())
            .collect();
        assert_eq!(security_groups, ["sg-0123abcd", "sg-4567abcd"], "{id}");
        assert_eq!(cluster.snapshot_retention_limit(), Some(7), "{id}");
        assert_eq!(cluster.snapshot_window(), Some("03:00-04:00"), "{id}");
    }

    // The stored settings touch no node.
    assert_eq!(redis_cli(primary_endpoint, &["SET", "still", "here"]), "OK");
    assert_eq!(live_children(server.pid()).len(), 2);
    let events = messages(&events_for(&client, "store").await);
    assert!(
        events.iter().all(|m| !m.starts_with("Failed to modify")),
        "{events:?}"
    );
}

#[tokio::test]
async fn disabling_automatic_failover_and_naming_a_new_primary_in_one_request_works() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group(&client, "swap", 2, true).await;
    let (primary_endpoint, _, members) = endpoints(&group);
    assert_eq!(redis_cli(primary_endpoint, &["SET", "before", "1"]), "OK");

    let answer = client
        .modify_replication_group()
        .replication_group_id("swap")
        .automatic_failover_enabled(false)
        .primary_cluster_id("swap-002")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let group = answer.replication_group().unwrap();
    assert_eq!(group.status(), Some("modifying"));
    assert_eq!(
        group.automatic_failover(),
        Some(&AutomaticFailoverStatus::Disabling)
    );

    let group = wait_automatic_failover(&client, "swap", AutomaticFailoverStatus::Disabled).await;
    let (_, _, after) = endpoints(&group);
    assert_eq!(
        after.iter().map(|m| m.2.as_str()).collect::<Vec<_>>(),
        ["replica", "primary"]
    );
    assert_replication(members[1].1, "swap-002", &[("role", "master")]);
    assert_replication(
        members[0].1,
        "swap-001",
        &[
            ("master_host", &members[1].1.ip().to_string()),
            ("master_port", &members[1].1.port().to_string()),
        ],
    );
    assert_eq!(redis_cli(primary_endpoint, &["GET", "before"]), "1");
    assert_eq!(redis_cli(primary_endpoint, &["SET", "after", "2"]), "OK");
    let events = messages(&events_for(&client, "swap").await);
    for expected in [
        "Automatic failover has been turned off for replication group swap",
        "Primary cache cluster of replication group swap changed from swap-001 to swap-002",
    ] {
        assert!(
            events.iter().any(|m| m == expected),
            "{expected}: {events:?}"
        );
    }
}
