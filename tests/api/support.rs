//! SDK helpers shared by the API tests.

use std::time::Duration;

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::error::ProvideErrorMetadata;
use aws_sdk_elasticache::types::{Event, ReplicationGroup};

use crate::common::wait_until;

pub const DEADLINE: Duration = Duration::from_secs(20);

/// The wire `Code` of a failed SDK call (panics if the call succeeded).
pub fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> String {
    let error = result.expect_err("the call should have failed");
    error
        .code()
        .unwrap_or_else(|| panic!("no error code in {error:?}"))
        .to_string()
}

pub async fn describe(client: &Client, id: &str) -> Option<ReplicationGroup> {
    let output = client
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
        .ok()?;
    output.replication_groups().first().cloned()
}

/// Creates a group and waits until it is `available`.
pub async fn create_group(
    client: &Client,
    id: &str,
    nodes: i32,
    automatic_failover: bool,
) -> ReplicationGroup {
    let created = client
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description("test group")
        .num_cache_clusters(nodes)
        .automatic_failover_enabled(automatic_failover)
        .send()
        .await
        .expect("create");
    assert_eq!(
        created.replication_group().and_then(|g| g.status()),
        Some("creating")
    );
    wait_available(client, id).await
}

pub async fn wait_available(client: &Client, id: &str) -> ReplicationGroup {
    wait_until(&format!("{id} available"), DEADLINE, || async {
        describe(client, id)
            .await
            .filter(|g| g.status() == Some("available"))
    })
    .await
}

/// Port of the primary endpoint, and of each member's node, with its current role.
pub fn endpoints(group: &ReplicationGroup) -> (u16, u16, Vec<(String, u16, String)>) {
    let node_group = &group.node_groups()[0];
    let port = |e: Option<&aws_sdk_elasticache::types::Endpoint>| {
        e.and_then(|e| e.port()).expect("endpoint port") as u16
    };
    let members = node_group
        .node_group_members()
        .iter()
        .map(|m| {
            (
                m.cache_cluster_id().unwrap_or_default().to_string(),
                port(m.read_endpoint()),
                m.current_role().unwrap_or_default().to_string(),
            )
        })
        .collect();
    (
        port(node_group.primary_endpoint()),
        port(node_group.reader_endpoint()),
        members,
    )
}

/// Every event (up to 100) for a source, newest first.
pub async fn events_for(client: &Client, source: &str) -> Vec<Event> {
    let output = client
        .describe_events()
        .source_identifier(source)
        .send()
        .await
        .expect("describe events");
    output.events().to_vec()
}

pub fn messages(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|e| e.message().unwrap_or_default().to_string())
        .collect()
}

/// Waits until an event with `message` exists for `source`.
pub async fn wait_for_event(client: &Client, source: &str, message: &str) -> Vec<Event> {
    wait_until(
        &format!("event {message:?} on {source}"),
        DEADLINE,
        || async {
            let events = events_for(client, source).await;
            events
                .iter()
                .any(|e| e.message() == Some(message))
                .then_some(events)
        },
    )
    .await
}

pub async fn wait_deleted(client: &Client, id: &str) {
    wait_until(&format!("{id} deleted"), DEADLINE, || async {
        let result = client
            .describe_replication_groups()
            .replication_group_id(id)
            .send()
            .await;
        (result.is_err() && code(result) == "ReplicationGroupNotFoundFault").then_some(())
    })
    .await
}
