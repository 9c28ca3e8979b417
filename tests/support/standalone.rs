//! A redis-server of the test's own, outside any server: started on a free loopback port in a
//! temp dir without persistence, killed and reaped on drop, and (Linux) sent SIGKILL by the
//! kernel if the test process dies first. For checks against redis itself (what a node would
//! accept), not against the server's nodes.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::poll_blocking;

pub struct StandaloneRedis {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for StandaloneRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl StandaloneRedis {
    /// Starts the `redis-server` on PATH (or `ELASTICACHE_LOCAL_REDIS_SERVER`) and waits until
    /// it answers PING. A port taken between probe and bind makes redis exit: then another port
    /// is tried.
    pub fn start() -> (Self, redis::Connection) {
        for _ in 0..3 {
            let mut server = Self::spawn(free_loopback_port());
            let answered = poll_blocking(Duration::from_secs(10), || {
                if server.child.try_wait().unwrap().is_some() {
                    return Some(None); // exited: the port was taken
                }
                let url = format!("redis://127.0.0.1:{}/", server.port);
                let mut con = redis::Client::open(url).unwrap().get_connection().ok()?;
                redis::cmd("PING").query::<String>(&mut con).ok()?;
                Some(Some(con))
            });
            if let Some(Some(con)) = answered {
                return (server, con);
            }
        }
        panic!("redis-server did not start");
    }

    fn spawn(port: u16) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let binary = std::env::var("ELASTICACHE_LOCAL_REDIS_SERVER")
            .unwrap_or_else(|_| "redis-server".into());
        let mut command = Command::new(binary);
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .arg("--dir")
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::process::CommandExt;
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
        }
        let child = command.spawn().expect("start redis-server");
        Self {
            child,
            port,
            _dir: dir,
        }
    }
}

fn free_loopback_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}
