//! Real-client integration tests: the official boto3 SDK and the `aws` CLI (v1) drive the
//! binary through create, describe, paging, errors, TestFailover, DescribeEvents and delete,
//! checking the data path with `redis-cli`; the boto3 and cache cluster flows run on redis and
//! on valkey nodes (`ELASTICACHE_TEST_ENGINE`). The flows live in tests/python/*.py so they can
//! also be run by hand against a running server (ELASTICACHE_ENDPOINT=http://127.0.0.1:PORT).

mod support;

use std::time::Duration;

use support::{
    TestServer, engine_available, live_children, poll_blocking, repo_path, run_client_script_with,
    tail,
};

/// One client script run against a fresh server: the server's flags, the script's arguments
/// and environment, and the engine its groups use (`ELASTICACHE_TEST_ENGINE`).
struct Flow<'a> {
    script: &'a str,
    engine: &'a str,
    server_args: Vec<&'a str>,
    script_args: Vec<&'a str>,
    env: Vec<(&'a str, &'a str)>,
}

impl<'a> Flow<'a> {
    fn new(script: &'a str) -> Self {
        Self {
            script,
            engine: "redis",
            server_args: vec![],
            script_args: vec![],
            env: vec![],
        }
    }

    fn on(self, engine: &'a str) -> Self {
        Self { engine, ..self }
    }

    fn server_args(self, server_args: &[&'a str]) -> Self {
        let server_args = server_args.to_vec();
        Self {
            server_args,
            ..self
        }
    }

    fn env(self, env: &[(&'a str, &'a str)]) -> Self {
        let env = env.to_vec();
        Self { env, ..self }
    }

    /// Starts the server, runs the script (it must print its `PASS ` line), then checks that
    /// every node the server started is gone (the script deletes all its groups) and that the
    /// server stops cleanly on SIGTERM. Skipped on valkey without a valkey-server (outside ./dev).
    fn run(self) {
        if !engine_available(self.engine) {
            return;
        }
        let mut server = TestServer::start_with(&self.server_args);
        let pid = server.pid();
        let path = repo_path(self.script);
        let mut args = vec![path.to_str().expect("utf-8 path")];
        args.extend_from_slice(&self.script_args);
        let mut env = vec![("ELASTICACHE_TEST_ENGINE", self.engine)];
        env.extend_from_slice(&self.env);
        let output = run_client_script_with(&server, "python3", &args, &env);
        let stdout = String::from_utf8_lossy(&output.stdout);
        println!("{stdout}");
        let script = self.script;
        assert!(
            stdout.contains("PASS "),
            "{script} exited 0 without its PASS line:\n{stdout}"
        );

        // The script deleted every group it created: their nodes exit (polled, deadline).
        let gone = poll_blocking(Duration::from_secs(15), || {
            live_children(pid).is_empty().then_some(())
        });
        assert!(
            gone.is_some(),
            "nodes still running 15s after {script} deleted its groups: {:?}\nserver log tail:\n{}",
            live_children(pid),
            tail(&server.log_text(), 40)
        );
        assert!(
            server.stop(),
            "server did not exit successfully on SIGTERM; log tail:\n{}",
            tail(&server.log_text(), 40)
        );
    }
}

fn run_flow(script: &str) {
    Flow::new(script).run();
}

fn run_flow_on(script: &str, engine: &str) {
    Flow::new(script).on(engine).run();
}

#[test]
fn boto3_drives_a_full_lifecycle_and_failover() {
    run_flow("tests/python/boto3_flow.py");
}

#[test]
fn boto3_drives_a_full_lifecycle_and_failover_on_valkey() {
    run_flow_on("tests/python/boto3_flow.py", "valkey");
}

#[test]
fn aws_cli_drives_a_full_lifecycle_and_failover() {
    run_flow("tests/python/cli_flow.py");
}

/// The same on valkey nodes; its AUTH token group needs TLS, so a valkey built with TLS.
#[test]
fn aws_cli_drives_a_full_lifecycle_and_failover_on_valkey() {
    if support::valkey_tls_version().is_some() {
        run_flow_on("tests/python/cli_flow.py", "valkey");
    }
}

#[test]
fn boto3_redis_py_and_pymemcache_drive_cache_clusters() {
    run_flow("tests/python/cache_cluster_flow.py");
}

#[test]
fn boto3_valkey_py_and_pymemcache_drive_cache_clusters_on_valkey() {
    run_flow_on("tests/python/cache_cluster_flow.py", "valkey");
}

/// Issue 20 item 5: every input member of every implemented action, a valid value's effect and
/// an invalid value's error (tests/python/member_table.py and its tables).
#[test]
fn every_input_member_of_the_implemented_actions_has_its_effect_or_its_error() {
    // DescribeSnapshots' paging rows need more snapshots than the default quota (20) allows.
    Flow::new("tests/python/member_table.py")
        .server_args(&["--snapshot-quota", "40"])
        .run();
}

#[test]
fn boto3_drives_subnet_groups_parameter_groups_tags_and_engine_versions() {
    run_flow("tests/python/resources_flow.py");
}

/// Snapshots and restores (tests/python/snapshot_flow.py): the server keeps its files in a data
/// dir the script is told of, so it can read the exported objects and restore from them.
fn run_snapshot_flow(engine: &str) {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let data = data_dir.path().to_str().expect("utf-8 path");
    let server_args = [
        "--data-dir",
        data,
        "--snapshot-quota",
        "30",
        "--time-scale",
        "0.00005",
    ];
    let mut flow = Flow::new("tests/python/snapshot_flow.py")
        .on(engine)
        .server_args(&server_args);
    flow.script_args = vec![data];
    flow.run();
}

#[test]
fn boto3_and_redis_py_snapshot_and_restore_groups() {
    run_snapshot_flow("redis");
}

#[test]
fn boto3_and_redis_py_snapshot_and_restore_groups_on_valkey() {
    run_snapshot_flow("valkey");
}

/// Snapshots of standalone cache clusters (tests/python/cluster_snapshot_flow.py), with days of
/// automatic snapshots sped up as for groups.
fn run_cluster_snapshot_flow(engine: &str) {
    Flow::new("tests/python/cluster_snapshot_flow.py")
        .on(engine)
        .server_args(&["--time-scale", "0.00005"])
        .run();
}

#[test]
fn boto3_and_redis_py_snapshot_and_restore_cache_clusters() {
    run_cluster_snapshot_flow("redis");
}

#[test]
fn boto3_and_redis_py_snapshot_and_restore_cache_clusters_on_valkey() {
    run_cluster_snapshot_flow("valkey");
}

#[test]
fn boto3_and_redis_py_drive_tls_in_transit() {
    run_flow("tests/python/tls_flow.py");
}

/// The same flow on valkey nodes: those built with TLS (./dev builds third_party/valkey); the
/// group created plaintext and migrated names that build's version, the TLS ones none.
#[test]
fn boto3_and_redis_py_drive_tls_in_transit_on_valkey() {
    let Some(version) = support::valkey_tls_version() else {
        return;
    };
    let env = [("ELASTICACHE_TEST_PLAINTEXT_VERSION", version.as_str())];
    Flow::new("tests/python/tls_flow.py")
        .on("valkey")
        .env(&env)
        .run();
}

#[test]
fn boto3_and_redis_py_migrate_a_cluster_mode_group_to_tls_and_back() {
    run_flow("tests/python/tls_cluster_flow.py");
}

/// The same on valkey nodes built with TLS (the group names that build's version).
#[test]
fn boto3_and_redis_py_migrate_a_valkey_cluster_mode_group_to_tls_and_back() {
    let Some(version) = support::valkey_tls_version() else {
        return;
    };
    let env = [("ELASTICACHE_TEST_PLAINTEXT_VERSION", version.as_str())];
    Flow::new("tests/python/tls_cluster_flow.py")
        .on("valkey")
        .env(&env)
        .run();
}

#[test]
fn boto3_and_redis_py_drive_the_fault_injection_api() {
    run_flow("tests/python/faults_flow.py");
}

#[test]
fn boto3_and_redis_py_drive_the_fault_injection_api_on_valkey() {
    run_flow_on("tests/python/faults_flow.py", "valkey");
}

/// The copyable example examples/failover-retry/: an application with a redis-py retry policy
/// keeps writing through a TestFailover under the aws timing profile and endpoint behaviour
/// (promotion after 1.2 s, the old primary back as a replica 1.6 s later, a DNS TTL of 5 s).
/// The endpoint refuses while the primary is down and gives READONLY while the TTL still points
/// at the recovered old primary, so the application must have seen both, and lost nothing.
#[test]
fn the_failover_retry_example_survives_refused_and_readonly_windows() {
    run_failover_retry_example("python");
}

/// The same with the example's ioredis writer (examples/failover-retry/node/): ioredis from
/// `npm install` in that directory or on NODE_PATH (./dev installs it into .venv/node). Without
/// it the test is skipped with a line saying so, except under `./dev test`
/// (`ELASTICACHE_LOCAL_REQUIRE_NODE_CLIENTS`), where it fails.
#[test]
fn the_failover_retry_example_survives_refused_and_readonly_windows_with_ioredis() {
    let example = repo_path("examples/failover-retry/node");
    let resolves = std::process::Command::new("node")
        .args(["-e", "require.resolve('ioredis')"])
        .current_dir(&example)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !resolves {
        let required = std::env::var_os("ELASTICACHE_LOCAL_REQUIRE_NODE_CLIENTS")
            .is_some_and(|v| !v.is_empty() && v != "0");
        assert!(
            !required,
            "ioredis does not resolve from {} (NODE_PATH), and ELASTICACHE_LOCAL_REQUIRE_NODE_CLIENTS is set: ./dev installs it",
            example.display()
        );
        eprintln!("SKIPPED: no ioredis (run `npm install` in examples/failover-retry/node)");
        return;
    }
    run_failover_retry_example("node");
}

/// Runs examples/failover-retry/failover_retry.py with its `app` writer (APP=python|node).
fn run_failover_retry_example(app: &str) {
    let mut server = TestServer::start_with(&[
        "--timing-profile",
        "aws",
        "--time-scale",
        "0.02",
        "--dns-ttl-ms",
        "250000",
        "--access-log",
        "off",
    ]);
    let pid = server.pid();
    let path = repo_path("examples/failover-retry/failover_retry.py");
    let env = [("APP", app)];
    let output = run_client_script_with(&server, "python3", &[path.to_str().unwrap()], &env);
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        stdout.contains(&format!("PASS the {app} application")),
        "no PASS line:\n{stdout}"
    );
    let summary = stdout
        .lines()
        .find_map(|l| l.strip_prefix("SUMMARY "))
        .unwrap_or_else(|| panic!("no SUMMARY line:\n{stdout}"));
    let field = |name: &str| -> f64 {
        summary
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name} in {summary}"))
            .parse()
            .unwrap()
    };
    assert_eq!(field("lost"), 0.0, "{summary}");
    assert!(field("writes") > 100.0, "{summary}");
    assert!(
        field("refused_errors") >= 1.0,
        "no refused window: {summary}"
    );
    assert!(
        field("readonly_errors") >= 1.0,
        "no READONLY window: {summary}"
    );
    let gone = poll_blocking(Duration::from_secs(15), || {
        live_children(pid).is_empty().then_some(())
    });
    assert!(
        gone.is_some(),
        "redis-servers left: {:?}",
        live_children(pid)
    );
    assert!(server.stop(), "server did not exit cleanly");
}

#[test]
fn boto3_and_redis_py_cluster_client_drive_online_resharding() {
    run_flow("tests/python/reshard_flow.py");
}

#[test]
fn boto3_and_redis_py_cluster_client_drive_replica_counts_per_shard() {
    run_flow("tests/python/replica_flow.py");
}
