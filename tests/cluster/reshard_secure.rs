//! Resharding a group with in-transit encryption and an AUTH token: the new shard's nodes
//! require the token and speak TLS on the cluster bus, and the keys reach them by MIGRATE
//! (which Redis sends over TLS when `tls-cluster` is on) as the engine's own user.

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::TransitEncryptionMode;
use redis::cluster_async::ClusterConnection;

use crate::support::{
    TestServer, configuration_endpoint, connect, describe, events_for, http_get, member_addresses,
    messages, wait_available, wait_until,
};

pub(super) const TOKEN: &str = "resharding-token-0123456789";
pub(super) const KEYS: usize = 500;

/// A 2-shard group with TLS in `mode` and the token, filled with `KEYS` keys by a cluster
/// client that logs in with the token (over TLS, trusting the server's CA, when `required`).
pub(super) async fn sealed_group_with_keys(
    server: &TestServer,
    client: &Client,
    mode: TransitEncryptionMode,
) -> ClusterConnection {
    let required = mode == TransitEncryptionMode::Required;
    client
        .create_replication_group()
        .replication_group_id("sealed")
        .replication_group_description("resharding with TLS and AUTH")
        .num_node_groups(2)
        .replicas_per_node_group(0)
        .transit_encryption_enabled(true)
        .transit_encryption_mode(mode)
        .auth_token(TOKEN)
        .send()
        .await
        .expect("create a TLS cluster with a token");
    let group = wait_available(client, "sealed").await;
    let configuration = configuration_endpoint(&group);
    let scheme = if required { "rediss" } else { "redis" };
    let url = format!("{scheme}://:{TOKEN}@{configuration}");
    let mut builder = redis::cluster::ClusterClientBuilder::new(vec![url]);
    if required {
        let (_, _, pem) = http_get(server, "/_tls/ca.pem", None).await;
        builder = builder.certs(redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(pem.into_bytes()),
        });
    }
    let mut connection = builder
        .build()
        .unwrap()
        .get_async_connection()
        .await
        .unwrap();
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
async fn a_tls_preferred_group_with_an_auth_token_reshards_and_keeps_every_key() {
    reshard_sealed_group(TransitEncryptionMode::Preferred).await;
}

#[tokio::test]
async fn a_tls_required_group_with_an_auth_token_reshards_and_keeps_every_key() {
    reshard_sealed_group(TransitEncryptionMode::Required).await;
}

async fn reshard_sealed_group(mode: TransitEncryptionMode) {
    let server = TestServer::start();
    let client = server.sdk();
    let mut connection = sealed_group_with_keys(&server, &client, mode.clone()).await;
    client
        .modify_replication_group_shard_configuration()
        .replication_group_id("sealed")
        .node_group_count(3)
        .apply_immediately(true)
        .send()
        .await
        .expect("resharding accepted");
    let deadline = std::time::Duration::from_secs(120);
    let group = wait_until("resharding done", deadline, || async {
        let group = describe(&client, "sealed").await;
        group.filter(|g| g.status() == Some("available"))
    })
    .await;
    assert_eq!(group.node_groups().len(), 3, "{group:?}");
    let said = messages(&events_for(&client, "sealed").await);
    let failed: Vec<_> = said.iter().filter(|m| m.starts_with("Failed")).collect();
    assert!(failed.is_empty(), "{failed:?}");
    for i in 0..KEYS {
        let value: Option<usize> = redis::cmd("GET")
            .arg(format!("k{i}"))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(value, Some(i), "k{i}");
    }
    if mode == TransitEncryptionMode::Preferred {
        new_shard_holds_keys_behind_the_token(&client).await;
    }
}

/// The new shard's primary has its share of the keys and refuses a client without the token.
async fn new_shard_holds_keys_behind_the_token(client: &Client) {
    let new_primary = member_addresses(client, "sealed")
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
