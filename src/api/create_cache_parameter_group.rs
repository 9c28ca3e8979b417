//! CreateCacheParameterGroup: a copy of its family's defaults, with its tags.

use serde::Serialize;

use super::parameter_shapes::CacheParameterGroupShape;
use crate::model::parameter_group::ParameterGroup;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateResult {
    cache_parameter_group: CacheParameterGroupShape,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<CreateResult, ApiError> {
    let name = params.required("CacheParameterGroupName")?;
    let family = params.required("CacheParameterGroupFamily")?;
    let description = params.required("Description")?;
    let group = ParameterGroup::new(name, family, description, &ctx.scope())?;
    let tags = super::tags::parse_tags(params)?;
    let group = state.model().create_parameter_group(group, &tags)?;
    tracing::info!(parameter_group = %group.name, family = %group.family, "cache parameter group created");
    Ok(CreateResult {
        cache_parameter_group: CacheParameterGroupShape::from_model(&group),
    })
}
