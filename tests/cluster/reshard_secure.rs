//! Resharding a group with in-transit encryption and an AUTH token: the new shard's nodes
//! require the token and speak TLS on the cluster bus, and the keys reach them by MIGRATE
//! (which Redis sends over TLS when `tls-cluster` is on) as the engine's own user.

use aws_sdk_elasticache::types::TransitEncryptionMode;
use redis::cluster_async::ClusterConnection;

use crate::support::{
    TestServer, configuration_endpoint, connect, member_addresses, wait_available,
};

const TOKEN: &str = "resharding-token-0123456789";
const KEYS: usize = 500;

/// A 2-shard group with TLS (preferred) and the token, filled with `KEYS` keys; a cluster
/// client logged in with the token.
async fn sealed_group_with_keys(client: &aws_sdk_elasticache::Client) -> ClusterConnection {
    client
        .create_replication_group()
        .replication_group_id("sealed")
        .replication_group_description("resharding with TLS and AUTH")
        .num_node_groups(2)
        .replicas_per_node_group(0)
        .transit_encryption_enabled(true)
        .transit_encryption_mode(TransitEncryptionMode::Preferred)
        .auth_token(TOKEN)
        .send()
        .await
        .expect("create a TLS cluster with a token");
    let group = wait_available(client, "sealed").await;
    let configuration = configuration_endpoint(&group);
    // `preferred` keeps plaintext clients too: the cluster client logs in with the token.
    let url = format!("redis://:{TOKEN}@{configuration}");
    let cluster = redis::cluster::ClusterClient::new(vec![url]).unwrap();
    let mut connection = cluster.get_async_connection().await.unwrap();
    for i in 0..KEYS {
        redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .query_async::<()>(&mut connection)
            .await
            .unwrap();
    }
    connection
}

#[tokio::test]
async fn a_tls_group_with_an_auth_token_reshards_and_keeps_every_key() {
    let server = TestServer::start();
    let client = server.sdk();
    let mut connection = sealed_group_with_keys(&client).await;
    client
        .modify_replication_group_shard_configuration()
        .replication_group_id("sealed")
        .node_group_count(3)
        .apply_immediately(true)
        .send()
        .await
        .expect("resharding accepted");
    let group = crate::support::wait_until(
        "resharding done",
        std::time::Duration::from_secs(120),
        || async {
            crate::support::describe(&client, "sealed")
                .await
                .filter(|g| g.status() == Some("available"))
        },
    )
    .await;
    assert_eq!(group.node_groups().len(), 3, "{group:?}");
    let events = crate::support::events_for(&client, "sealed").await;
    let failed: Vec<_> = crate::support::messages(&events)
        .into_iter()
        .filter(|m| m.starts_with("Failed"))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    for i in 0..KEYS {
        let value: Option<usize> = redis::cmd("GET")
            .arg(format!("k{i}"))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(value, Some(i), "k{i}");
    }
    let new_primary = member_addresses(&client, "sealed")
        .await
        .into_iter()
        .find(|(member, _)| member == "sealed-0003-001")
        .expect("the new shard's primary")
        .1;
    let mut node = connect(new_primary, Some(TOKEN)).unwrap();
    let keys: usize = redis::cmd("DBSIZE").query(&mut node).unwrap();
    assert!(keys > KEYS / 5, "the new shard holds {keys} keys");
    let anonymous = connect(new_primary, None)
        .and_then(|mut c| redis::cmd("GET").arg("k1").query::<Option<String>>(&mut c));
    assert!(anonymous.is_err(), "the new node must require the token");
}
