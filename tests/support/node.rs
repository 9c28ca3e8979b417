//! The Redis nodes behind a group, reached the way applications reach them: through the `redis`
//! crate. `redis-cli` stays for the checks where the CLI itself is the client under test (what
//! it prints, how it authenticates with `-a`).

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redis::IntoConnectionInfo;

/// How long one reply may take before the connection counts as broken.
const REPLY_TIMEOUT: Duration = Duration::from_secs(15);

/// A blocking connection to the node (or endpoint) on `port`, authenticated with `token`.
pub fn connect(port: u16, token: Option<&str>) -> redis::RedisResult<redis::Connection> {
    let mut info = redis::RedisConnectionInfo::default();
    if let Some(token) = token {
        info = info.set_password(token);
    }
    let address = redis::ConnectionAddr::Tcp("127.0.0.1".into(), port);
    let client = redis::Client::open(address.into_connection_info()?.set_redis_settings(info))?;
    let connection = client.get_connection_with_timeout(REPLY_TIMEOUT)?;
    connection.set_read_timeout(Some(REPLY_TIMEOUT))?;
    connection.set_write_timeout(Some(REPLY_TIMEOUT))?;
    Ok(connection)
}

/// `AUTH token` on a fresh, unauthenticated connection: the node's answer.
pub fn auth(port: u16, token: &str) -> redis::RedisResult<String> {
    let mut connection = connect(port, None)?;
    redis::cmd("AUTH").arg(token).query(&mut connection)
}

/// True when the node refused a password: `WRONGPASS`, or an error that calls it invalid.
pub fn is_refused(answer: &redis::RedisResult<String>) -> bool {
    matches!(answer, Err(error)
        if error.code() == Some("WRONGPASS")
            || error.detail().is_some_and(|d| d.contains("invalid")))
}

/// The value of one `INFO replication` field on a node.
pub fn replication_field(port: u16, field: &str) -> Option<String> {
    replication_field_auth(port, None, field)
}

/// One `INFO replication` field read with a password; `None` when the node does not answer.
pub fn replication_field_auth(port: u16, token: Option<&str>, field: &str) -> Option<String> {
    let mut connection = connect(port, token).ok()?;
    let info: String = redis::cmd("INFO")
        .arg("replication")
        .query(&mut connection)
        .ok()?;
    info.lines().find_map(|line| {
        line.trim()
            .strip_prefix(&format!("{field}:"))
            .map(str::to_string)
    })
}

/// What the node on `port` says it runs in `INFO server`: (`redis`, `7.0.15`) or (`valkey`,
/// `8.1.8`; valkey also reports a `redis_version` it is compatible with, which is not its own).
pub fn node_engine(port: u16, token: Option<&str>) -> (String, String) {
    let mut connection = connect(port, token).expect("connect to the node");
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query(&mut connection)
        .expect("INFO server");
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.trim().strip_prefix(&format!("{name}:")))
            .map(str::to_string)
    };
    match field("server_name").as_deref() {
        Some("valkey") => ("valkey".into(), field("valkey_version").unwrap_or_default()),
        _ => ("redis".into(), field("redis_version").unwrap_or_default()),
    }
}

/// Runs `redis-cli -p PORT ARGS...` and returns its stdout (errors included, as redis-cli
/// prints them).
pub fn redis_cli(port: u16, args: &[&str]) -> String {
    cli(port, None, args).0
}

/// `redis-cli -p PORT [-a TOKEN] ARGS...`: (stdout, stderr), trimmed.
pub fn cli(port: u16, token: Option<&str>, args: &[&str]) -> (String, String) {
    let mut command = Command::new("redis-cli");
    command.args(["-p", &port.to_string()]);
    if let Some(token) = token {
        command.args(["--no-auth-warning", "-a", token]);
    }
    let output = command.args(args).output().expect("redis-cli runs");
    (
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

/// A thread doing `SET <prefix><i> <i>` through `port` in a loop. On any error (connection closed,
/// READONLY, a timeout) it reconnects and retries the same key until it is acknowledged.
pub struct Writer {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
    errors: Arc<AtomicUsize>,
    /// The longest time between two acknowledgements so far, in microseconds.
    longest_gap_us: Arc<AtomicU64>,
    thread: JoinHandle<Vec<usize>>,
}

impl Writer {
    pub fn start(port: u16, prefix: &'static str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(AtomicUsize::new(0));
        let longest_gap_us = Arc::new(AtomicU64::new(0));
        let thread = {
            let (stop, acknowledged, errors) = (stop.clone(), acknowledged.clone(), errors.clone());
            let longest_gap_us = longest_gap_us.clone();
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let mut last_ack: Option<Instant> = None;
                let mut connection: Option<redis::Connection> = None;
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let Some(open) = connection.as_mut() else {
                        connection = connect(port, None).ok();
                        if connection.is_none() {
                            errors.fetch_add(1, Ordering::Relaxed);
                            std::thread::yield_now();
                        }
                        continue;
                    };
                    let reply: redis::RedisResult<String> = redis::cmd("SET")
                        .arg(format!("{prefix}{i}"))
                        .arg(i.to_string())
                        .query(open);
                    match reply {
                        Ok(ok) if ok == "OK" => {
                            let now = Instant::now();
                            if let Some(last) = last_ack {
                                let gap = (now - last).as_micros() as u64;
                                longest_gap_us.fetch_max(gap, Ordering::Relaxed);
                            }
                            last_ack = Some(now);
                            acked.push(i);
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                            i += 1;
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            connection = None; // reconnect, retry the same key
                        }
                    }
                }
                acked
            })
        };
        Self {
            stop,
            acknowledged,
            errors,
            longest_gap_us,
            thread,
        }
    }

    /// The longest time between two acknowledged writes so far.
    pub fn longest_gap(&self) -> Duration {
        Duration::from_micros(self.longest_gap_us.load(Ordering::Relaxed))
    }

    pub fn acknowledged(&self) -> usize {
        self.acknowledged.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }

    /// Stops the writer; returns every acknowledged index.
    pub fn finish(self) -> Vec<usize> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("writer thread")
    }
}

/// `redis-cli PING`, with or without `-a token`: (stdout, stderr).
pub fn ping(port: u16, token: Option<&str>) -> (String, String) {
    cli(port, token, &["PING"])
}

/// Asserts `INFO replication` on the node on `port`, one `(field, value)` row at a time.
pub fn assert_replication(port: u16, what: &str, expected: &[(&str, &str)]) {
    for (field, value) in expected {
        assert_eq!(
            replication_field(port, field).as_deref(),
            Some(*value),
            "{what}: {field} on port {port}"
        );
    }
}

/// The private name this server run gives a restricted `command` (`CONFIG`, `SAVE`, ...), read
/// as an operator on the machine could: from the renaming file in the dir of the node on
/// `node_port` (redis-server runs in its dir). Every node of a run shares the names.
pub fn private_command(node_port: u16, command: &str) -> String {
    let pid = super::process::redis_pid_on(node_port)
        .unwrap_or_else(|| panic!("no redis-server on port {node_port}"));
    let file = std::path::Path::new(&format!("/proc/{pid}/cwd")).join("private.conf");
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    text.lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            let matches = words.next() == Some("rename-command")
                && words
                    .next()
                    .is_some_and(|c| c.eq_ignore_ascii_case(command));
            matches.then(|| words.next().unwrap_or_default().to_string())
        })
        .unwrap_or_else(|| panic!("{command} is not renamed in {}", file.display()))
}

/// `args` on `port` (a node, or an endpoint when `node_port` names one of its group's nodes)
/// through redis-cli, the restricted command in `args[0]` sent under its private name.
pub fn admin_cli(
    port: u16,
    node_port: u16,
    token: Option<&str>,
    args: &[&str],
) -> (String, String) {
    let private = private_command(node_port, args[0]);
    let mut renamed = vec![private.as_str()];
    renamed.extend(&args[1..]);
    cli(port, token, &renamed)
}
