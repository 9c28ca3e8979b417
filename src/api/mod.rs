//! One file per API action: each decodes its parameters, applies them to the model, drives the
//! engine and returns its output shape. `Action` is the only list of supported actions.

mod add_tags_to_resource;
mod cache_cluster;
mod cluster_layout;
mod cluster_snapshots;
mod copy_snapshot;
mod create_cache_parameter_group;
mod create_cache_subnet_group;
pub(crate) mod create_replication_group;
mod create_snapshot;
mod create_user;
mod create_user_group;
mod decrease_replica_count;
mod delete_cache_parameter_group;
mod delete_cache_subnet_group;
mod delete_replication_group;
mod delete_snapshot;
mod delete_user;
mod delete_user_group;
mod describe_cache_engine_versions;
mod describe_cache_parameter_groups;
mod describe_cache_parameters;
mod describe_cache_subnet_groups;
mod describe_engine_default_parameters;
mod describe_events;
mod describe_replication_groups;
mod describe_snapshots;
mod describe_user_groups;
mod describe_users;
mod encoded_page;
mod engine_error;
mod engine_upgrade;
mod group_settings;
mod iam_users;
mod increase_replica_count;
pub(crate) mod input_catalogue;
mod list_tags_for_resource;
mod log_delivery;
mod modify_cache_parameter_group;
mod modify_cache_subnet_group;
mod modify_replication_group;
mod modify_replication_group_shard_configuration;
mod modify_user;
mod modify_user_group;
pub(crate) mod paging;
mod parameter_shapes;
mod remove_tags_from_resource;
mod replica_count;
mod replication_group_users;
mod reset_cache_parameter_group;
pub(crate) mod shapes;
mod snapshot_restore;
mod snapshot_shape;
mod snapshots;
mod stored_settings;
mod subnet_groups;
mod tags;
mod test_failover;
#[cfg(test)]
pub(crate) mod test_support;
pub(crate) mod transit_encryption;
mod unsupported;
mod user_acl;
mod users;

use cache_cluster::{
    create_cache_cluster, delete_cache_cluster, describe_cache_clusters, modify_cache_cluster,
    reboot_cache_cluster,
};

use crate::protocol::xml::success_body;
use crate::protocol::{ApiError, QueryParams};
use crate::state::{RequestContext, SharedState};

pub(crate) use cluster_snapshots::begin_cluster_snapshot;
pub(crate) use create_replication_group::wait_until_settled;
pub(crate) use snapshots::begin_group_snapshot;

macro_rules! actions {
    ($($name:ident => $module:ident),* $(,)?) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Action { $($name),* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$name),*];

            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($name) => Some(Self::$name),)*
                    _ => None,
                }
            }

            pub fn name(self) -> &'static str {
                match self { $(Self::$name => stringify!($name)),* }
            }

            fn response_element(self) -> String {
                format!("{}Response", self.name())
            }

            fn result_element(self) -> &'static str {
                match self { $(Self::$name => concat!(stringify!($name), "Result")),* }
            }
        }

        /// Runs one action and encodes its output.
        pub(crate) async fn dispatch(
            action: Action,
            state: &SharedState,
            params: &QueryParams,
            ctx: &RequestContext,
        ) -> Result<String, ApiError> {
            match action {
                $(Action::$name => {
                    let output = $module::run(state, params, ctx).await?;
                    output.encode(action, ctx)
                })*
            }
        }
    };
}

actions! {
    CreateReplicationGroup => create_replication_group,
    DescribeReplicationGroups => describe_replication_groups,
    DescribeCacheClusters => describe_cache_clusters,
    DeleteReplicationGroup => delete_replication_group,
    TestFailover => test_failover,
    DescribeEvents => describe_events,
    ModifyReplicationGroup => modify_replication_group,
    IncreaseReplicaCount => increase_replica_count,
    DecreaseReplicaCount => decrease_replica_count,
    ModifyReplicationGroupShardConfiguration => modify_replication_group_shard_configuration,
    AddTagsToResource => add_tags_to_resource,
    ListTagsForResource => list_tags_for_resource,
    RemoveTagsFromResource => remove_tags_from_resource,
    CreateCacheSubnetGroup => create_cache_subnet_group,
    DescribeCacheSubnetGroups => describe_cache_subnet_groups,
    ModifyCacheSubnetGroup => modify_cache_subnet_group,
    DeleteCacheSubnetGroup => delete_cache_subnet_group,
    DescribeCacheEngineVersions => describe_cache_engine_versions,
    CreateCacheParameterGroup => create_cache_parameter_group,
    DescribeCacheParameterGroups => describe_cache_parameter_groups,
    ModifyCacheParameterGroup => modify_cache_parameter_group,
    ResetCacheParameterGroup => reset_cache_parameter_group,
    DeleteCacheParameterGroup => delete_cache_parameter_group,
    DescribeCacheParameters => describe_cache_parameters,
    DescribeEngineDefaultParameters => describe_engine_default_parameters,
    CreateCacheCluster => create_cache_cluster,
    ModifyCacheCluster => modify_cache_cluster,
    DeleteCacheCluster => delete_cache_cluster,
    RebootCacheCluster => reboot_cache_cluster,
    CreateUser => create_user,
    DescribeUsers => describe_users,
    ModifyUser => modify_user,
    DeleteUser => delete_user,
    CreateUserGroup => create_user_group,
    DescribeUserGroups => describe_user_groups,
    ModifyUserGroup => modify_user_group,
    DeleteUserGroup => delete_user_group,
    CreateSnapshot => create_snapshot,
    DescribeSnapshots => describe_snapshots,
    CopySnapshot => copy_snapshot,
    DeleteSnapshot => delete_snapshot,
}

/// How an action's output becomes the response body: serialized as a whole, unless the output
/// encodes itself (`EncodedPage`, whose members were encoded beforehand and are reused).
pub(crate) trait Respond {
    fn encode(&self, action: Action, ctx: &RequestContext) -> Result<String, ApiError>;
}

impl<R: serde::Serialize> Respond for R {
    fn encode(&self, action: Action, ctx: &RequestContext) -> Result<String, ApiError> {
        success_body(
            &action.response_element(),
            action.result_element(),
            self,
            &ctx.request_id,
        )
    }
}

/// Decodes the `Action` parameter: missing, supported, known to AWS but not implemented here,
/// or unknown.
pub(crate) fn resolve_action(params: &QueryParams) -> Result<Action, ApiError> {
    let Some(name) = params.optional("Action").filter(|n| !n.is_empty()) else {
        return Err(ApiError::MissingAction(
            "The request must contain the parameter Action.".into(),
        ));
    };
    if let Some(action) = Action::parse(name) {
        return Ok(action);
    }
    if unsupported::is_aws_action(name) {
        let supported: Vec<&str> = Action::ALL.iter().map(|a| a.name()).collect();
        return Err(ApiError::InvalidAction(format!(
            "The action {name} is a valid ElastiCache action that elasticache-local does not implement yet. Supported: {}.",
            supported.join(", ")
        )));
    }
    Err(ApiError::InvalidAction(format!(
        "The action {name} is not valid for this web service."
    )))
}
