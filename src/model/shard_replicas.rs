//! Increase/DecreaseReplicaCount whatever the cluster mode: with it disabled the one node
//! group's count goes to `modify`; with it enabled each shard gets its own target
//! (`NewReplicaCount` for every shard, or `ReplicaConfiguration` per node group), new replicas
//! are named as AWS names them (`<group>-<node group>-<nnn>`) and removed ones are a shard's
//! highest-numbered replicas unless `ReplicasToRemove` names them.

use chrono::{DateTime, Utc};

use super::Model;
use super::group::{GroupStatus, Member, NODE_GROUP_ID, PendingChange, ReplicationGroup, Role};
use crate::protocol::ApiError;

/// Members per node group AWS allows: a primary and up to 5 replicas (ids `-001`..`-006`).
const MAX_SHARD_NODES: usize = 6;

/// One `ReplicaConfiguration.ConfigureShard` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShardCount {
    pub node_group_id: String,
    pub count: usize,
    /// `PreferredAvailabilityZones`: one per node of the shard afterwards, primary first.
    pub zones: Vec<String>,
}

/// An Increase/DecreaseReplicaCount request, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReplicaRequest {
    pub increase: bool,
    pub new_count: Option<usize>,
    pub shards: Vec<ShardCount>,
    /// `ReplicasToRemove` (Decrease only), lowercased.
    pub to_remove: Vec<String>,
    /// This server's limit of nodes per replication group.
    pub max_nodes: usize,
}

/// One shard's replicas now and as asked.
struct Target<'a> {
    node_group: &'a str,
    replicas: Vec<&'a Member>,
    count: Option<usize>,
    zones: &'a [String],
}

/// An admitted change: the group as it now is, each member to add with its node group, and
/// the members to remove.
pub type ReplicaChange = (ReplicationGroup, Vec<(String, String)>, Vec<String>);

fn invalid(message: String) -> ApiError {
    ApiError::InvalidParameterValue(message)
}

impl Model {
    /// Validates the change and marks the group `modifying` with AWS's start event. Returns
    /// the group as it now is (new members listed, without addresses), each member to add
    /// with its node group, and the members to remove.
    pub fn begin_replica_count_change(
        &mut self,
        raw_id: &str,
        request: &ReplicaRequest,
        now: DateTime<Utc>,
    ) -> Result<ReplicaChange, ApiError> {
        let group = self.group(raw_id)?;
        if !group.cluster_enabled {
            let (count, zones) = single_shard_count(request)?;
            let (group, added, removed) = self.begin_replica_change(
                raw_id,
                count,
                zones,
                &request.to_remove,
                request.increase,
                now,
            )?;
            let added = added.into_iter().map(|id| (id, NODE_GROUP_ID.into()));
            return Ok((group, added.collect(), removed));
        }
        if !group.is_idle() {
            return Err(ApiError::InvalidReplicationGroupState(format!(
                "Replication group {} is not in available state.",
                group.id
            )));
        }
        let targets = targets(group, request)?;
        let (added, removed) = match request.increase {
            true => (plan_increase(group, &targets, now)?, Vec::new()),
            false => (
                Vec::new(),
                plan_decrease(group, &targets, &request.to_remove)?,
            ),
        };
        check_after(group, request, &added, &removed)?;
        if let Some(taken) = added
            .iter()
            .find(|m| self.cache_cluster_exists(&m.cluster_id))
        {
            return Err(invalid(format!(
                "Cache cluster {} already exists.",
                taken.cluster_id
            )));
        }
        let group = self.group_mut(raw_id)?;
        group.status = GroupStatus::Modifying;
        group.pending = Some(PendingChange::default());
        group.members.extend(added.iter().cloned());
        let snapshot = group.clone();
        let (group_id, increase) = (snapshot.id.to_string(), request.increase);
        self.record_replica_count_change(group_id, increase, false, now);
        let added = added.into_iter().map(|m| (m.cluster_id, m.node_group));
        Ok((snapshot, added.collect(), removed))
    }
}

/// Cluster mode disabled: `NewReplicaCount`, or the one `ConfigureShard` (node group 0001).
/// The target replica count of a cluster-mode-disabled group and the zones of its nodes
/// afterwards (`PreferredAvailabilityZones`, primary first; empty when not given).
fn single_shard_count(request: &ReplicaRequest) -> Result<(Option<usize>, &[String]), ApiError> {
    match request.shards.as_slice() {
        [] => Ok((request.new_count, &[])),
        [shard] if shard.node_group_id != NODE_GROUP_ID => Err(ApiError::NodeGroupNotFoundFault(
            format!("Node group {} not found.", shard.node_group_id),
        )),
        [shard] if !shard.zones.is_empty() && !request.increase => Err(
            ApiError::InvalidParameterCombination(
                "PreferredAvailabilityZones places new replicas: it applies to IncreaseReplicaCount only.".into(),
            ),
        ),
        [shard] if !shard.zones.is_empty() && shard.zones.len() != shard.count + 1 => Err(invalid(
            format!(
                "Node group {}: PreferredAvailabilityZones lists {} zones; it must list NewReplicaCount + 1 ({}).",
                shard.node_group_id,
                shard.zones.len(),
                shard.count + 1
            ),
        )),
        [shard] => Ok((Some(shard.count), &shard.zones)),
        _ => Err(invalid(
            "A replication group with cluster mode disabled has one node group: give one ConfigureShard.".into(),
        )),
    }
}

/// Every shard with its replicas and its target (`None`: unchanged, unless `ReplicasToRemove`
/// names its replicas).
fn targets<'a>(
    group: &'a ReplicationGroup,
    request: &'a ReplicaRequest,
) -> Result<Vec<Target<'a>>, ApiError> {
    for (index, shard) in request.shards.iter().enumerate() {
        if !group
            .node_groups
            .iter()
            .any(|g| g.id == shard.node_group_id)
        {
            return Err(ApiError::NodeGroupNotFoundFault(format!(
                "Node group {} not found in replication group {}.",
                shard.node_group_id, group.id
            )));
        }
        if request.shards[..index]
            .iter()
            .any(|s| s.node_group_id == shard.node_group_id)
        {
            return Err(invalid(format!(
                "Node group {} is configured twice.",
                shard.node_group_id
            )));
        }
        if !shard.zones.is_empty() && shard.zones.len() != shard.count + 1 {
            return Err(invalid(format!(
                "Node group {}: PreferredAvailabilityZones lists {} zones; it must list NewReplicaCount + 1 ({}).",
                shard.node_group_id,
                shard.zones.len(),
                shard.count + 1
            )));
        }
    }
    Ok(group
        .node_groups
        .iter()
        .map(|g| {
            let entry = request.shards.iter().find(|s| s.node_group_id == g.id);
            let mut replicas: Vec<&Member> = group
                .members
                .iter()
                .filter(|m| m.node_group == g.id && m.role == Role::Replica)
                .collect();
            replicas.sort_by(|a, b| a.cluster_id.cmp(&b.cluster_id));
            Target {
                node_group: &g.id,
                replicas,
                count: entry.map(|e| e.count).or(request.new_count),
                zones: entry.map_or(&[][..], |e| &e.zones),
            }
        })
        .collect())
}

/// The new members: each shard with a target gets replicas up to it (each larger than now).
fn plan_increase(
    group: &ReplicationGroup,
    targets: &[Target],
    now: DateTime<Utc>,
) -> Result<Vec<Member>, ApiError> {
    if targets.iter().all(|t| t.count.is_none()) {
        return Err(ApiError::missing_parameter("NewReplicaCount"));
    }
    let mut added = Vec::new();
    for target in targets {
        let Some(count) = target.count else { continue };
        let current = target.replicas.len();
        if count <= current {
            return Err(invalid(format!(
                "NewReplicaCount ({count}) must be greater than the current replica count ({current}) of node group {}.",
                target.node_group
            )));
        }
        let in_shard = |id: &str| group.members.iter().any(|m| m.cluster_id == id);
        let primary_zone = group
            .members
            .iter()
            .find(|m| m.node_group == target.node_group && m.role == Role::Primary)
            .map(|m| m.availability_zone.clone())
            .unwrap_or_default();
        let ids = (1..=MAX_SHARD_NODES)
            .map(|n| format!("{}-{}-{n:03}", group.id, target.node_group))
            .filter(|id| !in_shard(id));
        for (offset, cluster_id) in ids.take(count - current).enumerate() {
            let zone = target.zones.get(1 + current + offset);
            added.push(Member {
                cluster_id,
                node_group: target.node_group.to_string(),
                role: Role::Replica,
                availability_zone: zone.cloned().unwrap_or_else(|| primary_zone.clone()),
                address: None,
                created_at: now,
                rebooting: false,
                pending_reboot: false,
            });
        }
    }
    Ok(added)
}

/// The members to remove: `ReplicasToRemove` (replicas of this group, agreeing with any
/// target), or each targeted shard's highest-numbered replicas down to its target.
fn plan_decrease(
    group: &ReplicationGroup,
    targets: &[Target],
    to_remove: &[String],
) -> Result<Vec<String>, ApiError> {
    if targets.iter().any(|t| !t.zones.is_empty()) {
        return Err(ApiError::InvalidParameterCombination(
            "PreferredAvailabilityZones places new replicas: it applies to IncreaseReplicaCount only.".into(),
        ));
    }
    if to_remove.is_empty() && targets.iter().all(|t| t.count.is_none()) {
        return Err(ApiError::missing_parameter("NewReplicaCount"));
    }
    for cluster_id in to_remove {
        let member = group.member(cluster_id).ok_or_else(|| {
            invalid(format!(
                "Cache cluster {cluster_id} is not a member of replication group {}.",
                group.id
            ))
        })?;
        if member.role == Role::Primary {
            return Err(invalid(format!(
                "Cache cluster {cluster_id} is the primary of node group {} and cannot be removed.",
                member.node_group
            )));
        }
    }
    let mut removed = Vec::new();
    for target in targets {
        let current = target.replicas.len();
        let named: Vec<String> = target
            .replicas
            .iter()
            .filter(|m| to_remove.contains(&m.cluster_id))
            .map(|m| m.cluster_id.clone())
            .collect();
        match target.count {
            Some(count) if !to_remove.is_empty() && current - named.len() != count => {
                return Err(ApiError::InvalidParameterCombination(format!(
                    "NewReplicaCount ({count}) and ReplicasToRemove disagree on how many replicas node group {} keeps.",
                    target.node_group
                )));
            }
            Some(count) if to_remove.is_empty() && count >= current => {
                return Err(invalid(format!(
                    "NewReplicaCount ({count}) must be less than the current replica count ({current}) of node group {}.",
                    target.node_group
                )));
            }
            Some(count) if to_remove.is_empty() => removed.extend(
                target.replicas[count..]
                    .iter()
                    .map(|m| m.cluster_id.clone()),
            ),
            _ => removed.extend(named),
        }
    }
    Ok(removed)
}

/// What every shard must keep afterwards: a replica with Multi-AZ (AWS: with cluster mode
/// enabled 0 replicas are allowed otherwise), and no more nodes than this server runs (the
/// botocore model's quota error for these actions, as resharding answers it).
fn check_after(
    group: &ReplicationGroup,
    request: &ReplicaRequest,
    added: &[Member],
    removed: &[String],
) -> Result<(), ApiError> {
    let nodes = group.members.len() + added.len() - removed.len();
    if nodes > request.max_nodes {
        return Err(ApiError::NodeGroupsPerReplicationGroupQuotaExceeded(
            format!(
                "The replication group would have {nodes} nodes; elasticache-local runs at most {} per replication group.",
                request.max_nodes
            ),
        ));
    }
    if !group.settings.multi_az {
        return Ok(());
    }
    for shard in &group.node_groups {
        let replicas = group
            .members
            .iter()
            .chain(added)
            .filter(|m| m.node_group == shard.id && m.role == Role::Replica)
            .filter(|m| !removed.contains(&m.cluster_id))
            .count();
        if replicas < 1 {
            return Err(invalid(format!(
                "Must have at least 1 replica in node group {} when Multi-AZ is enabled.",
                shard.id
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::group::NodeGroupLayout;
    use crate::model::tests::{group, model_with};

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000, 0).unwrap()
    }

    /// A cluster-mode group `g` of two shards, each a primary and one replica.
    fn two_shards() -> Model {
        let mut g = group("g", 4, true);
        g.cluster_enabled = true;
        let layout = [("0001", Role::Primary), ("0001", Role::Replica)];
        let layout = layout
            .iter()
            .chain(&[("0002", Role::Primary), ("0002", Role::Replica)]);
        for (index, (member, (shard, role))) in g.members.iter_mut().zip(layout).enumerate() {
            member.cluster_id = format!("g-{shard}-{:03}", index % 2 + 1);
            member.node_group = shard.to_string();
            member.role = *role;
        }
        g.node_groups = ["0001", "0002"]
            .iter()
            .map(|id| NodeGroupLayout {
                id: id.to_string(),
                slots: Some(String::new()),
            })
            .collect();
        model_with(vec![g])
    }

    fn request(increase: bool, count: usize) -> ReplicaRequest {
        ReplicaRequest {
            increase,
            new_count: Some(count),
            max_nodes: 90,
            ..ReplicaRequest::default()
        }
    }

    #[test]
    fn an_increase_names_each_new_replica_in_its_shard() {
        let mut model = two_shards();
        let (group, added, removed) = model
            .begin_replica_count_change("g", &request(true, 3), now())
            .unwrap();
        assert_eq!(group.status, GroupStatus::Modifying);
        let ids: Vec<&str> = added
            .iter()
            .map(|(id, shard)| {
                assert!(id.starts_with(&format!("g-{shard}-")));
                id.as_str()
            })
            .collect();
        assert_eq!(
            ids,
            ["g-0001-003", "g-0001-004", "g-0002-003", "g-0002-004"]
        );
        assert!(removed.is_empty());
    }

    #[test]
    fn the_node_quota_and_multi_az_are_kept() {
        let mut model = two_shards();
        let mut small = request(true, 2);
        small.max_nodes = 5;
        let refused = model.begin_replica_count_change("g", &small, now());
        assert_eq!(
            refused.unwrap_err().code(),
            "NodeGroupsPerReplicationGroupQuotaExceeded"
        );
        model.group_mut("g").unwrap().settings.multi_az = true;
        let refused = model.begin_replica_count_change("g", &request(false, 0), now());
        assert_eq!(refused.unwrap_err().code(), "InvalidParameterValue");
        model.group_mut("g").unwrap().settings.multi_az = false;
        let (_, _, removed) = model
            .begin_replica_count_change("g", &request(false, 0), now())
            .unwrap();
        assert_eq!(removed, ["g-0001-002", "g-0002-002"]);
    }

    #[test]
    fn cluster_mode_disabled_takes_one_configure_shard_for_0001() {
        let mut model = model_with(vec![group("d", 2, false)]);
        let mut other = request(true, 2);
        other.new_count = None;
        other.shards = vec![ShardCount {
            node_group_id: "0002".into(),
            count: 2,
            zones: vec![],
        }];
        let refused = model.begin_replica_count_change("d", &other, now());
        assert_eq!(refused.unwrap_err().code(), "NodeGroupNotFoundFault");
        other.shards[0].node_group_id = NODE_GROUP_ID.into();
        let (_, added, _) = model
            .begin_replica_count_change("d", &other, now())
            .unwrap();
        assert_eq!(added, [("d-003".to_string(), NODE_GROUP_ID.to_string())]);
    }

    #[test]
    fn cluster_mode_disabled_places_new_replicas_in_the_zones_asked() {
        let mut model = model_with(vec![group("d", 1, false)]);
        let mut placed = request(true, 2);
        placed.new_count = None;
        let zones = ["us-east-1a", "us-east-1d", "us-east-1e"].map(String::from);
        placed.shards = vec![ShardCount {
            node_group_id: NODE_GROUP_ID.into(),
            count: 2,
            zones: zones[..2].to_vec(),
        }];
        let refused = model.begin_replica_count_change("d", &placed, now());
        assert_eq!(refused.unwrap_err().code(), "InvalidParameterValue");
        placed.shards[0].zones = zones.to_vec();
        let (group, added, _) = model
            .begin_replica_count_change("d", &placed, now())
            .unwrap();
        let zone_of = |id: &str| group.member(id).unwrap().availability_zone.clone();
        let added_zones: Vec<String> = added.iter().map(|(id, _)| zone_of(id)).collect();
        assert_eq!(added_zones, ["us-east-1d", "us-east-1e"]);
    }
}
