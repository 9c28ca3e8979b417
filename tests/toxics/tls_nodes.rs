//! Toxics on the nodes of groups with in-transit encryption: the node's front is a TCP pipe,
//! so a TLS client still verifies the node's certificate against the server's CA (the crate
//! checks the IP) and sees the toxic's latency, in both `TransitEncryptionMode`s.

use std::net::SocketAddr;

use serde_json::json;

use crate::support::{TestServer, endpoints, http_get, wait_available};
use crate::toxics_support::{Api, ping_rtts, redis_connection};

/// A `redis` crate connection over TLS to `at`, trusting only `ca_pem` and verifying `at`'s IP.
async fn tls_connection(at: SocketAddr, ca_pem: &str) -> redis::aio::MultiplexedConnection {
    let certificates = redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca_pem.as_bytes().to_vec()),
    };
    let url = format!("rediss://{}:{}", at.ip(), at.port());
    let client = redis::Client::build_with_tls(url, certificates).expect("a TLS client");
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap_or_else(|e| panic!("TLS to {at}, verified against the server's CA: {e}"))
}

/// A two-node TLS group `id` in `mode`: its primary endpoint, its replica's member id and
/// `ReadEndpoint`, and the server's CA.
async fn tls_group(
    server: &TestServer,
    id: &str,
    mode: &str,
) -> (SocketAddr, String, SocketAddr, String) {
    let client = server.sdk();
    client
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description("tls toxics")
        .num_cache_clusters(2)
        .transit_encryption_enabled(true)
        .transit_encryption_mode(mode.into())
        .send()
        .await
        .expect("create a TLS group");
    let group = wait_available(&client, id).await;
    let (primary, _, members) = endpoints(&group);
    let (member, node, _) = members
        .into_iter()
        .find(|(_, _, role)| role == "replica")
        .expect("a replica");
    let (status, _, ca) = http_get(server, "/_tls/ca.pem", None).await;
    assert_eq!(status, 200, "{ca}");
    (primary, member, node, ca)
}

async fn median_tls_ping(at: SocketAddr, ca: &str) -> f64 {
    let mut connection = tls_connection(at, ca).await;
    ping_rtts(&mut connection, 15).await.0
}

async fn latency_on_a_tls_replica(mode: &str) -> (TestServer, Api, String, SocketAddr, String) {
    let server = TestServer::start();
    let id = format!("ntls-{mode}");
    let (primary, member, node, ca) = tls_group(&server, &id, mode).await;
    let api = Api::of(&server);
    let before = median_tls_ping(node, &ca).await;
    api.add(
        &member,
        json!({"name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": 200}}),
    )
    .await;
    let slowed = median_tls_ping(node, &ca).await;
    let unaffected = median_tls_ping(primary, &ca).await;
    println!(
        "{mode}: TLS replica {member} at {node}: {before:.2} ms, with 200 ms latency {slowed:.2} ms; primary endpoint {unaffected:.2} ms"
    );
    assert!(
        (200.0..=220.0).contains(&slowed),
        "{mode}: median {slowed} ms"
    );
    assert!(
        unaffected < 10.0,
        "{mode}: primary endpoint {unaffected} ms"
    );
    // The engine reaches the node past its front: the group stays available.
    let group = wait_available(&server.sdk(), &id).await;
    assert_eq!(group.status(), Some("available"));
    (server, api, member, node, ca)
}

async fn remove_and_measure(api: &Api, member: &str, node: SocketAddr, ca: &str) {
    let (status, body) = api
        .call("DELETE", &format!("/proxies/{member}/toxics/slow"), None)
        .await;
    assert_eq!(status, 204, "{body}");
    let restored = median_tls_ping(node, ca).await;
    assert!(
        restored < 10.0,
        "median {restored} ms after the toxic is removed"
    );
}

#[tokio::test]
async fn a_latency_toxic_on_a_required_tls_node_is_seen_by_a_verifying_tls_client() {
    let (_server, api, member, node, ca) = latency_on_a_tls_replica("required").await;
    remove_and_measure(&api, &member, node, &ca).await;
}

#[tokio::test]
async fn a_latency_toxic_on_a_preferred_tls_node_slows_tls_and_plaintext_clients() {
    let (_server, api, member, node, ca) = latency_on_a_tls_replica("preferred").await;
    // `preferred` takes plaintext clients on the same address: they pass the toxic too.
    let mut plain = redis_connection(node).await;
    let plaintext = ping_rtts(&mut plain, 9).await.0;
    assert!(
        (200.0..=220.0).contains(&plaintext),
        "plaintext median {plaintext} ms"
    );
    remove_and_measure(&api, &member, node, &ca).await;
}
