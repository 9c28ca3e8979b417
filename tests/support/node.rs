//! The Redis nodes behind a group, reached the way applications reach them: through the `redis`
//! crate. `redis-cli` stays for the checks where the CLI itself is the client under test (what
//! it prints, how it authenticates with `-a`).

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use redis::IntoConnectionInfo;

/// How long one reply may take before the connection counts as broken.
const REPLY_TIMEOUT: Duration = Duration::from_secs(15);

/// Where a test reaches a node or an endpoint: the address the API answered with (every node
/// and endpoint has its own, all on the port asked for), or a bare port on 127.0.0.1 (a
/// server the test started itself, or a group on `--node-addresses shared`).
pub trait At: Copy + std::fmt::Debug + Send + 'static {
    fn at(self) -> SocketAddr;
}

impl At for SocketAddr {
    fn at(self) -> SocketAddr {
        self
    }
}

impl At for u16 {
    fn at(self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self))
    }
}

/// The address of an endpoint in an SDK answer.
pub fn address_of_endpoint(endpoint: &aws_sdk_elasticache::types::Endpoint) -> SocketAddr {
    let ip = endpoint.address().expect("endpoint address");
    let port = endpoint.port().expect("endpoint port") as u16;
    SocketAddr::new(ip.parse().expect("an IP address"), port)
}

/// The `INFO replication` rows that say a replica follows `primary`.
pub fn following(primary: impl At) -> [(&'static str, String); 2] {
    let primary = primary.at();
    [
        ("master_host", primary.ip().to_string()),
        ("master_port", primary.port().to_string()),
    ]
}

/// A blocking connection to the node (or endpoint) at `at`, authenticated with `token`.
pub fn connect(at: impl At, token: Option<&str>) -> redis::RedisResult<redis::Connection> {
    let mut info = redis::RedisConnectionInfo::default();
    if let Some(token) = token {
        info = info.set_password(token);
    }
    let at = at.at();
    let address = redis::ConnectionAddr::Tcp(at.ip().to_string(), at.port());
    let client = redis::Client::open(address.into_connection_info()?.set_redis_settings(info))?;
    let connection = client.get_connection_with_timeout(REPLY_TIMEOUT)?;
    connection.set_read_timeout(Some(REPLY_TIMEOUT))?;
    connection.set_write_timeout(Some(REPLY_TIMEOUT))?;
    Ok(connection)
}

/// `AUTH token` on a fresh, unauthenticated connection: the node's answer.
pub fn auth(at: impl At, token: &str) -> redis::RedisResult<String> {
    let mut connection = connect(at, None)?;
    redis::cmd("AUTH").arg(token).query(&mut connection)
}

/// True when the node refused a password: `WRONGPASS`, or an error that calls it invalid.
pub fn is_refused(answer: &redis::RedisResult<String>) -> bool {
    matches!(answer, Err(error)
        if error.code() == Some("WRONGPASS")
            || error.detail().is_some_and(|d| d.contains("invalid")))
}

/// The value of one `INFO replication` field on a node.
pub fn replication_field(at: impl At, field: &str) -> Option<String> {
    replication_field_auth(at, None, field)
}

/// One `INFO replication` field read with a password; `None` when the node does not answer.
pub fn replication_field_auth(at: impl At, token: Option<&str>, field: &str) -> Option<String> {
    let mut connection = connect(at, token).ok()?;
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

/// Runs `redis-cli -h HOST -p PORT ARGS...` and returns its stdout (errors included, as
/// redis-cli prints them).
pub fn redis_cli(at: impl At, args: &[&str]) -> String {
    cli(at, None, args).0
}

/// `redis-cli -h HOST -p PORT [-a TOKEN] ARGS...`: (stdout, stderr), trimmed.
pub fn cli(at: impl At, token: Option<&str>, args: &[&str]) -> (String, String) {
    let at = at.at();
    let mut command = Command::new("redis-cli");
    command.args(["-h", &at.ip().to_string(), "-p", &at.port().to_string()]);
    if let Some(token) = token {
        command.args(["--no-auth-warning", "-a", token]);
    }
    let output = command.args(args).output().expect("redis-cli runs");
    (
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

/// A thread doing `SET <prefix><i> <i>` through `at` in a loop. On any error (connection closed,
/// READONLY, a timeout) it reconnects and retries the same key until it is acknowledged.
pub struct Writer {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
    errors: Arc<AtomicUsize>,
    thread: JoinHandle<Vec<usize>>,
}

impl Writer {
    pub fn start(at: impl At, prefix: &'static str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, acknowledged, errors) = (stop.clone(), acknowledged.clone(), errors.clone());
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let mut connection: Option<redis::Connection> = None;
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let Some(open) = connection.as_mut() else {
                        connection = connect(at, None).ok();
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
            thread,
        }
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
pub fn ping(at: impl At, token: Option<&str>) -> (String, String) {
    cli(at, token, &["PING"])
}

/// Asserts `INFO replication` on the node at `at`, one `(field, value)` row at a time.
pub fn assert_replication(at: impl At, what: &str, expected: &[(&str, &str)]) {
    for (field, value) in expected {
        assert_eq!(
            replication_field(at, field).as_deref(),
            Some(*value),
            "{what}: {field} on {at:?}"
        );
    }
}
