//! DeleteCacheSubnetGroup: removes a group no replication group uses (and its tags).

use super::shapes::Empty;
use super::subnet_groups::arn;
use crate::model::arn::ResourceKind;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<Empty, ApiError> {
    let name = params.required("CacheSubnetGroupName")?;
    let arn = arn(&ctx.scope(), &ResourceKind::SubnetGroup.lookup_key(name));
    state.model().delete_subnet_group(name, &arn)?;
    Ok(Empty {})
}
