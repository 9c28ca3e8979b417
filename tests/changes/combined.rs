//! Changes that meet each other: replicas added during an AUTH token rotation, replica counts
//! after a promotion, and the reader endpoint following the members.

use std::net::{IpAddr, SocketAddr};

use std::collections::BTreeSet;

use aws_sdk_elasticache::types::{AuthTokenUpdateStrategyType, ConfigureShard, ReplicationGroup};

use crate::support::{
    DEADLINE, TestServer, assert_replication, auth, cli, code, code_and_message, create_group,
    create_group_with_token, decrease_replicas, describe, endpoints, events_for, increase_replicas,
    live_children, messages, port_accepts, redis_cli, replication_field, replication_field_auth,
    update_auth_token, wait_available, wait_members, wait_until,
};

fn sorted_members(group: &ReplicationGroup) -> Vec<String> {
    let mut ids = group.member_clusters().to_vec();
    ids.sort();
    ids
}

/// The nodes the reader endpoint leads to, over `connections` fresh connections, by address: a
/// TLS-preferred node listens privately on its own IP behind a front (`CLIENT INFO`'s
/// `laddr` is the address of the node behind the proxy: every node has its own).
fn reader_targets(reader: SocketAddr, token: Option<&str>, connections: usize) -> BTreeSet<IpAddr> {
    (0..connections)
        .map(|_| {
            let (out, err) = cli(reader, token, &["CLIENT", "INFO"]);
            out.split_whitespace()
                .find_map(|field| field.strip_prefix("laddr="))
                .and_then(|laddr| laddr.parse::<SocketAddr>().ok())
                .map(|laddr| laddr.ip())
                .unwrap_or_else(|| panic!("CLIENT INFO through the reader: {out:?} {err:?}"))
        })
        .collect()
}

#[tokio::test]
async fn a_replica_added_during_a_token_rotation_accepts_both_tokens_then_only_the_set_one() {
    const A: &str = "first-token-0123456789";
    const B: &str = "second-token-9876543210";
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group_with_token(&client, "vault", 2, A).await;
    let (primary_endpoint, _, _) = endpoints(&group);
    assert_eq!(
        cli(primary_endpoint, Some(A), &["SET", "old", "data"]).0,
        "OK"
    );

    update_auth_token(
        &client,
        "vault",
        AuthTokenUpdateStrategyType::Rotate,
        Some(B),
    )
    .await;

    increase_replicas(&client, "vault", 2).await;
    let group = wait_members(&client, "vault", 3).await;
    let (_, reader, members) = endpoints(&group);
    let (id, new_port, _) = members
        .iter()
        .find(|m| m.0 == "vault-003")
        .expect("vault-003 added")
        .clone();
    for token in [A, B] {
        assert_eq!(
            cli(new_port, Some(token), &["PING"]).0,
            "PONG",
            "{id}: {token}"
        );
    }
    assert_eq!(
        replication_field_auth(new_port, Some(B), "master_link_status").as_deref(),
        Some("up"),
        "{id} linked to the primary"
    );
    assert_eq!(cli(new_port, Some(A), &["GET", "old"]).0, "data");
    assert_eq!(
        reader_targets(reader, Some(B), 6),
        members[1..].iter().map(|m| m.1.ip()).collect(),
        "the reader endpoint leads to both replicas"
    );

    update_auth_token(&client, "vault", AuthTokenUpdateStrategyType::Set, Some(B)).await;
    for (id, port, _) in &members {
        let refused = auth(*port, A);
        assert!(
            matches!(&refused, Err(e) if e.code() == Some("WRONGPASS")),
            "{id}: A answered {refused:?}"
        );
        assert_eq!(cli(*port, Some(B), &["PING"]).0, "PONG", "{id}");
    }
    assert_eq!(
        cli(primary_endpoint, Some(B), &["SET", "new", "data"]).0,
        "OK"
    );
    wait_until("the write on the added replica", DEADLINE, || async {
        (cli(new_port, Some(B), &["GET", "new"]).0 == "data").then_some(())
    })
    .await;
    assert_eq!(live_children(server.pid()).len(), 3);
}

#[tokio::test]
async fn after_a_promotion_replica_counts_follow_the_new_primary_and_never_remove_it() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group(&client, "moved", 3, false).await;
    let (primary_endpoint, reader, before) = endpoints(&group);
    let port_of = |id: &str| before.iter().find(|m| m.0 == id).unwrap().1;
    assert_eq!(redis_cli(primary_endpoint, &["SET", "kept", "yes"]), "OK");

    // Naming the current primary changes nothing on the nodes and records no event.
    let answer = client
        .modify_replication_group()
        .replication_group_id("moved")
        .primary_cluster_id("moved-001")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer
            .replication_group()
            .and_then(|g| g.pending_modified_values())
            .and_then(|p| p.primary_cluster_id()),
        None,
        "nothing pending when the primary stays"
    );
    let group = wait_available(&client, "moved").await;
    assert_eq!(endpoints(&group).2[0].2, "primary");

    client
        .modify_replication_group()
        .replication_group_id("moved")
        .primary_cluster_id("moved-003")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let group = wait_until("moved-003 primary", DEADLINE, || async {
        describe(&client, "moved").await.filter(|g| {
            g.status() == Some("available")
                && endpoints(g)
                    .2
                    .iter()
                    .any(|m| m.0 == "moved-003" && m.2 == "primary")
        })
    })
    .await;
    assert_eq!(endpoints(&group).0, primary_endpoint);
    let events = messages(&events_for(&client, "moved").await);
    assert_eq!(
        events
            .iter()
            .filter(|m| m.starts_with("Primary cache cluster"))
            .collect::<Vec<_>>(),
        ["Primary cache cluster of replication group moved changed from moved-001 to moved-003"],
        "one event, for the real change only"
    );
    assert_eq!(
        reader_targets(reader, None, 6),
        BTreeSet::from([port_of("moved-001").ip(), port_of("moved-002").ip()]),
        "the reader endpoint leads to the replicas, the old primary among them"
    );

    // The primary cannot be removed, wherever it is.
    let (code_, message) = code_and_message(
        client
            .decrease_replica_count()
            .replication_group_id("moved")
            .replicas_to_remove("moved-003")
            .apply_immediately(true)
            .send()
            .await,
    );
    assert_eq!(code_, "InvalidParameterValue", "{message}");
    assert!(message.contains("primary"), "{message}");

    // A count: the highest-numbered replica goes, never the primary.
    decrease_replicas(&client, "moved", 1).await;
    let group = wait_members(&client, "moved", 2).await;
    assert_eq!(sorted_members(&group), ["moved-001", "moved-003"]);
    assert!(!port_accepts(port_of("moved-002")));
    assert_eq!(
        replication_field(port_of("moved-003"), "role").as_deref(),
        Some("master")
    );
    assert_eq!(live_children(server.pid()).len(), 2);
    assert_eq!(
        reader_targets(reader, None, 4),
        BTreeSet::from([port_of("moved-001").ip()]),
        "the removed replica left the reader endpoint"
    );

    // ReplicaConfiguration for node group 0001: the new replica follows moved-003.
    client
        .increase_replica_count()
        .replication_group_id("moved")
        .replica_configuration(
            ConfigureShard::builder()
                .node_group_id("0001")
                .new_replica_count(2)
                .build(),
        )
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let group = wait_members(&client, "moved", 3).await;
    assert_eq!(
        sorted_members(&group),
        ["moved-001", "moved-002", "moved-003"]
    );
    let (_, _, members) = endpoints(&group);
    let added = members.iter().find(|m| m.0 == "moved-002").unwrap();
    assert_eq!(added.2, "replica");
    assert_replication(
        added.1,
        "the new replica replicates from the current primary",
        &[
            ("master_host", &port_of("moved-003").ip().to_string()),
            ("master_port", &port_of("moved-003").port().to_string()),
            ("master_link_status", "up"),
        ],
    );
    assert_eq!(redis_cli(added.1, &["GET", "kept"]), "yes");
    assert_eq!(live_children(server.pid()).len(), 3);
    assert_eq!(
        reader_targets(reader, None, 6),
        BTreeSet::from([port_of("moved-001").ip(), added.1.ip()]),
    );
    assert_eq!(
        code(
            client
                .increase_replica_count()
                .replication_group_id("moved")
                .replica_configuration(
                    ConfigureShard::builder()
                        .node_group_id("0002")
                        .new_replica_count(3)
                        .build(),
                )
                .apply_immediately(true)
                .send()
                .await
        ),
        "NodeGroupNotFoundFault"
    );
}
