//! DescribeCacheEngineVersions: the engine/version/family catalogue
//! (`model::catalogue::engine_versions`), with its `Engine`, `EngineVersion`,
//! `CacheParameterGroupFamily` and `DefaultOnly` filters, paged in catalogue order.

use serde::Serialize;

use super::paging;
use crate::model::catalogue::engine_versions::{EngineVersion, VersionFilter, describe};
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

const LIST: &str = "CacheEngineVersions";

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheEngineVersion {
    pub engine: &'static str,
    pub engine_version: &'static str,
    pub cache_parameter_group_family: &'static str,
    pub cache_engine_description: &'static str,
    pub cache_engine_version_description: &'static str,
}

/// `CacheEngineVersionMessage`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheEngineVersionMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marker: Option<String>,
    pub cache_engine_versions: XmlList<CacheEngineVersion>,
}

pub async fn run(
    state: &SharedState,
    params: &QueryParams,
    _ctx: &RequestContext,
) -> Result<CacheEngineVersionMessage, ApiError> {
    let filter = VersionFilter {
        engine: params.optional("Engine"),
        engine_version: params.optional("EngineVersion"),
        family: params.optional("CacheParameterGroupFamily"),
        default_only: params.bool("DefaultOnly")?.unwrap_or(false),
    };
    // Pages resume by position in the catalogue's order (zero-padded, so it sorts).
    let rows: Vec<(String, &'static EngineVersion)> = describe(&filter)
        .into_iter()
        .enumerate()
        .map(|(i, row)| (format!("{i:04}"), row))
        .collect();
    let model = state.model();
    let request = paging::request(&model.pager, LIST, params)?;
    let (page, marker) = model.pager.page(LIST, rows, |(k, _)| k.as_str(), &request);
    let versions = page
        .into_iter()
        .map(|(_, v)| CacheEngineVersion {
            engine: v.engine,
            engine_version: v.version,
            cache_parameter_group_family: v.family,
            cache_engine_description: v.engine_description,
            cache_engine_version_description: v.version_description,
        })
        .collect();
    Ok(CacheEngineVersionMessage {
        marker,
        cache_engine_versions: XmlList::new("CacheEngineVersion", versions),
    })
}
