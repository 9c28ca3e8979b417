//! In-transit encryption with the `redis` crate: the CA published in the data dir and at
//! `/_tls/ca.pem` is the one every node's certificate chains to, the certificate names the
//! endpoint's and the node's addresses (the crate verifies the IP), a plaintext client fails on
//! a `required` group, and a CA given with `--tls-ca-cert/--tls-ca-key` is the one used.

use std::net::SocketAddr;
use std::process::Command;

use crate::support::{TestServer, endpoints, http_get, wait_available};

/// A `redis` crate connection over TLS to `at`, trusting only `ca_pem` and verifying `at`'s IP.
async fn tls_connection(
    at: SocketAddr,
    ca_pem: &str,
) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    let certificates = redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca_pem.as_bytes().to_vec()),
    };
    let url = format!("rediss://{}:{}", at.ip(), at.port());
    let client = redis::Client::build_with_tls(url, certificates)?;
    client.get_multiplexed_async_connection().await
}

async fn create_tls_group(server: &TestServer, id: &str, mode: Option<&str>) -> SocketAddr {
    let client = server.sdk();
    let mut create = client
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description("tls")
        .num_cache_clusters(2)
        .transit_encryption_enabled(true);
    if let Some(mode) = mode {
        create = create.transit_encryption_mode(mode.into());
    }
    create.send().await.expect("create a TLS group");
    let group = wait_available(&client, id).await;
    assert_eq!(group.transit_encryption_enabled(), Some(true));
    endpoints(&group).0
}

async fn published_ca(server: &TestServer) -> String {
    let (status, content_type, pem) = http_get(server, "/_tls/ca.pem", None).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/x-pem-file");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    pem
}

#[tokio::test]
async fn the_redis_crate_verifies_a_tls_group_against_the_published_ca() {
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().to_str().unwrap();
    let server = TestServer::start_with(&["--data-dir", dir]);
    let pem = published_ca(&server).await;
    let file = std::fs::read_to_string(data_dir.path().join("tls-ca.pem")).unwrap();
    assert_eq!(file, pem, "the data dir's CA is the one served");

    let primary = create_tls_group(&server, "crate-tls", None).await;
    let mut connection = tls_connection(primary, &pem)
        .await
        .expect("TLS with the CA");
    let _: () = redis::cmd("SET")
        .arg("k")
        .arg("v")
        .query_async(&mut connection)
        .await
        .unwrap();
    let value: String = redis::cmd("GET")
        .arg("k")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(value, "v");

    let mut plain = redis::Client::open(format!("redis://{primary}")).unwrap();
    let ping: redis::RedisResult<String> = redis::cmd("PING").query(&mut plain);
    assert!(
        ping.is_err(),
        "a plaintext client must fail on a required group"
    );
    let other_ca = elasticache_local::engine::CertificateAuthority::generate().unwrap();
    assert!(
        tls_connection(primary, other_ca.cert_pem()).await.is_err(),
        "a client trusting another CA must fail"
    );
}

#[tokio::test]
async fn a_ca_given_with_tls_ca_cert_signs_the_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("ca.crt"), dir.path().join("ca.key"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .args(["ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args([
            "-subj",
            "/CN=user CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(made.status.success(), "{made:?}");
    let (cert_arg, key_arg) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = TestServer::start_with(&["--tls-ca-cert", cert_arg, "--tls-ca-key", key_arg]);
    let pem = published_ca(&server).await;
    assert_eq!(pem, std::fs::read_to_string(&cert).unwrap());

    let primary = create_tls_group(&server, "user-ca", Some("preferred")).await;
    let mut connection = tls_connection(primary, &pem)
        .await
        .expect("TLS with the user's CA");
    let pong: String = redis::cmd("PING")
        .query_async(&mut connection)
        .await
        .unwrap();
    assert_eq!(pong, "PONG");
    // `preferred`: plaintext on the same port too.
    let mut plain = redis::Client::open(format!("redis://{primary}")).unwrap();
    let pong: String = redis::cmd("PING").query(&mut plain).unwrap();
    assert_eq!(pong, "PONG");
}
