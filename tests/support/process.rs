//! The processes a test server owns: signals, liveness, and finding a node's pid.

/// Sends `signal` to `pid`.
pub fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) on a pid this test started.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

/// Live (not zombie) redis-server and valkey-server processes whose parent is `pid`.
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

pub fn port_accepts(at: impl super::At) -> bool {
    std::net::TcpStream::connect(at.at()).is_ok()
}

/// The pid of the live redis-server or valkey-server listening at `at` (its process title is
/// `[/path/to/]redis-server IP:PORT`, or `valkey-server ...`, plus ` [cluster]` in cluster
/// mode).
pub fn redis_pid_on(at: impl super::At) -> Option<u32> {
    let at = at.at();
    ["redis-server", "valkey-server"]
        .iter()
        .find_map(|server| pid_with_title(&format!("{server} {at}")))
}

fn pid_with_title(title: &str) -> Option<u32> {
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
            let matches = name == title || name.strip_suffix(" [cluster]") == Some(title);
            (matches && is_alive(pid)).then_some(pid)
        })
}

/// How a new connection to a node or endpoint ends within 500 ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connect {
    Accepted,
    /// Nothing listens: the node's process is down, its host is up.
    Refused,
    /// No answer to the SYN: the node's host is gone (an AZ lost power).
    TimedOut,
    Failed,
}

/// A connect to `at` bounded by 500 ms (a plain connect to a gone host hangs for minutes).
pub fn connect_outcome(at: impl super::At) -> Connect {
    let limit = std::time::Duration::from_millis(500);
    match std::net::TcpStream::connect_timeout(&at.at(), limit) {
        Ok(_) => Connect::Accepted,
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Connect::Refused,
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) =>
        {
            Connect::TimedOut
        }
        Err(_) => Connect::Failed,
    }
}

/// True when `at` answers `PING` with `PONG` on a new connection, each step bounded (unlike
/// redis-cli, whose connect to a gone host would hang).
pub fn answers_ping(at: impl super::At) -> bool {
    use std::io::{Read, Write};
    let limit = std::time::Duration::from_millis(500);
    let Ok(mut stream) = std::net::TcpStream::connect_timeout(&at.at(), limit) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(limit));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}
