//! Increase/DecreaseReplicaCount's rules on a cluster-mode-enabled group, each refused with
//! AWS's error code before anything changes; and a change of one shard only, its new replica
//! placed in the zone given.

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::operation::decrease_replica_count::builders::DecreaseReplicaCountFluentBuilder as Decrease;
use aws_sdk_elasticache::operation::increase_replica_count::builders::IncreaseReplicaCountFluentBuilder as Increase;
use aws_sdk_elasticache::types::{ConfigureShard, ReplicationGroup};

use crate::support::{TestServer, code, create_cluster, describe, wait_available};

fn increase(client: &Client, id: &str) -> Increase {
    client
        .increase_replica_count()
        .replication_group_id(id)
        .apply_immediately(true)
}

fn decrease(client: &Client, id: &str) -> Decrease {
    client
        .decrease_replica_count()
        .replication_group_id(id)
        .apply_immediately(true)
}

fn shard(id: &str, count: i32, zones: &[&str]) -> ConfigureShard {
    let zones: Vec<String> = zones.iter().map(|z| z.to_string()).collect();
    ConfigureShard::builder()
        .node_group_id(id)
        .new_replica_count(count)
        .set_preferred_availability_zones(Some(zones).filter(|z| !z.is_empty()))
        .build()
}

/// Every refused increase: the case, the request, AWS's code.
fn refused_increases(client: &Client) -> Vec<(&'static str, Increase, &'static str)> {
    vec![
        (
            "unknown group",
            increase(client, "nope").new_replica_count(2),
            "ReplicationGroupNotFoundFault",
        ),
        (
            "ApplyImmediately false",
            increase(client, "rules")
                .new_replica_count(2)
                .apply_immediately(false),
            "InvalidParameterValue",
        ),
        (
            "more than 5 replicas",
            increase(client, "rules").new_replica_count(6),
            "InvalidParameterValue",
        ),
        (
            "no count at all",
            increase(client, "rules"),
            "MissingParameter",
        ),
        (
            "not larger",
            increase(client, "rules").new_replica_count(1),
            "InvalidParameterValue",
        ),
        (
            "both forms",
            increase(client, "rules")
                .new_replica_count(2)
                .replica_configuration(shard("0001", 2, &[])),
            "InvalidParameterCombination",
        ),
        (
            "unknown node group",
            increase(client, "rules").replica_configuration(shard("0009", 2, &[])),
            "NodeGroupNotFoundFault",
        ),
        (
            "a node group twice",
            increase(client, "rules")
                .replica_configuration(shard("0001", 2, &[]))
                .replica_configuration(shard("0001", 3, &[])),
            "InvalidParameterValue",
        ),
        (
            "one shard not larger",
            increase(client, "rules")
                .replica_configuration(shard("0001", 2, &[]))
                .replica_configuration(shard("0002", 1, &[])),
            "InvalidParameterValue",
        ),
        (
            "zones not NewReplicaCount + 1",
            increase(client, "rules").replica_configuration(shard("0001", 2, &["us-east-1a"])),
            "InvalidParameterValue",
        ),
        (
            "an Outpost",
            increase(client, "rules").replica_configuration(
                ConfigureShard::builder()
                    .node_group_id("0001")
                    .new_replica_count(2)
                    .preferred_outpost_arns("arn:aws:outposts:us-east-1:123456789012:outpost/op-1")
                    .build(),
            ),
            "InvalidParameterValue",
        ),
    ]
}

/// Every refused decrease: the case, the request, AWS's code.
fn refused_decreases(client: &Client) -> Vec<(&'static str, Decrease, &'static str)> {
    vec![
        (
            "no count and no list",
            decrease(client, "rules"),
            "MissingParameter",
        ),
        (
            "not smaller",
            decrease(client, "rules").new_replica_count(1),
            "InvalidParameterValue",
        ),
        (
            "unknown node group",
            decrease(client, "rules").replica_configuration(shard("0003", 0, &[])),
            "NodeGroupNotFoundFault",
        ),
        (
            "a primary",
            decrease(client, "rules").replicas_to_remove("rules-0002-001"),
            "InvalidParameterValue",
        ),
        (
            "not a member",
            decrease(client, "rules").replicas_to_remove("rules-0002-009"),
            "InvalidParameterValue",
        ),
        (
            "count and list disagree",
            decrease(client, "rules")
                .new_replica_count(1)
                .replicas_to_remove("rules-0001-002"),
            "InvalidParameterCombination",
        ),
        (
            "zones on a decrease",
            decrease(client, "rules").replica_configuration(shard("0001", 0, &["us-east-1a"])),
            "InvalidParameterCombination",
        ),
    ]
}

fn members_of(group: &ReplicationGroup, node_group: &str) -> Vec<(String, String)> {
    let shard = group
        .node_groups()
        .iter()
        .find(|g| g.node_group_id() == Some(node_group));
    let mut members: Vec<(String, String)> = shard
        .unwrap()
        .node_group_members()
        .iter()
        .map(|m| {
            let zone = m.preferred_availability_zone().unwrap_or_default();
            (m.cache_cluster_id().unwrap().to_string(), zone.to_string())
        })
        .collect();
    members.sort();
    members
}

#[tokio::test]
async fn every_cluster_mode_replica_rule_is_refused_and_one_shard_changes_alone() {
    let server = TestServer::start();
    let client = server.sdk();
    let before = create_cluster(&client, "rules", 2, 1).await;
    for (case, request, expected) in refused_increases(&client) {
        assert_eq!(code(request.send().await), expected, "increase: {case}");
    }
    for (case, request, expected) in refused_decreases(&client) {
        assert_eq!(code(request.send().await), expected, "decrease: {case}");
    }
    let group = describe(&client, "rules").await.unwrap();
    assert_eq!(group.status(), Some("available"));
    assert_eq!(group.member_clusters().len(), 4);

    // Only 0002 grows, its new replica in the zone given for it; one change at a time.
    let zones = ["us-east-1a", "us-east-1b", "us-east-1e"];
    let answer = increase(&client, "rules")
        .replica_configuration(shard("0002", 2, &zones))
        .send()
        .await
        .expect("accepted");
    assert_eq!(
        answer.replication_group().unwrap().status(),
        Some("modifying")
    );
    let again = decrease(&client, "rules").new_replica_count(0).send().await;
    assert_eq!(code(again), "InvalidReplicationGroupState");
    let group = wait_available(&client, "rules").await;
    assert_eq!(members_of(&group, "0001"), members_of(&before, "0001"));
    let grown = members_of(&group, "0002");
    assert_eq!(grown.len(), 3, "{grown:?}");
    assert_eq!(grown[2], ("rules-0002-003".into(), "us-east-1e".into()));

    // Back to 0 replicas in 0002 only: cluster mode enabled allows a shard without replicas.
    decrease(&client, "rules")
        .replica_configuration(shard("0002", 0, &[]))
        .send()
        .await
        .expect("accepted");
    let group = wait_available(&client, "rules").await;
    let left: Vec<String> = members_of(&group, "0002")
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(left, ["rules-0002-001"]);
    assert_eq!(members_of(&group, "0001"), members_of(&before, "0001"));
}
