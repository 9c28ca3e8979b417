//! TestFailover admission: every check, then every change, under the one model lock, so
//! concurrent calls can never both pass (one in flight per group, exact quota).

use chrono::{DateTime, Utc};

use super::events::EventKind;
use super::group::{GroupStatus, ReplicationGroup, Role};
use super::{FailoverTicket, Model};
use crate::protocol::ApiError;

impl Model {
    /// Validates a TestFailover in AWS's order and, when it passes, marks the failover in flight,
    /// counts it against `account`'s quota and records the first event.
    pub fn begin_test_failover(
        &mut self,
        raw_group_id: &str,
        node_group_id: &str,
        account: &str,
        now: DateTime<Utc>,
    ) -> Result<FailoverTicket, ApiError> {
        let group = self.group(raw_group_id)?;
        let old_primary = failover_source(group, node_group_id)?;
        let group_id = group.id.to_string();
        if !self.quota.has_room(account, now) {
            return Err(ApiError::APICallRateForCustomerExceeded(format!(
                "You have exceeded the allowed rate of TestFailover calls: at most {} in any {} minutes.",
                self.quota.limit(),
                self.quota.window().num_minutes()
            )));
        }
        self.quota.record(account, now);
        self.group_mut(&group_id)?.failover_in_flight = true;
        let node_group_id = node_group_id.to_string();
        self.record(
            EventKind::TestFailoverCalled {
                group_id: group_id.clone(),
                node_group_id: node_group_id.clone(),
            },
            now,
        );
        Ok(FailoverTicket {
            group_id,
            node_group_id,
            old_primary,
        })
    }

    /// The replica was promoted: roles change and both failover-completed events are written.
    pub fn complete_promotion(
        &mut self,
        ticket: &FailoverTicket,
        new_primary: &str,
        now: DateTime<Utc>,
    ) {
        if let Ok(group) = self.group_mut(&ticket.group_id) {
            group.set_primary(new_primary);
        }
        let old_primary = ticket.old_primary.clone();
        let new_primary = new_primary.to_string();
        self.record(
            EventKind::FailoverCompletedOnCluster {
                old_primary: old_primary.clone(),
                new_primary: new_primary.clone(),
            },
            now,
        );
        let group_id = ticket.group_id.clone();
        self.record(
            EventKind::FailoverCompletedOnGroup {
                group_id,
                old_primary,
                new_primary,
            },
            now,
        );
    }

    /// A node was replaced and may listen on a new port.
    pub fn set_node_ports(&mut self, group_id: &str, ports: &[(String, u16)]) {
        if let Ok(group) = self.group_mut(group_id) {
            group.set_ports(ports);
        }
    }

    /// Admits an automatic recovery of a failed node of `failed_member`'s node group, under the
    /// same one-at-a-time rule as TestFailover; `None` while the group is busy or not available.
    pub fn begin_automatic_recovery(
        &mut self,
        group_id: &str,
        failed_member: &str,
    ) -> Option<FailoverTicket> {
        let group = self.group_mut(group_id).ok()?;
        if !group.is_idle() {
            return None;
        }
        let node_group_id = group.member(failed_member)?.node_group.clone();
        let old_primary = group
            .primary_of(&node_group_id)
            .map(|m| m.cluster_id.clone())
            .unwrap_or_default();
        group.failover_in_flight = true;
        Some(FailoverTicket {
            group_id: group.id.to_string(),
            node_group_id,
            old_primary,
        })
    }

    /// The workflow ended, well or not: another failover may start.
    pub fn end_failover(&mut self, ticket: &FailoverTicket) {
        if let Ok(group) = self.group_mut(&ticket.group_id) {
            group.failover_in_flight = false;
        }
    }
}

/// The primary a TestFailover on `node_group_id` would replace, once AWS's preconditions hold:
/// the node group exists, the group is available with no failover in flight, automatic
/// failover is on, and a healthy replica is there to promote.
fn failover_source(group: &ReplicationGroup, node_group_id: &str) -> Result<String, ApiError> {
    if group.node_group(node_group_id).is_none() {
        return Err(ApiError::NodeGroupNotFoundFault(format!(
            "Node group {node_group_id} not found in replication group {}.",
            group.id
        )));
    }
    // With cluster mode enabled AWS replaces one node at a time per replication group, so
    // a failover on any shard blocks the others too: the in-flight flag is per group.
    if group.status != GroupStatus::Available || group.failover_in_flight {
        return Err(ApiError::InvalidReplicationGroupState(format!(
            "Replication group {} is not in the available state{}.",
            group.id,
            if group.failover_in_flight {
                ": a failover (node replacement) is already in progress"
            } else {
                ""
            }
        )));
    }
    // AWS does not document the code for these two; InvalidReplicationGroupState is what
    // the group's own state calls for (see README, "Fidelity").
    if !group.settings.automatic_failover {
        return Err(ApiError::InvalidReplicationGroupState(format!(
            "Replication group {} must have automatic failover enabled to test failover.",
            group.id
        )));
    }
    let old_primary = group
        .primary_of(node_group_id)
        .map(|m| m.cluster_id.clone());
    let has_replica = group
        .members
        .iter()
        .any(|m| m.node_group == node_group_id && m.role == Role::Replica && m.port.is_some());
    let (Some(old_primary), true) = (old_primary, has_replica) else {
        return Err(ApiError::InvalidReplicationGroupState(format!(
            "Node group {node_group_id} of replication group {} has no healthy replica to fail over to.",
            group.id
        )));
    };
    Ok(old_primary)
}
