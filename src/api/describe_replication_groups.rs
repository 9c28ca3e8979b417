//! DescribeReplicationGroups: one group (any-case id) or all, paged by id.

use serde::Serialize;

use super::paging;
use super::shapes::ReplicationGroupShape;
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

#[derive(Serialize)]
pub struct Output {
    #[serde(rename = "Marker", skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
    #[serde(rename = "ReplicationGroups")]
    replication_groups: XmlList<ReplicationGroupShape>,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<Output, ApiError> {
    let max = paging::max_records(params)?;
    let marker = params.optional("Marker").filter(|m| !m.is_empty());
    let model = state.model();
    let groups: Vec<_> = match params.optional("ReplicationGroupId") {
        Some(id) => vec![model.group(id)?],
        None => model.groups().collect(),
    };
    let (page, marker) = paging::page(groups, |g| g.id.as_str(), marker, max);
    let shapes = page
        .into_iter()
        .map(ReplicationGroupShape::from_model)
        .collect();
    Ok(Output {
        marker,
        replication_groups: XmlList::new("ReplicationGroup", shapes),
    })
}
