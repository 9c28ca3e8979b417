//! Real-client integration tests: the official boto3 SDK and the `aws` CLI (v1) drive the
//! binary through create, describe, paging, errors, TestFailover, DescribeEvents and delete,
//! checking the data path with `redis-cli`. The flows live in tests/python/*.py so they can
//! also be run by hand against a running server (ELASTICACHE_ENDPOINT=http://127.0.0.1:PORT).

mod common;

use std::time::{Duration, Instant};

use common::TestServer;

/// Starts a server, runs one client script against it, then checks that every redis-server
/// it started is gone (the script deletes all its groups) and that it stops cleanly.
fn run_flow(script: &str) {
    let mut server = TestServer::start();
    let pid = server.pid();
    let path = common::repo_path(script);
    let path = path.to_str().expect("utf-8 path");

    let output = common::run_client_script(&server, "python3", &[path]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        stdout.contains("PASS "),
        "{script} exited 0 without its PASS line:\n{stdout}"
    );

    // The script deleted every group it created: their redis-servers exit (polled, deadline).
    let deadline = Instant::now() + Duration::from_secs(15);
    while !common::live_children(pid).is_empty() {
        assert!(
            Instant::now() < deadline,
            "redis-servers still running 15s after {script} deleted its groups: {:?}\nserver log tail:\n{}",
            common::live_children(pid),
            common::tail(&server.log_text(), 40)
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    let clean = server.stop();
    assert!(
        clean,
        "server did not exit successfully on SIGTERM; log tail:\n{}",
        common::tail(&server.log_text(), 40)
    );
}

#[test]
fn boto3_drives_a_full_lifecycle_and_failover() {
    run_flow("tests/python/boto3_flow.py");
}

#[test]
fn aws_cli_drives_a_full_lifecycle_and_failover() {
    run_flow("tests/python/cli_flow.py");
}
