//! DescribeSnapshots: every snapshot of the scope, or those of one replication group or cache
//! cluster, one name, or one source (`user`: manual, `system`: automatic); in name order, paged
//! by the shared pager (`MaxRecords` 20-50, default 50, as this action's model says). A
//! `CacheClusterId` that names no cluster and no snapshot is `CacheClusterNotFound`.

use serde::Serialize;

use super::snapshot_shape::SnapshotShape;
use crate::model::snapshot::{Snapshot, SnapshotSource};
use crate::protocol::query::invalid_value;
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const LIST: &str = "Snapshots";

/// `DescribeSnapshotsListMessage`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSnapshotsListMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    pub snapshots: XmlList<SnapshotShape>,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<DescribeSnapshotsListMessage, ApiError> {
    let source = match params.optional("SnapshotSource") {
        None => None,
        Some("user") => Some(SnapshotSource::Manual),
        Some("system") => Some(SnapshotSource::Automated),
        Some(other) => return Err(invalid_value("SnapshotSource", other, "user or system")),
    };
    let show_node_groups = params.bool("ShowNodeGroupConfig")?.unwrap_or(false);
    let max = params.int_in("MaxRecords", 20, 50)?.unwrap_or(50) as usize;
    let model = state.model();
    let request = model.pager.request(LIST, params.optional("Marker"), max)?;
    let group = params
        .optional("ReplicationGroupId")
        .map(str::to_ascii_lowercase);
    let cluster = params
        .optional("CacheClusterId")
        .map(str::to_ascii_lowercase);
    let matches = |s: &&Snapshot| {
        source.is_none_or(|wanted| s.source == wanted)
            && group
                .as_deref()
                .is_none_or(|g| s.origin.replication_group_id.as_deref() == Some(g))
            && cluster.as_deref().is_none_or(|c| taken_of_cluster(s, c))
    };
    let snapshots: Vec<&Snapshot> = match params.optional("SnapshotName") {
        Some(name) => vec![model.snapshot(name)?]
            .into_iter()
            .filter(matches)
            .collect(),
        None => model.snapshots().filter(matches).collect(),
    };
    if let Some(id) = params.optional("CacheClusterId")
        && snapshots.is_empty()
        && !cluster_exists(&model, id)
    {
        return Err(ApiError::cache_cluster_not_found(id));
    }
    let (page, marker) = model
        .pager
        .page(LIST, snapshots, |s| s.name.as_str(), &request);
    Ok(DescribeSnapshotsListMessage {
        marker,
        snapshots: XmlList::new(
            "Snapshot",
            page.iter()
                .map(|s| SnapshotShape::from_model(s, show_node_groups))
                .collect(),
        ),
    })
}

/// `CacheClusterId` names a cluster that is (standalone or a group's member). An unknown one is
/// `CacheClusterNotFound` (the error the model lists for this action) unless snapshots of it
/// remain, as a deleted cluster's final snapshot does, which stay listable by its id.
fn cluster_exists(model: &crate::model::Model, id: &str) -> bool {
    model.cache_cluster(id).is_ok() || model.group_of_member(id).is_some()
}

/// A snapshot of cache cluster `id`: taken of it, or of its node in a replication group.
fn taken_of_cluster(snapshot: &Snapshot, id: &str) -> bool {
    snapshot.origin.cache_cluster_id.as_deref() == Some(id)
        || snapshot
            .node_snapshots
            .iter()
            .any(|node| node.cache_cluster_id == id)
}

#[cfg(test)]
mod tests {
    use super::run;
    use crate::api::test_support::{ctx, query, state_with};
    use crate::model::Model;
    use crate::protocol::ApiError;

    #[tokio::test]
    async fn a_cluster_id_naming_no_cluster_and_no_snapshot_is_cache_cluster_not_found() {
        let state = state_with(Model::new(15, chrono::Duration::hours(24)));
        let answer = run(&state, &query("CacheClusterId=no-such-cluster"), &ctx()).await;
        assert!(
            matches!(answer, Err(ApiError::CacheClusterNotFound(ref m)) if m.contains("no-such-cluster")),
            "{:?}",
            answer.err()
        );
        let every = run(&state, &query(""), &ctx()).await;
        assert!(every.is_ok(), "no filter lists (none)");
    }
}
