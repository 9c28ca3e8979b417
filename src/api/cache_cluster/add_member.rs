//! Members one by one: CreateCacheCluster with `ReplicationGroupId` starts one more replica of
//! a cluster-mode-disabled group (it syncs, then shows in `MemberClusters`); DeleteCacheCluster
//! of a replica member stops and removes it. Both run the replica-count workflow.

use super::shape::CacheClusterResult;
use crate::model::arn::{Arn, ResourceKind};
use crate::model::cache_cluster::CacheEngine;
use crate::model::tags::TagStore;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};
use crate::workflows::replicas;

/// What a member takes from its group and may not be given otherwise.
const GROUP_SETTINGS: [&str; 6] = [
    "CacheNodeType",
    "EngineVersion",
    "CacheParameterGroupName",
    "CacheSubnetGroupName",
    "AuthToken",
    "AZMode",
];

pub fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
    cluster_id: String,
    group_id: &str,
) -> Result<CacheClusterResult, ApiError> {
    if let Some(engine) = params.optional("Engine") {
        let asked = CacheEngine::parse(engine)?.as_str();
        let group_engine = state.model().group(group_id)?.settings.engine.clone();
        if asked != group_engine {
            return Err(ApiError::InvalidParameterCombination(format!(
                "Replication group {group_id} runs {group_engine}: its new member cannot run {asked}."
            )));
        }
    }
    if params
        .int_in("NumCacheNodes", i64::MIN, i64::MAX)?
        .is_some_and(|n| n != 1)
    {
        return Err(ApiError::InvalidParameterCombination(
            "A cache cluster added to a replication group has exactly one node (NumCacheNodes 1)."
                .into(),
        ));
    }
    if let Some(name) = GROUP_SETTINGS.iter().find(|n| params.optional(n).is_some()) {
        return Err(ApiError::InvalidParameterCombination(format!(
            "{name} cannot be given with ReplicationGroupId: the new member takes its replication group's."
        )));
    }
    let zone = params
        .optional("PreferredAvailabilityZone")
        .map(str::to_string);
    let tags = crate::api::tags::parse_tags(params)?;
    let (group, member) = {
        let mut model = state.model();
        let arn = Arn {
            kind: ResourceKind::CacheCluster,
            id: cluster_id.clone(),
            ..model.group(group_id)?.arn.clone()
        };
        // The tag store's rules (count, sizes), checked before anything changes.
        TagStore::default().add(&arn, &tags)?;
        let begun = model.begin_member_add(group_id, &cluster_id, zone, state.now())?;
        model.tags.add(&arn, &tags)?;
        begun
    };
    tracing::info!(group = %group.id, cluster = %cluster_id, "adding a replica member");
    let response = CacheClusterResult::member(&group, &member, Some("creating"));
    tokio::spawn(replicas::run(
        state.clone(),
        group.id.to_string(),
        true,
        vec![(cluster_id, crate::model::group::NODE_GROUP_ID.to_string())],
        vec![],
    ));
    Ok(response)
}

/// DeleteCacheCluster of a group's member: `Some` answer when `raw_id` is one (a replica is
/// removed; the primary is refused), `None` for any other id.
pub fn remove(state: &SharedState, raw_id: &str) -> Result<Option<CacheClusterResult>, ApiError> {
    if state.model().group_of_member(raw_id).is_none() {
        return Ok(None);
    }
    let (group, member) = state.model().begin_member_remove(raw_id)?;
    tracing::info!(group = %group.id, cluster = %member.cluster_id, "removing a replica member");
    let response = CacheClusterResult::member(&group, &member, Some("deleting"));
    tokio::spawn(replicas::run(
        state.clone(),
        group.id.to_string(),
        false,
        vec![],
        vec![member.cluster_id],
    ));
    Ok(Some(response))
}
