//! TestFailover: validate and admit under one model lock (so concurrent calls race safely),
//! answer with the group as it is (`available`, as AWS's console keeps showing), and run the
//! real failover in the background.

use super::shapes::ReplicationGroupResult;
use crate::model::ids::parse_node_group_id;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};
use crate::workflows::failover;

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<ReplicationGroupResult, ApiError> {
    let group_id = params.required("ReplicationGroupId")?;
    let node_group_id = parse_node_group_id(params.required("NodeGroupId")?)?;
    let (ticket, response) = {
        let mut model = state.model();
        let ticket =
            model.begin_test_failover(group_id, &node_group_id, &ctx.account, state.now())?;
        let response = ReplicationGroupResult::from_model(model.group(&ticket.group_id)?);
        (ticket, response)
    };
    tracing::info!(group = %ticket.group_id, primary = %ticket.old_primary, account = %ctx.account, "test failover accepted");
    tokio::spawn(failover::run(state.clone(), ticket));
    Ok(response)
}
