//! The engine: real redis-server processes, replication, promotion and the endpoint proxies.
//! Knows nothing of HTTP or XML; speaks in member ids and ports.

mod auth;
pub(crate) mod client;
mod cluster;
mod error;
// Parts (node pids, the topology) are only read by its own tests.
#[allow(dead_code, unused_imports)]
mod memcached;
mod node;
mod ping;
pub mod process;
mod proxy;
mod replicated;
mod runtime;
mod standalone;
pub(crate) mod toxics;

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) use auth::AuthUpdate;
pub(crate) use cluster::topology::{SLOT_COUNT, even_slot_ranges};
pub(crate) use cluster::{ClusterSpec, ShardSpec, StartedCluster};
pub(crate) use error::EngineError;
pub(crate) use node::{NodeHealth, probe};
pub(crate) use replicated::{GroupSpec, StartedGroup};
pub(crate) use runtime::{Runtime, RuntimeHandle};
pub(crate) use standalone::CacheClusterHandle;

const INSTALL_HINT: &str = "Install it (Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`) or pass --redis-server PATH.";

pub struct Engine {
    redis_server: PathBuf,
    /// Its version (the default `EngineVersion`), learned once; see [`Engine::redis_version`].
    /// Shared by every engine made with [`Engine::with_data_dir`].
    version: Arc<tokio::sync::OnceCell<String>>,
    data_dir: PathBuf,
    groups: Mutex<HashMap<String, RuntimeHandle>>,
    /// Standalone cache clusters (Redis or Memcached), by cluster id: see `standalone`.
    cache_clusters: Mutex<HashMap<String, CacheClusterHandle>>,
}

impl Engine {
    pub fn new(redis_server: PathBuf, data_dir: PathBuf) -> Self {
        Self {
            redis_server,
            version: Arc::new(tokio::sync::OnceCell::new()),
            data_dir,
            groups: Mutex::new(HashMap::new()),
            cache_clusters: Mutex::new(HashMap::new()),
        }
    }

    /// An engine with no groups yet that runs the same binary (its version learned once for
    /// both) and keeps its groups' dirs under `data_dir`: one per account and region, so
    /// groups of the same id in two of them never share a dir.
    pub fn with_data_dir(&self, data_dir: PathBuf) -> Self {
        Self {
            redis_server: self.redis_server.clone(),
            version: Arc::clone(&self.version),
            data_dir,
            groups: Mutex::new(HashMap::new()),
            cache_clusters: Mutex::new(HashMap::new()),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Checks, without running it, that `redis_server` names an executable file (directly or on
    /// `PATH`): cheap enough for startup, where `redis-server --version` would cost ~9 ms.
    pub(crate) fn locate_redis_server(redis_server: &Path) -> Result<PathBuf, String> {
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
    pub(crate) async fn redis_version(&self) -> String {
        let path = self.redis_server.clone();
        let version = self.version.get_or_init(|| async move {
            match query_version(&path).await {
                Ok(version) => version,
                Err(error) => {
                    tracing::error!(%error, "redis-server --version failed");
                    "unknown".to_string()
                }
            }
        });
        version.await.clone()
    }

    /// Starts every node of a group, links the replicas and opens its endpoints.
    pub(crate) async fn start_group(&self, spec: GroupSpec) -> Result<StartedGroup, EngineError> {
        let group_id = spec.group_id.clone();
        let dir = self.data_dir.join(&group_id);
        let (runtime, started) =
            replicated::GroupRuntime::start(spec, self.redis_server.clone(), dir).await?;
        self.register(group_id, Runtime::Replicated(runtime));
        Ok(started)
    }

    /// Starts every node of a cluster-mode-enabled group, forms the cluster and opens its
    /// configuration endpoint.
    pub(crate) async fn start_cluster(
        &self,
        spec: ClusterSpec,
    ) -> Result<StartedCluster, EngineError> {
        let group_id = spec.group_id.clone();
        let dir = self.data_dir.join(&group_id);
        let (runtime, started) =
            cluster::ClusterRuntime::start(spec, self.redis_server.clone(), dir).await?;
        self.register(group_id, Runtime::Cluster(runtime));
        Ok(started)
    }

    fn register(&self, group_id: String, runtime: Runtime) {
        self.groups
            .lock()
            .expect("engine registry poisoned")
            .insert(group_id, Arc::new(tokio::sync::Mutex::new(runtime)));
    }

    /// The runtime of a running group, in either cluster mode.
    pub(crate) fn runtime(&self, group_id: &str) -> Result<RuntimeHandle, EngineError> {
        self.groups
            .lock()
            .expect("engine registry poisoned")
            .get(group_id)
            .cloned()
            .ok_or_else(|| EngineError::UnknownGroup(group_id.to_string()))
    }

    /// Stops a group's nodes and closes its endpoints.
    pub(crate) async fn stop_group(&self, group_id: &str) {
        let handle = self
            .groups
            .lock()
            .expect("engine registry poisoned")
            .remove(group_id);
        if let Some(runtime) = handle {
            runtime.lock().await.stop().await;
        }
    }

    /// Stops everything. A group whose workflow does not yield within a moment is left to
    /// `Drop`, which kills and reaps its processes when the runtime ends the workflow.
    pub(crate) async fn shutdown(&self) {
        let handles: Vec<RuntimeHandle> = self
            .groups
            .lock()
            .expect("engine registry poisoned")
            .drain()
            .map(|(_, h)| h)
            .collect();
        for handle in handles {
            let stop = async move { handle.lock().await.stop().await };
            let _ = tokio::time::timeout(Duration::from_secs(2), stop).await;
        }
        for handle in self.drain_cache_clusters() {
            let stop = async move { handle.lock().await.stop().await };
            let _ = tokio::time::timeout(Duration::from_secs(2), stop).await;
        }
    }
}

/// Runs `redis-server --version` and returns the version (`7.0.15`).
async fn query_version(redis_server: &Path) -> Result<String, String> {
    let output = tokio::process::Command::new(redis_server)
        .arg("--version")
        .kill_on_drop(true)
        .output()
        .await
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
