//! A replication group's members one by one, the older way: CreateCacheCluster with
//! `ReplicationGroupId` adds a replica, DeleteCacheCluster removes one (never the primary),
//! and RebootCacheCluster restarts a member's node. The engine work is the replica-count
//! workflow's (`finish_replica_change` ends it) or the reboot's.

use chrono::{DateTime, Utc};

use super::Model;
use super::group::{GroupStatus, Member, NODE_GROUP_ID, PendingChange, ReplicationGroup, Role};
use crate::protocol::ApiError;

/// AWS's limit: a node group has a primary and at most five replicas.
const MAX_REPLICAS: usize = 5;

fn not_available(group: &ReplicationGroup) -> ApiError {
    ApiError::InvalidReplicationGroupState(format!(
        "Replication group {} is not in available state.",
        group.id
    ))
}

impl Model {
    /// The group `cluster_id` is a member of, if any.
    pub fn group_of_member(&self, cluster_id: &str) -> Option<&ReplicationGroup> {
        self.member_group(cluster_id).ok().map(|(group, _)| group)
    }

    /// The group `cluster_id` is a member of, and the member's id as the model keeps it
    /// (lower case); `CacheClusterNotFound` when no group has it.
    fn member_group(&self, cluster_id: &str) -> Result<(&ReplicationGroup, String), ApiError> {
        let id = cluster_id.to_ascii_lowercase();
        let group = self
            .groups()
            .find(|g| g.member(&id).is_some())
            .ok_or_else(|| ApiError::cache_cluster_not_found(cluster_id))?;
        Ok((group, id))
    }

    /// Adds `cluster_id` as a new replica (no port yet) and marks the group `modifying`.
    pub fn begin_member_add(
        &mut self,
        raw_group: &str,
        cluster_id: &str,
        zone: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(ReplicationGroup, Member), ApiError> {
        if self.cache_cluster_exists(cluster_id) {
            return Err(ApiError::CacheClusterAlreadyExists(format!(
                "Cache cluster {cluster_id} already exists."
            )));
        }
        let group = self.group(raw_group)?;
        if group.cluster_enabled {
            return Err(ApiError::InvalidParameterCombination(format!(
                "Replication group {} has cluster mode enabled: add replicas with IncreaseReplicaCount.",
                group.id
            )));
        }
        if !group.is_idle() {
            return Err(not_available(group));
        }
        if group.replica_count() >= MAX_REPLICAS {
            return Err(ApiError::NodeQuotaForClusterExceeded(format!(
                "Replication group {} already has {MAX_REPLICAS} replicas, the most a node group can have.",
                group.id
            )));
        }
        let zone = zone.unwrap_or_else(|| group.members[0].availability_zone.clone());
        let member = Member {
            cluster_id: cluster_id.to_string(),
            node_group: NODE_GROUP_ID.to_string(),
            role: Role::Replica,
            availability_zone: zone,
            address: None,
            created_at: now,
            rebooting: false,
            pending_reboot: false,
        };
        let group = self.group_mut(raw_group)?;
        group.status = GroupStatus::Modifying;
        group.pending = Some(PendingChange {
            one_member: true,
            ..PendingChange::default()
        });
        group.members.push(member.clone());
        Ok((group.clone(), member))
    }

    /// Validates removing the replica `cluster_id` and marks its group `modifying`; its
    /// primary is refused, as is the last replica of a group with automatic failover.
    pub fn begin_member_remove(
        &mut self,
        cluster_id: &str,
    ) -> Result<(ReplicationGroup, Member), ApiError> {
        let (group, id) = self.member_group(cluster_id)?;
        let member = group.member(&id).cloned().expect("found by member");
        if member.role == Role::Primary {
            return Err(ApiError::InvalidCacheClusterState(format!(
                "Cannot delete cache cluster {id}: it is the primary of replication group {}. Promote another member or delete the replication group.",
                group.id
            )));
        }
        if !group.is_idle() {
            return Err(not_available(group));
        }
        if group.replica_count() == 1
            && (group.settings.automatic_failover || group.settings.multi_az)
        {
            return Err(ApiError::InvalidReplicationGroupState(format!(
                "Cannot delete cache cluster {id}: replication group {} has automatic failover enabled and needs at least 1 replica.",
                group.id
            )));
        }
        let group_id = group.id.to_string();
        let group = self.group_mut(&group_id)?;
        group.status = GroupStatus::Modifying;
        group.pending = Some(PendingChange {
            one_member: true,
            removing_member: Some(member.cluster_id.clone()),
            ..PendingChange::default()
        });
        Ok((group.clone(), member))
    }

    /// Marks `cluster_id`'s node `rebooting`; the group must be idle and cluster mode
    /// disabled (AWS reboots no cluster-mode-enabled node).
    pub fn begin_member_reboot(
        &mut self,
        cluster_id: &str,
    ) -> Result<(ReplicationGroup, Member), ApiError> {
        let (group, id) = self.member_group(cluster_id)?;
        if group.cluster_enabled {
            return Err(ApiError::InvalidParameterCombination(format!(
                "Rebooting is not supported for the nodes of replication group {}, which has cluster mode enabled.",
                group.id
            )));
        }
        if !group.is_idle() {
            return Err(ApiError::InvalidCacheClusterState(format!(
                "Cache cluster {id} is not in available state (its replication group is {}).",
                group.status.as_str()
            )));
        }
        let group_id = group.id.to_string();
        let group = self.group_mut(&group_id)?;
        let member = group.member_mut(&id).expect("found by member");
        member.rebooting = true;
        let member = member.clone();
        Ok((group.clone(), member))
    }

    /// The member's node restarted (its pending parameters now active) or failed to.
    pub fn finish_member_reboot(
        &mut self,
        group_id: &str,
        cluster_id: &str,
        addresses: &[(String, std::net::SocketAddrV4)],
        failure: Option<String>,
        now: DateTime<Utc>,
    ) {
        let Ok(group) = self.group_mut(group_id) else {
            return;
        };
        group.set_addresses(addresses);
        if let Some(member) = group.member_mut(cluster_id) {
            member.rebooting = false;
            member.pending_reboot &= failure.is_some();
        }
        group.settings.parameters_pending_reboot = group.members.iter().any(|m| m.pending_reboot);
        // A member has one node, always `0001`.
        let node_ids = ["0001".to_string()];
        self.record_reboot_events(cluster_id, &node_ids, failure, now);
    }
}
