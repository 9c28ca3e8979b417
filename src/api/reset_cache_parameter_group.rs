//! ResetCacheParameterGroup: the named parameters (or, with `ResetAllParameters`, every one
//! the user set) go back to the family defaults, on the group and on the nodes that use it.

use super::modify_cache_parameter_group::GroupNameResult;
use super::parameter_shapes::{apply_to_nodes, parameter_name_values};
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<GroupNameResult, ApiError> {
    let name = params.required("CacheParameterGroupName")?;
    let all = params.bool("ResetAllParameters")?.unwrap_or(false);
    let named: Vec<String> = parameter_name_values(params, false)?
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    let names = match (all, named.is_empty()) {
        (true, true) => None,
        (false, false) => Some(named.as_slice()),
        (true, false) => {
            return Err(ApiError::InvalidParameterCombination(
                "ParameterNameValues cannot be given with ResetAllParameters true.".into(),
            ));
        }
        (false, true) => {
            return Err(ApiError::InvalidParameterCombination(
                "Give the ParameterNameValues to reset, or ResetAllParameters true.".into(),
            ));
        }
    };
    let (name, change) = state
        .model()
        .reset_parameter_group(name, &ctx.scope(), names)?;
    tracing::info!(parameter_group = %name, all, in_use = ?change.groups_in_use, "cache parameter group reset");
    apply_to_nodes(state, &name, &change).await;
    Ok(GroupNameResult {
        cache_parameter_group_name: name,
    })
}
