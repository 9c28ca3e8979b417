//! What the parameter-group actions share: the `CacheParameterGroup` and `Parameter` output
//! shapes, the `ParameterNameValues` input, and carrying a changed group to the running nodes
//! of every replication group that uses it.

use serde::Serialize;

use crate::model::modify::GroupChange;
use crate::model::parameter_group::{
    GroupParameter, MAX_PARAMETERS_PER_CALL, ParameterChange, ParameterGroup,
};
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::SharedState;
use crate::workflows::node_memory;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheParameterGroupShape {
    cache_parameter_group_name: String,
    cache_parameter_group_family: String,
    description: String,
    is_global: bool,
    #[serde(rename = "ARN")]
    arn: String,
}

impl CacheParameterGroupShape {
    pub fn from_model(group: &ParameterGroup) -> Self {
        Self {
            cache_parameter_group_name: group.name.clone(),
            cache_parameter_group_family: group.family.clone(),
            description: group.description.clone(),
            is_global: false,
            arn: group.arn.to_string(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterShape {
    parameter_name: &'static str,
    parameter_value: String,
    description: &'static str,
    source: &'static str,
    data_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_values: Option<&'static str>,
    is_modifiable: bool,
    minimum_engine_version: &'static str,
    change_type: &'static str,
}

impl ParameterShape {
    pub fn from_model(p: &GroupParameter) -> Self {
        Self {
            parameter_name: p.parameter.name,
            parameter_value: p.value.clone(),
            description: p.parameter.description,
            source: p.source,
            data_type: p.parameter.data_type.as_str(),
            allowed_values: p.parameter.allowed,
            is_modifiable: p.parameter.modifiable,
            minimum_engine_version: p.parameter.min_version,
            change_type: p.parameter.change_type.as_str(),
        }
    }
}

/// A page of parameters as `Parameters`, with the (always empty here: node-type specific
/// parameters are not modelled) `CacheNodeTypeSpecificParameters`.
pub fn parameter_list(page: &[GroupParameter]) -> XmlList<ParameterShape> {
    XmlList::new(
        "Parameter",
        page.iter().map(ParameterShape::from_model).collect(),
    )
}

pub fn no_node_type_parameters() -> XmlList<()> {
    XmlList::new("CacheNodeTypeSpecificParameter", vec![])
}

/// `ParameterNameValues.ParameterNameValue.N.{ParameterName,ParameterValue}`: at most 20, each
/// name once; `with_values` false for a Reset, which needs only names.
pub fn parameter_name_values(
    params: &QueryParams,
    with_values: bool,
) -> Result<Vec<(String, String)>, ApiError> {
    let entries = params.struct_list("ParameterNameValues", "ParameterNameValue")?;
    if entries.len() > MAX_PARAMETERS_PER_CALL {
        return Err(ApiError::InvalidParameterCombination(format!(
            "At most {MAX_PARAMETERS_PER_CALL} parameters can be modified in one request; {} were given.",
            entries.len()
        )));
    }
    let mut pairs: Vec<(String, String)> = Vec::new();
    for entry in entries {
        let name = entry.required("ParameterName")?.to_string();
        let value = match with_values {
            true => entry.required("ParameterValue")?.to_string(),
            false => entry.optional("ParameterValue").unwrap_or("").to_string(),
        };
        if pairs.iter().any(|(n, _)| *n == name) {
            return Err(ApiError::InvalidParameterCombination(format!(
                "Parameter {name} is given more than once."
            )));
        }
        pairs.push((name, value));
    }
    Ok(pairs)
}

/// Brings every running node of every replication group that uses the changed group to its
/// new `immediate` values (`CONFIG SET` through the engine), and marks those groups
/// `pending-reboot` when a `requires-reboot` parameter changed. A node that refuses a value is
/// logged with its reason; the group's values stay changed, as on AWS.
pub async fn apply_to_nodes(state: &SharedState, group_name: &str, change: &ParameterChange) {
    let clusters = state.model().clusters_using(group_name);
    if change.needs_reboot {
        let mut model = state.model();
        model.mark_pending_reboot(&change.groups_in_use);
        model.mark_clusters_pending_reboot(&clusters);
    }
    for cluster_id in &clusters {
        let Ok(handle) = state.engine.cache_cluster(cluster_id) else {
            continue;
        };
        if let Err(error) = handle.lock().await.apply_config(&change.immediate).await {
            tracing::error!(cluster = %cluster_id, parameter_group = %group_name, %error, "a node refused a parameter");
        }
        // The reservation (`reserved-memory-percent`...) may have changed: maxmemory follows.
        node_memory::apply_to_cache_cluster(state, cluster_id).await;
    }
    for group_id in &change.groups_in_use {
        // A group still being created gets the group's values when its nodes start.
        let Ok(handle) = state.engine.runtime(group_id) else {
            continue;
        };
        let mut settings = change.immediate.clone();
        // The reservation may have changed (it is no redis setting): maxmemory follows.
        settings.extend(node_memory::group_setting(
            state,
            group_id,
            &GroupChange::default(),
        ));
        let mut runtime = handle.lock().await;
        match runtime.apply_config(&settings).await {
            Ok(()) => {
                tracing::info!(group = %group_id, parameter_group = %group_name, ?settings, "parameters applied")
            }
            Err(error) => {
                tracing::error!(group = %group_id, parameter_group = %group_name, %error, "a node refused a parameter")
            }
        }
    }
}
