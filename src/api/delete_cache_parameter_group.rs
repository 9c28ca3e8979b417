//! DeleteCacheParameterGroup: a user group no replication group uses.

use super::shapes::Empty;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<Empty, ApiError> {
    let name = params.required("CacheParameterGroupName")?;
    state.model().delete_parameter_group(name, &ctx.scope())?;
    tracing::info!(parameter_group = %name.to_ascii_lowercase(), "cache parameter group deleted");
    Ok(Empty {})
}
