//! ModifyCacheParameterGroup: validates every value against the family (all or nothing), sets
//! them, and applies the `immediate` ones to the running nodes of every replication group that
//! uses the group; `requires-reboot` ones make those groups `pending-reboot`.

use serde::Serialize;

use super::parameter_shapes::{apply_to_nodes, parameter_name_values};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupNameResult {
    pub cache_parameter_group_name: String,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<GroupNameResult, ApiError> {
    let name = params.required("CacheParameterGroupName")?;
    let values = parameter_name_values(params, true)?;
    if values.is_empty() {
        return Err(ApiError::missing_parameter("ParameterNameValues"));
    }
    let (name, change) = state
        .model()
        .modify_parameter_group(name, &ctx.scope(), &values)?;
    tracing::info!(parameter_group = %name, ?values, in_use = ?change.groups_in_use, "cache parameter group modified");
    apply_to_nodes(state, &name, &change).await;
    Ok(GroupNameResult {
        cache_parameter_group_name: name,
    })
}
