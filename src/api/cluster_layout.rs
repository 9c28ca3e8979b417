//! CreateReplicationGroup with cluster mode enabled: which requests ask for it, and the shards
//! they describe (`NumNodeGroups` / `ReplicasPerNodeGroup`, or `NodeGroupConfiguration`
//! entries), validated as AWS does before anything starts.

use crate::engine::{SLOT_COUNT, even_slot_ranges};
use crate::model::ids::parse_node_group_id;
use crate::protocol::query::invalid_value;
use crate::protocol::{ApiError, QueryParams};

/// The most nodes one cluster-mode group may have: AWS's default quota per cluster. 90
/// redis-servers form in 7-8 s on the 2-core machine this is tested on; 120 did not converge
/// within 20 s (see README, "Cluster mode").
pub const MAX_NODES: usize = 90;
/// The most shards: as many as the node quota allows (AWS allows up to 500 with a raised quota).
pub const MAX_NODE_GROUPS: i64 = MAX_NODES as i64;

/// One shard as requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardLayout {
    pub node_group_id: String,
    pub slots: Vec<(u32, u32)>,
    pub replica_count: usize,
    pub primary_zone: Option<String>,
    pub replica_zones: Vec<String>,
}

impl ShardLayout {
    /// The slots as AWS reports them: `0-5460`, ranges joined by commas.
    pub fn slots_text(&self) -> String {
        self.slots
            .iter()
            .map(|(first, last)| {
                if first == last {
                    first.to_string()
                } else {
                    format!("{first}-{last}")
                }
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// True when the request asks for cluster mode enabled, as AWS decides it: a parameter group
/// with `cluster-enabled yes` (`default.redis7.cluster.on`, or a user group that sets it;
/// `group_cluster_enabled` is `None` when no group is named), `ClusterMode=enabled`, more than
/// one node group, or more than one `NodeGroupConfiguration`. Without a group AWS picks the
/// matching default one; a named group with `cluster-enabled no` cannot run shards, and an
/// explicit `ClusterMode=disabled` that contradicts the rest is refused.
pub fn wants_cluster_mode(
    params: &QueryParams,
    group_cluster_enabled: Option<bool>,
) -> Result<bool, ApiError> {
    let shards = params.int_in("NumNodeGroups", 1, 500)?.unwrap_or(1) > 1
        || params
            .struct_list("NodeGroupConfiguration", "NodeGroupConfiguration")?
            .len()
            > 1;
    let implied = shards || group_cluster_enabled == Some(true);
    let mode = params.optional("ClusterMode").map(str::to_ascii_lowercase);
    if group_cluster_enabled == Some(false) && (shards || mode.as_deref() == Some("enabled")) {
        return Err(ApiError::InvalidParameterCombination(format!(
            "Cluster mode enabled needs a parameter group with cluster-enabled yes; {} has cluster-enabled no.",
            params
                .optional("CacheParameterGroupName")
                .unwrap_or_default()
        )));
    }
    match mode {
        None => Ok(implied),
        Some(mode) if mode == "enabled" => Ok(true),
        Some(mode) if mode == "disabled" && implied => Err(ApiError::InvalidParameterCombination(
            "ClusterMode disabled allows one node group and a parameter group without cluster mode.".into(),
        )),
        Some(mode) if mode == "disabled" => Ok(false),
        Some(mode) if mode == "compatible" => Err(ApiError::InvalidParameterValue(
            "elasticache-local does not support ClusterMode compatible; use enabled or disabled.".into(),
        )),
        Some(_) => Err(invalid_value(
            "ClusterMode",
            params.optional("ClusterMode").unwrap_or_default(),
            "enabled, disabled or compatible",
        )),
    }
}

/// The shards a cluster-mode-enabled request describes.
pub fn parse_shards(params: &QueryParams) -> Result<Vec<ShardLayout>, ApiError> {
    for single in [
        "NumCacheClusters",
        "PreferredCacheClusterAZs.AvailabilityZone.1",
    ] {
        if params.optional(single).is_some() {
            let name = single.split('.').next().unwrap_or(single);
            return Err(ApiError::InvalidParameterCombination(format!(
                "{name} is for cluster mode disabled; with cluster mode enabled use NumNodeGroups, ReplicasPerNodeGroup or NodeGroupConfiguration."
            )));
        }
    }
    let configs = params.struct_list("NodeGroupConfiguration", "NodeGroupConfiguration")?;
    let count = match (params.int_in("NumNodeGroups", 1, 500)?, configs.len()) {
        (Some(n), given) if given > 0 && n as usize != given => {
            return Err(ApiError::InvalidParameterCombination(format!(
                "NumNodeGroups ({n}) must equal the number of NodeGroupConfiguration entries ({given})."
            )));
        }
        (Some(n), _) => n,
        (None, 0) => 1,
        (None, given) => given as i64,
    };
    if count > MAX_NODE_GROUPS {
        return Err(ApiError::NodeGroupsPerReplicationGroupQuotaExceeded(
            format!(
                "The request exceeds the maximum of {MAX_NODE_GROUPS} node groups (shards) per replication group that elasticache-local runs."
            ),
        ));
    }
    let replicas_per_group = params.int_in("ReplicasPerNodeGroup", 0, 5)?;
    let even = even_slot_ranges(count as usize);
    let mut shards = Vec::new();
    for (index, even_slots) in even.into_iter().enumerate() {
        let shard = parse_shard(index, configs.get(index), replicas_per_group, even_slots)?;
        shards.push(shard);
    }
    let nodes: usize = shards.iter().map(|s| 1 + s.replica_count).sum();
    if nodes > MAX_NODES {
        return Err(ApiError::NodeQuotaForClusterExceeded(format!(
            "The request needs {nodes} nodes; a replication group here has at most {MAX_NODES} (AWS's default quota per cluster)."
        )));
    }
    check_distinct_ids(&shards)?;
    if configs.iter().any(|c| c.optional("Slots").is_some()) {
        check_slot_coverage(&shards)?;
    }
    Ok(shards)
}

/// Shard `index` from its `NodeGroupConfiguration` entry, if it has one; what the entry leaves
/// out comes from `ReplicasPerNodeGroup` and the even slot split.
fn parse_shard(
    index: usize,
    config: Option<&QueryParams>,
    replicas_per_group: Option<i64>,
    even_slots: (u32, u32),
) -> Result<ShardLayout, ApiError> {
    let field = |name: &str| config.and_then(|c| c.optional(name));
    let node_group_id = match field("NodeGroupId") {
        Some(id) => parse_node_group_id(id)?,
        None => format!("{:04}", index + 1),
    };
    let replica_count = match config {
        Some(c) => c.int_in("ReplicaCount", 0, 5)?,
        None => None,
    }
    .or(replicas_per_group)
    .unwrap_or(0) as usize;
    let replica_zones = match config {
        Some(c) => c.list("ReplicaAvailabilityZones", "AvailabilityZone")?,
        None => vec![],
    };
    if !replica_zones.is_empty() && replica_zones.len() != replica_count {
        return Err(ApiError::InvalidParameterValue(format!(
            "Node group {node_group_id}: the number of ReplicaAvailabilityZones ({}) must equal its replica count ({replica_count}).",
            replica_zones.len()
        )));
    }
    let slots = match field("Slots") {
        Some(text) => parse_slots(text)?,
        None => vec![even_slots],
    };
    Ok(ShardLayout {
        node_group_id,
        slots,
        replica_count,
        primary_zone: field("PrimaryAvailabilityZone").map(str::to_string),
        replica_zones,
    })
}

fn check_distinct_ids(shards: &[ShardLayout]) -> Result<(), ApiError> {
    for (index, shard) in shards.iter().enumerate() {
        if shards[..index]
            .iter()
            .any(|s| s.node_group_id == shard.node_group_id)
        {
            return Err(ApiError::InvalidParameterValue(format!(
                "NodeGroupId {} is given to more than one node group.",
                shard.node_group_id
            )));
        }
    }
    Ok(())
}

/// `Slots` as AWS takes it: `startkey-endkey` (`0-5460`); several ranges or single slots may be
/// joined by commas.
fn parse_slots(text: &str) -> Result<Vec<(u32, u32)>, ApiError> {
    let invalid = || invalid_value("Slots", text, "ranges like 0-5460 within 0-16383");
    text.split(',')
        .map(|part| {
            let part = part.trim();
            let (first, last) = part.split_once('-').unwrap_or((part, part));
            let first: u32 = first.trim().parse().map_err(|_| invalid())?;
            let last: u32 = last.trim().parse().map_err(|_| invalid())?;
            if first > last || last >= SLOT_COUNT {
                return Err(invalid());
            }
            Ok((first, last))
        })
        .collect()
}

/// Given slots must cover every one of the 16384 slots exactly once.
fn check_slot_coverage(shards: &[ShardLayout]) -> Result<(), ApiError> {
    let mut owner: Vec<Option<&str>> = vec![None; SLOT_COUNT as usize];
    for shard in shards {
        for &(first, last) in &shard.slots {
            for slot in first..=last {
                if let Some(other) = owner[slot as usize] {
                    return Err(ApiError::InvalidParameterValue(format!(
                        "Slot {slot} is given to node groups {other} and {}: slot ranges must not overlap.",
                        shard.node_group_id
                    )));
                }
                owner[slot as usize] = Some(&shard.node_group_id);
            }
        }
    }
    if let Some(slot) = owner.iter().position(Option::is_none) {
        return Err(ApiError::InvalidParameterValue(format!(
            "The node groups' Slots must cover all 16384 slots (0-16383); slot {slot} is not covered."
        )));
    }
    Ok(())
}

/// `NumCacheClusters` (1-6), or `ReplicasPerNodeGroup` / one `NodeGroupConfiguration`'s
/// `ReplicaCount` (0-5) plus the primary.
pub(super) fn node_count(params: &QueryParams) -> Result<usize, ApiError> {
    let clusters = params.int_in("NumCacheClusters", 1, 6)?;
    let node_groups = params.struct_list("NodeGroupConfiguration", "NodeGroupConfiguration")?;
    let replicas = match (
        params.int_in("ReplicasPerNodeGroup", 0, 5)?,
        node_groups.first(),
    ) {
        (Some(n), _) => Some(n),
        (None, Some(config)) => config.int_in("ReplicaCount", 0, 5)?,
        (None, None) => None,
    };
    match (clusters, replicas) {
        (Some(c), Some(r)) if c != r + 1 => Err(ApiError::InvalidParameterCombination(format!(
            "NumCacheClusters ({c}) and ReplicasPerNodeGroup ({r}) disagree: a node group of {c} cache clusters has {} replicas.",
            c - 1
        ))),
        (Some(c), _) => Ok(c as usize),
        (None, Some(r)) => Ok(r as usize + 1),
        (None, None) => Ok(1),
    }
}

pub(super) fn availability_zones(
    params: &QueryParams,
    count: usize,
    region: &str,
) -> Result<Vec<String>, ApiError> {
    let given = params.list("PreferredCacheClusterAZs", "AvailabilityZone")?;
    if given.is_empty() {
        return Ok((0..count)
            .map(|i| {
                format!(
                    "{region}{}",
                    super::create_replication_group::AZ_SUFFIXES
                        [i % super::create_replication_group::AZ_SUFFIXES.len()]
                )
            })
            .collect());
    }
    if given.len() != count {
        return Err(ApiError::InvalidParameterCombination(format!(
            "The number of PreferredCacheClusterAZs ({}) must equal the number of cache clusters ({count}).",
            given.len()
        )));
    }
    Ok(given)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> QueryParams {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        QueryParams::decode(None, body.as_bytes())
    }

    fn code(pairs: &[(&str, &str)]) -> &'static str {
        parse_shards(&params(pairs)).unwrap_err().code()
    }

    #[test]
    fn num_node_groups_splits_slots_evenly_with_padded_ids() {
        let shards = parse_shards(&params(&[
            ("NumNodeGroups", "3"),
            ("ReplicasPerNodeGroup", "1"),
        ]))
        .unwrap();
        let ids: Vec<_> = shards.iter().map(|s| s.node_group_id.as_str()).collect();
        assert_eq!(ids, ["0001", "0002", "0003"]);
        let slots: Vec<_> = shards.iter().map(ShardLayout::slots_text).collect();
        assert_eq!(slots, ["0-5460", "5461-10922", "10923-16383"]);
        assert!(shards.iter().all(|s| s.replica_count == 1));
    }

    #[test]
    fn node_group_configurations_give_ids_slots_and_replica_counts() {
        let shards = parse_shards(&params(&[
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.1.NodeGroupId",
                "0007",
            ),
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.1.Slots",
                "0-99,200-16383",
            ),
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.1.ReplicaCount",
                "2",
            ),
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.2.Slots",
                "100-199",
            ),
        ]))
        .unwrap();
        assert_eq!(shards[0].node_group_id, "0007");
        assert_eq!(shards[0].slots_text(), "0-99,200-16383");
        assert_eq!(shards[0].replica_count, 2);
        assert_eq!(shards[1].node_group_id, "0002");
        assert_eq!(shards[1].replica_count, 0);
    }

    #[test]
    fn slots_must_cover_everything_once() {
        let gap = [
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.1.Slots",
                "0-8000",
            ),
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.2.Slots",
                "8002-16383",
            ),
        ];
        assert_eq!(code(&gap), "InvalidParameterValue");
        let overlap = [
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.1.Slots",
                "0-8192",
            ),
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.2.Slots",
                "8192-16383",
            ),
        ];
        assert_eq!(code(&overlap), "InvalidParameterValue");
        for bad in ["a-b", "10-5", "0-16384", ""] {
            let slots = [("NodeGroupConfiguration.NodeGroupConfiguration.1.Slots", bad)];
            assert_eq!(code(&slots), "InvalidParameterValue", "{bad}");
        }
    }

    #[test]
    fn counts_ids_and_limits_are_checked() {
        let mismatch = [
            ("NumNodeGroups", "3"),
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.1.ReplicaCount",
                "1",
            ),
        ];
        assert_eq!(code(&mismatch), "InvalidParameterCombination");
        let too_many = (MAX_NODE_GROUPS + 1).to_string();
        assert_eq!(
            code(&[("NumNodeGroups", too_many.as_str())]),
            "NodeGroupsPerReplicationGroupQuotaExceeded"
        );
        assert_eq!(code(&[("NumNodeGroups", "0")]), "InvalidParameterValue");
        assert_eq!(
            code(&[("NumNodeGroups", "20"), ("ReplicasPerNodeGroup", "5")]),
            "NodeQuotaForClusterExceeded"
        );
        assert!(
            parse_shards(&params(&[
                ("NumNodeGroups", "15"),
                ("ReplicasPerNodeGroup", "5")
            ]))
            .is_ok()
        );
        assert_eq!(
            code(&[("NumNodeGroups", "2"), ("ReplicasPerNodeGroup", "6")]),
            "InvalidParameterValue"
        );
        let duplicate = [
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.1.NodeGroupId",
                "0002",
            ),
            (
                "NodeGroupConfiguration.NodeGroupConfiguration.2.NodeGroupId",
                "0002",
            ),
        ];
        assert_eq!(code(&duplicate), "InvalidParameterValue");
        let bad_id = [(
            "NodeGroupConfiguration.NodeGroupConfiguration.1.NodeGroupId",
            "abc",
        )];
        assert_eq!(code(&bad_id), "InvalidParameterValue");
        assert_eq!(
            code(&[("NumNodeGroups", "2"), ("NumCacheClusters", "2")]),
            "InvalidParameterCombination"
        );
    }

    #[test]
    fn cluster_mode_is_chosen_by_any_of_its_signs() {
        let yes = |pairs: &[(&str, &str)]| wants_cluster_mode(&params(pairs), None).unwrap();
        assert!(yes(&[("ClusterMode", "enabled")]));
        assert!(yes(&[("NumNodeGroups", "2")]));
        assert!(wants_cluster_mode(&params(&[]), Some(true)).unwrap());
        assert!(!wants_cluster_mode(&params(&[]), Some(false)).unwrap());
        let shards_without_cluster_group =
            wants_cluster_mode(&params(&[("NumNodeGroups", "2")]), Some(false));
        assert_eq!(
            shards_without_cluster_group.unwrap_err().code(),
            "InvalidParameterCombination"
        );
        assert!(!yes(&[("NumCacheClusters", "2")]));
        assert!(!yes(&[("ClusterMode", "Disabled")]));
        let contradiction = wants_cluster_mode(
            &params(&[("ClusterMode", "disabled"), ("NumNodeGroups", "2")]),
            None,
        );
        assert_eq!(
            contradiction.unwrap_err().code(),
            "InvalidParameterCombination"
        );
    }
}
