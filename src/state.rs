//! The state every request handler and workflow shares.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::engine::Engine;
use crate::model::{Clock, Model};
use crate::protocol::sigv4_verify::Verifier;

/// How long each failover phase waits (zero in the `fast` profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailoverTiming {
    /// From the call until the primary is killed.
    pub before_kill: Duration,
    /// From the kill until the replica is promoted (the primary is down meanwhile).
    pub before_promotion: Duration,
    /// From the promotion until recovery of the old primary starts.
    pub before_recovery: Duration,
    /// The least time recovery takes, however fast the new node syncs.
    pub recovery_duration: Duration,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub region: String,
    pub account_id: String,
    /// The resolved redis-server binary.
    pub redis_server: PathBuf,
    /// Its version (the default `EngineVersion`), learned once; see `redis_version()`.
    pub redis_version: Arc<tokio::sync::OnceCell<String>>,
    pub failover_timing: FailoverTiming,
    /// How often the automatic-failover monitor checks every node.
    pub health_check_interval: Duration,
    /// Set with --verify-sigv4: every API request must be signed with known credentials.
    pub verifier: Option<Verifier>,
}

impl Settings {
    /// The version `redis-server --version` reports, run once (~9 ms, so not before the
    /// ready line). A binary that does not answer is logged; its nodes will fail to start with
    /// their own reason.
    pub async fn redis_version(&self) -> String {
        let path = self.redis_server.clone();
        let version = self.redis_version.get_or_init(|| async move {
            let detected = tokio::task::spawn_blocking(move || Engine::redis_version(&path)).await;
            match detected {
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
}

pub struct AppState {
    model: Mutex<Model>,
    pub engine: Engine,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(model: Model, engine: Engine, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        Self {
            model: Mutex::new(model),
            engine,
            settings,
            clock,
        }
    }

    /// The model lock. Never hold the guard across an `.await`: take what you need, drop it,
    /// then drive the engine.
    pub fn model(&self) -> MutexGuard<'_, Model> {
        // A panic while holding the lock cannot leave the model half-changed in a way that
        // matters more than refusing every later request would, so recover the guard.
        self.model
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// What the server knows about the caller of one request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    /// The SigV4 credential scope's region, or the server's `--region`.
    pub region: String,
    /// The SigV4 access key id, or `default`: quotas are counted per account.
    pub account: String,
}
