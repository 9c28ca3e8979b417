//! DescribeCacheEngineVersions: the engine/version/family catalogue
//! (`model::catalogue::engine_versions`), with its `Engine`, `EngineVersion`,
//! `CacheParameterGroupFamily` and `DefaultOnly` filters, paged in catalogue order. A family
//! that breaks the API reference's constraints on the member is refused; a well-formed one the
//! catalogue does not have lists nothing.

use serde::Serialize;

use super::paging;
use crate::model::catalogue::engine_versions::{EngineVersion, VersionFilter, describe};
use crate::protocol::query::invalid_value;
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
        family: params
            .optional("CacheParameterGroupFamily")
            .map(family_filter)
            .transpose()?,
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

/// `CacheParameterGroupFamily` as the API reference constrains it: 1 to 255 characters, the
/// first a letter, no trailing or double hyphen. Its "alphanumeric" cannot be meant strictly
/// (every family but `redis7`, `valkey7`, `valkey8` has a dot), so dots are allowed.
fn family_filter(raw: &str) -> Result<&str, ApiError> {
    let well_formed = (1..=255).contains(&raw.len())
        && raw.starts_with(|c: char| c.is_ascii_alphabetic())
        && raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        && !raw.ends_with('-')
        && !raw.contains("--");
    if !well_formed {
        return Err(invalid_value(
            "CacheParameterGroupFamily",
            raw,
            "1 to 255 letters, digits, dots or hyphens, starting with a letter, \
             without a trailing or double hyphen",
        ));
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::family_filter;

    #[test]
    fn a_family_filter_must_be_well_formed_but_need_not_be_known() {
        for known_or_not in ["redis6.x", "valkey8", "memcached1.6", "redis99"] {
            assert_eq!(family_filter(known_or_not), Ok(known_or_not));
        }
        for malformed in [
            "",
            "7redis",
            "redis-",
            "redis--7",
            "redis 7",
            &"r".repeat(256),
        ] {
            let error = family_filter(malformed).unwrap_err();
            assert_eq!(error.code(), "InvalidParameterValue", "{malformed:?}");
        }
    }
}
