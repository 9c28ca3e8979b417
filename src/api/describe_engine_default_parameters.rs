//! DescribeEngineDefaultParameters: a family's parameters as the catalogue has them, paged by
//! name.

use serde::Serialize;

use super::paging;
use super::parameter_shapes::{ParameterShape, no_node_type_parameters, parameter_list};
use crate::model::catalogue::engine_versions::FAMILIES;
use crate::model::catalogue::parameters::{Parameter, family_parameters};
use crate::model::parameter_group::GroupParameter;
use crate::protocol::query::invalid_value;
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const LIST: &str = "EngineDefaults";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EngineDefaults {
    cache_parameter_group_family: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
    parameters: XmlList<ParameterShape>,
    cache_node_type_specific_parameters: XmlList<()>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefaultsResult {
    engine_defaults: EngineDefaults,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<DefaultsResult, ApiError> {
    let family = params.required("CacheParameterGroupFamily")?;
    let parameters = family_parameters(family)
        .filter(|_| FAMILIES.contains(&family))
        .ok_or_else(|| invalid_value("CacheParameterGroupFamily", family, &FAMILIES.join(", ")))?;
    let model = state.model();
    let request = paging::request(&model.pager, LIST, params)?;
    let parameters = parameters.into_iter().map(|parameter| GroupParameter {
        value: parameter.default.to_string(),
        source: Parameter::SOURCE,
        parameter,
    });
    let (page, marker) = model
        .pager
        .page(LIST, parameters, |p| p.parameter.name, &request);
    Ok(DefaultsResult {
        engine_defaults: EngineDefaults {
            cache_parameter_group_family: family.to_string(),
            marker,
            parameters: parameter_list(&page),
            cache_node_type_specific_parameters: no_node_type_parameters(),
        },
    })
}
