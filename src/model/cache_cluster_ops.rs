//! The standalone cache clusters' operations on the model: create, reboot, node-count
//! changes and delete, each a `begin_` that validates and changes the status and a `finish_`
//! that takes what the engine did and writes the events.

use std::net::SocketAddrV4;

use chrono::{DateTime, Utc};

use super::Model;
use super::cache_cluster::{CacheCluster, ClusterStatus, NodeStatus, PendingNodes};
use super::events::EventKind;
use super::resource::{Lifecycle, Resource};
use super::tags::Tag;
use crate::protocol::ApiError;

impl Model {
    pub fn cache_cluster(&self, raw_id: &str) -> Result<&CacheCluster, ApiError> {
        self.cache_clusters.get(raw_id)
    }

    /// In id order.
    pub fn cache_clusters(&self) -> impl Iterator<Item = &CacheCluster> {
        self.cache_clusters.iter()
    }

    /// True when a cache cluster of this id exists, standalone or as a group's member.
    pub fn cache_cluster_exists(&self, raw_id: &str) -> bool {
        let id = raw_id.to_ascii_lowercase();
        self.cache_clusters.get(&id).is_ok() || self.groups().any(|g| g.member(&id).is_some())
    }

    /// Adds a new cluster (`creating`) with its tags; its id must be free among every cache
    /// cluster, group members included, and its subnet group must exist.
    pub fn insert_cache_cluster(
        &mut self,
        cluster: CacheCluster,
        tags: &[Tag],
    ) -> Result<(), ApiError> {
        if self.cache_cluster_exists(&cluster.id) {
            return Err(CacheCluster::already_exists(&cluster.id));
        }
        self.subnet_group(&cluster.settings.stored.cache_subnet_group_name)?;
        self.tags.add(&cluster.arn, tags)?;
        self.cache_clusters.insert(cluster)
    }

    /// The engine started the nodes: `available`. False when the cluster is gone (a reset).
    pub fn finish_cluster_create(
        &mut self,
        id: &str,
        node_addresses: &[(String, SocketAddrV4)],
        configuration_address: Option<SocketAddrV4>,
        now: DateTime<Utc>,
    ) -> bool {
        if !self.mark_cluster_running(id, node_addresses, configuration_address, now) {
            return false;
        }
        let cluster_id = id.to_string();
        self.record(EventKind::CacheClusterCreated { cluster_id }, now);
        true
    }

    /// The cluster's nodes run at these addresses: `available`, with no event (so this alone
    /// ends a cluster brought back after a server restart: its nodes are not new). False when
    /// it no longer exists.
    pub fn mark_cluster_running(
        &mut self,
        id: &str,
        node_addresses: &[(String, SocketAddrV4)],
        configuration_address: Option<SocketAddrV4>,
        now: DateTime<Utc>,
    ) -> bool {
        let Ok(cluster) = self.cache_clusters.get_mut(id) else {
            return false;
        };
        for node in &mut cluster.nodes {
            node.status = NodeStatus::Available;
        }
        cluster.sync_nodes(node_addresses, &[], now);
        cluster.configuration_address = configuration_address;
        cluster.status = ClusterStatus::Available;
        true
    }

    pub fn fail_cluster_create(&mut self, id: &str, reason: String, now: DateTime<Utc>) {
        if let Ok(cluster) = self.cache_clusters.get_mut(id) {
            cluster.status = ClusterStatus::CreateFailed;
            let cluster_id = cluster.id.clone();
            self.record(
                EventKind::CacheClusterCreateFailed { cluster_id, reason },
                now,
            );
        }
    }

    /// Marks `node_ids` (every node when empty) `rebooting`; the cluster must be available
    /// and every id one of its nodes. Returns the cluster and the ids to reboot.
    pub fn begin_cluster_reboot(
        &mut self,
        raw_id: &str,
        node_ids: &[String],
    ) -> Result<(CacheCluster, Vec<String>), ApiError> {
        let cluster = self.cache_clusters.get(raw_id)?;
        if let Some(unknown) = node_ids.iter().find(|id| cluster.node(id).is_none()) {
            return Err(ApiError::InvalidParameterValue(format!(
                "Cache node {unknown} does not exist in cache cluster {}.",
                cluster.id
            )));
        }
        let cluster = self.cache_clusters.get_mut(raw_id)?;
        cluster.transition(ClusterStatus::Rebooting)?;
        let ids: Vec<String> = match node_ids.is_empty() {
            true => cluster.nodes.iter().map(|n| n.id.clone()).collect(),
            false => node_ids.to_vec(),
        };
        for node in cluster.nodes.iter_mut().filter(|n| ids.contains(&n.id)) {
            node.status = NodeStatus::Rebooting;
        }
        Ok((cluster.clone(), ids))
    }

    /// The nodes restarted (empty, with every pending parameter active), or one failed.
    pub fn finish_cluster_reboot(
        &mut self,
        id: &str,
        node_ids: &[String],
        failure: Option<String>,
        now: DateTime<Utc>,
    ) {
        let Ok(cluster) = self.cache_clusters.get_mut(id) else {
            return;
        };
        cluster.status = ClusterStatus::Available;
        for node in cluster
            .nodes
            .iter_mut()
            .filter(|n| node_ids.contains(&n.id))
        {
            node.status = NodeStatus::Available;
            node.pending_reboot &= failure.is_some();
        }
        let cluster_id = cluster.id.clone();
        self.record_reboot_events(&cluster_id, node_ids, failure, now);
    }

    /// `Cache node 0001 shutdown`, then `Cache node 0001 restarted` (or why it failed), for
    /// each rebooted node: standalone or a group's member.
    pub fn record_reboot_events(
        &mut self,
        cluster_id: &str,
        node_ids: &[String],
        failure: Option<String>,
        now: DateTime<Utc>,
    ) {
        for node_id in node_ids {
            let (cluster_id, node_id) = (cluster_id.to_string(), node_id.clone());
            self.record(
                EventKind::CacheNodeShutdown {
                    cluster_id: cluster_id.clone(),
                    node_id: node_id.clone(),
                },
                now,
            );
            let kind = match &failure {
                None => EventKind::CacheNodeRestarted {
                    cluster_id,
                    node_id,
                },
                Some(reason) => EventKind::NodeFailed {
                    cluster_id,
                    node_id,
                    reason: reason.clone(),
                },
            };
            self.record(kind, now);
        }
    }

    /// Marks the cluster `modifying` for a node-count change to `pending`.
    pub fn begin_node_change(
        &mut self,
        raw_id: &str,
        pending: PendingNodes,
    ) -> Result<CacheCluster, ApiError> {
        let cluster = self.cache_clusters.get_mut(raw_id)?;
        cluster.transition(ClusterStatus::Modifying)?;
        cluster.pending = Some(pending);
        Ok(cluster.clone())
    }

    /// Keeps a node-count change for the maintenance window (a later one replaces it, as the
    /// pending values show one target); the cluster stays as it is.
    pub fn defer_node_change(
        &mut self,
        raw_id: &str,
        pending: PendingNodes,
    ) -> Result<CacheCluster, ApiError> {
        let cluster = self.cache_clusters.get_mut(raw_id)?;
        cluster.deferred_nodes = Some(pending);
        Ok(cluster.clone())
    }

    /// `CacheNodeType` applied at once (it replaces a deferred one).
    pub fn set_cluster_node_type(
        &mut self,
        raw_id: &str,
        node_type: &str,
    ) -> Result<CacheCluster, ApiError> {
        let cluster = self.cache_clusters.get_mut(raw_id)?;
        cluster.settings.stored.cache_node_type = node_type.to_string();
        cluster.deferred_node_type = None;
        Ok(cluster.clone())
    }

    /// `CacheNodeType` kept for the maintenance window.
    pub fn defer_cluster_node_type(
        &mut self,
        raw_id: &str,
        node_type: &str,
    ) -> Result<CacheCluster, ApiError> {
        let cluster = self.cache_clusters.get_mut(raw_id)?;
        cluster.deferred_node_type = Some(node_type.to_string());
        Ok(cluster.clone())
    }

    /// The maintenance window's changes: the deferred node type recorded, and the deferred node
    /// change started (the cluster goes `modifying`, as an immediate change does), with the
    /// number of nodes to add. `Ok(None)` when nothing waits; `Ok(Some(None))` when only the
    /// node type did.
    #[allow(clippy::type_complexity)]
    pub fn begin_deferred_changes(
        &mut self,
        raw_id: &str,
    ) -> Result<Option<Option<(PendingNodes, usize)>>, ApiError> {
        let cluster = self.cache_clusters.get(raw_id)?;
        let (nodes, node_type) = (
            cluster.deferred_nodes.clone(),
            cluster.deferred_node_type.clone(),
        );
        if nodes.is_none() && node_type.is_none() {
            return Ok(None);
        }
        let add = nodes
            .as_ref()
            .map(|p| p.num_cache_nodes.saturating_sub(cluster.nodes.len()));
        if let Some(pending) = nodes.clone() {
            self.begin_node_change(raw_id, pending)?;
        }
        let cluster = self.cache_clusters.get_mut(raw_id)?;
        if let Some(node_type) = node_type {
            cluster.settings.stored.cache_node_type = node_type;
        }
        cluster.deferred_nodes = None;
        cluster.deferred_node_type = None;
        Ok(Some(nodes.zip(add)))
    }

    /// The engine's nodes after a change: the nodes added and removed get their events.
    pub fn finish_node_change(
        &mut self,
        id: &str,
        node_addresses: &[(String, SocketAddrV4)],
        failure: Option<String>,
        now: DateTime<Utc>,
    ) {
        let Ok(cluster) = self.cache_clusters.get_mut(id) else {
            return;
        };
        cluster.status = ClusterStatus::Available;
        let new_zones = cluster
            .pending
            .take()
            .map(|p| p.new_zones)
            .unwrap_or_default();
        let (added, removed) = cluster.sync_nodes(node_addresses, &new_zones, now);
        let cluster_id = cluster.id.clone();
        let zones: Vec<String> = added
            .iter()
            .map(|n| cluster.node(n).map(|n| n.availability_zone.clone()))
            .map(Option::unwrap_or_default)
            .collect();
        for (node_id, zone) in added.into_iter().zip(zones) {
            let cluster_id = cluster_id.clone();
            let added = EventKind::CacheNodeAdded {
                cluster_id,
                node_id,
                zone,
            };
            self.record(added, now);
        }
        for node_id in removed {
            let cluster_id = cluster_id.clone();
            self.record(
                EventKind::CacheNodeRemoved {
                    cluster_id,
                    node_id,
                },
                now,
            );
        }
        if let Some(reason) = failure {
            self.record(
                EventKind::CacheClusterModifyFailed { cluster_id, reason },
                now,
            );
        }
    }

    /// The monitor replaced `node_ids` (empty): `Recovering cache nodes 0001`, then `Finished
    /// recovery for cache nodes 0001`, as for a group's node.
    pub fn record_node_replacements(
        &mut self,
        id: &str,
        node_ids: &[String],
        node_addresses: &[(String, SocketAddrV4)],
        now: DateTime<Utc>,
    ) {
        let Ok(cluster) = self.cache_clusters.get_mut(id) else {
            return;
        };
        cluster.sync_nodes(node_addresses, &[], now);
        for node in cluster
            .nodes
            .iter_mut()
            .filter(|n| node_ids.contains(&n.id))
        {
            node.created_at = now;
        }
        let cluster_id = cluster.id.clone();
        for node_id in node_ids {
            let (cluster_id, node_id) = (cluster_id.clone(), node_id.clone());
            self.record(
                EventKind::RecoveringCacheNodes {
                    cluster_id: cluster_id.clone(),
                    node_id: node_id.clone(),
                },
                now,
            );
            self.record(
                EventKind::FinishedRecovery {
                    cluster_id,
                    node_id,
                },
                now,
            );
        }
    }

    /// Moves a cluster to `deleting` (from `available` or `create-failed`).
    pub fn begin_cluster_delete(&mut self, raw_id: &str) -> Result<CacheCluster, ApiError> {
        let cluster = self.cache_clusters.get_mut(raw_id)?;
        if !cluster.status.allows(ClusterStatus::Deleting) {
            return Err(ApiError::InvalidCacheClusterState(format!(
                "Cache cluster {} is not in a valid state to be deleted (status: {}).",
                cluster.id,
                cluster.status.as_str()
            )));
        }
        cluster.status = ClusterStatus::Deleting;
        Ok(cluster.clone())
    }

    pub fn finish_cluster_delete(&mut self, id: &str, now: DateTime<Utc>) {
        if let Some(cluster) = self.cache_clusters.remove(id) {
            self.tags.forget(&cluster.arn);
            let cluster_id = cluster.id;
            self.record(EventKind::CacheClusterDeleted { cluster_id }, now);
        }
    }

    /// Every standalone cluster, removed (the `/_reset` endpoint stops their nodes).
    pub fn take_cache_clusters(&mut self) -> Vec<CacheCluster> {
        self.cache_clusters.take_all()
    }

    /// The standalone clusters whose parameter group is `name`.
    pub fn clusters_using(&self, name: &str) -> Vec<String> {
        self.cache_clusters()
            .filter(|c| {
                c.settings
                    .cache_parameter_group_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .map(|c| c.id.clone())
            .collect()
    }

    /// A `requires-reboot` parameter changed: every node of these clusters waits for a reboot.
    pub fn mark_clusters_pending_reboot(&mut self, ids: &[String]) {
        for id in ids {
            if let Ok(cluster) = self.cache_clusters.get_mut(id) {
                for node in &mut cluster.nodes {
                    node.pending_reboot = true;
                }
            }
        }
    }

    /// Changes a standalone cluster's stored settings (ModifyCacheCluster's immediate part).
    pub fn cache_cluster_mut(&mut self, raw_id: &str) -> Result<&mut CacheCluster, ApiError> {
        self.cache_clusters.get_mut(raw_id)
    }
}
