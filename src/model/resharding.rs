//! ModifyReplicationGroupShardConfiguration on the model: which shards come and go, checked
//! against the group under one lock, the group `modifying` with its slot migration's progress
//! while the engine works, and the new node groups, slots and members once it is done.

use chrono::{DateTime, Utc};

use super::Model;
use super::events::EventKind;
use super::group::{GroupStatus, Member, NodeGroupLayout, PendingChange, ReplicationGroup, Role};
use super::slot_plan::{ShardSlots, even_layout, parse_ranges, ranges_text, to_ranges};
use crate::protocol::ApiError;

/// One `ReshardingConfiguration` entry as given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShardZones {
    pub node_group_id: Option<String>,
    pub zones: Vec<String>,
}

/// The request, its parameters parsed (ids checked for form only).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReshardRequest {
    pub node_group_count: usize,
    pub configuration: Vec<ShardZones>,
    pub to_remove: Vec<String>,
    pub to_retain: Vec<String>,
    /// The limits of this server: node groups and nodes per group.
    pub max_node_groups: usize,
    pub max_nodes: usize,
}

/// What the engine is asked to do, decided under the lock that admitted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReshardPlan {
    pub group_id: String,
    /// The new shards: node group id and members (primary first), not yet in the group.
    pub added: Vec<(String, Vec<Member>)>,
    pub removed: Vec<String>,
    /// Every shard's slots afterwards, kept shards first, then the new ones.
    pub target: Vec<ShardSlots>,
}

fn invalid(message: String) -> ApiError {
    ApiError::InvalidParameterValue(message)
}

impl Model {
    /// Validates the request against the group and marks it `modifying` at 0 % progress,
    /// with AWS's start event; the plan for the engine.
    pub fn begin_resharding(
        &mut self,
        raw_id: &str,
        request: &ReshardRequest,
        region: &str,
        now: DateTime<Utc>,
    ) -> Result<(ReplicationGroup, ReshardPlan), ApiError> {
        let group = self.group(raw_id)?;
        if !group.cluster_enabled {
            return Err(ApiError::InvalidParameterValue(format!(
                "Replication group {} has cluster mode disabled: its shard configuration cannot be modified.",
                group.id
            )));
        }
        if !group.is_idle() {
            return Err(ApiError::InvalidReplicationGroupState(format!(
                "Replication group {} is not in available state.",
                group.id
            )));
        }
        let plan = plan(group, request, region, now)?;
        if let Some(taken) = plan
            .added
            .iter()
            .flat_map(|(_, members)| members)
            .find(|m| self.cache_cluster_exists(&m.cluster_id))
        {
            return Err(invalid(format!(
                "Cache cluster {} already exists.",
                taken.cluster_id
            )));
        }
        let from = group.node_groups.len();
        let group = self.group_mut(raw_id)?;
        group.status = GroupStatus::Modifying;
        group.pending = Some(PendingChange {
            resharding_progress: Some(0),
            ..PendingChange::default()
        });
        let group = group.clone();
        let (group_id, to) = (group.id.to_string(), request.node_group_count);
        self.record(
            EventKind::Resharding {
                group_id,
                from,
                to,
                completed: false,
            },
            now,
        );
        Ok((group, plan))
    }

    /// `done` of `total` slots moved.
    pub fn set_resharding_progress(&mut self, group_id: &str, done: usize, total: usize) {
        let Ok(group) = self.group_mut(group_id) else {
            return;
        };
        if let Some(pending) = group.pending.as_mut() {
            let progress = match total {
                0 => 10_000,
                _ => (done * 10_000 / total) as u16,
            };
            pending.resharding_progress = Some(progress);
        }
    }

    /// The engine is done, well or not: the node groups become what the engine runs (`layout`:
    /// slots by node group id, in its order), members of removed shards go, new members that
    /// started (in `addresses`) join, and the group is `available` again.
    pub fn finish_resharding(
        &mut self,
        plan: &ReshardPlan,
        layout: &[(String, Vec<u32>)],
        addresses: &[(String, std::net::SocketAddrV4)],
        failure: Option<String>,
        now: DateTime<Utc>,
    ) {
        let Ok(group) = self.group_mut(&plan.group_id) else {
            return;
        };
        let running = |id: &str| addresses.iter().any(|(member, _)| member == id);
        group.members.retain(|m| running(&m.cluster_id));
        let added = plan.added.iter().flat_map(|(_, members)| members);
        group
            .members
            .extend(added.filter(|m| running(&m.cluster_id)).cloned());
        group.set_addresses(addresses);
        if !layout.is_empty() {
            group.node_groups = layout
                .iter()
                .map(|(id, slots)| NodeGroupLayout {
                    id: id.clone(),
                    slots: Some(ranges_text(&to_ranges(slots))),
                })
                .collect();
        }
        group.status = GroupStatus::Available;
        group.pending = None;
        let (group_id, to) = (group.id.to_string(), group.node_groups.len());
        let kind = match failure {
            None => EventKind::Resharding {
                group_id,
                from: to,
                to,
                completed: true,
            },
            Some(reason) => EventKind::ModifyFailed { group_id, reason },
        };
        self.record(kind, now);
    }
}

/// The shards kept, removed and added, their members and the slots' destinations.
fn plan(
    group: &ReplicationGroup,
    request: &ReshardRequest,
    region: &str,
    now: DateTime<Utc>,
) -> Result<ReshardPlan, ApiError> {
    let current: Vec<String> = group.node_groups.iter().map(|g| g.id.clone()).collect();
    let count = request.node_group_count;
    let removed = removed_shards(&current, request)?;
    let replicas = group
        .members
        .iter()
        .filter(|m| m.node_group == current[0] && m.role == Role::Replica)
        .count();
    let nodes = count * (replicas + 1);
    if count > request.max_node_groups || nodes > request.max_nodes {
        return Err(ApiError::NodeGroupsPerReplicationGroupQuotaExceeded(
            format!(
                "{count} node groups of {} nodes each exceed this server's limits: at most {} node groups and {} nodes per replication group.",
                replicas + 1,
                request.max_node_groups,
                request.max_nodes
            ),
        ));
    }
    let new_shards = new_shard_zones(&current, request, replicas + 1)?;
    let added: Vec<(String, Vec<Member>)> = new_shards
        .into_iter()
        .enumerate()
        .map(|(index, (id, zones))| {
            let members = new_members(group, &id, &zones, current.len() + index, region, now);
            (id, members)
        })
        .collect();
    let slots: Vec<ShardSlots> = group
        .node_groups
        .iter()
        .map(|g| (g.id.clone(), parse_ranges(g.slots.as_deref().unwrap_or(""))))
        .collect();
    let kept: Vec<String> = current
        .iter()
        .filter(|id| !removed.contains(id))
        .cloned()
        .collect();
    let added_ids: Vec<String> = added.iter().map(|(id, _)| id.clone()).collect();
    Ok(ReshardPlan {
        group_id: group.id.to_string(),
        target: even_layout(&slots, &kept, &added_ids),
        added,
        removed,
    })
}

/// The shards a decrease removes: `NodeGroupsToRemove`, or all but `NodeGroupsToRetain`
/// (exactly one of them, and only when decreasing, as AWS requires).
fn removed_shards(current: &[String], request: &ReshardRequest) -> Result<Vec<String>, ApiError> {
    let count = request.node_group_count;
    let (remove, retain) = (&request.to_remove, &request.to_retain);
    if count >= current.len() {
        if !remove.is_empty() || !retain.is_empty() {
            return Err(ApiError::InvalidParameterCombination(format!(
                "NodeGroupsToRemove and NodeGroupsToRetain apply only when NodeGroupCount ({count}) is less than the current number of node groups ({}).",
                current.len()
            )));
        }
        return Ok(Vec::new());
    }
    let listed = match (remove.is_empty(), retain.is_empty()) {
        (false, false) => {
            return Err(ApiError::InvalidParameterCombination(
                "Give either NodeGroupsToRemove or NodeGroupsToRetain, not both.".into(),
            ));
        }
        (true, true) => {
            return Err(invalid(format!(
                "NodeGroupCount ({count}) is less than the current number of node groups ({}): NodeGroupsToRemove or NodeGroupsToRetain is required.",
                current.len()
            )));
        }
        (false, true) => remove,
        (true, false) => retain,
    };
    for (index, id) in listed.iter().enumerate() {
        if !current.contains(id) {
            return Err(invalid(format!("Node group {id} not found.")));
        }
        if listed[..index].contains(id) {
            return Err(invalid(format!("Node group {id} is listed twice.")));
        }
    }
    let (wanted, name) = match remove.is_empty() {
        false => (current.len() - count, "NodeGroupsToRemove"),
        true => (count, "NodeGroupsToRetain"),
    };
    if listed.len() != wanted {
        return Err(invalid(format!(
            "{name} lists {} node groups; going from {} to {count} node groups it must list {wanted}.",
            listed.len(),
            current.len()
        )));
    }
    Ok(match remove.is_empty() {
        false => remove.clone(),
        true => current
            .iter()
            .filter(|id| !retain.contains(id))
            .cloned()
            .collect(),
    })
}

/// Each new shard's node group id and zones (as many as it has nodes, or none), from
/// `ReshardingConfiguration`: one entry per node group afterwards, or one per new shard.
fn new_shard_zones(
    current: &[String],
    request: &ReshardRequest,
    nodes: usize,
) -> Result<Vec<(String, Vec<String>)>, ApiError> {
    let count = request.node_group_count;
    let entries = &request.configuration;
    let adding = count.saturating_sub(current.len());
    if adding == 0 && !entries.is_empty() {
        return Err(ApiError::InvalidParameterCombination(
            "ReshardingConfiguration can be given only when NodeGroupCount is greater than the current number of node groups.".into(),
        ));
    }
    let new_entries: &[ShardZones] = match entries.len() {
        0 => &[],
        n if n == count => {
            for (entry, id) in entries.iter().zip(current) {
                if entry
                    .node_group_id
                    .as_ref()
                    .is_some_and(|given| given != id)
                {
                    return Err(invalid(format!(
                        "ReshardingConfiguration entry for node group {id} names node group {}.",
                        entry.node_group_id.as_deref().unwrap_or_default()
                    )));
                }
            }
            &entries[current.len()..]
        }
        n if n == adding => entries,
        n => {
            return Err(invalid(format!(
                "ReshardingConfiguration has {n} entries: give one per node group ({count}) or one per new node group ({adding})."
            )));
        }
    };
    let mut taken: Vec<String> = current.to_vec();
    let mut shards = Vec::new();
    for index in 0..adding {
        let entry = new_entries.get(index).cloned().unwrap_or_default();
        let id = match entry.node_group_id {
            Some(id) if taken.contains(&id) => {
                return Err(invalid(format!("NodeGroupId {id} is already in use.")));
            }
            Some(id) => id,
            None => (1..)
                .map(|n| format!("{n:04}"))
                .find(|id| {
                    !taken.contains(id)
                        && !new_entries
                            .iter()
                            .any(|e| e.node_group_id.as_ref() == Some(id))
                })
                .expect("an unused id exists"),
        };
        if !entry.zones.is_empty() && entry.zones.len() != nodes {
            return Err(invalid(format!(
                "Node group {id}: PreferredAvailabilityZones lists {} zones; each node group has {nodes} nodes.",
                entry.zones.len()
            )));
        }
        taken.push(id.clone());
        shards.push((id, entry.zones));
    }
    Ok(shards)
}

/// The members of a new shard: `<group>-<node group>-001` (its primary), `-002`...
fn new_members(
    group: &ReplicationGroup,
    node_group_id: &str,
    zones: &[String],
    shard_index: usize,
    region: &str,
    now: DateTime<Utc>,
) -> Vec<Member> {
    let nodes = group
        .members
        .iter()
        .filter(|m| m.node_group == group.node_groups[0].id)
        .count();
    const SUFFIXES: [char; 6] = ['a', 'b', 'c', 'd', 'e', 'f'];
    (0..nodes)
        .map(|index| Member {
            cluster_id: format!("{}-{node_group_id}-{:03}", group.id, index + 1),
            node_group: node_group_id.to_string(),
            role: if index == 0 {
                Role::Primary
            } else {
                Role::Replica
            },
            availability_zone: zones.get(index).cloned().unwrap_or_else(|| {
                format!(
                    "{region}{}",
                    SUFFIXES[(shard_index + index) % SUFFIXES.len()]
                )
            }),
            address: None,
            created_at: now,
            rebooting: false,
            pending_reboot: false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddrV4};

    use super::*;
    use crate::model::tests::{group, model_with};

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    /// A cluster-mode group `g` of two one-node shards, `g-001` in 0001 and `g-002` in 0002.
    fn two_shards() -> Model {
        let mut g = group("g", 2, true);
        g.cluster_enabled = true;
        g.members[1].node_group = "0002".into();
        g.members[1].role = Role::Primary;
        g.node_groups = vec![
            NodeGroupLayout {
                id: "0001".into(),
                slots: Some("0-8191".into()),
            },
            NodeGroupLayout {
                id: "0002".into(),
                slots: Some("8192-16383".into()),
            },
        ];
        model_with(vec![g])
    }

    fn request(count: usize) -> ReshardRequest {
        ReshardRequest {
            node_group_count: count,
            max_node_groups: 90,
            max_nodes: 90,
            ..ReshardRequest::default()
        }
    }

    fn address(last: u8) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(127, 9, 0, last), 6379)
    }

    #[test]
    fn a_scale_out_plans_the_new_shard_and_its_slots_then_shows_them() {
        let mut model = two_shards();
        let (group, plan) = model
            .begin_resharding("g", &request(3), "us-east-1", now())
            .unwrap();
        assert_eq!(group.status, GroupStatus::Modifying);
        assert_eq!(group.pending.unwrap().resharding_progress, Some(0));
        let (id, members) = &plan.added[0];
        assert_eq!(id, "0003");
        assert_eq!(members[0].cluster_id, "g-0003-001");
        assert_eq!(plan.target[2].1, vec![(5462, 8191), (13653, 16383)]);
        let again = model.begin_resharding("g", &request(4), "us-east-1", now());
        assert_eq!(again.unwrap_err().code(), "InvalidReplicationGroupState");
        model.set_resharding_progress("g", 1, 3);
        let pending = model.group("g").unwrap().pending.clone().unwrap();
        assert_eq!(pending.resharding_progress, Some(3333));

        let layout: Vec<(String, Vec<u32>)> = plan
            .target
            .iter()
            .map(|(id, ranges)| {
                (
                    id.clone(),
                    ranges.iter().flat_map(|&(a, b)| a..=b).collect(),
                )
            })
            .collect();
        let addresses = [
            ("g-001".to_string(), address(1)),
            ("g-002".to_string(), address(2)),
            ("g-0003-001".to_string(), address(3)),
        ];
        model.finish_resharding(&plan, &layout, &addresses, None, now());
        let group = model.group("g").unwrap();
        assert_eq!(group.status, GroupStatus::Available);
        assert!(group.pending.is_none());
        assert_eq!(group.members.len(), 3);
        assert_eq!(
            group.member("g-0003-001").unwrap().address,
            Some(address(3))
        );
        let slots = group.node_groups[2].slots.as_deref();
        assert_eq!(slots, Some("5462-8191,13653-16383"));
    }

    #[test]
    fn a_failed_scale_in_keeps_what_still_runs_and_says_why() {
        let mut model = two_shards();
        let mut shrink = request(1);
        shrink.to_remove = vec!["0002".into()];
        let (_, plan) = model
            .begin_resharding("g", &shrink, "us-east-1", now())
            .unwrap();
        assert_eq!(plan.removed, ["0002"]);
        assert_eq!(plan.target, vec![("0001".to_string(), vec![(0, 16383)])]);
        let layout = vec![
            ("0001".to_string(), (0..10000).collect()),
            ("0002".to_string(), (10000..16384).collect()),
        ];
        let addresses = [("g-001".into(), address(1)), ("g-002".into(), address(2))];
        let failure = Some("MIGRATE failed".to_string());
        let before = model.events.len();
        model.finish_resharding(&plan, &layout, &addresses, failure, now());
        let group = model.group("g").unwrap();
        assert_eq!(group.status, GroupStatus::Available);
        assert_eq!(group.members.len(), 2);
        assert_eq!(group.node_groups[1].slots.as_deref(), Some("10000-16383"));
        assert_eq!(model.events.len(), before + 1);
    }
}
