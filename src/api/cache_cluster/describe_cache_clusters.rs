//! DescribeCacheClusters: every replication group member (a cache cluster of one node) and
//! every standalone cache cluster, in id order. Each one's XML is encoded once per revision
//! (of its group, or its own) and reused (see `protocol::fragments`).

use super::shape::CacheClusterShape;
use crate::api::encoded_page::{EncodedPage, lookup_entries};
use crate::api::paging;
use crate::model::Model;
use crate::model::cache_cluster::CacheCluster;
use crate::model::group::{Member, ReplicationGroup};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const LIST: &str = "CacheClusters";
const MEMBER: &str = "CacheCluster";

/// Standalone clusters' revisions come from another table than groups': this bit keeps a
/// standalone cluster's cache key apart from a deleted member's of the same id.
const STANDALONE_REVISION: u64 = 1 << 63;

/// One cache cluster as listed.
#[derive(Clone, Copy)]
enum Listed<'a> {
    Member(&'a ReplicationGroup, &'a Member),
    Standalone(&'a CacheCluster),
}

impl<'a> Listed<'a> {
    fn id(&self) -> &'a str {
        match self {
            Self::Member(_, member) => &member.cluster_id,
            Self::Standalone(cluster) => &cluster.id,
        }
    }

    fn revision(&self) -> u64 {
        match self {
            Self::Member(group, _) => group.revision,
            Self::Standalone(cluster) => cluster.revision | STANDALONE_REVISION,
        }
    }

    fn shape(&self, show_nodes: bool) -> CacheClusterShape {
        match self {
            Self::Member(group, member) => CacheClusterShape::member(group, member, show_nodes),
            Self::Standalone(cluster) => CacheClusterShape::standalone(cluster, show_nodes),
        }
    }
}

/// The clusters asked for, in id order: one id, or all (only standalone ones on request).
fn listed<'a>(model: &'a Model, wanted: Option<&str>, only_standalone: bool) -> Vec<Listed<'a>> {
    let members = model
        .groups()
        .flat_map(|g| g.members.iter().map(move |m| Listed::Member(g, m)))
        .filter(|_| !only_standalone);
    let standalone = model.cache_clusters().map(Listed::Standalone);
    let mut clusters: Vec<Listed> = members
        .chain(standalone)
        .filter(|c| wanted.is_none_or(|w| w == c.id()))
        .collect();
    clusters.sort_by(|a, b| a.id().cmp(b.id()));
    clusters
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<EncodedPage, ApiError> {
    let show_nodes = params.bool("ShowCacheNodeInfo")?.unwrap_or(false);
    let only_standalone = params
        .bool("ShowCacheClustersNotInReplicationGroups")?
        .unwrap_or(false);
    let wanted = params
        .optional("CacheClusterId")
        .map(str::to_ascii_lowercase);
    let cache = &state.encoded_cache_clusters[usize::from(show_nodes)];
    let (entries, marker) = {
        let model = state.model();
        let request = paging::request(&model.pager, LIST, params)?;
        let clusters = listed(&model, wanted.as_deref(), only_standalone);
        if let (Some(id), true) = (params.optional("CacheClusterId"), clusters.is_empty()) {
            return Err(ApiError::cache_cluster_not_found(id));
        }
        let (page, marker) = model.pager.page(LIST, clusters, |c| c.id(), &request);
        let entries = lookup_entries(
            cache,
            &page,
            |c| (c.id(), c.revision()),
            |c| c.shape(show_nodes),
        );
        (entries, marker)
    };
    // Encoding happens outside the model lock.
    EncodedPage::encode(LIST, MEMBER, marker, entries, cache)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_support::{answer, ctx, query, state_with};
    use crate::api::{Action, Respond};
    use crate::model::tests::{group, model_with};
    use crate::protocol::xml::XmlList;
    use serde::Serialize;

    /// The result serialized in one piece, as the model's shape orders it.
    #[derive(Serialize)]
    struct Envelope<'a> {
        #[serde(rename = "Marker", skip_serializing_if = "Option::is_none")]
        marker: Option<&'a str>,
        #[serde(rename = "CacheClusters")]
        cache_clusters: XmlList<CacheClusterShape>,
    }

    async fn describe(state: &SharedState, raw: &str) -> String {
        answer(
            Action::DescribeCacheClusters,
            run(state, &query(raw), &ctx()).await,
        )
    }

    fn serialized_whole(
        state: &SharedState,
        marker: Option<&str>,
        ids: &[&str],
        nodes: bool,
    ) -> String {
        let model = state.model();
        let shapes = ids
            .iter()
            .map(|id| {
                let group = model.groups().find(|g| g.member(id).is_some()).unwrap();
                CacheClusterShape::member(group, group.member(id).unwrap(), nodes)
            })
            .collect();
        let envelope = Envelope {
            marker,
            cache_clusters: XmlList::new(MEMBER, shapes),
        };
        envelope
            .encode(Action::DescribeCacheClusters, &ctx())
            .unwrap()
    }

    #[tokio::test]
    async fn reused_encodings_read_exactly_as_a_whole_serialization() {
        let groups = (0..8).map(|i| group(&format!("g{i}"), 3, true)).collect();
        let state = state_with(model_with(groups));
        let all: Vec<String> = (0..8)
            .flat_map(|g| (1..=3).map(move |m| format!("g{g}-00{m}")))
            .collect();
        let ids: Vec<&str> = all.iter().map(String::as_str).collect();
        let marker = state.model().pager.issue(LIST, "g6-002");
        for _ in 0..2 {
            let page = describe(&state, "MaxRecords=20").await;
            assert_eq!(
                page,
                serialized_whole(&state, Some(&marker), &ids[..20], false)
            );
            let query = format!("MaxRecords=20&Marker={marker}&ShowCacheNodeInfo=true");
            let rest = describe(&state, &query).await;
            assert_eq!(rest, serialized_whole(&state, None, &ids[20..], true));
        }
        let one = describe(&state, "CacheClusterId=G1-002&ShowCacheNodeInfo=true").await;
        assert_eq!(one, serialized_whole(&state, None, &["g1-002"], true));
    }

    #[tokio::test]
    async fn a_changed_group_is_encoded_again() {
        let state = state_with(model_with(vec![group("rg", 2, true)]));
        let before = describe(&state, "").await;
        assert!(!before.contains("cache.r7g.large"), "{before}");
        state
            .model()
            .group_mut("rg")
            .unwrap()
            .settings
            .stored
            .cache_node_type = "cache.r7g.large".into();
        let after = describe(&state, "").await;
        assert_eq!(
            after
                .matches("<CacheNodeType>cache.r7g.large</CacheNodeType>")
                .count(),
            2
        );
        assert_eq!(
            after,
            serialized_whole(&state, None, &["rg-001", "rg-002"], false)
        );
    }
}
