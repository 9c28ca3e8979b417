//! Real-client integration tests: the official boto3 SDK and the `aws` CLI (v1) drive the
//! binary through create, describe, paging, errors, TestFailover, DescribeEvents and delete,
//! checking the data path with `redis-cli`. The flows live in tests/python/*.py so they can
//! also be run by hand against a running server (ELASTICACHE_ENDPOINT=http://127.0.0.1:PORT).

mod support;

use std::time::Duration;

use support::{TestServer, live_children, poll_blocking, repo_path, run_client_script, tail};

/// Starts a server, runs one client script against it, then checks that every redis-server
/// it started is gone (the script deletes all its groups) and that it stops cleanly.
fn run_flow(script: &str) {
    let mut server = TestServer::start();
    let pid = server.pid();
    let path = repo_path(script);
    let path = path.to_str().expect("utf-8 path");

    let output = run_client_script(&server, "python3", &[path]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        stdout.contains("PASS "),
        "{script} exited 0 without its PASS line:\n{stdout}"
    );

    // The script deleted every group it created: their redis-servers exit (polled, deadline).
    let gone = poll_blocking(Duration::from_secs(15), || {
        live_children(pid).is_empty().then_some(())
    });
    assert!(
        gone.is_some(),
        "redis-servers still running 15s after {script} deleted its groups: {:?}\nserver log tail:\n{}",
        live_children(pid),
        tail(&server.log_text(), 40)
    );

    let clean = server.stop();
    assert!(
        clean,
        "server did not exit successfully on SIGTERM; log tail:\n{}",
        tail(&server.log_text(), 40)
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

#[test]
fn boto3_redis_py_and_pymemcache_drive_cache_clusters() {
    run_flow("tests/python/cache_cluster_flow.py");
}

#[test]
fn boto3_drives_subnet_groups_parameter_groups_tags_and_engine_versions() {
    run_flow("tests/python/resources_flow.py");
}

#[test]
fn boto3_and_redis_py_drive_the_fault_injection_api() {
    run_flow("tests/python/faults_flow.py");
}
