//! One owned memcached process. It listens only on a Unix socket in its node's dir, never on a
//! TCP port: the node's address is the TCP port its [`super::node_proxy::NodeProxy`] holds, so
//! there is no port to pick and nothing another process can take between a probe and a bind
//! (memcached cannot report a `-p 0` choice), and a replaced node comes back at the very same
//! address. It is a `tokio::process` child (`kill_on_drop`), dies with the server through
//! `PR_SET_PDEATHSIG`, and dropping it kills and reaps it.

use std::fs::File;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::process::{Child, Command};

use crate::engine::EngineError;
use crate::engine::process::die_with_parent;

/// Where `--memcached` may be given instead; the flag wins over it, `PATH` comes last.
pub(crate) const MEMCACHED_ENV: &str = "ELASTICACHE_LOCAL_MEMCACHED";
const INSTALL_HINT: &str = "Install it (Debian/Ubuntu: `apt-get install -y memcached`; macOS: `brew install memcached`), set ELASTICACHE_LOCAL_MEMCACHED or pass --memcached PATH.";

const START_DEADLINE: Duration = Duration::from_secs(10);
const STOP_GRACE: Duration = Duration::from_secs(2);
/// `sun_path` holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// How one memcached node is started.
#[derive(Debug, Clone)]
pub(crate) struct MemcachedNodeSpec {
    pub node_id: String,
    pub memcached: PathBuf,
    pub dir: PathBuf,
    /// Item memory (`-m`), from the node type.
    pub memory_mb: u32,
}

impl MemcachedNodeSpec {
    pub fn socket_path(&self) -> PathBuf {
        self.dir.join("memcached.sock")
    }
}

pub(crate) struct MemcachedProcess {
    spec: MemcachedNodeSpec,
    child: Child,
    pid: u32,
}

impl MemcachedProcess {
    /// Spawns memcached and waits until it answers a real `version` command on its socket.
    /// A process that exits or never answers is an error quoting the end of its log.
    pub async fn start(spec: MemcachedNodeSpec) -> Result<Self, EngineError> {
        let fail = |detail: String| EngineError::start(&spec.node_id, detail);
        std::fs::create_dir_all(&spec.dir)
            .map_err(|e| fail(format!("cannot create {}: {e}", spec.dir.display())))?;
        let socket = spec.socket_path();
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            return Err(fail(format!(
                "socket path {} is longer than {MAX_SOCKET_PATH} bytes; use a shorter --data-dir",
                socket.display()
            )));
        }
        let mut command = command_for(&spec).map_err(|e| fail(e.to_string()))?;
        let child = command
            .spawn()
            .map_err(|e| fail(format!("cannot run {}: {e}", spec.memcached.display())))?;
        let pid = child.id().unwrap_or_default();
        tracing::info!(node = %spec.node_id, pid, "memcached started");
        let mut process = Self { spec, child, pid };
        process.wait_until_answering().await?;
        Ok(process)
    }

    async fn wait_until_answering(&mut self) -> Result<(), EngineError> {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(self.start_error(format!("memcached exited ({status})")));
            }
            if query_version(&self.spec.socket_path()).await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let waited = format!("no answer to `version` within {START_DEADLINE:?}");
                return Err(self.start_error(waited));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    fn start_error(&self, what: String) -> EngineError {
        let log = std::fs::read_to_string(log_path(&self.spec.dir)).unwrap_or_default();
        let tail: Vec<&str> = log.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = tail[tail.len().saturating_sub(3)..].join(" | ");
        EngineError::start(&self.spec.node_id, format!("{what}: {tail}"))
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn spec(&self) -> &MemcachedNodeSpec {
        &self.spec
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// A hard failure: SIGKILL, and return once it is reaped.
    pub async fn kill(&mut self) {
        let _ = self.child.kill().await;
        tracing::info!(node = %self.spec.node_id, pid = self.pid, "memcached killed");
    }

    /// SIGTERM, a grace period, then SIGKILL; always reaps. Returns how it ended (a clean
    /// exit when SIGTERM sufficed).
    pub async fn stop(mut self) -> Option<std::process::ExitStatus> {
        if self.is_running() {
            // SAFETY: kill(2) on our own child, not reaped yet (try_wait said running).
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
            }
            let _ = tokio::time::timeout(STOP_GRACE, self.child.wait()).await;
        }
        self.kill().await;
        let status = self.child.try_wait().ok().flatten();
        tracing::info!(node = %self.spec.node_id, ?status, "memcached stopped");
        status
    }
}

impl Drop for MemcachedProcess {
    /// Kills and reaps here rather than leaving it to tokio's orphan reaper: SIGKILL takes
    /// effect within milliseconds, and `try_wait` never blocks a worker for longer than that.
    fn drop(&mut self) {
        if !self.is_running() {
            return;
        }
        let _ = self.child.start_kill();
        let deadline = Instant::now() + Duration::from_secs(1);
        while self.is_running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The memcached command line: Unix socket only (no TCP, `-U 0` no UDP), `-m` from the node
/// type, logging to the node's `memcached.log`, set to die with the server.
fn command_for(spec: &MemcachedNodeSpec) -> io::Result<Command> {
    let log = File::create(log_path(&spec.dir))?;
    let mut command = Command::new(&spec.memcached);
    command
        .arg("-s")
        .arg(spec.socket_path())
        .args(["-a", "0700", "-U", "0", "-m", &spec.memory_mb.to_string()])
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // memcached refuses to run as root without naming the user to run as.
        command.args(["-u", "root"]);
    }
    die_with_parent(&mut command);
    Ok(command)
}

fn log_path(dir: &Path) -> PathBuf {
    dir.join("memcached.log")
}

/// Sends a real `version` command to the memcached at `socket` and returns its version.
pub(crate) async fn query_version(socket: &Path) -> io::Result<String> {
    let mut stream = UnixStream::connect(socket).await?;
    stream.write_all(b"version\r\n").await?;
    let mut reply = Vec::new();
    let mut buf = [0u8; 64];
    while !reply.ends_with(b"\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || reply.len() > 256 {
            return Err(io::Error::other("no complete VERSION line"));
        }
        reply.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&reply);
    line.trim_end()
        .strip_prefix("VERSION ")
        .map(str::to_string)
        .ok_or_else(|| io::Error::other(format!("unexpected answer {line:?}")))
}

/// The memcached binary to run: `flag` (`--memcached`), else `$ELASTICACHE_LOCAL_MEMCACHED`,
/// else `memcached` on `PATH`. Checked without running it.
pub(crate) fn locate_memcached(flag: Option<&Path>) -> Result<PathBuf, String> {
    let from_env = std::env::var_os(MEMCACHED_ENV).map(PathBuf::from);
    locate(flag, from_env, std::env::var_os("PATH"))
}

/// [`locate_memcached`] with the environment passed in.
fn locate(
    flag: Option<&Path>,
    from_env: Option<PathBuf>,
    path: Option<std::ffi::OsString>,
) -> Result<PathBuf, String> {
    let wanted = flag
        .map(Path::to_path_buf)
        .or(from_env)
        .unwrap_or_else(|| PathBuf::from("memcached"));
    let is_executable = |path: &Path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let found = if wanted.components().count() > 1 {
        is_executable(&wanted).then(|| wanted.clone())
    } else {
        path.and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|dir| dir.join(&wanted))
                .find(|p| is_executable(p))
        })
    };
    found.ok_or_else(|| {
        format!(
            "cannot find memcached ({}). {INSTALL_HINT}",
            wanted.display()
        )
    })
}

/// The version `memcached -V` reports (`1.6.18`), for the default `EngineVersion`.
pub(crate) async fn memcached_version(memcached: &Path) -> Result<String, String> {
    let output = Command::new(memcached)
        .arg("-V")
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}. {INSTALL_HINT}", memcached.display()))?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
    match text.strip_prefix("memcached ") {
        Some(version) if output.status.success() => Ok(version.to_string()),
        _ => Err(format!(
            "{} does not look like memcached: {text}",
            memcached.display()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stop_ends_memcached_with_sigterm_and_reaps_it() {
        let dir = tempfile::tempdir().unwrap();
        let spec = MemcachedNodeSpec {
            node_id: "0001".to_string(),
            memcached: locate_memcached(None).expect("memcached is installed"),
            dir: dir.path().join("0001"),
            memory_mb: 8,
        };
        let process = MemcachedProcess::start(spec.clone()).await.unwrap();
        assert!(query_version(&spec.socket_path()).await.is_ok());
        let status = process.stop().await.expect("reaped");
        // A clean exit, not death by the SIGKILL that follows a grace period that ran out.
        assert_eq!(status.code(), Some(0), "{status}");
        assert!(query_version(&spec.socket_path()).await.is_err());
    }

    #[test]
    fn the_binary_comes_from_the_flag_then_the_environment_then_path() {
        let dir = tempfile::tempdir().unwrap();
        let make = |name: &str| {
            let file = dir.path().join(name);
            std::fs::write(&file, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
            file
        };
        let (flag, env, on_path) = (make("flag"), make("env"), make("memcached"));
        let path = Some(dir.path().as_os_str().to_owned());
        let found = locate(Some(&flag), Some(env.clone()), path.clone());
        assert_eq!(found.unwrap(), flag);
        assert_eq!(locate(None, Some(env.clone()), path.clone()).unwrap(), env);
        assert_eq!(locate(None, None, path.clone()).unwrap(), on_path);
        let missing = dir.path().join("missing");
        let error = locate(None, Some(missing), path).unwrap_err();
        assert!(
            error.contains("missing") && error.contains("apt-get install"),
            "{error}"
        );
        assert!(locate(None, None, None).is_err(), "no PATH, no memcached");
    }
}
