//! A cluster mode enabled group with TLS required and an AUTH token survives a server restart:
//! its nodes still require TLS and the token, and every key is back.

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::TransitEncryptionMode;
use redis::cluster_async::ClusterConnection;

use super::restarts::start_on;
use crate::support::{TestServer, configuration_endpoint, http_get, redis_cli, wait_available};

const GROUP: &str = "sealed";
const TOKEN: &str = "restart-token-0123456789";
const KEYS: usize = 100;

/// A cluster client over TLS (trusting the server's CA) that logs in with the token.
async fn tls_client(server: &TestServer, client: &Client) -> ClusterConnection {
    let group = wait_available(client, GROUP).await;
    let url = format!("rediss://:{TOKEN}@{}", configuration_endpoint(&group));
    let (_, _, pem) = http_get(server, "/_tls/ca.pem", None).await;
    let certificates = redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(pem.into_bytes()),
    };
    (redis::cluster::ClusterClientBuilder::new(vec![url]))
        .certs(certificates)
        .build()
        .unwrap()
        .get_async_connection()
        .await
        .expect("a TLS cluster connection with the token")
}

#[tokio::test]
async fn a_tls_required_cluster_with_a_token_comes_back_with_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_on(dir.path());
    let client = server.sdk();
    client
        .create_replication_group()
        .replication_group_id(GROUP)
        .replication_group_description("restart with TLS and AUTH")
        .num_node_groups(2)
        .replicas_per_node_group(1)
        .transit_encryption_enabled(true)
        .transit_encryption_mode(TransitEncryptionMode::Required)
        .auth_token(TOKEN)
        .send()
        .await
        .expect("create a TLS cluster with a token");
    let before = wait_available(&client, GROUP).await;
    let mut connection = tls_client(&server, &client).await;
    for i in 0..KEYS {
        (redis::cmd("SET").arg(format!("k{i}")).arg(i))
            .query_async::<()>(&mut connection)
            .await
            .unwrap();
    }
    drop(connection);
    assert!(server.stop(), "SIGTERM ends the server cleanly");

    let server = start_on(dir.path());
    let client = server.sdk();
    let after = wait_available(&client, GROUP).await;
    let configuration = configuration_endpoint(&after);
    assert_eq!(configuration, configuration_endpoint(&before));
    // Plain text is refused: the nodes still require TLS.
    assert!(
        !redis_cli(configuration, &["PING"]).contains("PONG"),
        "a plaintext PING must not be answered"
    );
    let mut connection = tls_client(&server, &client).await;
    for i in 0..KEYS {
        let value: Option<String> = (redis::cmd("GET").arg(format!("k{i}")))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(value, Some(i.to_string()), "k{i}");
    }
}
