//! ModifyReplicationGroupShardConfiguration's rules, each refused with AWS's error code before
//! anything changes; and a scale-out that names its new shard and its zones.

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::operation::modify_replication_group_shard_configuration::builders::ModifyReplicationGroupShardConfigurationFluentBuilder as Reshard;
use aws_sdk_elasticache::types::{ReplicationGroup, ReshardingConfiguration};

use crate::support::{
    TestServer, code, code_and_message, create_cluster, create_group, describe, wait_until,
};

fn reshard(client: &Client, id: &str, count: i32) -> Reshard {
    client
        .modify_replication_group_shard_configuration()
        .replication_group_id(id)
        .node_group_count(count)
        .apply_immediately(true)
}

fn zones(id: Option<&str>, zones: &[&str]) -> ReshardingConfiguration {
    let mut entry = ReshardingConfiguration::builder().set_node_group_id(id.map(str::to_string));
    for zone in zones {
        entry = entry.preferred_availability_zones(*zone);
    }
    entry.build()
}

/// Every refusal: what the case is, the request, AWS's code.
fn refusals(client: &Client) -> Vec<(&'static str, Reshard, &'static str)> {
    vec![
        (
            "unknown group",
            reshard(client, "nope", 3),
            "ReplicationGroupNotFoundFault",
        ),
        (
            "ApplyImmediately false",
            reshard(client, "rules", 3).apply_immediately(false),
            "InvalidParameterValue",
        ),
        (
            "zero node groups",
            reshard(client, "rules", 0),
            "InvalidParameterValue",
        ),
        (
            "more node groups than the quota",
            reshard(client, "rules", 91),
            "NodeGroupsPerReplicationGroupQuotaExceeded",
        ),
        (
            "decrease without a list",
            reshard(client, "rules", 1),
            "InvalidParameterValue",
        ),
        (
            "decrease with both lists",
            reshard(client, "rules", 1)
                .node_groups_to_remove("0002")
                .node_groups_to_retain("0001"),
            "InvalidParameterCombination",
        ),
        (
            "remove an unknown node group",
            reshard(client, "rules", 1).node_groups_to_remove("0009"),
            "InvalidParameterValue",
        ),
        (
            "retain the wrong number",
            reshard(client, "rules", 1)
                .node_groups_to_retain("0001")
                .node_groups_to_retain("0002"),
            "InvalidParameterValue",
        ),
        (
            "remove the wrong number",
            reshard(client, "rules", 1)
                .node_groups_to_remove("0001")
                .node_groups_to_remove("0002"),
            "InvalidParameterValue",
        ),
        (
            "a list when increasing",
            reshard(client, "rules", 3).node_groups_to_remove("0001"),
            "InvalidParameterCombination",
        ),
        (
            "ReshardingConfiguration when not increasing",
            reshard(client, "rules", 2).resharding_configuration(zones(None, &["us-east-1a"])),
            "InvalidParameterCombination",
        ),
        (
            "ReshardingConfiguration of the wrong length",
            reshard(client, "rules", 4).resharding_configuration(zones(None, &["us-east-1a"])),
            "InvalidParameterValue",
        ),
        (
            "zones that do not match the node count",
            reshard(client, "rules", 3)
                .resharding_configuration(zones(None, &["us-east-1a", "us-east-1b"])),
            "InvalidParameterValue",
        ),
        (
            "a new shard named like an existing one",
            reshard(client, "rules", 3).resharding_configuration(zones(Some("0002"), &[])),
            "InvalidParameterValue",
        ),
        (
            "a malformed node group id",
            reshard(client, "rules", 3).resharding_configuration(zones(Some("abcde"), &[])),
            "InvalidParameterValue",
        ),
    ]
}

#[tokio::test]
async fn every_rule_is_refused_with_aws_error_and_nothing_changes() {
    let server = TestServer::start();
    let client = server.sdk();
    create_cluster(&client, "rules", 2, 0).await;
    for (case, request, expected) in refusals(&client) {
        assert_eq!(code(request.send().await), expected, "{case}");
    }
    let group = describe(&client, "rules").await.unwrap();
    assert_eq!(group.status(), Some("available"));
    assert_eq!(group.node_groups().len(), 2);
    assert_eq!(group.member_clusters().len(), 2);

    // Cluster mode disabled: one node group, nothing to reshard.
    create_group(&client, "single", 1, false).await;
    let (error, message) = code_and_message(reshard(&client, "single", 2).send().await);
    assert_eq!(error, "InvalidParameterValue");
    assert!(message.contains("cluster mode disabled"), "{message}");
}

fn node_group_ids(group: &ReplicationGroup) -> Vec<&str> {
    group
        .node_groups()
        .iter()
        .map(|g| g.node_group_id().unwrap())
        .collect()
}

#[tokio::test]
async fn a_new_shard_takes_the_id_and_zones_given_and_a_second_call_waits_its_turn() {
    let server = TestServer::start();
    let client = server.sdk();
    create_cluster(&client, "named", 2, 1).await;
    let answer = reshard(&client, "named", 3)
        .resharding_configuration(zones(Some("0007"), &["us-east-1d", "us-east-1e"]))
        .send()
        .await
        .expect("accepted");
    let group = answer.replication_group().unwrap();
    assert_eq!(group.status(), Some("modifying"));
    let progress = group
        .pending_modified_values()
        .and_then(|p| p.resharding())
        .and_then(|r| r.slot_migration())
        .and_then(|s| s.progress_percentage());
    assert_eq!(progress, Some(0.0));
    // One change at a time, as AWS: the group is not available while it reshards.
    let again = reshard(&client, "named", 4).send().await;
    assert_eq!(code(again), "InvalidReplicationGroupState");

    let group = wait_resharded(&client, "named").await;
    assert_eq!(node_group_ids(&group), ["0001", "0002", "0007"]);
    let new_shard = &group.node_groups()[2];
    let placed: Vec<(&str, &str)> = new_shard
        .node_group_members()
        .iter()
        .map(|m| {
            let id = m.cache_cluster_id().unwrap();
            (id, m.preferred_availability_zone().unwrap())
        })
        .collect();
    let zones = [
        ("named-0007-001", "us-east-1d"),
        ("named-0007-002", "us-east-1e"),
    ];
    assert_eq!(placed, zones);
    assert!(new_shard.slots().is_some_and(|s| !s.is_empty()));
    // The new shard is a shard like the others: its primary fails over to its replica.
    failover_and_recover(&client, "named", "0007", "named-0007-001").await;
    retaining_two_of_three_removes_the_third(&client).await;
}

async fn retaining_two_of_three_removes_the_third(client: &Client) {
    let answer = reshard(client, "named", 2)
        .node_groups_to_retain("0001")
        .node_groups_to_retain("0007")
        .send()
        .await
        .expect("accepted");
    let status = answer.replication_group().unwrap().status();
    assert_eq!(status, Some("modifying"));
    let group = wait_resharded(client, "named").await;
    assert_eq!(node_group_ids(&group), ["0001", "0007"]);
    assert!(group.node_groups().iter().all(|g| g.slots().is_some()));
    let members = group.member_clusters();
    assert!(
        !members.iter().any(|m| m.starts_with("named-0002")),
        "{members:?}"
    );
    // After shards left, the engine still knows which node is whose primary.
    failover_and_recover(client, "named", "0007", "named-0007-002").await;
}

/// Waits until the group is `available` again: a resharding takes seconds, and a loaded
/// machine (the suite starts many clusters at once) gets ample room.
async fn wait_resharded(client: &Client, id: &str) -> ReplicationGroup {
    let deadline = std::time::Duration::from_secs(120);
    wait_until(&format!("{id} resharded"), deadline, || async {
        describe(client, id)
            .await
            .filter(|g| g.status() == Some("available"))
    })
    .await
}

/// TestFailover on `node_group`, whose primary is `primary`, until the old primary is back.
async fn failover_and_recover(client: &Client, id: &str, node_group: &str, primary: &str) {
    client
        .test_failover()
        .replication_group_id(id)
        .node_group_id(node_group)
        .send()
        .await
        .expect("test failover accepted");
    // As long as a resharding may take under load (see `wait_resharded`): the recovered node
    // resyncs while the suite starts many clusters at once.
    let finished = "Finished recovery for cache nodes 0001";
    let deadline = std::time::Duration::from_secs(120);
    let outcome = wait_until(&format!("{finished:?} on {primary}"), deadline, || async {
        let events = crate::support::events_for(client, primary).await;
        // A recovery that gave up says why: fail with that, not with a timeout.
        events
            .iter()
            .filter_map(|e| e.message())
            .find(|m| *m == finished || m.starts_with("Failed to recover"))
            .map(str::to_string)
    })
    .await;
    assert_eq!(outcome, finished, "the recovery of {primary}");
}
