//! Increase/DecreaseReplicaCount's one-shard core: which replicas to add or remove, the
//! group `modifying` while the engine works, and the members, tags and events afterwards.

use chrono::{DateTime, SecondsFormat, Utc};

use super::Model;
use super::arn::{Arn, ResourceKind};
use super::events::EventKind;
use super::group::{GroupStatus, Member, NODE_GROUP_ID, PendingChange, ReplicationGroup, Role};
use super::modify::not_a_member;
use super::scope::Scope;
use crate::protocol::ApiError;

impl Model {
    /// Validates a replica-count change and marks the group `modifying`. Returns the group as it
    /// now is (new members listed, without addresses), the member ids to add and those to remove.
    /// `zones`: every node's zone afterwards, primary first (the new replicas take theirs from
    /// it); empty for the primary's zone.
    pub fn begin_replica_change(
        &mut self,
        raw_id: &str,
        new_count: Option<usize>,
        zones: &[String],
        to_remove: &[String],
        increase: bool,
        now: DateTime<Utc>,
    ) -> Result<(ReplicationGroup, Vec<String>, Vec<String>), ApiError> {
        let group = self.group(raw_id)?;
        if !group.is_idle() {
            return Err(ApiError::InvalidReplicationGroupState(format!(
                "Replication group {} is not in available state.",
                group.id
            )));
        }
        let current = group.replica_count();
        let (added, removed) = if increase {
            let target = new_count.ok_or_else(|| ApiError::missing_parameter("NewReplicaCount"))?;
            if target <= current {
                return Err(ApiError::InvalidParameterValue(format!(
                    "NewReplicaCount ({target}) must be greater than the current replica count ({current})."
                )));
            }
            (group.free_member_ids(target - current), vec![])
        } else {
            (vec![], replicas_to_remove(group, new_count, to_remove)?)
        };
        let remaining = current + added.len() - removed.len();
        if remaining < 1 && (group.settings.automatic_failover || group.settings.multi_az) {
            return Err(ApiError::InvalidParameterValue(
                "Must have at least 1 replica when cluster mode is disabled with auto failover enabled.".into(),
            ));
        }
        let group_id = group.id.to_string();
        let zone = group.members[0].availability_zone.clone();
        let group = self.group_mut(raw_id)?;
        group.status = GroupStatus::Modifying;
        group.pending = Some(PendingChange::default());
        for (offset, cluster_id) in added.iter().enumerate() {
            let member = Member {
                cluster_id: cluster_id.clone(),
                node_group: NODE_GROUP_ID.to_string(),
                role: Role::Replica,
                availability_zone: zones.get(1 + current + offset).unwrap_or(&zone).clone(),
                address: None,
                created_at: now,
                rebooting: false,
                pending_reboot: false,
            };
            group.members.push(member);
        }
        let snapshot = group.clone();
        self.record_replica_count_change(group_id, increase, false, now);
        Ok((snapshot, added, removed))
    }

    /// The engine added (with addresses) and removed nodes; members that did not start are dropped.
    pub fn finish_replica_change(
        &mut self,
        id: &str,
        increase: bool,
        added: &[(String, std::net::SocketAddrV4)],
        removed: &[String],
        failure: Option<String>,
        now: DateTime<Utc>,
    ) {
        let Ok(group) = self.group_mut(id) else {
            return;
        };
        group.set_addresses(added);
        let group_id = group.id.to_string();
        let before: Vec<String> = group.members.iter().map(|m| m.cluster_id.clone()).collect();
        group
            .members
            .retain(|m| m.address.is_some() && !removed.contains(&m.cluster_id));
        let kept: Vec<String> = group.members.iter().map(|m| m.cluster_id.clone()).collect();
        group.status = GroupStatus::Available;
        let group_arn = group.arn.clone();
        let one_member = group.pending.take().is_some_and(|p| p.one_member);
        let started: Vec<String> = added.iter().map(|(id, _)| id.clone()).collect();
        let gone: Vec<String> = before
            .iter()
            .filter(|id| !kept.contains(id))
            .cloned()
            .collect();
        self.retag_members(&group_arn, &started, &gone);
        for (cluster_id, _) in added {
            self.record(
                EventKind::CacheClusterCreated {
                    cluster_id: cluster_id.clone(),
                },
                now,
            );
        }
        for cluster_id in before
            .into_iter()
            .filter(|id| !kept.contains(id) && removed.contains(id))
        {
            self.record(EventKind::CacheClusterDeleted { cluster_id }, now);
        }
        if let Some(reason) = failure {
            self.record(
                EventKind::ModifyFailed {
                    group_id: group_id.clone(),
                    reason,
                },
                now,
            );
        }
        if one_member {
            return;
        }
        self.record_replica_count_change(group_id, increase, true, now);
    }

    /// AWS's "Increase/Decrease replica count started/completed" event, stamped with `now`.
    pub(super) fn record_replica_count_change(
        &mut self,
        group_id: String,
        increase: bool,
        completed: bool,
        now: DateTime<Utc>,
    ) {
        let at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
        let change = EventKind::ReplicaCountChange {
            group_id,
            increase,
            completed,
            at,
        };
        self.record(change, now);
    }
}

/// `ReplicasToRemove` (checked), or else the highest-numbered replicas down to `new_count`.
fn replicas_to_remove(
    group: &ReplicationGroup,
    new_count: Option<usize>,
    to_remove: &[String],
) -> Result<Vec<String>, ApiError> {
    let current = group.replica_count();
    if !to_remove.is_empty() {
        for cluster_id in to_remove {
            let member = group
                .member(cluster_id)
                .ok_or_else(|| not_a_member(group, cluster_id))?;
            if member.role == Role::Primary {
                return Err(ApiError::InvalidParameterValue(format!(
                    "Cache cluster {cluster_id} is the primary and cannot be removed."
                )));
            }
        }
        if new_count.is_some_and(|n| n + to_remove.len() != current) {
            return Err(ApiError::InvalidParameterCombination(
                "NewReplicaCount and ReplicasToRemove disagree on how many replicas remain.".into(),
            ));
        }
        return Ok(to_remove.to_vec());
    }
    let target = new_count.ok_or_else(|| ApiError::missing_parameter("NewReplicaCount"))?;
    if target >= current {
        return Err(ApiError::InvalidParameterValue(format!(
            "NewReplicaCount ({target}) must be less than the current replica count ({current})."
        )));
    }
    let mut replicas: Vec<String> = group
        .members
        .iter()
        .filter(|m| m.role == Role::Replica)
        .map(|m| m.cluster_id.clone())
        .collect();
    replicas.sort();
    Ok(replicas.split_off(target))
}

impl Model {
    /// A replica-count change's effect on tags: a new member starts with its group's tags (a
    /// group's tags reach all its nodes), a removed member's tags go with it.
    fn retag_members(&mut self, group_arn: &Arn, started: &[String], gone: &[String]) {
        let scope = Scope::new(&group_arn.account, &group_arn.region);
        let member_arn = |id: &str| Arn::new(ResourceKind::CacheCluster, &scope, id);
        let group_tags = self.tags.list(group_arn);
        for id in started {
            // The group's own tags already passed the same rules and quota.
            let _ = self.tags.add(&member_arn(id), &group_tags);
        }
        for id in gone {
            self.tags.forget(&member_arn(id));
        }
    }
}
