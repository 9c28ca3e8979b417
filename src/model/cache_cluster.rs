//! A standalone cache cluster as the model keeps it: one not in a replication group, with a
//! Redis or Valkey node `0001` or Memcached nodes `0001`, `0002`... The nodes listed follow
//! what the engine runs (ids and addresses); the lifecycle and events are in `cache_cluster_ops`.

use std::net::SocketAddrV4;

use chrono::{DateTime, Utc};

use super::arn::{Arn, ResourceKind};
use super::resource::{Lifecycle, Resource};
use crate::protocol::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ClusterStatus {
    Creating,
    Available,
    Modifying,
    Rebooting,
    Deleting,
    CreateFailed,
    /// A snapshot of its node is being written (CreateSnapshot, an automatic snapshot).
    Snapshotting,
}

impl Lifecycle for ClusterStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::Modifying => "modifying",
            Self::Rebooting => "rebooting cache cluster nodes",
            Self::Deleting => "deleting",
            Self::CreateFailed => "create-failed",
            Self::Snapshotting => "snapshotting",
        }
    }

    fn allows(self, next: Self) -> bool {
        use ClusterStatus::*;
        matches!(
            (self, next),
            (Creating, Available | CreateFailed)
                | (Available, Modifying | Rebooting | Deleting | Snapshotting)
                | (Modifying | Rebooting | Snapshotting, Available)
                | (CreateFailed, Deleting)
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CacheEngine {
    Redis,
    Valkey,
    Memcached,
}

impl CacheEngine {
    /// `Engine`, as AWS spells it (lower case; any case is accepted).
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        match raw.to_ascii_lowercase().as_str() {
            "redis" => Ok(Self::Redis),
            "valkey" => Ok(Self::Valkey),
            "memcached" => Ok(Self::Memcached),
            _ => Err(ApiError::InvalidParameterValue(format!(
                "Invalid engine name {raw}: the engines are redis, valkey and memcached."
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redis => "redis",
            Self::Valkey => "valkey",
            Self::Memcached => "memcached",
        }
    }

    /// How AWS writes it in prose (`Redis`, `Valkey`, `Memcached`).
    pub fn display_name(self) -> &'static str {
        match self {
            Self::Redis => "Redis",
            Self::Valkey => "Valkey",
            Self::Memcached => "Memcached",
        }
    }

    pub fn is_memcached(self) -> bool {
        self == Self::Memcached
    }
}

/// `CacheNodeStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NodeStatus {
    Creating,
    Available,
    Rebooting,
}

impl NodeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::Rebooting => "rebooting",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CacheNode {
    pub id: String,
    pub status: NodeStatus,
    pub created_at: DateTime<Utc>,
    /// Its address (its own loopback address); `None` until the engine started it.
    pub address: Option<SocketAddrV4>,
    pub availability_zone: String,
    /// A `requires-reboot` parameter changed since this node started.
    pub pending_reboot: bool,
}

/// Settings stored as given and reported back (see README for what has no local effect).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ClusterSettings {
    /// What a replication group stores alike.
    pub stored: super::stored_settings::StoredSettings,
    pub engine_version: String,
    /// What the nodes' binary reports (`8.1.1`, `1.6.18`): without a local binary of the
    /// asked major.minor the closest runs, and the log and dashboard say so.
    pub running_engine_version: String,
    /// `None`: the engine's default group.
    pub cache_parameter_group_name: Option<String>,
    pub transit_encryption: bool,
    /// `Some` exactly when `transit_encryption` is true.
    pub transit_encryption_mode: Option<super::group::TransitEncryptionMode>,
    pub auth_token: Option<String>,
    /// `AZMode=cross-az` (Memcached): nodes spread over zones, `PreferredAvailabilityZone`
    /// reads `Multiple`.
    pub cross_az: bool,
}

/// A Memcached node-count change in progress, as `PendingModifiedValues` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingNodes {
    pub num_cache_nodes: usize,
    pub to_remove: Vec<String>,
    /// `NewAvailabilityZones`: the zones of the nodes added, in order.
    pub new_zones: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CacheCluster {
    /// Lower-cased.
    pub id: String,
    pub status: ClusterStatus,
    pub engine: CacheEngine,
    pub settings: ClusterSettings,
    pub nodes: Vec<CacheNode>,
    /// The zone asked for (or the first used); `Multiple` when cross-AZ.
    pub preferred_availability_zone: String,
    /// The zones new nodes are placed in, in turn.
    pub zones: Vec<String>,
    /// Memcached's configuration endpoint (Auto Discovery), once started.
    pub configuration_address: Option<SocketAddrV4>,
    pub arn: Arn,
    pub created_at: DateTime<Utc>,
    pub pending: Option<PendingNodes>,
    /// A node-count change `ApplyImmediately=false` deferred to the maintenance window (AWS
    /// defers it), reported as the pending values until `workflows::cluster_maintenance`
    /// applies it.
    #[serde(default)]
    pub deferred_nodes: Option<PendingNodes>,
    /// A `CacheNodeType` deferred likewise.
    #[serde(default)]
    pub deferred_node_type: Option<String>,
    /// See `ResourceTable::get_mut`.
    pub revision: u64,
}

/// Memcached's documented limit: "between 1 and 40" nodes per cluster (more is a quota).
pub const MAX_MEMCACHED_NODES: usize = 40;

impl CacheCluster {
    pub fn node(&self, id: &str) -> Option<&CacheNode> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The zone of the `n`th node placed (cycling through `zones`).
    pub fn zone_for(&self, n: usize) -> String {
        self.zones[n % self.zones.len()].clone()
    }

    /// Takes the engine's node list: new ids are added (in `new_zones`, then in the next zone
    /// in turn), gone ones dropped, every address refreshed. Returns the ids added and removed.
    pub fn sync_nodes(
        &mut self,
        node_addresses: &[(String, SocketAddrV4)],
        new_zones: &[String],
        now: DateTime<Utc>,
    ) -> (Vec<String>, Vec<String>) {
        let removed: Vec<String> = self
            .nodes
            .iter()
            .filter(|n| !node_addresses.iter().any(|(id, _)| *id == n.id))
            .map(|n| n.id.clone())
            .collect();
        self.nodes.retain(|n| !removed.contains(&n.id));
        let mut added = Vec::new();
        for (id, address) in node_addresses {
            match self.nodes.iter_mut().find(|n| n.id == *id) {
                Some(node) => node.address = Some(*address),
                None => {
                    let availability_zone = new_zones
                        .get(added.len())
                        .cloned()
                        .unwrap_or_else(|| self.zone_for(self.nodes.len()));
                    self.nodes.push(CacheNode {
                        id: id.clone(),
                        status: NodeStatus::Available,
                        created_at: now,
                        address: Some(*address),
                        availability_zone,
                        pending_reboot: false,
                    });
                    added.push(id.clone());
                }
            }
        }
        self.nodes.sort_by(|a, b| a.id.cmp(&b.id));
        (added, removed)
    }

    pub fn pending_reboot(&self) -> bool {
        self.nodes.iter().any(|n| n.pending_reboot)
    }
}

impl Resource for CacheCluster {
    const KIND: ResourceKind = ResourceKind::CacheCluster;
    type Status = ClusterStatus;

    fn id(&self) -> &str {
        &self.id
    }

    fn status(&self) -> ClusterStatus {
        self.status
    }

    fn set_status(&mut self, status: ClusterStatus) {
        self.status = status;
    }

    fn set_revision(&mut self, revision: u64) {
        self.revision = revision;
    }

    fn not_found(raw_id: &str) -> ApiError {
        ApiError::cache_cluster_not_found(raw_id)
    }

    fn already_exists(id: &str) -> ApiError {
        ApiError::CacheClusterAlreadyExists(format!("Cache cluster {id} already exists."))
    }

    fn invalid_state(&self, wanted: ClusterStatus) -> ApiError {
        ApiError::InvalidCacheClusterState(format!(
            "Cache cluster {} is not in a valid state to become {} (status: {}).",
            self.id,
            wanted.as_str(),
            self.status.as_str()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scope::Scope;

    fn at(host: u8) -> SocketAddrV4 {
        SocketAddrV4::new(std::net::Ipv4Addr::new(127, 7, 0, host), 11211)
    }

    fn memcached(nodes: usize) -> CacheCluster {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        CacheCluster {
            id: "mc".into(),
            status: ClusterStatus::Available,
            engine: CacheEngine::Memcached,
            settings: ClusterSettings::default(),
            nodes: (1..=nodes)
                .map(|n| CacheNode {
                    id: format!("{n:04}"),
                    status: NodeStatus::Available,
                    created_at: now,
                    address: Some(at(n as u8)),
                    availability_zone: "us-east-1a".into(),
                    pending_reboot: false,
                })
                .collect(),
            preferred_availability_zone: "Multiple".into(),
            zones: vec!["us-east-1a".into(), "us-east-1b".into()],
            configuration_address: Some(at(0)),
            arn: Arn::new(
                ResourceKind::CacheCluster,
                &Scope::new("123456789012", "us-east-1"),
                "mc",
            ),
            created_at: now,
            pending: None,
            deferred_nodes: None,
            deferred_node_type: None,
            revision: 0,
        }
    }

    #[test]
    fn the_lifecycle_allows_what_aws_shows() {
        use ClusterStatus::*;
        assert!(Creating.allows(Available) && Creating.allows(CreateFailed));
        assert!(Available.allows(Rebooting) && Rebooting.allows(Available));
        assert!(!Rebooting.allows(Deleting) && !Creating.allows(Deleting));
        assert_eq!(Rebooting.as_str(), "rebooting cache cluster nodes");
        let mut cluster = memcached(1);
        cluster.status = Modifying;
        let error = cluster.transition(Deleting).unwrap_err();
        assert_eq!(error.code(), "InvalidCacheClusterState");
    }

    #[test]
    fn synced_nodes_follow_the_engine_and_take_the_zones_given() {
        let mut cluster = memcached(2);
        let later = DateTime::from_timestamp(1_700_000_100, 0).unwrap();
        let engine = [
            ("0002".to_string(), at(2)),
            ("0003".to_string(), at(3)),
            ("0004".to_string(), at(4)),
        ];
        let (added, removed) = cluster.sync_nodes(&engine, &["us-east-1c".into()], later);
        assert_eq!(added, ["0003", "0004"]);
        assert_eq!(removed, ["0001"]);
        let zones: Vec<&str> = cluster
            .nodes
            .iter()
            .map(|n| n.availability_zone.as_str())
            .collect();
        // 0004 is the third node: the zones in turn give it the first again.
        assert_eq!(zones, ["us-east-1a", "us-east-1c", "us-east-1a"]);
        assert_eq!(cluster.node("0004").unwrap().created_at, later);
    }

    #[test]
    fn engines_parse_as_aws_names_them() {
        assert_eq!(
            CacheEngine::parse("Memcached").unwrap(),
            CacheEngine::Memcached
        );
        assert_eq!(CacheEngine::parse("VALKEY").unwrap(), CacheEngine::Valkey);
        assert_eq!(
            CacheEngine::parse("mongodb").unwrap_err().code(),
            "InvalidParameterValue"
        );
    }
}
