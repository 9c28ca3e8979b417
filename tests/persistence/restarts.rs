use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{
    BINARY, TestServer, create_group, endpoints, is_alive, live_children, poll_blocking, redis_cli,
    wait_available, wait_blocking, wait_for_event,
};

const FINISHED: &str = "Finished recovery for cache nodes 0001";
const KEYS: usize = 20;

pub(crate) fn start_on(dir: &Path) -> TestServer {
    TestServer::start_with(&["--data-dir", dir.to_str().unwrap()])
}

pub(crate) fn write_keys(primary: std::net::SocketAddr) {
    for i in 0..KEYS {
        let (key, value) = (format!("key{i}"), format!("value{i}"));
        assert_eq!(redis_cli(primary, &["SET", &key, &value]), "OK");
    }
}

pub(crate) fn assert_keys(at: std::net::SocketAddr) {
    for i in 0..KEYS {
        assert_eq!(
            redis_cli(at, &["GET", &format!("key{i}")]),
            format!("value{i}")
        );
    }
}

/// Waits until the model file in `dir` shows `group` available (the writer runs every 100 ms).
fn wait_model_written(dir: &Path, group: &str) {
    wait_model_holds(dir, "groups", group);
}

/// Waits until the model file in `dir` shows resource `id` of `table` (`groups`,
/// `cache_clusters`) available.
pub(crate) fn wait_model_holds(dir: &Path, table: &str, id: &str) {
    wait_blocking(
        &format!("model.json to hold {id} available"),
        Duration::from_secs(10),
        || {
            let text = std::fs::read_to_string(dir.join("model.json")).ok()?;
            let document: serde_json::Value = serde_json::from_str(&text).ok()?;
            assert_eq!(document["version"], 1);
            let items = document[table]["items"].as_object()?;
            let status = items.get(id)?["status"].as_str()?;
            (status == "Available").then_some(())
        },
    );
}

/// Waits until the node at `at` has saved every write to its RDB (nodes save a second after a
/// change), so a SIGKILL of the server loses none of them.
pub(crate) fn wait_saved(at: std::net::SocketAddr) {
    wait_blocking(
        &format!("the node at {at} to save its writes"),
        Duration::from_secs(30),
        || {
            let info = redis_cli(at, &["INFO", "persistence"]);
            info.lines()
                .any(|l| l.trim() == "rdb_changes_since_last_save:0")
                .then_some(())
        },
    );
}

/// Starts the server again on `dir` and checks the group `keep` came back as it was: available,
/// the same endpoints and node addresses, every key, and a TestFailover works right after.
async fn assert_comes_back(dir: &Path, before: &aws_sdk_elasticache::types::ReplicationGroup) {
    let server = start_on(dir);
    let client = server.sdk();
    let after = wait_available(&client, "keep").await;
    let (primary, reader, members) = endpoints(&after);
    let (old_primary, old_reader, old_members) = endpoints(before);
    assert_eq!(primary, old_primary, "same primary endpoint");
    assert_eq!(reader, old_reader, "same reader endpoint");
    assert_eq!(members, old_members, "same nodes, addresses and roles");
    assert_keys(primary);
    for (member, address, role) in &members {
        if role == "replica" {
            wait_blocking(
                &format!("{member} to have the keys"),
                Duration::from_secs(30),
                || (redis_cli(*address, &["GET", "key0"]) == "value0").then_some(()),
            );
        }
    }

    failover(&client).await;
    let (old_primary_member, replica_member) = roles(&members);
    wait_for_event(&client, &old_primary_member, FINISHED).await;
    let failed_over = wait_available(&client, "keep").await;
    let (primary, _, members) = endpoints(&failed_over);
    assert_eq!(
        roles(&members).0,
        replica_member,
        "the replica was promoted"
    );
    assert_keys(primary);
}

/// The primary member and the replica member of a two-node group.
fn roles(members: &[(String, std::net::SocketAddr, String)]) -> (String, String) {
    let with = |role: &str| {
        let member = members.iter().find(|(_, _, r)| r == role);
        member.map(|(m, _, _)| m.clone()).expect(role)
    };
    (with("primary"), with("replica"))
}

async fn failover(client: &aws_sdk_elasticache::Client) {
    client
        .test_failover()
        .replication_group_id("keep")
        .node_group_id("0001")
        .send()
        .await
        .expect("TestFailover");
}

#[tokio::test]
async fn a_failed_over_group_comes_back_with_its_new_primary() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_on(dir.path());
    let client = server.sdk();
    create_group(&client, "keep", 2, true).await;
    failover(&client).await;
    wait_for_event(&client, "keep-001", FINISHED).await;
    let before = wait_available(&client, "keep").await;
    assert_eq!(roles(&endpoints(&before).2).0, "keep-002");
    write_keys(endpoints(&before).0);
    assert!(server.stop());

    // Comes back with keep-002 primary; the failover after it promotes keep-001 again.
    assert_comes_back(dir.path(), &before).await;
}

#[tokio::test]
async fn a_group_survives_a_sigterm_restart_with_its_data_and_endpoints() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_on(dir.path());
    let client = server.sdk();
    let before = create_group(&client, "keep", 2, true).await;
    write_keys(endpoints(&before).0);
    let children = live_children(server.pid());
    assert_eq!(children.len(), 2, "a primary and a replica");
    assert!(server.stop(), "SIGTERM ends the server cleanly");
    for pid in children {
        assert!(!is_alive(pid), "node {pid} stopped with the server");
    }
    wait_model_written(dir.path(), "keep");

    assert_comes_back(dir.path(), &before).await;
}

#[tokio::test]
async fn a_group_survives_a_sigkill_once_its_writes_are_saved() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_on(dir.path());
    let client = server.sdk();
    let before = create_group(&client, "keep", 2, true).await;
    let primary = endpoints(&before).0;
    write_keys(primary);
    wait_saved(primary);
    wait_model_written(dir.path(), "keep");
    let children = live_children(server.pid());
    assert_eq!(children.len(), 2);
    server.kill_hard();
    wait_blocking(
        "every node of the killed server to be gone",
        Duration::from_secs(10),
        || children.iter().all(|pid| !is_alive(*pid)).then_some(()),
    );

    assert_comes_back(dir.path(), &before).await;
}

#[test]
fn a_model_file_of_another_version_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model.json");
    std::fs::write(&model, r#"{"version": 999, "groups": {}}"#).unwrap();
    let mut child = Command::new(BINARY)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = poll_blocking(Duration::from_secs(30), || child.try_wait().ok().flatten());
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server started on a model.json of version 999");
    };
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success(), "a non-zero exit");
    assert!(
        stderr.contains(
            "model.json cannot be loaded: it has version 999, and this server reads only version 1"
        ),
        "a clear message: {stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("listening"),
        "never serves"
    );
    assert_eq!(
        std::fs::read_to_string(&model).unwrap(),
        r#"{"version": 999, "groups": {}}"#,
        "the file is left as it was"
    );
}

#[tokio::test]
async fn a_fixture_group_the_data_dir_holds_is_kept_not_created_again() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures.json");
    std::fs::write(
        &fixtures,
        r#"{"ReplicationGroups": [{"ReplicationGroupId": "keep", "ReplicationGroupDescription": "d", "NumCacheClusters": 1}]}"#,
    )
    .unwrap();
    let data = dir.path().join("data");
    let args = [
        "--data-dir",
        data.to_str().unwrap(),
        "--fixtures",
        fixtures.to_str().unwrap(),
    ];
    let mut server = TestServer::start_with(&args);
    let before = wait_available(&server.sdk(), "keep").await;
    redis_cli(endpoints(&before).0, &["SET", "fixture", "kept"]);
    assert!(server.stop());

    let server = TestServer::start_with(&args);
    let after = wait_available(&server.sdk(), "keep").await;
    assert_eq!(endpoints(&after).0, endpoints(&before).0);
    assert_eq!(redis_cli(endpoints(&after).0, &["GET", "fixture"]), "kept");
    assert!(
        server
            .log_text()
            .contains("fixture group kept from the data dir")
    );
}
