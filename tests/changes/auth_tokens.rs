//! ModifyReplicationGroup's AUTH token strategies (ROTATE, SET, DELETE) on every real node.

use std::net::SocketAddr;

use aws_sdk_elasticache::types::AuthTokenUpdateStrategyType;

use crate::support::{
    DEADLINE, TestServer, auth, cli, code, create_group_with_token, endpoints, events_for,
    is_refused, live_children, messages, ping, replication_field_auth, update_auth_token,
    wait_until,
};

/// SETs `key` through the primary endpoint with `write_token`, waits until the replica reads
/// it with `read_token`, and checks that the replica stays linked (read with `write_token`).
async fn assert_write_reaches_replica(
    primary_endpoint: SocketAddr,
    replica: SocketAddr,
    key: &str,
    write_token: Option<&str>,
    read_token: Option<&str>,
) {
    assert_eq!(
        cli(primary_endpoint, write_token, &["SET", key, "yes"]).0,
        "OK"
    );
    wait_until("the write to reach the replica", DEADLINE, || async {
        (cli(replica, read_token, &["GET", key]).0 == "yes").then_some(())
    })
    .await;
    assert_eq!(
        replication_field_auth(replica, write_token, "master_link_status").as_deref(),
        Some("up"),
        "the replica stays linked"
    );
}

#[tokio::test]
async fn auth_token_rotate_set_and_delete_change_what_every_real_node_accepts() {
    const A: &str = "first-token-0123456789";
    const B: &str = "second-token-9876543210";
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group_with_token(&client, "secure", 2, A).await;
    assert_eq!(group.auth_token_enabled(), Some(true));
    let created_date = group
        .auth_token_last_modified_date()
        .copied()
        .expect("AuthTokenLastModifiedDate with a token");
    let (primary_endpoint, _, members) = endpoints(&group);
    let replica = members[1].1;
    let every_port: Vec<SocketAddr> = members
        .iter()
        .map(|m| m.1)
        .chain([primary_endpoint])
        .collect();
    for port in &every_port {
        assert_eq!(ping(*port, Some(A)).0, "PONG", "port {port} with A");
        assert!(
            ping(*port, None).0.contains("NOAUTH"),
            "port {port} needs a token"
        );
    }

    // ROTATE to B: both tokens work everywhere.
    let (pending, group) = update_auth_token(
        &client,
        "secure",
        AuthTokenUpdateStrategyType::Rotate,
        Some(B),
    )
    .await;
    assert_eq!(pending.status(), Some("modifying"));
    assert_eq!(
        pending
            .pending_modified_values()
            .and_then(|p| p.auth_token_status())
            .map(|s| s.as_str()),
        Some("ROTATING")
    );
    assert_eq!(group.auth_token_enabled(), Some(true));
    let rotated_date = group
        .auth_token_last_modified_date()
        .copied()
        .expect("AuthTokenLastModifiedDate after ROTATE");
    assert!(
        rotated_date > created_date,
        "{rotated_date:?} after {created_date:?}"
    );
    for port in &every_port {
        assert_eq!(ping(*port, Some(A)).0, "PONG", "port {port} with A");
        assert_eq!(ping(*port, Some(B)).0, "PONG", "port {port} with B");
    }
    assert_write_reaches_replica(primary_endpoint, replica, "rotated", Some(B), Some(A)).await;

    // SET to B: only B works.
    let (_, group) =
        update_auth_token(&client, "secure", AuthTokenUpdateStrategyType::Set, Some(B)).await;
    assert_eq!(group.auth_token_enabled(), Some(true));
    for port in &every_port {
        let refused = auth(*port, A);
        assert!(is_refused(&refused), "port {port}: A answered {refused:?}");
        let (out, err) = ping(*port, Some(A));
        assert_ne!(out, "PONG", "port {port}: A still works ({err})");
        assert_eq!(auth(*port, B).ok().as_deref(), Some("OK"), "port {port}");
        assert_eq!(ping(*port, Some(B)).0, "PONG", "port {port} with B");
    }
    assert_write_reaches_replica(primary_endpoint, replica, "set", Some(B), Some(B)).await;

    // DELETE: no token needed.
    let (pending, group) =
        update_auth_token(&client, "secure", AuthTokenUpdateStrategyType::Delete, None).await;
    assert_eq!(pending.status(), Some("modifying"));
    assert_eq!(group.auth_token_enabled(), Some(false));
    assert!(group.auth_token_last_modified_date().is_some());
    for port in &every_port {
        assert_eq!(ping(*port, None).0, "PONG", "port {port} without a token");
    }
    assert_write_reaches_replica(primary_endpoint, replica, "open", None, None).await;
    assert_eq!(
        code(
            client
                .modify_replication_group()
                .replication_group_id("secure")
                .apply_immediately(true)
                .auth_token_update_strategy(AuthTokenUpdateStrategyType::Delete)
                .send()
                .await
        ),
        "InvalidParameterCombination",
        "DELETE needs a group with a token"
    );
    let events = messages(&events_for(&client, "secure").await);
    assert!(
        events.iter().all(|m| !m.starts_with("Failed to modify")),
        "{events:?}"
    );
    assert_eq!(live_children(server.pid()).len(), 2);
}
