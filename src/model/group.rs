//! A replication group as the model keeps it: node groups (one, `0001`, with cluster mode
//! disabled; one per shard with it enabled) and their member cache clusters.

use std::net::SocketAddrV4;

use chrono::{DateTime, Utc};

use super::arn::{Arn, ResourceKind};
use super::ids::ReplicationGroupId;
use super::resource::{Lifecycle, Resource};
use crate::protocol::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum GroupStatus {
    Creating,
    Available,
    Modifying,
    Deleting,
    CreateFailed,
    /// A snapshot is being taken; no other change until it is done.
    Snapshotting,
}

impl GroupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Available => "available",
            Self::Modifying => "modifying",
            Self::Deleting => "deleting",
            Self::CreateFailed => "create-failed",
            Self::Snapshotting => "snapshotting",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Role {
    Primary,
    Replica,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Primary => "primary",
            Self::Replica => "replica",
        }
    }
}

/// One member cache cluster (one node, `0001`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    pub cluster_id: String,
    /// The node group (shard) it belongs to.
    pub node_group: String,
    /// Its role within its node group.
    pub role: Role,
    pub availability_zone: String,
    /// Where this member's own redis-server listens; `None` until the engine started it.
    pub address: Option<SocketAddrV4>,
    pub created_at: DateTime<Utc>,
    /// RebootCacheCluster restarts its node: the group takes no other change meanwhile.
    pub rebooting: bool,
    /// A `requires-reboot` parameter changed since its node started.
    pub pending_reboot: bool,
}

/// The stable endpoints of a group, owned by the engine's proxies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Endpoints {
    /// Cluster mode disabled: node group `0001`'s primary and reader endpoints.
    NodeGroup {
        primary: SocketAddrV4,
        reader: SocketAddrV4,
    },
    /// Cluster mode enabled: the configuration endpoint any cluster client bootstraps from.
    Configuration { address: SocketAddrV4 },
}

/// One node group as created: its id and, with cluster mode enabled, its hash slots.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NodeGroupLayout {
    pub id: String,
    /// The slot ranges it serves (`0-5460`, or several joined by commas); `None` with cluster
    /// mode disabled.
    pub slots: Option<String>,
}

impl NodeGroupLayout {
    /// The only node group of a cluster-mode-disabled group.
    pub fn single() -> Self {
        Self {
            id: NODE_GROUP_ID.to_string(),
            slots: None,
        }
    }
}

/// The node group of a cluster-mode-disabled group, and the first one AWS names otherwise.
pub const NODE_GROUP_ID: &str = "0001";

/// `TransitEncryptionMode`: whether plaintext clients are still accepted beside TLS ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum TransitEncryptionMode {
    Preferred,
    Required,
}

impl TransitEncryptionMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preferred => "preferred",
            Self::Required => "required",
        }
    }

    /// The wire value, or `None` for anything else.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "preferred" => Some(Self::Preferred),
            "required" => Some(Self::Required),
            _ => None,
        }
    }
}

/// Settings stored as given and reported back; most have no local effect (see README).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct GroupSettings {
    pub description: String,
    /// What a cache cluster stores alike.
    pub stored: super::stored_settings::StoredSettings,
    pub engine: String,
    /// As the API reports it: the catalogue's full version asked for (`7.1.0`), or the local
    /// binary's when none was.
    pub engine_version: String,
    /// What the nodes' binary reports (`7.0.15`): without a local binary of the asked
    /// major.minor the closest runs, and the dashboard shows both.
    pub running_engine_version: String,
    pub automatic_failover: bool,
    pub multi_az: bool,
    pub auth_token: Option<String>,
    pub transit_encryption: bool,
    /// `Some` exactly when `transit_encryption` is true.
    pub transit_encryption_mode: Option<TransitEncryptionMode>,
    pub at_rest_encryption: bool,
    /// `KmsKeyId` as the create gave it: stored and reported like the at-rest flag (nodes'
    /// files are not encrypted here; see README). Absent in models saved before it existed.
    #[serde(default)]
    pub kms_key_id: Option<String>,
    pub snapshotting_cluster_id: Option<String>,
    pub cache_parameter_group_name: Option<String>,
    /// The user groups whose users the nodes know (RBAC); empty for AUTH-token groups.
    pub user_group_ids: Vec<String>,
    /// A `requires-reboot` parameter of its parameter group changed while it ran: shown as
    /// `pending-reboot` until a node restart (nothing here reboots on request).
    pub parameters_pending_reboot: bool,
    /// `LogDeliveryConfigurations` as the create gave them: stored and reported (nothing is
    /// sent to CloudWatch or Firehose here). Absent in models saved before it existed.
    #[serde(default)]
    pub log_delivery: Vec<LogDelivery>,
}

/// One log delivery configuration: which log, where (a log group or a delivery stream), how.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogDelivery {
    /// `slow-log` or `engine-log`.
    pub log_type: String,
    /// `cloudwatch-logs` or `kinesis-firehose`.
    pub destination_type: String,
    /// The CloudWatch log group or the Firehose delivery stream.
    pub destination: String,
    /// `text` or `json`.
    pub log_format: String,
}

/// What a modification in progress will change, as `PendingModifiedValues` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PendingChange {
    pub automatic_failover: Option<bool>,
    pub primary_cluster_id: Option<String>,
    /// `SETTING` or `ROTATING`.
    #[serde(deserialize_with = "crate::model::persist::static_str::deserialize_option")]
    pub auth_token_status: Option<crate::model::persist::static_str::StaticStr>,
    /// A replica added by CreateCacheCluster or removed by DeleteCacheCluster: one member
    /// changes, with its cache cluster's events and no replica-count ones.
    pub one_member: bool,
    /// The member DeleteCacheCluster is removing: it reports `deleting`.
    pub removing_member: Option<String>,
    /// A step of the in-transit encryption migration under way: the mode it goes to
    /// (`Some(None)`: off).
    pub transit_encryption: Option<Option<TransitEncryptionMode>>,
    /// Online resharding: how much of its slot migration is done, in hundredths of a percent
    /// (0-10000), reported as `Resharding.SlotMigration.ProgressPercentage`.
    pub resharding_progress: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReplicationGroup {
    pub id: ReplicationGroupId,
    pub status: GroupStatus,
    pub settings: GroupSettings,
    pub members: Vec<Member>,
    /// True with cluster mode enabled: a Redis Cluster whose shards are the node groups.
    pub cluster_enabled: bool,
    /// Every node group in order; members name theirs.
    pub node_groups: Vec<NodeGroupLayout>,
    pub endpoints: Option<Endpoints>,
    pub arn: Arn,
    pub created_at: DateTime<Utc>,
    pub auth_token_last_modified: Option<DateTime<Utc>>,
    /// True from an accepted TestFailover (or an automatic recovery) until its workflow ends;
    /// at most one per group.
    pub failover_in_flight: bool,
    /// Set while the group is `modifying`.
    pub pending: Option<PendingChange>,
    /// Changes AWS defers to the maintenance window (`ApplyImmediately=false`), until applied.
    pub deferred: Option<super::maintenance::DeferredChange>,
    /// Changes every time the model hands the group out for changing, and is never reused
    /// within one model, even across delete and re-create: encoded forms are cached by it.
    /// The model sets it; constructors can leave 0.
    pub revision: u64,
}

impl ReplicationGroup {
    /// The primary of the first node group: the group's primary with cluster mode disabled.
    pub fn primary(&self) -> Option<&Member> {
        self.primary_of(&self.node_groups.first()?.id)
    }

    pub fn primary_of(&self, node_group: &str) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.node_group == node_group && m.role == Role::Primary)
    }

    pub fn node_group(&self, node_group: &str) -> Option<&NodeGroupLayout> {
        self.node_groups.iter().find(|g| g.id == node_group)
    }

    pub fn member(&self, cluster_id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.cluster_id == cluster_id)
    }

    pub fn member_mut(&mut self, cluster_id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.cluster_id == cluster_id)
    }

    /// Records the address of each named member.
    pub fn set_addresses(&mut self, addresses: &[(String, SocketAddrV4)]) {
        for (cluster_id, address) in addresses {
            if let Some(member) = self.member_mut(cluster_id) {
                member.address = Some(*address);
            }
        }
    }

    /// Makes `new_primary` the only primary of its node group; the group's other members
    /// become replicas.
    pub fn set_primary(&mut self, new_primary: &str) {
        let Some(node_group) = self.member(new_primary).map(|m| m.node_group.clone()) else {
            return;
        };
        for member in &mut self.members {
            if member.node_group != node_group {
                continue;
            }
            member.role = if member.cluster_id == new_primary {
                Role::Primary
            } else {
                Role::Replica
            };
        }
    }

    pub fn replica_count(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.role == Role::Replica)
            .count()
    }

    /// Available and not busy with a failover: the state every change starts from.
    pub fn is_idle(&self) -> bool {
        self.status == GroupStatus::Available
            && !self.failover_in_flight
            && self.members.iter().all(|m| !m.rebooting)
    }

    /// The lowest unused member ids, for new replicas (`<id>-00N`, N up to 6).
    pub fn free_member_ids(&self, count: usize) -> Vec<String> {
        (0..6)
            .map(|i| self.id.member_id(i))
            .filter(|id| self.member(id).is_none())
            .take(count)
            .collect()
    }

    /// The status each member cache cluster reports.
    pub fn member_status(&self) -> &'static str {
        match self.status {
            GroupStatus::Creating => "creating",
            GroupStatus::Available => "available",
            GroupStatus::Modifying => "modifying",
            GroupStatus::Deleting => "deleting",
            GroupStatus::CreateFailed => "create-failed",
            GroupStatus::Snapshotting => "snapshotting",
        }
    }

    /// The status `member` reports: its group's, or its own while it reboots, is added
    /// (CreateCacheCluster) or removed (DeleteCacheCluster).
    pub fn status_of(&self, member: &Member) -> &'static str {
        let pending = self.pending.as_ref();
        if member.rebooting {
            "rebooting cache cluster nodes"
        } else if pending.is_some_and(|p| p.removing_member.as_ref() == Some(&member.cluster_id)) {
            "deleting"
        } else if pending.is_some_and(|p| p.one_member) && member.address.is_none() {
            "creating"
        } else {
            self.member_status()
        }
    }
}

impl Lifecycle for GroupStatus {
    fn as_str(self) -> &'static str {
        GroupStatus::as_str(self)
    }

    fn allows(self, next: Self) -> bool {
        use GroupStatus::*;
        matches!(
            (self, next),
            (Creating, Available | CreateFailed)
                | (Available, Modifying | Deleting)
                | (Modifying, Available)
                | (Available, Snapshotting)
                | (Snapshotting, Available)
                | (CreateFailed, Deleting)
        )
    }
}

impl Resource for ReplicationGroup {
    const KIND: ResourceKind = ResourceKind::ReplicationGroup;
    type Status = GroupStatus;

    fn id(&self) -> &str {
        self.id.as_str()
    }

    fn status(&self) -> GroupStatus {
        self.status
    }

    fn set_status(&mut self, status: GroupStatus) {
        self.status = status;
    }

    fn set_revision(&mut self, revision: u64) {
        self.revision = revision;
    }

    fn not_found(raw_id: &str) -> ApiError {
        ApiError::replication_group_not_found(raw_id)
    }

    fn already_exists(id: &str) -> ApiError {
        ApiError::ReplicationGroupAlreadyExists(format!("Replication group {id} already exists."))
    }

    fn invalid_state(&self, wanted: GroupStatus) -> ApiError {
        ApiError::InvalidReplicationGroupState(format!(
            "Replication group {} is {}, so it cannot become {}.",
            self.id,
            self.status.as_str(),
            wanted.as_str()
        ))
    }
}
