//! An AZ power interruption that takes a whole shard (every node of 0001 is in the failed AZ)
//! and the primary of another (0002, whose replica is elsewhere); 0003 is outside the zone. As
//! on AWS: 0002 fails over to its replica outside the zone and serves on, as 0003 does; 0001
//! has no node left to promote, so it is unavailable, with no failover, until the zone is back.
//! Its nodes then come back in the zone empty (no copy of its data survived), 0001-001 its
//! primary again. (Three shards: with two, the survivor would be one master of two, a minority
//! partition, and Redis Cluster itself stops serving every slot until the zone returns.)

use std::ops::Range;
use std::time::Duration;

use aws_sdk_elasticache::types::NodeGroupConfiguration;
use serde_json::json;

use crate::faults::wait_event;
use crate::support::{
    Connect, TestServer, address_of, cluster_client, cluster_set, connect_outcome, events_for,
    inject_ok, member_addresses, messages, redis_cli, wait_available, wait_until,
};

const FINISHED: &str = "Finished recovery for cache nodes 0001";
const FAILED: &str = "Cache node 0001 failed: power interrupted in us-east-1a";

/// `n` keys `k0..` whose slots are in `slots`, as the node at `at` hashes them.
fn keys_of_shard(at: std::net::SocketAddr, slots: Range<u32>, n: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("k{i}"))
        .filter(|key| {
            let slot: u32 = redis_cli(at, &["CLUSTER", "KEYSLOT", key]).parse().unwrap();
            slots.contains(&slot)
        })
        .take(n)
        .collect()
}

#[tokio::test]
async fn a_shard_wholly_in_the_failed_zone_is_unavailable_until_it_returns_while_others_fail_over()
{
    let server = TestServer::start();
    let client = server.sdk();
    let shard = |id: &str, slots: &str, zones: [&str; 2]| {
        NodeGroupConfiguration::builder()
            .node_group_id(id)
            .slots(slots)
            .replica_count(1)
            .primary_availability_zone(zones[0])
            .replica_availability_zones(zones[1])
            .build()
    };
    client
        .create_replication_group()
        .replication_group_id("fazs")
        .replication_group_description("fault lab")
        .num_node_groups(3)
        .node_group_configuration(shard("0001", "0-5460", ["us-east-1a", "us-east-1a"]))
        .node_group_configuration(shard("0002", "5461-10922", ["us-east-1a", "us-east-1b"]))
        .node_group_configuration(shard("0003", "10923-16383", ["us-east-1b", "us-east-1c"]))
        .send()
        .await
        .expect("create");
    let group = wait_available(&client, "fazs").await;
    let configuration = crate::support::configuration_endpoint(&group);
    let ports = member_addresses(&client, "fazs").await;
    let at = |member: &str| address_of(&ports, member);
    let (mut near, far) = (
        keys_of_shard(at("fazs-0001-001"), 0..5461, 11),
        keys_of_shard(at("fazs-0001-001"), 5461..10923, 10),
    );
    let probe = near.pop().unwrap(); // written only once 0001 is back
    let mut connection = cluster_client(configuration).await;
    for key in near.iter().chain(&far) {
        cluster_set(&mut connection, key, "v").await;
    }

    let answer = inject_ok(
        &server,
        json!({"type": "az-power-interruption", "replication_group_id": "fazs", "availability_zone": "us-east-1a", "duration_seconds": 8}),
    )
    .await;
    let mut hit: Vec<String> = serde_json::from_value(answer["members"].clone()).unwrap();
    hit.sort();
    assert_eq!(hit, ["fazs-0001-001", "fazs-0001-002", "fazs-0002-001"]);
    wait_event(
        &client,
        "fazs",
        "Failover from primary node fazs-0002-001 to replica node fazs-0002-002 completed",
    )
    .await;
    // 0002 serves from outside the zone, with its data.
    for key in &far {
        assert_eq!(redis_cli(at("fazs-0002-002"), &["GET", key]), "v", "{key}");
    }
    let still_out = !messages(&events_for(&client, "fazs-0001-001").await)
        .contains(&"Recovering cache nodes 0001".to_string());
    if still_out {
        // 0001 is gone with the zone: its nodes' hosts time out, and a survivor sends its keys
        // nowhere that answers.
        for member in ["fazs-0001-001", "fazs-0001-002"] {
            assert_eq!(connect_outcome(at(member)), Connect::TimedOut, "{member}");
        }
        let redirected = redis_cli(at("fazs-0002-002"), &["GET", &near[0]]);
        println!(
            "GET {} on a survivor while 0001 is out: {redirected}",
            near[0]
        );
        assert!(
            redirected.contains("MOVED") || redirected.contains("CLUSTERDOWN"),
            "{redirected}"
        );
    }
    for member in ["fazs-0001-001", "fazs-0001-002"] {
        let said = wait_event(&client, member, FINISHED).await;
        assert!(said.contains(&FAILED.to_string()), "{member}: {said:?}");
    }
    let group_events = messages(&events_for(&client, "fazs").await);
    assert!(
        !group_events
            .iter()
            .any(|m| m.contains("Failover from primary node fazs-0001-001")),
        "no replica of 0001 was left to promote: {group_events:?}"
    );

    // Back in the zone: 0001-001 is 0001's primary again and serves, empty.
    let primary = at("fazs-0001-001");
    wait_until(
        "shard 0001 serves again",
        Duration::from_secs(60),
        || async { (redis_cli(primary, &["SET", &probe, "w"]) == "OK").then_some(()) },
    )
    .await;
    assert_eq!(redis_cli(primary, &["ROLE"]).lines().next(), Some("master"));
    for key in &near {
        assert_eq!(
            redis_cli(primary, &["GET", key]),
            "",
            "{key}: no copy survived"
        );
    }
    for key in &far {
        assert_eq!(redis_cli(at("fazs-0002-002"), &["GET", key]), "v", "{key}");
    }
    let available = wait_available(&client, "fazs").await;
    assert_eq!(available.status(), Some("available"));
}
