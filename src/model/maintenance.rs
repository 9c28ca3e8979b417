//! Changes AWS defers to the maintenance window (`ApplyImmediately=false`): the node type and
//! an engine upgrade (with the parameter group that comes with it). They wait on the group,
//! shown as the members' `PendingModifiedValues`, until the window (or the control route that
//! fast-forwards to it) hands them to the same modify path an immediate change takes.

use std::path::PathBuf;

use super::Model;
use super::modify::GroupChange;
use crate::protocol::ApiError;

/// What waits for the window: the deferred part of a change, and the binary an engine upgrade
/// will run (chosen when the request was accepted).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeferredChange {
    pub change: GroupChange,
    pub upgrade_binary: Option<PathBuf>,
}

impl DeferredChange {
    /// Moves out of `change` what AWS applies only in the maintenance window; `None` when
    /// nothing of it is deferred. `upgrade_binary` goes with the engine upgrade.
    pub fn split_off(
        change: &mut GroupChange,
        upgrade_binary: &mut Option<PathBuf>,
    ) -> Option<Self> {
        let mut deferred = GroupChange {
            cache_node_type: change.cache_node_type.take(),
            ..GroupChange::default()
        };
        if change.engine_upgrade.is_some() {
            deferred.engine_upgrade = change.engine_upgrade.take();
            deferred.cache_parameter_group_name = change.cache_parameter_group_name.take();
            deferred.parameter_settings = std::mem::take(&mut change.parameter_settings);
        }
        let nothing = deferred.cache_node_type.is_none() && deferred.engine_upgrade.is_none();
        (!nothing).then(|| Self {
            change: deferred,
            upgrade_binary: upgrade_binary.take(),
        })
    }

    /// Merges a later deferral into this one: the newer values win.
    fn merge(&mut self, newer: Self) {
        let change = &mut self.change;
        if newer.change.cache_node_type.is_some() {
            change.cache_node_type = newer.change.cache_node_type;
        }
        if newer.change.engine_upgrade.is_some() {
            change.engine_upgrade = newer.change.engine_upgrade;
            change.cache_parameter_group_name = newer.change.cache_parameter_group_name;
            change.parameter_settings = newer.change.parameter_settings;
            self.upgrade_binary = newer.upgrade_binary;
        }
    }
}

impl Model {
    /// Keeps `deferred` on the group until its maintenance window.
    pub fn defer_change(&mut self, raw_id: &str, deferred: DeferredChange) -> Result<(), ApiError> {
        let group = self.group_mut(raw_id)?;
        match &mut group.deferred {
            Some(waiting) => waiting.merge(deferred),
            None => group.deferred = Some(deferred),
        }
        Ok(())
    }

    /// Starts applying the deferred changes: the group goes `modifying` with them (the same
    /// path as an immediate modification). `Ok(None)` when nothing waits.
    pub fn begin_maintenance(&mut self, raw_id: &str) -> Result<Option<DeferredChange>, ApiError> {
        let group = self.group(raw_id)?;
        let Some(deferred) = group.deferred.clone() else {
            return Ok(None);
        };
        self.begin_modify(raw_id, &deferred.change)?;
        self.group_mut(raw_id)?.deferred = None;
        Ok(Some(deferred))
    }
}
