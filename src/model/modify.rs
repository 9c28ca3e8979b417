//! ModifyReplicationGroup and Increase/DecreaseReplicaCount in the model: every rule checked
//! before anything changes, then the group goes `modifying` until its workflow reports back.

use chrono::{DateTime, Utc};

use super::Model;
use super::engine_upgrade::EngineUpgrade;
use super::events::EventKind;
use super::group::{GroupSettings, GroupStatus, PendingChange, ReplicationGroup};
use crate::protocol::ApiError;

/// How the AUTH token changes (`AuthTokenUpdateStrategy`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AuthChange {
    Set(String),
    Rotate(String),
    Delete,
}

impl AuthChange {
    pub fn strategy(&self) -> &'static str {
        match self {
            Self::Set(_) => "SET",
            Self::Rotate(_) => "ROTATE",
            Self::Delete => "DELETE",
        }
    }
}

/// A ModifyReplicationGroup request, parsed. `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupChange {
    pub description: Option<String>,
    pub automatic_failover: Option<bool>,
    pub multi_az: Option<bool>,
    pub primary_cluster_id: Option<String>,
    pub snapshotting_cluster_id: Option<String>,
    pub auth: Option<AuthChange>,
    pub cache_node_type: Option<String>,
    /// `Engine`/`EngineVersion` naming a newer version: every node is replaced.
    pub engine_upgrade: Option<EngineUpgrade>,
    pub preferred_maintenance_window: Option<String>,
    pub notification_topic_arn: Option<String>,
    pub notification_topic_status: Option<String>,
    pub cache_parameter_group_name: Option<String>,
    pub snapshot_retention_limit: Option<i64>,
    pub snapshot_window: Option<String>,
    pub auto_minor_version_upgrade: Option<bool>,
    pub security_group_ids: Option<Vec<String>>,
    /// The `CONFIG SET` pairs a switch of `cache_parameter_group_name` brings to the nodes.
    pub parameter_settings: Vec<(String, String)>,
    /// One step of the in-transit encryption migration: the new mode (`Some(None)`: off).
    pub transit_encryption: Option<Option<super::group::TransitEncryptionMode>>,
}

fn not_available() -> ApiError {
    ApiError::InvalidReplicationGroupState(
        "Replication group must be in available state to modify.".into(),
    )
}

pub(super) fn not_a_member(group: &ReplicationGroup, cluster_id: &str) -> ApiError {
    ApiError::InvalidParameterValue(format!(
        "Cache cluster {cluster_id} is not a member of replication group {}.",
        group.id
    ))
}

/// What cluster mode enabled does not allow (AWS's rules): automatic failover is always on, the
/// primary of each shard is chosen by failover only, and snapshots come from replicas.
fn refuse_for_cluster_mode(change: &GroupChange) -> Result<(), ApiError> {
    if change.automatic_failover == Some(false) {
        return Err(ApiError::InvalidParameterCombination(
            "Turning off automatic failover for replication group with cluster mode enabled is not supported.".into(),
        ));
    }
    if change.primary_cluster_id.is_some() {
        return Err(ApiError::InvalidParameterCombination(
            "PrimaryClusterId cannot be set for a replication group with cluster mode enabled: use TestFailover on the node group.".into(),
        ));
    }
    if change.snapshotting_cluster_id.is_some() {
        return Err(ApiError::InvalidParameterCombination(
            "SnapshottingClusterId cannot be set for a replication group with cluster mode enabled.".into(),
        ));
    }
    Ok(())
}

impl Model {
    /// Validates a modification and marks the group `modifying`; returns it as it now is.
    pub fn begin_modify(
        &mut self,
        raw_id: &str,
        change: &GroupChange,
    ) -> Result<ReplicationGroup, ApiError> {
        let group = self.group(raw_id)?;
        if !group.is_idle() {
            return Err(not_available());
        }
        let automatic_failover = change
            .automatic_failover
            .unwrap_or(group.settings.automatic_failover);
        let multi_az = change.multi_az.unwrap_or(group.settings.multi_az);
        if group.cluster_enabled {
            refuse_for_cluster_mode(change)?;
        }
        if change.automatic_failover == Some(true) && group.members.len() < 2 {
            return Err(ApiError::InvalidParameterCombination(
                "When using automatic failover, there must be at least 2 cache clusters in the replication group.".into(),
            ));
        }
        if multi_az && !automatic_failover {
            return Err(ApiError::InvalidParameterCombination(
                "Multi-AZ requires automatic failover to be enabled.".into(),
            ));
        }
        if let Some(primary) = &change.primary_cluster_id {
            if automatic_failover || multi_az {
                return Err(ApiError::InvalidParameterCombination(
                    "PrimaryClusterId can be changed only while automatic failover and Multi-AZ are disabled.".into(),
                ));
            }
            group
                .member(primary)
                .ok_or_else(|| not_a_member(group, primary))?;
        }
        if let Some(cluster) = &change.snapshotting_cluster_id {
            group
                .member(cluster)
                .ok_or_else(|| not_a_member(group, cluster))?;
        }
        if change.auth == Some(AuthChange::Delete) && group.settings.auth_token.is_none() {
            return Err(ApiError::InvalidParameterCombination(
                "AuthTokenUpdateStrategy DELETE needs a replication group with an AUTH token."
                    .into(),
            ));
        }
        let pending = PendingChange {
            automatic_failover: change
                .automatic_failover
                .filter(|af| *af != group.settings.automatic_failover),
            primary_cluster_id: change
                .primary_cluster_id
                .clone()
                .filter(|p| group.primary().is_none_or(|m| &m.cluster_id != p)),
            auth_token_status: change.auth.as_ref().map(|a| match a {
                AuthChange::Rotate(_) => "ROTATING",
                _ => "SETTING",
            }),
            transit_encryption: change.transit_encryption,
            one_member: false,
            removing_member: None,
            resharding_progress: None,
        };
        let group = self.group_mut(raw_id)?;
        group.status = GroupStatus::Modifying;
        group.pending = Some(pending);
        apply_metadata(&mut group.settings, change);
        Ok(group.clone())
    }

    /// Applies a modification once the engine has carried it out (`Ok`) or not (`Err`: the
    /// settings that need no engine still apply, the engine's do not).
    pub fn finish_modify(
        &mut self,
        id: &str,
        change: &GroupChange,
        outcome: Result<(), String>,
        now: DateTime<Utc>,
    ) {
        let Ok(group) = self.group_mut(id) else {
            return;
        };
        let group_id = group.id.to_string();
        let old_primary = group.primary().map(|m| m.cluster_id.clone());
        let mut events = apply_model_settings(group, change);
        match outcome {
            Ok(()) => {
                events.extend(apply_engine_settings(group, change, old_primary, now));
            }
            Err(reason) => events.push(EventKind::ModifyFailed { group_id, reason }),
        }
        group.status = GroupStatus::Available;
        group.pending = None;
        for event in events {
            self.record(event, now);
        }
    }
}

/// The settings that need no engine (they apply even if the engine's part failed), with the
/// events of those that changed.
fn apply_model_settings(group: &mut ReplicationGroup, change: &GroupChange) -> Vec<EventKind> {
    let group_id = group.id.to_string();
    let mut events = Vec::new();
    let settings = &mut group.settings;
    if let Some(af) = change
        .automatic_failover
        .filter(|af| *af != settings.automatic_failover)
    {
        settings.automatic_failover = af;
        events.push(EventKind::AutomaticFailoverChanged {
            group_id: group_id.clone(),
            enabled: af,
        });
    }
    if let Some(maz) = change.multi_az.filter(|maz| *maz != settings.multi_az) {
        settings.multi_az = maz;
        events.push(EventKind::MultiAzChanged {
            group_id: group_id.clone(),
            enabled: maz,
        });
    }
    if let Some(node_type) = change
        .cache_node_type
        .clone()
        .filter(|t| *t != group.settings.stored.cache_node_type)
    {
        events.push(EventKind::NodeTypeModified {
            group_id: group_id.clone(),
            node_type,
        });
    }
    apply_stored_settings(group, change);
    events
}

/// The settings the engine carried out (AUTH token, engine version, TLS, primary), with
/// their events.
fn apply_engine_settings(
    group: &mut ReplicationGroup,
    change: &GroupChange,
    old_primary: Option<String>,
    now: DateTime<Utc>,
) -> Vec<EventKind> {
    let group_id = group.id.to_string();
    let mut events = Vec::new();
    if let Some(auth) = &change.auth {
        group.settings.auth_token = match auth {
            AuthChange::Set(token) | AuthChange::Rotate(token) => Some(token.clone()),
            AuthChange::Delete => None,
        };
        group.auth_token_last_modified = Some(now);
        events.push(EventKind::AuthTokenChanged {
            group_id: group_id.clone(),
            strategy: auth.strategy(),
        });
    }
    if let Some(upgrade) = &change.engine_upgrade {
        events.push(upgrade.apply(group));
    }
    if let Some(mode) = change.transit_encryption {
        group.settings.transit_encryption = mode.is_some();
        group.settings.transit_encryption_mode = mode;
        events.push(EventKind::TransitEncryptionChanged {
            group_id: group_id.clone(),
            mode: mode.map(|m| m.as_str()),
        });
    }
    if let (Some(new), Some(old)) = (&change.primary_cluster_id, old_primary)
        && *new != old
    {
        group.set_primary(new);
        events.push(EventKind::PrimaryChanged {
            group_id,
            old_primary: old,
            new_primary: new.clone(),
        });
    }
    events
}

/// The node type and parameter group change with the engine's part (the node type's event is
/// written then); everything else is [`apply_metadata`].
fn apply_stored_settings(group: &mut ReplicationGroup, change: &GroupChange) {
    let settings = &mut group.settings;
    if let Some(node_type) = &change.cache_node_type {
        settings.stored.cache_node_type.clone_from(node_type);
    }
    if change.cache_parameter_group_name.is_some() {
        settings
            .cache_parameter_group_name
            .clone_from(&change.cache_parameter_group_name);
    }
    apply_metadata(settings, change);
}

/// The settings nothing on the nodes carries out: applied as the Modify is accepted, so its
/// answer (and every Describe meanwhile) shows them, as AWS's does.
fn apply_metadata(settings: &mut GroupSettings, change: &GroupChange) {
    if let Some(description) = &change.description {
        settings.description.clone_from(description);
    }
    let set_optional = |target: &mut Option<String>, value: &Option<String>| {
        if value.is_some() {
            target.clone_from(value);
        }
    };
    let stored = &mut settings.stored;
    set_optional(
        &mut settings.snapshotting_cluster_id,
        &change.snapshotting_cluster_id,
    );
    set_optional(
        &mut stored.preferred_maintenance_window,
        &change.preferred_maintenance_window,
    );
    set_optional(
        &mut stored.notification_topic_arn,
        &change.notification_topic_arn,
    );
    set_optional(
        &mut stored.notification_topic_status,
        &change.notification_topic_status,
    );
    set_optional(&mut stored.snapshot_window, &change.snapshot_window);
    if let Some(limit) = change.snapshot_retention_limit {
        stored.snapshot_retention_limit = limit;
    }
    if let Some(upgrade) = change.auto_minor_version_upgrade {
        stored.auto_minor_version_upgrade = upgrade;
    }
    if let Some(ids) = &change.security_group_ids {
        stored.security_group_ids.clone_from(ids);
    }
}
