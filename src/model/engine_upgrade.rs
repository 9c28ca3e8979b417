//! An engine upgrade in the model: the engine and version a group moves to, applied once every
//! node runs the new binary, and the primary role the hand-over moved.

use chrono::{DateTime, Utc};

use super::Model;
use super::events::EventKind;
use super::group::ReplicationGroup;

/// The engine and version a group moves to, as the API reports them, and what the nodes'
/// new binary reports (see `GroupSettings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EngineUpgrade {
    pub engine: String,
    pub engine_version: String,
    pub running_engine_version: String,
}

impl EngineUpgrade {
    /// Records the new engine and version in the group's settings; returns the event.
    pub fn apply(&self, group: &mut ReplicationGroup) -> EventKind {
        let settings = &mut group.settings;
        settings.engine.clone_from(&self.engine);
        settings.engine_version.clone_from(&self.engine_version);
        settings
            .running_engine_version
            .clone_from(&self.running_engine_version);
        EventKind::EngineUpgraded {
            group_id: group.id.to_string(),
            engine: self.engine.clone(),
            version: self.engine_version.clone(),
        }
    }
}

impl Model {
    /// The engine moved the primary role and may have new addresses (an engine upgrade's
    /// hand-over): the model follows, with AWS's primary-changed event.
    pub fn primary_moved(
        &mut self,
        id: &str,
        new_primary: &str,
        addresses: &[(String, std::net::SocketAddrV4)],
        now: DateTime<Utc>,
    ) {
        let Ok(group) = self.group_mut(id) else {
            return;
        };
        group.set_addresses(addresses);
        // The primary of the new primary's own node group (a cluster has one per shard).
        let node_group = group.member(new_primary).map(|m| m.node_group.clone());
        let old_primary = node_group
            .and_then(|ng| group.primary_of(&ng))
            .map(|m| m.cluster_id.clone());
        let group_id = group.id.to_string();
        if let Some(old_primary) = old_primary.filter(|old| old != new_primary) {
            group.set_primary(new_primary);
            let moved = EventKind::PrimaryChanged {
                group_id,
                old_primary,
                new_primary: new_primary.to_string(),
            };
            self.record(moved, now);
        }
    }
}
