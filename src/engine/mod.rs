//! The engine: real redis-server processes, replication, promotion and the endpoint proxies.
//! Knows nothing of HTTP or XML; speaks in member ids and ports.

pub mod changes;
pub mod client;
pub mod cluster;
pub mod cluster_failover;
pub mod cluster_topology;
pub mod failover;
pub mod group;
pub mod ping;
pub mod process;
pub mod proxy;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::protocol::ApiError;
pub use cluster::{ClusterRuntime, ClusterSpec, ShardSpec, StartedCluster};
pub use group::{GroupRuntime, GroupSpec, StartedGroup};

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("node {node} could not start: {detail}")]
    Start { node: String, detail: String },
    #[error("redis at 127.0.0.1:{port}: {detail}")]
    Redis { port: u16, detail: String },
    #[error("{0}")]
    Replication(String),
    #[error("replication group {0} has no running nodes")]
    UnknownGroup(String),
    /// The server's own trouble (out of descriptors, ports or memory), not the node's.
    #[error("the server itself could not check the node: {0}")]
    Local(String),
}

impl EngineError {
    pub fn start(node: &str, detail: impl Into<String>) -> Self {
        Self::Start {
            node: node.to_string(),
            detail: detail.into(),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        ApiError::InternalFailure(error.to_string())
    }
}

const INSTALL_HINT: &str = "Install it (Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`) or pass --redis-server PATH.";

/// A group's runtime is behind an async mutex: workflows hold it across their steps, so two
/// workflows on one group never interleave. The model's lock is separate and never awaited.
pub type GroupHandle = Arc<tokio::sync::Mutex<GroupRuntime>>;
/// The same for a cluster-mode-enabled group.
pub type ClusterHandle = Arc<tokio::sync::Mutex<ClusterRuntime>>;

/// What runs behind one replication group.
#[derive(Clone)]
enum Runtime {
    Replicated(GroupHandle),
    Cluster(ClusterHandle),
}

pub struct Engine {
    redis_server: PathBuf,
    /// Its version (the default `EngineVersion`), learned once; see [`Engine::redis_version`].
    version: tokio::sync::OnceCell<String>,
    data_dir: PathBuf,
    groups: Mutex<HashMap<String, Runtime>>,
}

impl Engine {
    pub fn new(redis_server: PathBuf, data_dir: PathBuf) -> Self {
        Self {
            redis_server,
            version: tokio::sync::OnceCell::new(),
            data_dir,
            groups: Mutex::new(HashMap::new()),
        }
    }

    /// Checks, without running it, that `redis_server` names an executable file (directly or on
    /// `PATH`): cheap enough for startup, where `redis-server --version` would cost ~9 ms.
    pub fn locate_redis_server(redis_server: &Path) -> Result<PathBuf, String> {
        let is_executable = |path: &Path| {
            std::fs::metadata(path)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        };
        let found = if redis_server.components().count() > 1 {
            is_executable(redis_server).then(|| redis_server.to_path_buf())
        } else {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(redis_server))
                    .find(|p| is_executable(p))
            })
        };
        found.ok_or_else(|| {
            format!(
                "cannot find redis-server ({}). {INSTALL_HINT}",
                redis_server.display()
            )
        })
    }

    /// The version `redis-server --version` reports, run once (~9 ms, so not before the
    /// ready line). A binary that does not answer is logged as `unknown`; its nodes will fail
    /// to start with their own reason.
    pub async fn redis_version(&self) -> String {
        let path = self.redis_server.clone();
        let version = self.version.get_or_init(|| async move {
            match tokio::task::spawn_blocking(move || query_version(&path)).await {
                Ok(Ok(version)) => version,
                Ok(Err(error)) => {
                    tracing::error!(%error, "redis-server --version failed");
                    "unknown".to_string()
                }
                Err(error) => {
                    tracing::error!(%error, "redis-server --version did not run");
                    "unknown".to_string()
                }
            }
        });
        version.await.clone()
    }

    /// Starts every node of a group, links the replicas and opens its endpoints.
    pub async fn start_group(&self, spec: GroupSpec) -> Result<StartedGroup, EngineError> {
        let group_id = spec.group_id.clone();
        let dir = self.data_dir.join(&group_id);
        let (runtime, started) = GroupRuntime::start(spec, self.redis_server.clone(), dir).await?;
        let handle = Arc::new(tokio::sync::Mutex::new(runtime));
        self.register(group_id, Runtime::Replicated(handle));
        Ok(started)
    }

    /// Starts every node of a cluster-mode-enabled group, forms the cluster and opens its
    /// configuration endpoint.
    pub async fn start_cluster(&self, spec: ClusterSpec) -> Result<StartedCluster, EngineError> {
        let group_id = spec.group_id.clone();
        let dir = self.data_dir.join(&group_id);
        let (runtime, started) =
            ClusterRuntime::start(spec, self.redis_server.clone(), dir).await?;
        let handle = Arc::new(tokio::sync::Mutex::new(runtime));
        self.register(group_id, Runtime::Cluster(handle));
        Ok(started)
    }

    fn register(&self, group_id: String, runtime: Runtime) {
        self.groups
            .lock()
            .expect("engine registry poisoned")
            .insert(group_id, runtime);
    }

    fn runtime(&self, group_id: &str) -> Option<Runtime> {
        self.groups
            .lock()
            .expect("engine registry poisoned")
            .get(group_id)
            .cloned()
    }

    /// A cluster-mode-disabled group's runtime.
    pub fn group(&self, group_id: &str) -> Result<GroupHandle, EngineError> {
        match self.runtime(group_id) {
            Some(Runtime::Replicated(handle)) => Ok(handle),
            _ => Err(EngineError::UnknownGroup(group_id.to_string())),
        }
    }

    /// A cluster-mode-enabled group's runtime.
    pub fn cluster(&self, group_id: &str) -> Result<ClusterHandle, EngineError> {
        match self.runtime(group_id) {
            Some(Runtime::Cluster(handle)) => Ok(handle),
            _ => Err(EngineError::UnknownGroup(group_id.to_string())),
        }
    }

    /// Stops a group's nodes and closes its endpoints.
    pub async fn stop_group(&self, group_id: &str) {
        let handle = self
            .groups
            .lock()
            .expect("engine registry poisoned")
            .remove(group_id);
        if let Some(runtime) = handle {
            runtime.stop().await;
        }
    }

    /// Stops everything. A group whose workflow does not yield within a moment is left to
    /// `Drop`, which kills and reaps its processes when the runtime ends the workflow.
    pub async fn shutdown(&self) {
        let handles: Vec<Runtime> = self
            .groups
            .lock()
            .expect("engine registry poisoned")
            .drain()
            .map(|(_, h)| h)
            .collect();
        for handle in handles {
            let _ = tokio::time::timeout(Duration::from_secs(2), handle.stop()).await;
        }
    }
}

impl Runtime {
    async fn stop(&self) {
        match self {
            Self::Replicated(handle) => handle.lock().await.stop().await,
            Self::Cluster(handle) => handle.lock().await.stop().await,
        }
    }
}

/// Runs `redis-server --version` and returns the version (`7.0.15`).
fn query_version(redis_server: &Path) -> Result<String, String> {
    let output = Command::new(redis_server)
        .arg("--version")
        .output()
        .map_err(|e| {
            format!(
                "cannot run redis-server ({}): {e}. {INSTALL_HINT}",
                redis_server.display()
            )
        })?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || !version.contains("Redis server") {
        return Err(format!(
            "{} does not look like redis-server: {version}",
            redis_server.display()
        ));
    }
    // `Redis server v=7.0.15 sha=...`
    Ok(version
        .split_whitespace()
        .find_map(|word| word.strip_prefix("v="))
        .unwrap_or("unknown")
        .to_string())
}
