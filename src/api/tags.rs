//! What the three tag actions share: a `ResourceName` resolved to a resource of the caller's
//! scope that exists (else its kind's not-found fault; a malformed ARN is `InvalidARN`), the
//! ARNs a change reaches, and the `TagListMessage` they all answer.

use serde::Serialize;

use crate::model::Model;
use crate::model::arn::{Arn, ResourceKind};
use crate::model::tags::Tag;
use crate::protocol::xml::XmlList;
use crate::protocol::{ApiError, QueryParams};
use crate::state::RequestContext;

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagShape {
    pub key: String,
    pub value: String,
}

/// `TagListMessage`: the resource's tags after the action.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagListMessage {
    pub tag_list: XmlList<TagShape>,
}

impl TagListMessage {
    pub fn of(model: &Model, arn: &Arn) -> Self {
        let tags = model
            .tags
            .list(arn)
            .into_iter()
            .map(|t| TagShape {
                key: t.key,
                value: t.value,
            })
            .collect();
        Self {
            tag_list: XmlList::new("Tag", tags),
        }
    }
}

/// `Tags.Tag.N.Key` / `.Value` as every Create and AddTagsToResource take them.
pub fn parse_tags(params: &QueryParams) -> Result<Vec<Tag>, ApiError> {
    params
        .struct_list("Tags", "Tag")?
        .into_iter()
        .map(|tag| {
            let key = tag.required("Key")?;
            Ok(Tag::new(key, tag.optional("Value").unwrap_or("")))
        })
        .collect()
}

/// The resource `ResourceName` names, and the ARNs a tag change on it reaches: a replication
/// group's changes are "replicated to all nodes in the replication group" (the API
/// reference's `Tag` shape), so its member cache clusters come after it.
pub fn resolve(
    model: &Model,
    ctx: &RequestContext,
    params: &QueryParams,
) -> Result<Vec<Arn>, ApiError> {
    let raw = params.required("ResourceName")?;
    let arn = Arn::parse(raw)?;
    let scope = ctx.scope();
    // Another account's or region's resource is not this caller's: not found, as on AWS.
    let here = arn.is_in(&scope);
    let missing = || not_found(arn.kind, &arn.id);
    match arn.kind {
        ResourceKind::ReplicationGroup if here => {
            let group = model.group(&arn.id).map_err(|_| missing())?;
            let mut arns = vec![group.arn.clone()];
            arns.extend(
                group
                    .members
                    .iter()
                    .map(|m| Arn::new(ResourceKind::CacheCluster, &scope, &m.cluster_id)),
            );
            Ok(arns)
        }
        ResourceKind::CacheCluster if here => {
            if let Ok(cluster) = model.cache_cluster(&arn.id) {
                return Ok(vec![cluster.arn.clone()]);
            }
            let key = ResourceKind::CacheCluster.lookup_key(&arn.id);
            model
                .groups()
                .flat_map(|g| &g.members)
                .find(|m| m.cluster_id == key)
                .map(|m| vec![Arn::new(ResourceKind::CacheCluster, &scope, &m.cluster_id)])
                .ok_or_else(missing)
        }
        ResourceKind::SubnetGroup if here => {
            let group = model.subnet_group(&arn.id).map_err(|_| missing())?;
            Ok(vec![Arn::new(
                ResourceKind::SubnetGroup,
                &scope,
                &group.name,
            )])
        }
        ResourceKind::ParameterGroup if here => {
            let group = model
                .parameter_group(&arn.id, &scope)
                .map_err(|_| missing())?;
            Ok(vec![group.arn.clone()])
        }
        ResourceKind::User if here => {
            let user = model.user(&arn.id).map_err(|_| missing())?;
            Ok(vec![Arn::new(ResourceKind::User, &scope, &user.id)])
        }
        ResourceKind::UserGroup if here => {
            let group = model.user_group(&arn.id).map_err(|_| missing())?;
            Ok(vec![Arn::new(ResourceKind::UserGroup, &scope, &group.id)])
        }
        ResourceKind::Snapshot if here => {
            let snapshot = model.snapshot(&arn.id).map_err(|_| missing())?;
            Ok(vec![snapshot.arn.clone()])
        }
        ResourceKind::GlobalReplicationGroup => Err(ApiError::InvalidARN(format!(
            "Resources of type {} cannot be tagged: {arn}.",
            arn.kind.arn_type()
        ))),
        kind => Err(not_found(kind, &arn.id)),
    }
}

/// The not-found fault of each kind, by its wire code in the botocore model.
fn not_found(kind: ResourceKind, id: &str) -> ApiError {
    match kind {
        ResourceKind::ReplicationGroup => ApiError::replication_group_not_found(id),
        ResourceKind::CacheCluster => ApiError::cache_cluster_not_found(id),
        ResourceKind::SubnetGroup => {
            ApiError::CacheSubnetGroupNotFoundFault(format!("Cache subnet group {id} not found."))
        }
        ResourceKind::ParameterGroup => {
            ApiError::CacheParameterGroupNotFound(format!("Cache parameter group {id} not found."))
        }
        ResourceKind::User => ApiError::UserNotFound(format!("User {id} not found.")),
        ResourceKind::UserGroup => {
            ApiError::UserGroupNotFound(format!("User group {id} not found."))
        }
        ResourceKind::Snapshot => {
            ApiError::SnapshotNotFoundFault(format!("Snapshot {id} not found."))
        }
        ResourceKind::ServerlessCache => {
            ApiError::ServerlessCacheNotFoundFault(format!("Serverless cache {id} not found."))
        }
        ResourceKind::ServerlessCacheSnapshot => ApiError::ServerlessCacheSnapshotNotFoundFault(
            format!("Serverless cache snapshot {id} not found."),
        ),
        ResourceKind::GlobalReplicationGroup => {
            ApiError::InvalidARN(format!("Global replication group {id} cannot be tagged."))
        }
    }
}
