//! The server's processes: shutdown by signal, SIGKILL, a missing redis-server, fixtures.

use std::net::SocketAddr;

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{
    BINARY, DEADLINE, TestServer, create_group, describe, endpoints, is_alive, live_children,
    port_accepts, repo_path, wait_until,
};

async fn all_ports_of(server: &TestServer, id: &str, nodes: i32) -> Vec<SocketAddr> {
    let group = create_group(&server.sdk(), id, nodes, nodes > 1).await;
    let (primary, reader, members) = endpoints(&group);
    members
        .iter()
        .map(|m| m.1)
        .chain([primary, reader])
        .collect()
}

#[tokio::test]
async fn sigterm_stops_every_node_and_endpoint() {
    let mut server = TestServer::start();
    let ports = all_ports_of(&server, "term", 3).await;
    let pid = server.pid();
    let nodes = live_children(pid);
    assert_eq!(nodes.len(), 3);
    assert!(server.stop(), "clean exit on SIGTERM");
    assert!(
        nodes.iter().all(|node| !is_alive(*node)),
        "every node stopped with the server"
    );
    for port in ports {
        assert!(!port_accepts(port), "port {port} closed");
    }
}

#[tokio::test]
async fn nodes_die_with_a_sigkilled_server() {
    let mut server = TestServer::start();
    let ports = all_ports_of(&server, "crash", 2).await;
    let pid = server.pid();
    server.kill_hard();
    for port in ports {
        wait_until("nodes to die with their server", DEADLINE, || async move {
            (!port_accepts(port)).then_some(())
        })
        .await;
    }
    assert!(live_children(pid).is_empty());
}

#[test]
fn a_missing_redis_server_is_reported_at_once_with_how_to_install_it() {
    let started = Instant::now();
    let output = Command::new(BINARY)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--redis-server",
            "/nonexistent/redis-server",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(started.elapsed() < Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("apt-get install -y redis-server"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "no ready line");
}

#[tokio::test]
async fn the_demo_fixture_is_available_when_the_ready_line_appears() {
    let fixture = repo_path("fixtures/demo.json");
    let server = TestServer::start_with(&["--fixtures", fixture.to_str().unwrap()]);
    let group = describe(&server.sdk(), "demo").await.expect("demo group");
    assert_eq!(group.status(), Some("available"));
    let (_, _, members) = endpoints(&group);
    let roles: Vec<&str> = members.iter().map(|m| m.2.as_str()).collect();
    assert_eq!(roles, ["primary", "replica", "replica"]);
}

#[test]
fn a_broken_fixture_stops_the_server_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        r#"{"ReplicationGroups": [{"ReplicationGroupId": "x", "NumCacheClusters": 1}]}"#,
    )
    .unwrap();
    let output = Command::new(BINARY)
        .args([
            "--listen",
            "127.0.0.1:0",
            "--fixtures",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ReplicationGroupDescription"), "{stderr}");
}

#[tokio::test]
async fn a_node_that_cannot_start_fails_the_create_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("redis-server");
    // Passes the startup version check, then fails like a broken install would.
    std::fs::write(&fake, "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'Redis server v=7.0.15 sha=0'; exit 0; }\necho 'FATAL: broken install (test double)'\nexit 1\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let server = TestServer::start_with(&["--redis-server", fake.to_str().unwrap()]);
    let client = server.sdk();
    client
        .create_replication_group()
        .replication_group_id("broken")
        .replication_group_description("d")
        .send()
        .await
        .unwrap();
    wait_until("create-failed", DEADLINE, || async {
        describe(&client, "broken")
            .await
            .filter(|g| g.status() == Some("create-failed"))
    })
    .await;
    let events = crate::support::events_for(&client, "broken").await;
    let message = events[0].message().unwrap();
    assert!(
        message.starts_with("Failed to create replication group: node broken-001 could not start"),
        "{message}"
    );
    assert!(
        message.contains("broken install (test double)"),
        "the node's own output is quoted: {message}"
    );
    client
        .delete_replication_group()
        .replication_group_id("broken")
        .send()
        .await
        .unwrap();
    crate::support::wait_deleted(&client, "broken").await;
}
