//! DescribeCacheSubnetGroups: one group (any-case name) or all, in name order, paged by the
//! shared pager.

use serde::Serialize;

use super::paging;
use super::subnet_groups::CacheSubnetGroupShape;
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const LIST: &str = "CacheSubnetGroups";

/// `CacheSubnetGroupMessage`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheSubnetGroupMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    pub cache_subnet_groups: XmlList<CacheSubnetGroupShape>,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<CacheSubnetGroupMessage, ApiError> {
    let model = state.model();
    let request = paging::request(&model.pager, LIST, params)?;
    let groups: Vec<_> = match params.optional("CacheSubnetGroupName") {
        Some(name) => vec![model.subnet_group(name)?],
        None => model.subnet_groups().collect(),
    };
    let (page, marker) = model
        .pager
        .page(LIST, groups, |g| g.name.as_str(), &request);
    let scope = ctx.scope();
    Ok(CacheSubnetGroupMessage {
        marker,
        cache_subnet_groups: XmlList::new(
            "CacheSubnetGroup",
            page.iter()
                .map(|g| CacheSubnetGroupShape::from_model(g, &scope))
                .collect(),
        ),
    })
}
