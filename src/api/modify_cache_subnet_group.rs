//! ModifyCacheSubnetGroup: a new description and/or a new subnet list (replacing the old one).

use super::subnet_groups::{CacheSubnetGroupShape, SubnetGroupResult, description, subnet_ids};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<SubnetGroupResult, ApiError> {
    let name = params.required("CacheSubnetGroupName")?;
    let description = params
        .optional("CacheSubnetGroupDescription")
        .map(description)
        .transpose()?;
    let subnet_ids = subnet_ids(params)?;
    let scope = ctx.scope();
    let group = state
        .model()
        .modify_subnet_group(name, description, subnet_ids, &scope)?;
    Ok(SubnetGroupResult {
        cache_subnet_group: CacheSubnetGroupShape::from_model(&group, &scope),
    })
}
