//! The live dashboard: the page a browser gets at `/`, the `/_state` snapshot it polls, and the
//! page itself rendered by a real headless Chromium after a failover.

#[path = "../support/mod.rs"]
mod support;

mod resources;

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use support::{
    DEADLINE, TestServer, create_group, describe, endpoints, http_get, poll_blocking,
    raw_get_without_accept, redis_pid_on, repo_path, signal, wait_for_event, wait_until,
};

const FINISHED: &str = "Finished recovery for cache nodes 0001";
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// `GET /_state`, parsed; `None` while the server does not answer it.
pub(crate) async fn dashboard_state(server: &TestServer) -> Option<Value> {
    let response = reqwest::get(format!("{}/_state", server.url)).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

pub(crate) fn group_in<'a>(state: &'a Value, id: &str) -> Option<&'a Value> {
    state["groups"].as_array()?.iter().find(|g| g["id"] == id)
}

fn members(group: &Value) -> &[Value] {
    group["members"].as_array().map_or(&[], Vec::as_slice)
}

fn member<'a>(group: &'a Value, id: &str) -> &'a Value {
    members(group)
        .iter()
        .find(|m| m["cluster_id"] == id)
        .unwrap_or_else(|| panic!("no member {id} in {group:#}"))
}

#[tokio::test]
async fn a_browser_gets_the_page_and_everything_else_still_gets_aws_errors() {
    let server = TestServer::start();

    let (status, content_type, body) = http_get(&server, "/", Some(BROWSER_ACCEPT)).await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(body.contains("<title>elasticache-local</title>"), "{body}");
    assert!(body.contains("/_state"), "the page polls the snapshot");
    assert!(
        !body.contains("src=\"http") && !body.contains("href=\"http"),
        "self-contained: nothing loaded from elsewhere"
    );

    let raw = raw_get_without_accept(&server, "/");
    let (head, body) = raw.split_once("\r\n\r\n").expect("head and body");
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("content-type: text/xml"),
        "{head}"
    );
    assert!(body.contains("<Code>MissingAction</Code>"), "{body}");

    let (status, content_type, body) = http_get(&server, "/", None).await;
    assert_eq!((status, content_type.as_str()), (400, "text/xml"));
    assert!(body.contains("<Code>MissingAction</Code>"), "{body}");

    // An API call from a browser is still an API call, and a POST never gets the page.
    let (status, content_type, body) = http_get(
        &server,
        "/?Action=DescribeReplicationGroups&Version=2015-02-02",
        Some(BROWSER_ACCEPT),
    )
    .await;
    assert_eq!((status, content_type.as_str()), (200, "text/xml"));
    assert!(body.contains("DescribeReplicationGroupsResponse"), "{body}");
    let response = reqwest::Client::new()
        .post(format!("{}/", server.url))
        .header("Accept", BROWSER_ACCEPT)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("<Code>MissingAction</Code>")
    );
}

#[tokio::test]
async fn state_shows_a_three_node_group_with_live_replication_links() {
    let server = TestServer::start();
    let empty = dashboard_state(&server).await.expect("/_state answers");
    assert_eq!(empty["groups"], serde_json::json!([]));

    let client = server.sdk();
    let group = create_group(&client, "dash", 3, true).await;
    let (primary_endpoint, reader_endpoint, sdk_members) = endpoints(&group);

    let (state, group) = wait_until(
        "/_state to show three nodes with their links up",
        DEADLINE,
        || async {
            let state = dashboard_state(&server).await?;
            let group = group_in(&state, "dash")?.clone();
            let linked =
                members(&group).len() == 3 && members(&group).iter().all(|m| m["link"] == "up");
            linked.then_some((state, group))
        },
    )
    .await;

    assert_eq!(group["status"], "available");
    assert_eq!(group["automatic_failover"], true);
    assert_eq!(group["node_group_id"], "0001");
    let address = |at: std::net::SocketAddr| serde_json::json!({"address": at.ip().to_string(), "port": at.port()});
    assert_eq!(group["primary_endpoint"], address(primary_endpoint));
    assert_eq!(group["reader_endpoint"], address(reader_endpoint));
    assert_eq!(group["primary_endpoint_port"], 6379);
    let roles: Vec<(&str, &str)> = members(&group)
        .iter()
        .map(|m| {
            (
                m["cluster_id"].as_str().unwrap(),
                m["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [
            ("dash-001", "primary"),
            ("dash-002", "replica"),
            ("dash-003", "replica")
        ]
    );
    for (cluster_id, at, _) in &sdk_members {
        let shown = member(&group, cluster_id);
        assert_eq!(shown["address"], at.ip().to_string(), "{cluster_id}");
        assert_eq!(shown["port"], at.port(), "{cluster_id}");
    }
    let primary = member(&group, "dash-001");
    let primary_port = primary["port"].as_u64().unwrap();
    let primary_host = primary["address"].as_str().unwrap().to_string();
    assert_eq!(primary["node_role"], "primary", "read from the node itself");
    assert_eq!(primary["connected_replicas"], 2);
    for replica in ["dash-002", "dash-003"] {
        let replica = member(&group, replica);
        assert_eq!(replica["node_role"], "replica");
        assert_eq!(replica["master_link_status"], "up");
        assert_eq!(replica["master_port"].as_u64(), Some(primary_port));
        assert_eq!(replica["master_host"], primary_host.as_str());
    }

    let events = state["events"].as_array().expect("events");
    assert!(!events.is_empty() && events.len() <= 50);
    assert!(
        events.iter().any(|e| e["source_id"] == "dash-001"
            && e["source_type"] == "cache-cluster"
            && e["message"] == "Cache cluster created"),
        "{events:#?}"
    );
    let dates: Vec<&str> = events.iter().map(|e| e["date"].as_str().unwrap()).collect();
    assert!(
        dates.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest first: {dates:?}"
    );
}

#[tokio::test]
async fn a_frozen_node_shows_as_down_without_stalling_the_snapshot() {
    // No health check within the test, so the frozen node stays frozen until it is resumed.
    let server = TestServer::start_with(&["--health-check-interval-ms", "3600000"]);
    let client = server.sdk();
    let group = create_group(&client, "frozen", 2, false).await;
    let (_, _, sdk_members) = endpoints(&group);
    let replica_pid = redis_pid_on(sdk_members[1].1).expect("replica pid");
    wait_until("the replica link up", DEADLINE, || async {
        let state = dashboard_state(&server).await?;
        (member(group_in(&state, "frozen")?, "frozen-002")["link"] == "up").then_some(())
    })
    .await;

    signal(replica_pid, libc::SIGSTOP);
    let asked = Instant::now();
    let state = dashboard_state(&server).await.expect("/_state answers");
    let took = asked.elapsed();
    signal(replica_pid, libc::SIGCONT);
    let group = group_in(&state, "frozen").expect("group");
    assert_eq!(member(group, "frozen-002")["link"], "down", "{group:#}");
    assert_eq!(member(group, "frozen-002")["reachable"], false);
    assert_eq!(member(group, "frozen-001")["link"], "up", "{group:#}");
    assert!(
        took < Duration::from_secs(5),
        "a frozen node delays the snapshot by its timeout only: {took:?}"
    );

    wait_until("the resumed replica back up", DEADLINE, || async {
        let state = dashboard_state(&server).await?;
        (member(group_in(&state, "frozen")?, "frozen-002")["link"] == "up").then_some(())
    })
    .await;
}

/// The `chromium` on PATH, or a failure that says how to install it.
fn chromium() -> PathBuf {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("chromium"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "chromium is not installed, and the dashboard test needs a real browser: \
                 run `apt-get install -y chromium` (Debian package) and run the test again"
            )
        })
}

/// Runs headless Chromium on `url` with `extra` arguments and a fresh profile; returns its
/// stdout. Chromium runs in its own process group, which is killed afterwards (and on
/// timeout), so no helper process outlives the test.
pub(crate) fn run_chromium(url: &str, extra: &[&str]) -> String {
    let binary = chromium();
    let profile = tempfile::tempdir().expect("profile dir");
    let stdout = tempfile::NamedTempFile::new().unwrap();
    let stderr = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(&binary)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--virtual-time-budget=3000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(stdout.reopen().unwrap())
        .stderr(stderr.reopen().unwrap())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
    let group = child.id() as libc::pid_t;
    let status = poll_blocking(Duration::from_secs(90), || {
        child.try_wait().expect("wait chromium")
    });
    // SAFETY: killpg(2) on the process group this test just created for Chromium.
    unsafe {
        libc::killpg(group, libc::SIGKILL);
    }
    let _ = child.wait();
    let errors = std::fs::read_to_string(stderr.path()).unwrap_or_default();
    match status {
        Some(status) if status.success() => {}
        Some(status) => panic!("chromium {extra:?} failed ({status}):\n{errors}"),
        None => panic!("chromium {extra:?} did not finish within 90 s:\n{errors}"),
    }
    std::fs::read_to_string(stdout.path()).unwrap_or_default()
}

fn screenshot_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_path("target"));
    target.join("dashboard-screenshot.png")
}

fn assert_png(path: &Path) {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        "{} is not a rendered PNG ({} bytes)",
        path.display(),
        bytes.len()
    );
}

#[tokio::test]
async fn headless_chromium_sees_the_new_primary_after_a_test_failover() {
    let binary = chromium(); // fail first, and clearly, when there is no browser
    let server = TestServer::start();
    let client = server.sdk();
    create_group(&client, "web", 3, true).await;
    client
        .test_failover()
        .replication_group_id("web")
        .node_group_id("0001")
        .send()
        .await
        .expect("TestFailover");
    wait_for_event(&client, "web-001", FINISHED).await;
    let after = describe(&client, "web").await.expect("group");
    let (_, _, sdk_members) = endpoints(&after);
    let new_primary = sdk_members
        .iter()
        .find(|m| m.2 == "primary")
        .map(|m| m.0.clone())
        .expect("a primary");
    assert_ne!(new_primary, "web-001", "TestFailover moved the primary");
    // The page renders what /_state says: wait until every link is up again, so the browser
    // sees the settled group.
    wait_until("every link up after the failover", DEADLINE, || async {
        let state = dashboard_state(&server).await?;
        let group = group_in(&state, "web")?;
        (member(group, &new_primary)["role"] == "primary"
            && members(group).iter().all(|m| m["link"] == "up"))
        .then_some(())
    })
    .await;

    let url = format!("{}/", server.url);
    let dom = tokio::task::spawn_blocking({
        let url = url.clone();
        move || run_chromium(&url, &["--dump-dom"])
    })
    .await
    .unwrap();
    assert!(
        dom.contains("<title>elasticache-local</title>"),
        "chromium ({}) got the page:\n{dom}",
        binary.display()
    );
    assert!(
        dom.contains(&format!(
            "data-member=\"{new_primary}\" data-role=\"primary\""
        )),
        "the new primary {new_primary} is marked primary:\n{dom}"
    );
    assert_eq!(
        dom.matches("data-role=\"primary\" data-link=").count(),
        1,
        "exactly one primary card:\n{dom}"
    );
    assert!(
        dom.contains("data-member=\"web-001\" data-role=\"replica\" data-link=\"up\""),
        "the old primary is back as a linked replica:\n{dom}"
    );
    assert!(dom.contains(FINISHED), "the timeline shows the recovery");
    assert!(
        dom.contains(&format!(
            "Failover from primary node web-001 to replica node {new_primary} completed"
        )),
        "the timeline shows the failover"
    );

    let screenshot = screenshot_path();
    std::fs::create_dir_all(screenshot.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&screenshot);
    let argument = format!("--screenshot={}", screenshot.display());
    tokio::task::spawn_blocking(move || {
        run_chromium(&url, &[argument.as_str(), "--window-size=1280,900"])
    })
    .await
    .unwrap();
    assert_png(&screenshot);
    eprintln!("dashboard screenshot: {}", screenshot.display());
}

#[tokio::test]
async fn headless_chromium_shows_a_cluster_by_shard_with_its_configuration_endpoint() {
    chromium(); // fail first, and clearly, when there is no browser
    let server = TestServer::start();
    let client = server.sdk();
    client
        .create_replication_group()
        .replication_group_id("shards")
        .replication_group_description("cluster on the dashboard")
        .num_node_groups(2)
        .replicas_per_node_group(1)
        .send()
        .await
        .expect("create a cluster-mode group");
    let group = support::wait_available(&client, "shards").await;
    let configuration = support::configuration_endpoint(&group);
    wait_until("every link up", DEADLINE, || async {
        let state = dashboard_state(&server).await?;
        let group = group_in(&state, "shards")?;
        members(group)
            .iter()
            .all(|m| m["link"] == "up")
            .then_some(())
    })
    .await;

    let url = format!("{}/", server.url);
    let dom = tokio::task::spawn_blocking(move || run_chromium(&url, &["--dump-dom"]))
        .await
        .unwrap();
    assert!(
        dom.contains("data-endpoint=\"configuration\"") && dom.contains(&configuration.to_string()),
        "the configuration endpoint is shown:\n{dom}"
    );
    assert!(
        !dom.contains("data-endpoint=\"primary\""),
        "no primary endpoint in cluster mode"
    );
    for (shard, slots) in [("0001", "0-8191"), ("0002", "8192-16383")] {
        assert!(
            dom.contains(&format!("data-node-group=\"{shard}\"")) && dom.contains(slots),
            "node group {shard} with slots {slots}:\n{dom}"
        );
        assert!(
            dom.contains(&format!(
                "data-member=\"shards-{shard}-001\" data-role=\"primary\" data-link=\"up\""
            )),
            "shard {shard}'s primary card:\n{dom}"
        );
    }
    assert_eq!(
        dom.matches("data-role=\"primary\" data-link=").count(),
        2,
        "one primary per shard"
    );
}
