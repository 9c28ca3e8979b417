//! Where a fault leaves a node's host gone (an AZ power interruption), a connect to the node's
//! address, and through the `aws` primary endpoint to it, times out as on AWS (the SYN is never
//! answered); where only the process is gone (`kill`), it is refused.

use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_elasticache::Client;
use serde_json::json;

use crate::support::{
    Connect, TestServer, answers_ping, connect_outcome, describe, endpoints, inject_ok,
    wait_available, wait_for_event, wait_until,
};

const FINISHED: &str = "Finished recovery for cache nodes 0001";
const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];
/// The `aws` endpoint behaviour, with a DNS TTL longer than any test here: after a promotion
/// the primary endpoint keeps forwarding to the old primary's address.
const AWS_ENDPOINTS: [&str; 4] = ["--endpoint-behaviour", "aws", "--dns-ttl-ms", "60000"];

/// A group of `nodes` nodes, one per zone of [`ZONES`]: (primary endpoint, members).
async fn group(
    client: &Client,
    id: &str,
    nodes: usize,
    failover: bool,
) -> (SocketAddr, Vec<(String, SocketAddr, String)>) {
    let zones = ZONES[..nodes].iter().map(|z| z.to_string()).collect();
    client
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description("gone hosts")
        .num_cache_clusters(nodes as i32)
        .automatic_failover_enabled(failover)
        .set_preferred_cache_cluster_azs(Some(zones))
        .send()
        .await
        .expect("create");
    let (primary, _, members) = endpoints(&wait_available(client, id).await);
    (primary, members)
}

/// Polls until every address in `at` gives `expected` to a new connection.
async fn wait_connects(what: &str, at: &[SocketAddr], expected: Connect) {
    let at = at.to_vec();
    wait_until(what, Duration::from_secs(10), || {
        let seen: Vec<Connect> = at.iter().map(|a| connect_outcome(*a)).collect();
        let done = seen.iter().all(|c| *c == expected);
        async move { done.then_some(()) }
    })
    .await;
}

async fn wait_ping(what: &str, at: SocketAddr) {
    wait_until(what, Duration::from_secs(20), || async move {
        answers_ping(at).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_az_power_interruption_black_holes_the_node_and_the_endpoint_for_the_ttl_while_a_kill_is_refused()
 {
    let server = TestServer::start_with(&AWS_ENDPOINTS);
    let client = server.sdk();
    let (endpoint, members) = group(&client, "fgone", 3, true).await;
    assert!(answers_ping(endpoint) && answers_ping(members[0].1));
    inject_ok(
        &server,
        json!({"type": "az-power-interruption", "replication_group_id": "fgone", "availability_zone": ZONES[0], "duration_seconds": 6}),
    )
    .await;
    wait_for_event(
        &client,
        "fgone",
        "Failover from primary node fgone-001 to replica node fgone-002 completed",
    )
    .await;
    // Promoted, but the endpoint's DNS answer is still the old primary's gone host.
    wait_connects(
        "the downed node's address and the primary endpoint time out",
        &[members[0].1, endpoint],
        Connect::TimedOut,
    )
    .await;
    wait_for_event(&client, "fgone-001", FINISHED).await;
    wait_ping("the node answers at its address again", members[0].1).await;
    wait_ping("the endpoint forwards to it again, for the TTL", endpoint).await;

    wait_available(&client, "fgone").await;
    inject_ok(
        &server,
        json!({"type": "kill", "replication_group_id": "fgone", "cache_cluster_id": "fgone-003", "duration_seconds": 2}),
    )
    .await;
    wait_connects(
        "a killed node's address is refused (its host is up)",
        &[members[2].1],
        Connect::Refused,
    )
    .await;
    wait_for_event(&client, "fgone-003", FINISHED).await;
    wait_ping("the killed node answers again", members[2].1).await;
    let roles = describe(&client, "fgone").await.expect("group");
    assert_eq!(endpoints(&roles).2[1].2, "primary", "no failback");
}

#[tokio::test]
async fn without_automatic_failover_the_aws_primary_endpoint_times_out_until_the_zone_returns() {
    let server = TestServer::start_with(&AWS_ENDPOINTS);
    let client = server.sdk();
    let (endpoint, members) = group(&client, "fdark", 2, false).await;
    let answer = inject_ok(
        &server,
        json!({"type": "az-power-interruption", "replication_group_id": "fdark", "availability_zone": ZONES[0], "duration_seconds": 4}),
    )
    .await;
    assert_eq!(answer["members"], json!(["fdark-001"]));
    // No replica is promoted: the endpoint points at the gone host for the whole outage.
    wait_connects(
        "the primary's address and the primary endpoint time out",
        &[members[0].1, endpoint],
        Connect::TimedOut,
    )
    .await;
    wait_for_event(&client, "fdark-001", FINISHED).await;
    wait_ping("the primary answers at its address again", members[0].1).await;
    wait_ping("the primary endpoint answers again", endpoint).await;
}
