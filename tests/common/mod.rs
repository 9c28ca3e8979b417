//! The shared test harness: start the real binary on port 0, talk to it with real clients,
//! and wait by polling real state against a deadline.
#![allow(dead_code)] // each test binary uses a different part of the harness

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_elasticache::config::{BehaviorVersion, Credentials, Region};

pub const BINARY: &str = env!("CARGO_BIN_EXE_elasticache-local");

/// A running server, stopped with SIGTERM (then SIGKILL) when dropped.
pub struct TestServer {
    child: Child,
    pub url: String,
    pub log: tempfile::NamedTempFile,
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts the binary with `--listen 127.0.0.1:0` and `args`; waits for the ready line.
    pub fn start_with(args: &[&str]) -> Self {
        let log = tempfile::NamedTempFile::new().expect("temp log");
        let mut child = Command::new(BINARY)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("log handle"))
            .spawn()
            .expect("start elasticache-local");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let line = match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "no ready line; log:\n{}",
                    std::fs::read_to_string(log.path()).unwrap_or_default()
                );
            }
        };
        let url = line
            .strip_prefix("elasticache-local listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Self { child, url, log }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// An aws-sdk-elasticache client for this server with test credentials.
    pub fn sdk(&self) -> aws_sdk_elasticache::Client {
        self.sdk_with_key("AKIDTEST")
    }

    /// A client signing with another access key: a different account for the quota.
    pub fn sdk_with_key(&self, access_key: &str) -> aws_sdk_elasticache::Client {
        self.sdk_with_credentials(access_key, "secret")
    }

    pub fn sdk_with_credentials(
        &self,
        access_key: &str,
        secret: &str,
    ) -> aws_sdk_elasticache::Client {
        let config = aws_sdk_elasticache::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
            .endpoint_url(&self.url)
            .build();
        aws_sdk_elasticache::Client::from_conf(config)
    }

    /// SIGTERM and wait (bounded); returns the exit status success.
    pub fn stop(&mut self) -> bool {
        signal(self.child.id(), libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }

    /// SIGKILL, as a crash or a CI runner's timeout would.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Polling describes would drown the lines that explain the failure.
            let log = self.log_text();
            let telling: Vec<&str> = log
                .lines()
                .filter(|l| !l.contains("action=DescribeReplicationGroups"))
                .collect();
            eprintln!(
                "--- server log ({}), describes left out ---\n{}",
                self.url,
                tail(&telling.join("\n"), 80)
            );
        }
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

pub fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) on a pid this test started.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

/// Polls `probe` every few milliseconds until it returns `Some`, or panics with `what`.
pub async fn wait_until<T, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let until = Instant::now() + deadline;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < until,
            "timed out after {deadline:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Runs `redis-cli -p PORT ARGS...` and returns its stdout (errors included, as redis-cli
/// prints them).
pub fn redis_cli(port: u16, args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .args(args)
        .output()
        .expect("redis-cli runs");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// The value of one `INFO replication` field on a node.
pub fn replication_field(port: u16, field: &str) -> Option<String> {
    redis_cli(port, &["INFO", "replication"])
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix(&format!("{field}:"))
                .map(str::to_string)
        })
}

pub fn port_accepts(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// Live (not zombie) redis-server processes whose parent is `pid`.
pub fn live_children(pid: u32) -> Vec<u32> {
    elasticache_local::engine::process::live_redis_children(pid)
}

/// True while `pid` runs (a zombie, dead but not yet reaped, counts as gone).
pub fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            stat.rsplit_once(") ")
                .map(|(_, rest)| !rest.starts_with('Z'))
        })
        .unwrap_or(false)
}

/// Runs a client script (python3, aws) with the server's URL and test credentials; panics with
/// its output if it fails.
pub fn run_client_script(server: &TestServer, program: &str, args: &[&str]) -> Output {
    let output = Command::new(program)
        .args(args)
        .env("ELASTICACHE_ENDPOINT", &server.url)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}\nserver log tail:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        tail(&server.log_text(), 40)
    );
    output
}

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The pid of the live redis-server listening on `port` (its process title is
/// `[/path/to/]redis-server 127.0.0.1:PORT`, plus ` [cluster]` in cluster mode).
pub fn redis_pid_on(port: u16) -> Option<u32> {
    let title = format!("redis-server 127.0.0.1:{port}");
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let cmdline = String::from_utf8_lossy(&cmdline);
            let cmdline = cmdline.trim_end_matches('\0');
            // Cluster nodes add ` [cluster]` to the title.
            let name = cmdline.split('/').next_back().unwrap_or_default();
            let matches = name == title || name.strip_suffix(" [cluster]") == Some(title.as_str());
            (matches && is_alive(pid)).then_some(pid)
        })
}
