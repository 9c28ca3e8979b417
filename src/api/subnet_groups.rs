//! The `CacheSubnetGroup` shape every subnet group action answers, and the parameters the
//! create and modify actions share.

use serde::Serialize;

use crate::model::arn::{Arn, ResourceKind};
use crate::model::scope::Scope;
use crate::model::subnet_group::{SubnetGroup, parse_subnet_ids, vpc_of, zone_of};
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AvailabilityZone {
    pub name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    pub subnet_identifier: String,
    pub subnet_availability_zone: AvailabilityZone,
    pub supported_network_types: XmlList<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheSubnetGroupShape {
    pub cache_subnet_group_name: String,
    pub cache_subnet_group_description: String,
    pub vpc_id: String,
    pub subnets: XmlList<Subnet>,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub supported_network_types: XmlList<&'static str>,
}

impl CacheSubnetGroupShape {
    pub fn from_model(group: &SubnetGroup, scope: &Scope) -> Self {
        let subnets = group
            .subnet_ids
            .iter()
            .map(|id| Subnet {
                subnet_identifier: id.clone(),
                subnet_availability_zone: AvailabilityZone {
                    name: zone_of(id, scope),
                },
                supported_network_types: XmlList::new("member", vec!["ipv4"]),
            })
            .collect();
        Self {
            cache_subnet_group_name: group.name.clone(),
            cache_subnet_group_description: group.description.clone(),
            vpc_id: vpc_of(scope),
            subnets: XmlList::new("Subnet", subnets),
            arn: arn(scope, &group.name).to_string(),
            supported_network_types: XmlList::new("member", vec!["ipv4"]),
        }
    }
}

/// `CreateCacheSubnetGroupResult` and `ModifyCacheSubnetGroupResult`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SubnetGroupResult {
    pub cache_subnet_group: CacheSubnetGroupShape,
}

pub fn arn(scope: &Scope, name: &str) -> Arn {
    Arn::new(ResourceKind::SubnetGroup, scope, name)
}

/// `SubnetIds.SubnetIdentifier.N`, checked; `None` when the request has no `SubnetIds`.
pub fn subnet_ids(params: &QueryParams) -> Result<Option<Vec<String>>, ApiError> {
    let raw = params.list("SubnetIds", "SubnetIdentifier")?;
    if raw.is_empty() && params.optional("SubnetIds").is_none() {
        return Ok(None);
    }
    parse_subnet_ids(&raw).map(Some)
}

/// A description is at most 255 characters on AWS's console and API.
pub fn description(raw: &str) -> Result<String, ApiError> {
    if raw.chars().count() > 255 {
        return Err(ApiError::InvalidParameterValue(
            "CacheSubnetGroupDescription must be at most 255 characters.".into(),
        ));
    }
    Ok(raw.to_string())
}
