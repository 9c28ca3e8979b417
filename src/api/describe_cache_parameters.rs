//! DescribeCacheParameters: a group's parameters with their values, optionally only those of
//! one `Source` (`user`: the ones set on it; `system` or `engine-default`: the others), paged
//! by parameter name.

use serde::Serialize;

use super::paging;
use super::parameter_shapes::{ParameterShape, no_node_type_parameters, parameter_list};
use crate::protocol::query::invalid_value;
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const LIST: &str = "CacheParameters";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParametersResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    marker: Option<String>,
    parameters: XmlList<ParameterShape>,
    cache_node_type_specific_parameters: XmlList<()>,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    ctx: &RequestContext,
) -> Result<ParametersResult, ApiError> {
    let name = params.required("CacheParameterGroupName")?;
    let source = match params.optional("Source") {
        None => None,
        Some(s @ ("user" | "system" | "engine-default")) => Some(s),
        Some(other) => {
            return Err(invalid_value(
                "Source",
                other,
                "user, system or engine-default",
            ));
        }
    };
    let model = state.model();
    let request = paging::request(&model.pager, LIST, params)?;
    let group = model.parameter_group(name, &ctx.scope())?;
    // Every value not set by the user is the family's default: `system` and `engine-default`
    // name the same parameters here.
    let parameters = group.parameters().into_iter().filter(|p| match source {
        None => true,
        Some("user") => p.source == "user",
        Some(_) => p.source != "user",
    });
    let (page, marker) = model
        .pager
        .page(LIST, parameters, |p| p.parameter.name, &request);
    Ok(ParametersResult {
        marker,
        parameters: parameter_list(&page),
        cache_node_type_specific_parameters: no_node_type_parameters(),
    })
}
