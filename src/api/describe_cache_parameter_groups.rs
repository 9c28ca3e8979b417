//! DescribeCacheParameterGroups: one group (any-case name) or all, the defaults included,
//! paged by name.

use serde::Serialize;

use super::paging;
use super::parameter_shapes::CacheParameterGroupShape;
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const LIST: &str = "CacheParameterGroups";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
    cache_parameter_groups: XmlList<CacheParameterGroupShape>,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<DescribeResult, ApiError> {
    let model = state.model();
    let request = paging::request(&model.pager, LIST, params)?;
    let scope = ctx.scope();
    let groups = match params.optional("CacheParameterGroupName") {
        Some(name) => vec![model.parameter_group(name, &scope)?],
        None => model.parameter_groups(&scope),
    };
    let (page, marker) = model
        .pager
        .page(LIST, groups, |g| g.name.as_str(), &request);
    Ok(DescribeResult {
        marker,
        cache_parameter_groups: XmlList::new(
            "CacheParameterGroup",
            page.iter()
                .map(CacheParameterGroupShape::from_model)
                .collect(),
        ),
    })
}
