//! The model of one scope (account and region): its resources, tags, event log and
//! TestFailover quota. Plain synchronous state behind one `std::sync::Mutex`; every method
//! takes `now` from the caller's clock, so tests control time. Knows nothing of Redis or HTTP.
//!
//! Resource kinds share `resource` (id rules, lifecycle, the table), `arn`, `tags` and
//! `paging`; each kind adds only its own file (`group` for replication groups).

pub mod append_only;
pub mod arn;
pub mod cache_cluster;
mod cache_cluster_ops;
pub mod catalogue;
pub mod engine_upgrade;
pub mod events;
pub mod failover;
pub mod group;
pub mod ids;
pub mod maintenance;
mod member_changes;
pub mod modify;
pub mod node_memory;
pub mod paging;
pub mod parameter_group;
pub mod persist;
pub mod quota;
mod replica_count;
pub mod resharding;
pub mod resource;
pub mod scope;
pub mod shard_replicas;
pub mod slot_plan;
pub mod snapshot;
pub mod start_settings;
pub mod stored_settings;
pub mod subnet_group;
pub mod tags;
pub mod user;
pub mod user_group;

use chrono::{DateTime, Duration, Utc};

use crate::protocol::ApiError;
use events::{EventKind, EventLog};
use group::{Endpoints, GroupStatus, ReplicationGroup};
use paging::Pager;
use quota::FailoverQuota;
use resource::Lifecycle;
use resource::ResourceTable;
use subnet_group::SubnetGroup;
use tags::TagStore;

/// Where the server's `now` comes from; tests inject their own.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

pub struct Model {
    groups: ResourceTable<ReplicationGroup>,
    /// Standalone cache clusters (members of replication groups live in their group).
    cache_clusters: ResourceTable<cache_cluster::CacheCluster>,
    subnet_groups: ResourceTable<SubnetGroup>,
    /// The user's cache parameter groups (the defaults are synthesized: `parameter_group`).
    parameter_groups: ResourceTable<parameter_group::ParameterGroup>,
    /// RBAC users, the built-in `default` one included, and user groups.
    users: ResourceTable<user::User>,
    user_groups: ResourceTable<user_group::UserGroup>,
    /// Manual and automatic snapshots (their RDB files are the engine's).
    snapshots: ResourceTable<snapshot::Snapshot>,
    /// How many manual snapshots the scope may keep (`SnapshotQuotaExceededFault` beyond).
    pub snapshot_quota: usize,
    /// The tags of every taggable resource of this scope, by ARN.
    pub tags: TagStore,
    pub events: EventLog,
    pub quota: FailoverQuota,
    /// Issues and redeems every Describe action's markers.
    pub pager: Pager,
}

/// What an accepted TestFailover will act on, captured under the lock that admitted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailoverTicket {
    pub group_id: String,
    pub node_group_id: String,
    pub old_primary: String,
}

impl Model {
    pub fn new(failover_limit: usize, failover_window: Duration) -> Self {
        let mut subnet_groups = ResourceTable::default();
        subnet_groups
            .insert(SubnetGroup::default_group())
            .expect("an empty table takes the default group");
        Self {
            groups: ResourceTable::default(),
            cache_clusters: ResourceTable::default(),
            subnet_groups,
            parameter_groups: ResourceTable::default(),
            users: users_with_default(),
            user_groups: ResourceTable::default(),
            snapshots: ResourceTable::default(),
            snapshot_quota: snapshot::DEFAULT_SNAPSHOT_QUOTA,
            tags: TagStore::default(),
            events: EventLog::default(),
            quota: FailoverQuota::new(failover_limit, failover_window),
            pager: Pager::random(),
        }
    }

    pub fn record(&mut self, kind: EventKind, now: DateTime<Utc>) {
        self.events.record(&kind, now);
    }

    /// Looks a group up by any-case id.
    pub fn group(&self, raw_id: &str) -> Result<&ReplicationGroup, ApiError> {
        self.groups.get(raw_id)
    }

    /// The only way to change a group: it gets a new revision, so nothing cached from the
    /// old one is served again.
    pub fn group_mut(&mut self, raw_id: &str) -> Result<&mut ReplicationGroup, ApiError> {
        self.groups.get_mut(raw_id)
    }

    pub fn groups(&self) -> impl Iterator<Item = &ReplicationGroup> {
        self.groups.iter()
    }

    pub fn insert_group(&mut self, group: ReplicationGroup) -> Result<(), ApiError> {
        self.insert_group_with_tags(group, &[])
    }

    /// Adds a new group with its tags (checked by the tag store's rules; none kept on refusal).
    pub fn insert_group_with_tags(
        &mut self,
        group: ReplicationGroup,
        tags: &[tags::Tag],
    ) -> Result<(), ApiError> {
        if self.groups.get(group.id.as_str()).is_ok() {
            return Err(<ReplicationGroup as resource::Resource>::already_exists(
                group.id.as_str(),
            ));
        }
        self.tags.add(&group.arn, tags)?;
        self.groups.insert(group)
    }

    /// A group's nodes run (created or restarted): their addresses, its endpoints, `available`.
    /// False when the group no longer exists.
    pub(crate) fn mark_running(
        &mut self,
        id: &str,
        node_addresses: &[(String, std::net::SocketAddrV4)],
        endpoints: Endpoints,
    ) -> bool {
        let Ok(group) = self.group_mut(id) else {
            return false;
        };
        group.set_addresses(node_addresses);
        group.endpoints = Some(endpoints);
        group.status = GroupStatus::Available;
        true
    }

    /// The engine started every node: record addresses and endpoints, go `available`. False when
    /// the group no longer exists (it was reset away meanwhile).
    pub fn finish_create(
        &mut self,
        id: &str,
        node_addresses: &[(String, std::net::SocketAddrV4)],
        endpoints: Endpoints,
        now: DateTime<Utc>,
    ) -> bool {
        if !self.mark_running(id, node_addresses, endpoints) {
            return false;
        }
        let Ok(group) = self.group(id) else {
            return false;
        };
        let created: Vec<_> = group.members.iter().map(|m| m.cluster_id.clone()).collect();
        for cluster_id in created {
            self.record(EventKind::CacheClusterCreated { cluster_id }, now);
        }
        true
    }

    pub fn fail_create(&mut self, id: &str, reason: String, now: DateTime<Utc>) {
        let Ok(group) = self.group_mut(id) else {
            return;
        };
        group.status = GroupStatus::CreateFailed;
        let group_id = group.id.to_string();
        self.record(
            EventKind::ReplicationGroupCreateFailed { group_id, reason },
            now,
        );
    }

    /// Moves a group to `deleting`; refused while it is being created or changed.
    pub fn begin_delete(&mut self, raw_id: &str) -> Result<ReplicationGroup, ApiError> {
        let group = self.group_mut(raw_id)?;
        // The lifecycle allows `deleting` from `available` and `create-failed`.
        match group.status {
            status if status.allows(GroupStatus::Deleting) && !group.failover_in_flight => {
                group.status = GroupStatus::Deleting;
                Ok(group.clone())
            }
            _ => Err(ApiError::InvalidReplicationGroupState(format!(
                "Replication group {} is not in a valid state to be deleted (status: {}{}).",
                group.id,
                group.status.as_str(),
                if group.failover_in_flight {
                    ", failover in progress"
                } else {
                    ""
                }
            ))),
        }
    }

    pub fn finish_delete(&mut self, id: &str, now: DateTime<Utc>) {
        if let Some(group) = self.groups.remove(id) {
            self.tags.forget(&group.arn);
            let scope = scope::Scope::new(&group.arn.account, &group.arn.region);
            for member in &group.members {
                self.tags.forget(&arn::Arn::new(
                    arn::ResourceKind::CacheCluster,
                    &scope,
                    &member.cluster_id,
                ));
            }
            for member in &group.members {
                let cluster_id = member.cluster_id.clone();
                self.record(EventKind::CacheClusterDeleted { cluster_id }, now);
            }
            let group_id = group.id.to_string();
            self.record(EventKind::ReplicationGroupDeleted { group_id }, now);
        }
    }

    /// Removes every group, subnet group but `default`, tag, event and quota counter (the
    /// `/_reset` control endpoint).
    pub fn reset(&mut self) -> Vec<ReplicationGroup> {
        self.subnet_groups.take_all();
        self.subnet_groups
            .insert(SubnetGroup::default_group())
            .expect("an empty table takes the default group");
        self.events.clear();
        self.quota.clear();
        self.tags.clear();
        self.parameter_groups.take_all();
        self.users = users_with_default();
        self.user_groups.take_all();
        self.snapshots.take_all();
        self.groups.take_all()
    }
}

fn users_with_default() -> ResourceTable<user::User> {
    let mut users = ResourceTable::default();
    users
        .insert(user::User::built_in_default())
        .expect("an empty table takes the default user");
    users
}

#[cfg(test)]
pub(crate) mod tests;
