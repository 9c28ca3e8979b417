//! The entire-cluster failure of the Multi-AZ guide (`../shared/spec/failure-scenarios.md`):
//! every node of a group is SIGKILLed; every node is recreated, empty, behind the same
//! endpoints, and each member's last event tells the truth: `Finished recovery`, never a
//! stale `Failed to recover ... Connection refused` for a node that runs.

use std::process::Command;
use std::time::Duration;

use crate::fd_exhaustion::{create_group, primary_port};
use crate::support::{TestServer, live_children, poll_blocking, wait_blocking};

/// (source id, message) of every cache-cluster event, newest first.
fn events(server: &TestServer) -> Vec<(String, String)> {
    let (_, _, body) = server.post(
        "/",
        "",
        "Action=DescribeEvents&Version=2015-02-02&SourceType=cache-cluster&MaxRecords=100",
    );
    body.split("<Event>")
        .skip(1)
        .filter_map(|event| {
            let field = |name: &str| {
                let open = format!("<{name}>");
                let start = event.find(&open)? + open.len();
                let end = event[start..].find('<')? + start;
                Some(event[start..end].to_string())
            };
            Some((field("SourceIdentifier")?, field("Message")?))
        })
        .collect()
}

/// Each member's node port, in member order, from `/_state`.
fn node_ports(server: &TestServer) -> Vec<u16> {
    let (_, _, state) = server.get("/_state", "");
    let json: serde_json::Value = serde_json::from_str(&state).unwrap();
    let members = json["groups"][0]["members"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    members
        .iter()
        .filter_map(|m| m["port"].as_u64())
        .map(|p| p as u16)
        .collect()
}

fn redis(port: u16, args: &[&str]) -> Option<String> {
    let output = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

#[test]
fn after_every_node_is_killed_all_are_recreated_empty_and_the_events_tell_the_truth() {
    let server = TestServer::start();
    create_group(
        &server,
        "whole",
        "&NumCacheClusters=3&AutomaticFailoverEnabled=true",
    );
    let endpoint = primary_port(&server, "whole");
    redis(endpoint, &["SET", "before", "1"]).unwrap();
    let members = ["whole-001", "whole-002", "whole-003"];

    let ports_before = node_ports(&server);
    assert_eq!(ports_before.len(), 3);
    let nodes = live_children(server.pid());
    assert_eq!(nodes.len(), 3, "three nodes run");
    for pid in &nodes {
        // SAFETY: kill(2) on a redis-server child of the server this test started.
        unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
    }

    // Every member recovered: its newest event says so, and three new nodes run.
    let mut seen = (Vec::new(), Vec::new());
    let last = poll_blocking(Duration::from_secs(90), || {
        let events = events(&server);
        let last: Vec<String> = members
            .iter()
            .map(|m| {
                events
                    .iter()
                    .find(|(source, _)| source == m)
                    .map(|(_, message)| message.clone())
                    .unwrap_or_default()
            })
            .collect();
        let fresh = live_children(server.pid());
        let done = last.iter().all(|m| m.starts_with("Finished recovery"))
            && fresh.len() == 3
            && fresh.iter().all(|p| !nodes.contains(p));
        seen = (last.clone(), fresh);
        done.then_some(last)
    })
    .unwrap_or_else(|| {
        panic!(
            "every member's recovery did not finish: newest events {:?}, nodes {:?} (killed {nodes:?})",
            seen.0, seen.1
        )
    });
    assert_eq!(last.len(), 3);
    let events = events(&server);
    for member in members {
        let stale = events
            .iter()
            .position(|(s, m)| s == member && m.starts_with("Failed to recover"));
        let finished = events
            .iter()
            .position(|(s, m)| s == member && m.starts_with("Finished recovery"));
        assert!(
            stale.is_none() || stale > finished,
            "{member}: a failure reported after its finished recovery: {events:?}"
        );
    }

    // Empty, behind the same endpoint, and replicating again.
    assert_eq!(primary_port(&server, "whole"), endpoint);
    assert_eq!(
        redis(endpoint, &["GET", "before"]).as_deref(),
        Some(""),
        "all data lost, as AWS says"
    );
    redis(endpoint, &["SET", "after", "2"]).unwrap();
    let ports = node_ports(&server);
    assert_eq!(
        ports, ports_before,
        "every node is recreated at the endpoint of the node it replaces"
    );
    for port in ports {
        wait_blocking(
            "every node to have the new write",
            Duration::from_secs(20),
            || (redis(port, &["GET", "after"]).as_deref() == Some("2")).then_some(()),
        );
    }
}
