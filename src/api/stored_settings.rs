//! The members CreateReplicationGroup and CreateCacheCluster both store as given (or with
//! AWS's default), parsed once for both into the model's [`StoredSettings`].

use crate::model::arn::ResourceKind;
use crate::model::catalogue::windows::{default_maintenance_window, default_snapshot_window};
use crate::model::stored_settings::StoredSettings;
use crate::protocol::{ApiError, QueryParams};

/// Without `PreferredMaintenanceWindow` or `SnapshotWindow` the resource gets AWS-style default
/// windows, stored so that the maintenance and automatic-snapshot workflows keep to the windows
/// Describe reports (a Memcached cluster takes no snapshots, so has no snapshot window).
pub(crate) fn parse(params: &QueryParams) -> Result<StoredSettings, ApiError> {
    let topic = params.optional("NotificationTopicArn").map(str::to_string);
    let maintenance = params
        .optional("PreferredMaintenanceWindow")
        .unwrap_or_else(|| default_maintenance_window(params.optional("SnapshotWindow")));
    let snapshots = !params
        .optional("Engine")
        .is_some_and(|engine| engine.eq_ignore_ascii_case("memcached"));
    let snapshot_window = match params.optional("SnapshotWindow") {
        Some(window) => Some(window.to_string()),
        None => snapshots.then(|| default_snapshot_window(maintenance).to_string()),
    };
    Ok(StoredSettings {
        cache_node_type: params
            .optional("CacheNodeType")
            .unwrap_or("cache.t4g.micro")
            .to_string(),
        preferred_maintenance_window: Some(maintenance.to_string()),
        notification_topic_status: topic.as_ref().map(|_| "active".to_string()),
        notification_topic_arn: topic,
        cache_subnet_group_name: ResourceKind::SubnetGroup
            .lookup_key(params.optional("CacheSubnetGroupName").unwrap_or("default")),
        security_group_ids: params.list("SecurityGroupIds", "SecurityGroupId")?,
        snapshot_retention_limit: params.int_in("SnapshotRetentionLimit", 0, 35)?.unwrap_or(0),
        snapshot_window,
        auto_minor_version_upgrade: params.bool("AutoMinorVersionUpgrade")?.unwrap_or(true),
    })
}
