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

pub fn port_accepts(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// The pid of the live redis-server or valkey-server listening on `port` (its process title
/// is `[/path/to/]redis-server 127.0.0.1:PORT`, or `valkey-server ...`, plus ` [cluster]` in
/// cluster mode).
pub fn redis_pid_on(port: u16) -> Option<u32> {
    ["redis-server", "valkey-server"]
        .iter()
        .find_map(|server| pid_with_title(&format!("{server} 127.0.0.1:{port}")))
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
