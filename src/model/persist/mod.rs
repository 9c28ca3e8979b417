//! The model as a versioned JSON document (`--data-dir`'s `model.json`), so a restarted server
//! knows every resource it had. Only a document of exactly [`VERSION`] loads: any other is
//! refused whole, never half-loaded. Marker keys are not kept (markers from before a restart
//! are refused), and the quota's limit and window are the new run's settings.

pub(crate) mod static_str;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Model;
use super::cache_cluster::{CacheCluster, ClusterStatus};
use super::events::EventLog;
use super::group::{Endpoints, GroupStatus, ReplicationGroup};
use super::parameter_group::ParameterGroup;
use super::quota::FailoverQuota;
use super::resource::{Resource, ResourceTable};
use super::snapshot::{Snapshot, SnapshotStatus};
use super::subnet_group::SubnetGroup;
use super::tags::TagStore;
use super::user::User;
use super::user_group::UserGroup;

/// The document format this server writes and reads.
pub const VERSION: u64 = 1;

#[derive(Serialize)]
struct DocumentRef<'a> {
    version: u64,
    groups: &'a ResourceTable<ReplicationGroup>,
    cache_clusters: &'a ResourceTable<CacheCluster>,
    subnet_groups: &'a ResourceTable<SubnetGroup>,
    parameter_groups: &'a ResourceTable<ParameterGroup>,
    users: &'a ResourceTable<User>,
    user_groups: &'a ResourceTable<UserGroup>,
    snapshots: &'a ResourceTable<Snapshot>,
    tags: &'a TagStore,
    events: &'a EventLog,
    quota: &'a FailoverQuota,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    version: u64,
    groups: ResourceTable<ReplicationGroup>,
    cache_clusters: ResourceTable<CacheCluster>,
    subnet_groups: ResourceTable<SubnetGroup>,
    parameter_groups: ResourceTable<ParameterGroup>,
    users: ResourceTable<User>,
    user_groups: ResourceTable<UserGroup>,
    snapshots: ResourceTable<Snapshot>,
    tags: TagStore,
    events: EventLog,
    quota: FailoverQuota,
}

impl Model {
    /// The whole model as the document `model.json` holds.
    pub fn to_document(&self) -> Vec<u8> {
        let document = DocumentRef {
            version: VERSION,
            groups: &self.groups,
            cache_clusters: &self.cache_clusters,
            subnet_groups: &self.subnet_groups,
            parameter_groups: &self.parameter_groups,
            users: &self.users,
            user_groups: &self.user_groups,
            snapshots: &self.snapshots,
            tags: &self.tags,
            events: &self.events,
            quota: &self.quota,
        };
        serde_json::to_vec(&document).expect("the model always serializes")
    }

    /// Replaces every resource of this (fresh) model with the document's. On any error the
    /// model is left as it was.
    pub fn load_document(&mut self, text: &[u8]) -> Result<(), String> {
        let value: Value =
            serde_json::from_slice(text).map_err(|e| format!("not a JSON document: {e}"))?;
        match value.get("version").and_then(Value::as_u64) {
            Some(VERSION) => {}
            Some(other) => {
                return Err(format!(
                    "it has version {other}, and this server reads only version {VERSION} (written by another elasticache-local; use that one, or move the data dir away to start empty)"
                ));
            }
            None => return Err("it has no numeric \"version\"".into()),
        }
        let document: Document =
            serde_json::from_value(value).map_err(|e| format!("invalid document: {e}"))?;
        debug_assert_eq!(document.version, VERSION);
        self.groups = document.groups;
        self.cache_clusters = document.cache_clusters;
        self.subnet_groups = document.subnet_groups;
        self.parameter_groups = document.parameter_groups;
        self.users = document.users;
        self.user_groups = document.user_groups;
        self.snapshots = document.snapshots;
        self.tags = document.tags;
        self.events = document.events;
        self.quota.adopt_history(document.quota);
        Ok(())
    }
}

/// What happens to a loaded resource at start: its nodes start again from their dirs; it is
/// `creating` until they run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comeback {
    /// A replication group, in either cluster mode.
    Group(Box<ReplicationGroup>),
    /// A standalone cache cluster (Redis, Valkey or Memcached).
    CacheCluster(Box<CacheCluster>),
}

impl Model {
    /// Every loaded group and standalone cluster as it starts again: whatever workflow ran
    /// when the server stopped (a failover, a change, a snapshot, a reboot) is over, one being
    /// deleted is gone, one that had failed stays failed.
    pub fn begin_restart(&mut self, now: chrono::DateTime<chrono::Utc>) -> Vec<Comeback> {
        let ids: Vec<String> = self.groups.iter().map(|g| g.id.to_string()).collect();
        let mut comebacks = Vec::new();
        for id in ids {
            let Ok(group) = self.groups.get_mut(&id) else {
                continue;
            };
            match group.status {
                GroupStatus::Deleting => {
                    self.finish_delete(&id, now);
                    continue;
                }
                GroupStatus::CreateFailed => continue,
                _ => {}
            }
            group.failover_in_flight = false;
            group.pending = None;
            for member in &mut group.members {
                member.rebooting = false;
            }
            group.status = GroupStatus::Creating;
            comebacks.push(Comeback::Group(Box::new(group.clone())));
        }
        comebacks.extend(self.begin_cache_clusters_restart(now));
        // A snapshot being written when the server stopped never finished.
        let writing: Vec<String> = (self.snapshots.iter())
            .filter(|s| s.status == SnapshotStatus::Creating)
            .map(|s| s.id().to_string())
            .collect();
        for id in writing {
            if let Ok(snapshot) = self.snapshots.get_mut(&id) {
                snapshot.status = SnapshotStatus::Failed;
            }
        }
        comebacks
    }

    fn begin_cache_clusters_restart(
        &mut self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<Comeback> {
        let ids: Vec<String> = self.cache_clusters.iter().map(|c| c.id.clone()).collect();
        let mut comebacks = Vec::new();
        for id in ids {
            let Ok(cluster) = self.cache_clusters.get_mut(&id) else {
                continue;
            };
            match cluster.status {
                ClusterStatus::Deleting => {
                    self.finish_cluster_delete(&id, now);
                    continue;
                }
                ClusterStatus::CreateFailed => continue,
                _ => {}
            }
            cluster.status = ClusterStatus::Creating;
            comebacks.push(Comeback::CacheCluster(Box::new(cluster.clone())));
        }
        comebacks
    }

    /// A restarted group's nodes run again: their addresses, its endpoints, `available`.
    pub fn finish_restart(
        &mut self,
        id: &str,
        node_addresses: &[(String, std::net::SocketAddrV4)],
        endpoints: Endpoints,
    ) -> bool {
        self.mark_running(id, node_addresses, endpoints)
    }
}

#[cfg(test)]
mod tests;
