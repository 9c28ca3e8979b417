//! One owned redis-server process: its address, working dir and log. It is a `tokio::process`
//! child, so waiting for it never blocks a runtime worker. Stopping is SIGTERM, a short grace,
//! SIGKILL, wait; dropping kills it and hands it to tokio, which reaps it (`kill_on_drop`).
//! Children also die with the server, even when it is SIGKILLed, through `PR_SET_PDEATHSIG`.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use super::EngineError;
use super::client::NodeClient;
use super::node_command::command_for;
pub use super::node_command::keep_node_data;
use super::tls::{NodeTls, TlsMode};
use super::tls_front::{FrontTargets, TlsFront};

/// How one redis-server is started.
#[derive(Debug, Clone)]
pub(crate) struct NodeSpec {
    pub name: String,
    /// The server binary: redis-server or valkey-server (both take the same flags).
    pub redis_server: PathBuf,
    pub dir: PathBuf,
    /// Where it listens (`--bind`, `--port`); see [`super::address`].
    pub addr: SocketAddrV4,
    pub password: Option<String>,
    /// Start as a replica of this node (`--replicaof`), e.g. when a node is recovered.
    pub replica_of: Option<SocketAddrV4>,
    /// Cluster mode: start as a Redis Cluster node.
    pub cluster: Option<ClusterNodeConfig>,
    /// `--name value` settings the node starts with: parameters that only a restart applies
    /// (a reboot's `requires-reboot` ones, such as `databases`).
    pub startup_config: Vec<(String, String)>,
    /// An RDB the node loads at its first start (a restore); a restart starts empty again.
    pub seed_rdb: Option<PathBuf>,
    /// In-transit encryption: the node speaks TLS on `addr` (see [`super::tls`]).
    pub tls: Option<NodeTls>,
}

/// How a cluster-mode node starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ClusterNodeConfig {
    /// The cluster bus port, chosen like the data port (`port + 10000` may not be free, or may
    /// not exist).
    pub bus_port: u16,
    /// Restart from the node's own `nodes.conf`, so it rejoins the cluster as the node it was
    /// (a recovered node); otherwise any old `nodes.conf` is removed and the node starts alone.
    pub keep_config: bool,
}

/// Failure detection in milliseconds: small, so a dead node is noticed quickly; see
/// `../shared/spec/redis-mechanics.md` (500 ms keeps Redis's own failover at ~1.5 s).
pub(crate) const CLUSTER_NODE_TIMEOUT_MS: u64 = 500;

const START_DEADLINE: Duration = Duration::from_secs(10);
const STOP_GRACE: Duration = Duration::from_secs(2);

pub(crate) struct RedisProcess {
    spec: NodeSpec,
    child: Child,
    pid: u32,
    /// A `preferred` node's front on its address (see [`super::tls_front`]).
    _front: Option<TlsFront>,
    /// The node as a proxy of the toxics registry, fronted while it has toxics.
    toxics: Option<super::node_toxics::NodeToxics>,
}

impl RedisProcess {
    /// Spawns the process and waits until it answers PING. A process that exits or never
    /// answers is an error that quotes the end of its log.
    pub async fn start(mut spec: NodeSpec) -> Result<Self, EngineError> {
        std::fs::create_dir_all(&spec.dir).map_err(|e| {
            EngineError::start(
                &spec.name,
                format!("cannot create {}: {e}", spec.dir.display()),
            )
        })?;
        // Every start is a fresh, empty node. Disk-based replication leaves a dump.rdb in the
        // dir (the primary writes one for a full sync, a replica keeps the one it received);
        // a restarted node would load that stale snapshot instead of starting empty.
        remove_if_present(&spec, "dump.rdb")?;
        // A restore: the node loads this RDB at start (`dir`/`dbfilename`), once. A hard link
        // where the file system allows one (a snapshot's file is never written in place: a
        // node's later BGSAVE writes a temp file and renames it over its dump.rdb), else a
        // copy; a gigabyte's copy was a third of a restore's time.
        if let Some(rdb) = spec.seed_rdb.take() {
            let target = spec.dir.join("dump.rdb");
            std::fs::hard_link(&rdb, &target)
                .or_else(|_| std::fs::copy(&rdb, &target).map(|_| ()))
                .map_err(|e| {
                    EngineError::start(&spec.name, format!("cannot load {}: {e}", rdb.display()))
                })?;
        }
        if spec.cluster.is_some_and(|c| !c.keep_config) {
            remove_if_present(&spec, CLUSTER_CONFIG_FILE)?;
        }
        let (front, listen) = listening(&spec).await?;
        let mut command = command_for(&spec, listen)?;
        let child = command.spawn().map_err(|e| {
            EngineError::start(
                &spec.name,
                format!("cannot run {}: {e}", spec.redis_server.display()),
            )
        })?;
        let pid = child.id().unwrap_or_default();
        let program = program_name(&spec);
        tracing::info!(node = %spec.name, addr = %spec.addr, pid, "{program} started");
        let mut process = Self {
            spec,
            child,
            pid,
            _front: front,
            toxics: None,
        };
        process.wait_until_answering().await?;
        process.toxics = Some(
            super::node_toxics::NodeToxics::open(
                &process.spec.name,
                process.spec.addr,
                process.client(),
                None,
            )
            .await,
        );
        Ok(process)
    }

    async fn wait_until_answering(&mut self) -> Result<(), EngineError> {
        let deadline = Instant::now() + START_DEADLINE;
        let client = self.client();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(EngineError::start(
                    &self.spec.name,
                    format!(
                        "{} exited ({status}): {}",
                        program_name(&self.spec),
                        self.log_tail()
                    ),
                ));
            }
            if client.ping().await.is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(EngineError::start(
                    &self.spec.name,
                    format!(
                        "no answer to PING within {START_DEADLINE:?}: {}",
                        self.log_tail()
                    ),
                ));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    pub fn addr(&self) -> SocketAddrV4 {
        self.spec.addr
    }

    pub fn spec(&self) -> &NodeSpec {
        &self.spec
    }

    pub fn client(&self) -> NodeClient {
        NodeClient::new(self.spec.addr).with_tls(self.spec.tls.as_ref().map(|t| t.ca.clone()))
    }

    /// Records that the running node now speaks TLS as `tls` says, behind `front` when
    /// `preferred` (see [`super::tls_switch`], which reconfigured it).
    pub(crate) fn set_tls(&mut self, tls: Option<NodeTls>, front: Option<TlsFront>) {
        self.spec.tls = tls;
        self._front = front;
    }

    /// Closes a `preferred` node's front (its connections end with it), freeing its address.
    pub(crate) fn close_front(&mut self) {
        self._front = None;
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The last lines of the node's log, for error messages.
    pub fn log_tail(&self) -> String {
        super::restricted::public_text(&read_tail(&log_path(&self.spec.dir)))
    }

    /// A hard failure: SIGKILL and reap, as when a machine dies. Returns once the process is
    /// gone, so its port is free again.
    pub async fn kill(&mut self) {
        // The front goes first, so the address is free once the node is gone.
        if let Some(toxics) = self.toxics.take() {
            toxics.close().await;
        }
        let _ = self.child.kill().await;
        let program = program_name(&self.spec);
        tracing::info!(node = %self.spec.name, addr = %self.spec.addr, "{program} killed");
    }

    /// The process id (never reused while this value lives: the child is not reaped yet).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// SIGSTOP (`freeze`: the node stops answering, its sockets stay open, as in a
    /// `DEBUG SLEEP`) or SIGCONT (`!freeze`). Does nothing once the process has exited.
    pub fn set_frozen(&mut self, freeze: bool) {
        if !self.is_running() {
            return;
        }
        let signal = if freeze { libc::SIGSTOP } else { libc::SIGCONT };
        // SAFETY: kill(2) on our own child's pid, which is not reaped yet (try_wait said running).
        unsafe {
            libc::kill(self.pid as libc::pid_t, signal);
        }
        let state = if freeze {
            "frozen (SIGSTOP)"
        } else {
            "resumed (SIGCONT)"
        };
        let program = program_name(&self.spec);
        tracing::info!(node = %self.spec.name, pid = self.pid, "{program} {state}");
    }

    /// SIGTERM, a grace period, then SIGKILL; always reaps.
    pub async fn stop(mut self) {
        self.terminate_gracefully().await;
    }

    async fn terminate_gracefully(&mut self) {
        if !self.is_running() {
            return;
        }
        // SAFETY: kill(2) on our own child's pid, which is not reaped yet (try_wait said running).
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        let _ = tokio::time::timeout(STOP_GRACE, self.child.wait()).await;
        self.kill().await;
        let program = program_name(&self.spec);
        tracing::info!(node = %self.spec.name, "{program} stopped");
    }
}

/// The node's program as logs name it (`redis-server`, `valkey-server`): the binary's file name.
fn program_name(spec: &NodeSpec) -> std::borrow::Cow<'_, str> {
    spec.redis_server.file_name().map_or_else(
        || spec.redis_server.to_string_lossy(),
        |name| name.to_string_lossy(),
    )
}

/// The ports redis-server itself listens on, on the node's address.
#[derive(Debug, Clone, Copy)]
pub(super) struct Listen {
    /// `--port`; 0 for none (a `required` TLS node).
    pub(super) plaintext: u16,
    /// `--tls-port`; 0 for none.
    pub(super) tls: u16,
}

/// Where the node's redis-server listens: on its address (plaintext, or TLS for `required`),
/// or, for `preferred`, on two private ports behind a front that holds its address.
async fn listening(spec: &NodeSpec) -> Result<(Option<TlsFront>, Listen), EngineError> {
    let port = spec.addr.port();
    let Some(tls) = &spec.tls else {
        return Ok((
            None,
            Listen {
                plaintext: port,
                tls: 0,
            },
        ));
    };
    if tls.mode == TlsMode::Required {
        return Ok((
            None,
            Listen {
                plaintext: 0,
                tls: port,
            },
        ));
    }
    let targets = private_targets(spec)?;
    let front = TlsFront::bind(spec.addr, targets)
        .await
        .map_err(|e| EngineError::start(&spec.name, e.to_string()))?;
    let listen = Listen {
        plaintext: targets.plaintext.port(),
        tls: targets.tls.port(),
    };
    Ok((Some(front), listen))
}

/// Two free ports on the node's address for a `preferred` node's redis-server, never
/// advertised: the front on its address forwards to them.
pub(crate) fn private_targets(spec: &NodeSpec) -> Result<FrontTargets, EngineError> {
    let ip = *spec.addr.ip();
    let free = || {
        super::address::free_port(ip)
            .map(|port| SocketAddrV4::new(ip, port))
            .map_err(|e| EngineError::start(&spec.name, e.to_string()))
    };
    Ok(FrontTargets {
        plaintext: free()?,
        tls: free()?,
    })
}

/// The TLS settings of a node (certificate, key, CA, no client certificates, TLS replication),
/// its files written first: on its command line, or `CONFIG SET` when TLS is switched on.
pub(crate) fn tls_settings(
    spec: &NodeSpec,
    tls: &NodeTls,
) -> Result<Vec<(String, String)>, EngineError> {
    let files = tls
        .write_files(&spec.dir, spec.addr)
        .map_err(|e| EngineError::start(&spec.name, e))?;
    let path = |p: &std::path::Path| p.display().to_string();
    Ok(vec![
        ("tls-cert-file".into(), path(&files.cert)),
        ("tls-key-file".into(), path(&files.key)),
        ("tls-ca-cert-file".into(), path(&files.ca)),
        ("tls-auth-clients".into(), "no".into()),
        ("tls-replication".into(), "yes".into()),
    ])
}

/// `PR_SET_PDEATHSIG`: the kernel SIGKILLs the child when the server dies, even by SIGKILL.
pub(crate) fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl and getppid are async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        let parent = libc::getpid();
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

/// Where a cluster node keeps its view of the cluster, in its own dir.
pub(crate) const CLUSTER_CONFIG_FILE: &str = "nodes.conf";

fn remove_if_present(spec: &NodeSpec, file: &str) -> Result<(), EngineError> {
    match std::fs::remove_file(spec.dir.join(file)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(EngineError::start(
            &spec.name,
            format!("cannot remove the old {file}: {e}"),
        )),
    }
}

pub(super) fn log_path(dir: &Path) -> PathBuf {
    dir.join("redis.log")
}

fn read_tail(path: &Path) -> String {
    let mut bytes = Vec::new();
    if let Ok(mut file) = File::open(path) {
        let len = file.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = file.seek(SeekFrom::Start(len.saturating_sub(600)));
        let _ = file.read_to_end(&mut bytes);
    }
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" | ")
}

/// Live (not zombie) redis-server or valkey-server processes whose parent is `parent`, by pid.
pub fn live_redis_children(parent: u32) -> Vec<u32> {
    let parent = parent.to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid ...`
            let (head, tail) = stat.rsplit_once(") ")?;
            let mut fields = tail.split_whitespace();
            let is_node = head.ends_with("(redis-server") || head.ends_with("(valkey-server");
            let live_child =
                is_node && fields.next() != Some("Z") && fields.next() == Some(parent.as_str());
            live_child.then_some(pid)
        })
        .collect()
}
