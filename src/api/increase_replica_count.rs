//! IncreaseReplicaCount: real replicas added and synced (see `replica_count`).

use super::replica_count::change_replica_count;
use super::shapes::ReplicationGroupResult;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<ReplicationGroupResult, ApiError> {
    super::input_catalogue::check(params, &ctx.region)?;
    change_replica_count(state, params, true).await
}
