//! CreateCacheSubnetGroup: a new group of the given subnets, with its tags.

use super::subnet_groups::{
    CacheSubnetGroupShape, SubnetGroupResult, arn, description, subnet_ids,
};
use super::tags::parse_tags;
use crate::model::arn::ResourceKind;
use crate::model::subnet_group::SubnetGroup;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<SubnetGroupResult, ApiError> {
    let name = ResourceKind::SubnetGroup.parse_id(params.required("CacheSubnetGroupName")?)?;
    let description = description(params.required("CacheSubnetGroupDescription")?)?;
    let subnet_ids = subnet_ids(params)?.ok_or_else(|| ApiError::missing_parameter("SubnetIds"))?;
    let tags = parse_tags(params)?;
    let group = SubnetGroup {
        name,
        description,
        subnet_ids,
        revision: 0,
    };
    let scope = ctx.scope();
    let shape = CacheSubnetGroupShape::from_model(&group, &scope);
    state.model().insert_subnet_group(
        group,
        &arn(&scope, &shape.cache_subnet_group_name),
        &tags,
    )?;
    Ok(SubnetGroupResult {
        cache_subnet_group: shape,
    })
}
