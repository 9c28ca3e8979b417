//! The SDK side: wire error codes, describes, creating groups and waiting for their states and
//! events, and reading endpoints and members out of the answers.

use std::net::SocketAddr;

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::error::ProvideErrorMetadata;
use aws_sdk_elasticache::types::{
    AuthTokenUpdateStrategyType, CacheCluster, Event, ReplicationGroup,
};

use super::engines::default_engine;
use super::node::address_of_endpoint;
use super::wait::{DEADLINE, wait_until};

/// The wire `Code` of a failed SDK call (panics if the call succeeded).
pub fn code<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> String {
    code_and_message(result).0
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

/// The engines the core flows run on, each with real nodes (redis-server, valkey-server).
pub const ENGINES: [&str; 2] = ["redis", "valkey"];

/// Creates a group of the suite's default engine (see [`default_engine`]) and waits until it
/// is `available`.
pub async fn create_group(
    client: &Client,
    id: &str,
    nodes: i32,
    automatic_failover: bool,
) -> ReplicationGroup {
    create_group_on(client, &default_engine(), id, nodes, automatic_failover).await
}

/// Creates a group of `engine` (`redis` or `valkey`) and waits until it is `available`.
pub async fn create_group_on(
    client: &Client,
    engine: &str,
    id: &str,
    nodes: i32,
    automatic_failover: bool,
) -> ReplicationGroup {
    let created = client
        .create_replication_group()
        // Redis is the default: `Engine` is sent for the others only, so the redis runs keep
        // covering a create without it.
        .set_engine(Some(engine).filter(|e| *e != "redis").map(str::to_string))
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

/// Creates a group of `nodes` whose every node needs `token` (with in-transit encryption, as
/// AWS requires for a token) and waits until it is `available`.
pub async fn create_group_with_token(
    client: &Client,
    id: &str,
    nodes: i32,
    token: &str,
) -> ReplicationGroup {
    create_group_with_token_on(client, &default_engine(), id, nodes, token).await
}

/// A group of `engine` whose every node needs `token`, as [`create_group_with_token`] makes one.
pub async fn create_group_with_token_on(
    client: &Client,
    engine: &str,
    id: &str,
    nodes: i32,
    token: &str,
) -> ReplicationGroup {
    client
        .create_replication_group()
        .set_engine(Some(engine).filter(|e| *e != "redis").map(str::to_string))
        .replication_group_id(id)
        .replication_group_description("test group")
        .num_cache_clusters(nodes)
        .auth_token(token)
        .transit_encryption_enabled(true)
        // `preferred`: the tests' plaintext clients are still accepted beside TLS ones.
        .transit_encryption_mode(aws_sdk_elasticache::types::TransitEncryptionMode::Preferred)
        .send()
        .await
        .expect("create a group with an AUTH token");
    wait_available(client, id).await
}

/// ModifyReplicationGroup with an AUTH token `strategy` (and `token`, unless DELETE), then
/// waits for its event and for the group to be `available` again: (the group in the answer,
/// the group once available).
pub async fn update_auth_token(
    client: &Client,
    id: &str,
    strategy: AuthTokenUpdateStrategyType,
    token: Option<&str>,
) -> (ReplicationGroup, ReplicationGroup) {
    let event = format!(
        "AUTH token updated with strategy {} for replication group {id}",
        strategy.as_str()
    );
    let answer = client
        .modify_replication_group()
        .replication_group_id(id)
        .apply_immediately(true)
        .auth_token_update_strategy(strategy)
        .set_auth_token(token.map(str::to_string))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{event}: {e:?}"));
    let pending = answer
        .replication_group()
        .expect("the group in the answer")
        .clone();
    wait_for_event(client, id, &event).await;
    (pending, wait_available(client, id).await)
}

pub async fn wait_available(client: &Client, id: &str) -> ReplicationGroup {
    wait_until(&format!("{id} available"), DEADLINE, || async {
        describe(client, id)
            .await
            .filter(|g| g.status() == Some("available"))
    })
    .await
}

/// Address of the primary and reader endpoints, and of each member's node, with its current
/// role, as DescribeReplicationGroups answers them.
pub fn endpoints(
    group: &ReplicationGroup,
) -> (SocketAddr, SocketAddr, Vec<(String, SocketAddr, String)>) {
    let node_group = &group.node_groups()[0];
    let port = |e: Option<&aws_sdk_elasticache::types::Endpoint>| {
        address_of_endpoint(e.expect("an endpoint"))
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

/// The wire code and message of a failed SDK call (panics if the call succeeded).
pub fn code_and_message<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> (String, String) {
    let error = result.expect_err("the call should have failed");
    (
        error
            .code()
            .unwrap_or_else(|| panic!("no error code in {error:?}"))
            .to_string(),
        error.message().unwrap_or_default().to_string(),
    )
}

/// The group's member cluster ids, in the order DescribeReplicationGroups lists them.
pub fn member_ids(group: &ReplicationGroup) -> Vec<String> {
    group.member_clusters().to_vec()
}

/// Waits until the group is `available` with `count` members.
pub async fn wait_members(client: &Client, id: &str, count: usize) -> ReplicationGroup {
    wait_until(
        &format!("{id} available with {count} members"),
        DEADLINE,
        || async {
            describe(client, id)
                .await
                .filter(|g| g.status() == Some("available") && g.member_clusters().len() == count)
        },
    )
    .await
}

/// Waits until an event on `source` starts with `prefix`; returns its message.
pub async fn wait_event_starting(client: &Client, source: &str, prefix: &str) -> String {
    wait_until(
        &format!("an event starting {prefix:?} on {source}"),
        DEADLINE,
        || async {
            messages(&events_for(client, source).await)
                .into_iter()
                .find(|m| m.starts_with(prefix))
        },
    )
    .await
}

/// One cache cluster from DescribeCacheClusters (panics if there is none).
pub async fn cache_cluster(client: &Client, id: &str) -> CacheCluster {
    client
        .describe_cache_clusters()
        .cache_cluster_id(id)
        .send()
        .await
        .expect("describe cache clusters")
        .cache_clusters()
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no cache cluster {id}"))
}

/// Waits until standalone cluster `id` is `available` (described with its nodes) and `view` of
/// it is `Some`: what a test reads out of it then (node endpoints, the configuration endpoint).
pub async fn wait_cache_cluster_available<T>(
    client: &Client,
    id: &str,
    view: impl Fn(&CacheCluster) -> Option<T>,
) -> T {
    wait_until(&format!("{id} available"), DEADLINE, || async {
        let described = client
            .describe_cache_clusters()
            .cache_cluster_id(id)
            .show_cache_node_info(true)
            .send()
            .await
            .ok()?;
        let cluster = described.cache_clusters().first()?;
        (cluster.cache_cluster_status() == Some("available")).then_some(())?;
        view(cluster)
    })
    .await
}

/// Creates a cluster-mode group of `shards` x (1 + `replicas`) and waits until it is available.
pub async fn create_cluster(
    client: &Client,
    id: &str,
    shards: i32,
    replicas: i32,
) -> ReplicationGroup {
    create_cluster_on(client, &default_engine(), id, shards, replicas).await
}

/// A cluster-mode group of `engine`, as [`create_cluster`] makes one.
pub async fn create_cluster_on(
    client: &Client,
    engine: &str,
    id: &str,
    shards: i32,
    replicas: i32,
) -> ReplicationGroup {
    let created = client
        .create_replication_group()
        // Redis is the default: `Engine` is sent for the others only, so the redis runs keep
        // covering a create without it.
        .set_engine(Some(engine).filter(|e| *e != "redis").map(str::to_string))
        .replication_group_id(id)
        .replication_group_description("cluster test")
        .num_node_groups(shards)
        .replicas_per_node_group(replicas)
        .send()
        .await
        .expect("create a cluster-mode group");
    let group = created.replication_group().expect("group in the answer");
    assert_eq!(group.status(), Some("creating"));
    assert_eq!(group.cluster_enabled(), Some(true));
    wait_available(client, id).await
}

pub fn configuration_endpoint(group: &ReplicationGroup) -> SocketAddr {
    address_of_endpoint(
        group
            .configuration_endpoint()
            .expect("a configuration endpoint"),
    )
}

/// Each member's own address, from DescribeCacheClusters with node info.
pub async fn member_addresses(client: &Client, group_id: &str) -> Vec<(String, SocketAddr)> {
    let output = client
        .describe_cache_clusters()
        .show_cache_node_info(true)
        .send()
        .await
        .expect("describe cache clusters");
    output
        .cache_clusters()
        .iter()
        .filter(|c| c.replication_group_id() == Some(group_id))
        .map(|c| {
            let endpoint = c.cache_nodes()[0]
                .endpoint()
                .expect("every member has its own endpoint");
            (
                c.cache_cluster_id().unwrap().to_string(),
                address_of_endpoint(endpoint),
            )
        })
        .collect()
}

pub fn address_of(ports: &[(String, SocketAddr)], member: &str) -> SocketAddr {
    ports
        .iter()
        .find(|(m, _)| m == member)
        .unwrap_or_else(|| panic!("{member} not in {ports:?}"))
        .1
}

/// IncreaseReplicaCount to `count` replicas, applied immediately: the group in the answer.
pub async fn increase_replicas(client: &Client, id: &str, count: i32) -> ReplicationGroup {
    client
        .increase_replica_count()
        .replication_group_id(id)
        .new_replica_count(count)
        .apply_immediately(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("IncreaseReplicaCount {id} to {count}: {e:?}"))
        .replication_group()
        .expect("the group in the answer")
        .clone()
}

/// DecreaseReplicaCount to `count` replicas, applied immediately: the group in the answer.
pub async fn decrease_replicas(client: &Client, id: &str, count: i32) -> ReplicationGroup {
    client
        .decrease_replica_count()
        .replication_group_id(id)
        .new_replica_count(count)
        .apply_immediately(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DecreaseReplicaCount {id} to {count}: {e:?}"))
        .replication_group()
        .expect("the group in the answer")
        .clone()
}

/// Follows a Describe action's `Marker` to the end: `fetch(marker)` sends one page's request and
/// returns its items and next marker. Returns every item in order and the number of pages.
/// Panics after 1,000 pages: a marker that never ends is a server defect.
pub async fn page_through<T, F, Fut>(mut fetch: F) -> (Vec<T>, usize)
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = (Vec<T>, Option<String>)>,
{
    let (mut items, mut marker, mut pages) = (Vec::new(), None, 0);
    loop {
        let (page, next) = fetch(marker).await;
        items.extend(page);
        pages += 1;
        assert!(pages < 1000, "the marker never ends");
        match next {
            Some(next) => marker = Some(next),
            None => return (items, pages),
        }
    }
}
