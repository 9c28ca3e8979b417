//! The state every request handler and workflow shares.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::engine::Engine;
use crate::engine::toxics::ToxicRegistry;
use crate::model::scope::Scope;
use crate::model::{Clock, Model};
use crate::protocol::fragments::FragmentCache;
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
    pub failover_timing: FailoverTiming,
    /// How often the automatic-failover monitor checks every node.
    pub health_check_interval: Duration,
    /// Set with --verify-sigv4: every API request must be signed with known credentials.
    pub verifier: Option<Verifier>,
    /// How long a day of automatic snapshots lasts (a real day times `--time-scale`).
    pub snapshot_day: Duration,
}

pub struct AppState {
    model: Mutex<Model>,
    pub engine: Engine,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
    /// DescribeReplicationGroups' encoded groups, by id and revision.
    pub encoded_groups: FragmentCache,
    /// DescribeEvents' encoded events, by sequence number (events never change).
    pub encoded_events: FragmentCache<u64>,
    /// DescribeCacheClusters' encoded members by id and group revision, without and with
    /// `ShowCacheNodeInfo`.
    pub encoded_cache_clusters: [FragmentCache; 2],
    /// The endpoints' network toxics (the Toxiproxy API's proxies).
    pub toxics: Arc<ToxicRegistry>,
}

pub type SharedState = Arc<AppState>;

impl AppState {
    pub fn new(model: Model, engine: Engine, settings: Settings, clock: Arc<dyn Clock>) -> Self {
        Self {
            model: Mutex::new(model),
            engine,
            settings,
            clock,
            encoded_groups: FragmentCache::default(),
            encoded_events: FragmentCache::default(),
            encoded_cache_clusters: Default::default(),
            toxics: ToxicRegistry::global(),
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
    /// The account the access key belongs to (see `model::scope::AccountResolver`).
    pub account: String,
}

impl RequestContext {
    /// The (account, region) every resource of this request lives in.
    pub fn scope(&self) -> Scope {
        Scope::new(&self.account, &self.region)
    }
}
