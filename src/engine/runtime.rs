//! The one interface the workflows drive, whatever the group's cluster mode: each method says
//! what happens to the group and the mode decides how (`REPLICAOF NO ONE` or `CLUSTER FAILOVER
//! TAKEOVER`, a fresh replica or a restart from `nodes.conf`).

use std::net::SocketAddrV4;
use std::sync::Arc;

use super::EngineError;
use super::acl::AclUser;
use super::auth::AuthUpdate;
use super::client::NodeClient;
use super::cluster::ClusterRuntime;
use super::replicated::GroupRuntime;
use super::snapshot::SnapshotSource;

/// What runs behind one replication group.
pub enum Runtime {
    Replicated(GroupRuntime),
    Cluster(ClusterRuntime),
}

/// A group's runtime is behind an async mutex: workflows hold it across their steps, so two
/// workflows on one group never interleave. The lock on the resource state is separate and is
/// never held across an `.await`.
pub type RuntimeHandle = Arc<tokio::sync::Mutex<Runtime>>;

impl Runtime {
    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }

    /// Set once the group is stopped: a health check must never restart its nodes.
    pub fn is_stopped(&self) -> bool {
        match self {
            Self::Replicated(group) => group.is_stopped(),
            Self::Cluster(cluster) => cluster.is_stopped(),
        }
    }

    pub fn member_at(&self, index: usize) -> &str {
        match self {
            Self::Replicated(group) => group.member_at(index),
            Self::Cluster(cluster) => cluster.member_at(index),
        }
    }

    /// The current address of every member.
    pub fn node_addresses(&self) -> Vec<(String, SocketAddrV4)> {
        match self {
            Self::Replicated(group) => group.node_addresses(),
            Self::Cluster(cluster) => cluster.node_addresses(),
        }
    }

    /// True when the node at `index` is the primary (of its shard, in cluster mode).
    pub fn is_primary(&self, index: usize) -> bool {
        match self {
            Self::Replicated(group) => group.primary_index() == index,
            Self::Cluster(cluster) => cluster.is_primary(index),
        }
    }

    /// True when `member` is a primary; false for an unknown member.
    pub fn is_primary_member(&self, member: &str) -> bool {
        let index = match self {
            Self::Replicated(group) => group.index_of(member),
            Self::Cluster(cluster) => cluster.index_of(member),
        };
        index.is_some_and(|index| self.is_primary(index))
    }

    /// The node index of node group `node_group_id`'s primary. A cluster-mode-disabled group
    /// has one node group, whatever its id.
    pub fn primary_of(&self, node_group_id: &str) -> Option<usize> {
        match self {
            Self::Replicated(group) => Some(group.primary_index()),
            Self::Cluster(cluster) => cluster.shard_primary(node_group_id),
        }
    }

    /// What a health check needs, taken under the group's lock: each member with a client to
    /// ping, or `None` when its process has already exited.
    pub fn health_probes(&mut self) -> Vec<(String, Option<NodeClient>)> {
        match self {
            Self::Replicated(group) => group.health_probes(),
            Self::Cluster(cluster) => cluster.health_probes(),
        }
    }

    /// Re-checks one member under the lock, just before acting on it: the group may have
    /// changed since the probe. Its index when it still fails.
    pub async fn still_failing(&mut self, member: &str) -> Option<usize> {
        match self {
            Self::Replicated(group) => group.still_failing(member).await,
            Self::Cluster(cluster) => cluster.still_failing(member).await,
        }
    }

    /// The node fails for real: SIGKILL (a frozen node too), so clients on its address get
    /// connection refused and it can never come back on its own.
    pub async fn kill_node(&mut self, index: usize) {
        match self {
            Self::Replicated(group) => group.kill_node(index).await,
            Self::Cluster(cluster) => cluster.kill_node(index).await,
        }
    }

    /// The best running replica takes over from the failed primary at `failed`; every endpoint
    /// and node follows. Returns the new primary's member id.
    pub async fn promote_replacement(&mut self, failed: usize) -> Result<String, EngineError> {
        self.promote_replacement_to(failed, None).await
    }

    /// [`Runtime::promote_replacement`], promoting `chosen` instead of the best replica when
    /// it is given (in cluster mode, a replica of the failed primary's shard).
    pub async fn promote_replacement_to(
        &mut self,
        failed: usize,
        chosen: Option<&str>,
    ) -> Result<String, EngineError> {
        let mut promoted = self.promote_replacements(&[failed], chosen).await?;
        Ok(promoted.remove(0))
    }

    /// No replica took over: the failed primary at `index` comes back, empty, as the primary
    /// (of its shard), so its data is served again. Its data is gone, as on AWS.
    pub async fn restart_failed_primary(&mut self, index: usize) -> Result<(), EngineError> {
        match self {
            Self::Replicated(group) => group.restart_as_primary(index).await,
            Self::Cluster(cluster) => cluster.recover(index).await,
        }
    }

    /// After [`Runtime::restart_failed_primary`]: waits until every other running node has
    /// resynced from the restarted primary at `index` (cluster mode waited already). A replica
    /// that cannot resync (dead too, when every node was killed) is its own failure, which the
    /// monitor repairs next: it says nothing about the restarted node, which runs.
    pub async fn wait_resynced_from(&self, index: usize) {
        if let Self::Replicated(group) = self {
            // A node that is down (held down by a fault, or not restarted yet) has nothing
            // to resync: waiting for it would only time out.
            let others = (0..group.node_addresses().len()).filter(|r| *r != index);
            for replica in others.filter(|r| group.has_process(*r)) {
                if let Err(error) = group.wait_synced(replica).await {
                    let (member, replica) = (group.member_at(index), group.member_at(replica));
                    tracing::warn!(%member, %replica, %error, "a replica did not resync from the restarted primary");
                }
            }
        }
    }

    /// Replaces the node at `index` with a fresh, empty one that rejoins as a replica (as the
    /// primary, in cluster mode, when no replica took over) and waits until it caught up.
    pub async fn recover(&mut self, index: usize) -> Result<(), EngineError> {
        match self {
            Self::Replicated(group) => group.recover_as_replica(index).await,
            Self::Cluster(cluster) => cluster.recover(index).await,
        }
    }

    /// Brings several held-down nodes of a cluster back at once (see
    /// `ClusterRuntime::recover_together`); cluster mode disabled brings them back one by one.
    pub async fn recover_cluster_nodes(&mut self, indices: &[usize]) -> Result<(), EngineError> {
        match self {
            Self::Cluster(cluster) => cluster.recover_together(indices).await,
            Self::Replicated(group) => Err(EngineError::Replication(format!(
                "{} brings its nodes back one by one (cluster mode disabled)",
                group.group_id()
            ))),
        }
    }

    /// Applies a token change to every running node (`ACL SETUSER default`).
    pub async fn update_auth(&mut self, update: AuthUpdate) -> Result<(), EngineError> {
        match self {
            Self::Replicated(group) => group.update_auth(update).await,
            Self::Cluster(cluster) => cluster.update_auth(update).await,
        }
    }

    /// One step of the in-transit encryption migration, in both modes (a cluster's bus and
    /// replication move too).
    pub async fn switch_tls(
        &mut self,
        mode: Option<super::TlsMode>,
        ca: Arc<super::CertificateAuthority>,
    ) -> Result<(), EngineError> {
        match self {
            Self::Replicated(group) => group.switch_tls(mode, ca).await,
            Self::Cluster(cluster) => cluster.switch_tls(mode, ca).await,
        }
    }

    /// `CONFIG SET`s each `(name, value)` on every running node, in both modes, and keeps them
    /// so that a node started later (a recovery, a new replica) runs with them too.
    pub async fn apply_config(&mut self, settings: &[(String, String)]) -> Result<(), EngineError> {
        match self {
            Self::Replicated(group) => group.apply_config(settings).await,
            Self::Cluster(cluster) => cluster.apply_config(settings).await,
        }
    }

    /// Keeps `settings` for every node started from now on (a reboot's restart) without
    /// touching the running ones: parameters that wait for a reboot (cluster mode disabled).
    pub fn keep_for_restarts(&mut self, settings: &[(String, String)]) {
        if let Self::Replicated(group) = self {
            group.keep_for_restarts(settings);
        }
    }

    /// Makes every running node know exactly `users` (a user group's ACL users; the others are
    /// deleted) and keeps them for nodes started later, in both modes.
    pub async fn apply_users(&mut self, users: Vec<AclUser>) -> Result<(), EngineError> {
        match self {
            Self::Replicated(group) => group.apply_users(users).await,
            Self::Cluster(cluster) => cluster.apply_users(users).await,
        }
    }

    /// Lets the group's `iam` users log in with IAM auth tokens verified by `tokens` (none:
    /// the group has no `iam` user). Cluster mode disabled only: the API refuses `iam` users
    /// in cluster mode, whose nodes' own addresses have no gate.
    pub fn set_iam(
        &mut self,
        tokens: Option<Arc<dyn super::IamTokens>>,
    ) -> Result<(), EngineError> {
        match self {
            Self::Replicated(group) => group.set_iam(tokens),
            Self::Cluster(_) => Ok(()),
        }
    }

    /// Promotes `member` with zero acknowledged writes lost (cluster mode disabled only: the
    /// API refuses `PrimaryClusterId` in cluster mode).
    pub async fn promote_gracefully(&mut self, member: &str) -> Result<(), EngineError> {
        self.replicated("a graceful promotion")?
            .promote_gracefully(member)
            .await
    }

    /// Replaces every node with one running `binary`, one at a time, keeping the data; returns
    /// each node group's primary member afterwards.
    pub async fn upgrade_engine(
        &mut self,
        binary: std::path::PathBuf,
    ) -> Result<Vec<String>, EngineError> {
        match self {
            Self::Replicated(group) => Ok(vec![group.upgrade_engine(binary).await?]),
            Self::Cluster(cluster) => cluster.upgrade_engine(binary).await,
        }
    }

    /// Starts a new replica named `member`, waits until it caught up and returns its address
    /// (cluster mode disabled only).
    pub async fn add_replica(&mut self, member: &str) -> Result<SocketAddrV4, EngineError> {
        self.replicated("adding a replica")?
            .add_replica(member)
            .await
    }

    /// Stops and forgets a replica (cluster mode disabled only).
    pub async fn remove_replica(&mut self, member: &str) -> Result<(), EngineError> {
        self.replicated("removing a replica")?
            .remove_replica(member)
            .await
    }

    /// The nodes a snapshot is taken from, one per node group (see the modes' own methods).
    pub fn snapshot_sources(&self, preferred: Option<&str>) -> Vec<SnapshotSource> {
        match self {
            Self::Replicated(group) => vec![group.snapshot_source(preferred)],
            Self::Cluster(cluster) => cluster.snapshot_sources(),
        }
    }

    /// Stops every node and closes the endpoints.
    pub async fn stop(&mut self) {
        match self {
            Self::Replicated(group) => group.stop().await,
            Self::Cluster(cluster) => cluster.stop().await,
        }
    }

    /// The node index of `member`, or an error naming it.
    pub fn index_of_member(&self, member: &str) -> Result<usize, EngineError> {
        let index = match self {
            Self::Replicated(group) => group.index_of(member),
            Self::Cluster(cluster) => cluster.index_of(member),
        };
        index.ok_or_else(|| {
            EngineError::Replication(format!("{member} is not a node of {}", self.group_id()))
        })
    }

    pub fn group_id(&self) -> &str {
        match self {
            Self::Replicated(group) => group.group_id(),
            Self::Cluster(cluster) => cluster.group_id(),
        }
    }

    /// Takes the node at `index` down and keeps it down (an injected fault): SIGKILL
    /// (`graceful`: a shutdown), no health check restarts it until [`Runtime::release`], and
    /// when its `host_gone` its address is a black hole meanwhile.
    pub async fn hold_down(&mut self, index: usize, graceful: bool, host_gone: bool) {
        match self {
            Self::Replicated(group) => group.hold_down(index, graceful, host_gone).await,
            Self::Cluster(cluster) => cluster.hold_down(index, graceful, host_gone).await,
        }
    }

    /// The node at `index` may be restarted again.
    pub fn release(&mut self, index: usize) {
        match self {
            Self::Replicated(group) => group.release(index),
            Self::Cluster(cluster) => cluster.release(index),
        }
    }

    /// SIGSTOPs the node at `index` and returns its pid, to thaw exactly that process later.
    pub fn freeze(&mut self, index: usize) -> Result<u32, EngineError> {
        self.slot_mut(index).freeze()
    }

    /// SIGCONTs the node at `index` if it is still the process `pid`; false when it was
    /// replaced or is gone.
    pub fn thaw(&mut self, index: usize, pid: u32) -> bool {
        self.slot_mut(index).thaw(pid)
    }

    fn slot_mut(&mut self, index: usize) -> &mut super::node::NodeSlot {
        match self {
            Self::Replicated(group) => group.slot_mut(index),
            Self::Cluster(cluster) => cluster.slot_mut(index),
        }
    }

    /// True when a node outside `down` is in the same shard as the (down) primary at `index`,
    /// so a replica is left to take over: in cluster mode, of its shard; otherwise, any node.
    pub fn shard_survives(&self, index: usize, down: &[usize]) -> bool {
        match self {
            Self::Cluster(cluster) => cluster
                .replicas_of_shard_at(index)
                .iter()
                .any(|replica| !down.contains(replica)),
            Self::Replicated(group) => group.node_addresses().len() > down.len(),
        }
    }

    /// Promotes a replica for each failed primary of `failed` at once (several shards'
    /// primaries down together, in cluster mode); the new primaries, in the order given.
    pub async fn promote_replacements(
        &mut self,
        failed: &[usize],
        chosen: Option<&str>,
    ) -> Result<Vec<String>, EngineError> {
        match self {
            Self::Cluster(cluster) => {
                let chosen = chosen.map(|c| cluster.index_of(c).ok_or(c)).transpose();
                let chosen = chosen.map_err(|c| {
                    EngineError::Replication(format!("{c} is not a node of {}", cluster.group_id()))
                })?;
                let shards: Vec<usize> = failed.iter().map(|i| cluster.shard_at(*i)).collect();
                cluster.take_over_shards(&shards, chosen).await
            }
            Self::Replicated(group) => match failed {
                [_] => Ok(vec![group.promote_best_replica(chosen).await?]),
                _ => Err(EngineError::Replication(format!(
                    "{} has one primary: only one can fail over",
                    group.group_id()
                ))),
            },
        }
    }

    /// The replicas whose replication a `replication-lag` fault on the node at `index`
    /// degrades: that replica, or every replica of its primary when it is a primary.
    pub fn lag_targets(&self, index: usize) -> Vec<usize> {
        match self {
            Self::Cluster(cluster) if cluster.is_primary(index) => {
                cluster.replicas_of_shard_at(index)
            }
            Self::Replicated(group) if group.primary_index() == index => {
                (0..group.node_addresses().len())
                    .filter(|i| *i != index)
                    .collect()
            }
            _ => vec![index],
        }
    }

    /// Sends the replication stream of the replica at `index` through a relay proxy with
    /// `toxic` on it; the relay's name (a proxy of the toxics registry).
    pub async fn degrade_replication(
        &mut self,
        index: usize,
        toxic: super::toxics::spec::NewToxic,
    ) -> Result<String, EngineError> {
        match self {
            Self::Replicated(group) => group.degrade_replication(index, toxic).await,
            Self::Cluster(cluster) => cluster.degrade_replication(index, toxic).await,
        }
    }

    /// The replica at `index` replicates from its primary directly again, and catches up.
    pub async fn restore_replication(&mut self, index: usize) -> Result<(), EngineError> {
        match self {
            Self::Replicated(group) => group.restore_replication(index).await,
            Self::Cluster(cluster) => cluster.restore_replication(index).await,
        }
    }

    /// The cluster-mode-disabled runtime, or an error saying `what` needs one.
    pub fn replicated(&mut self, what: &str) -> Result<&mut GroupRuntime, EngineError> {
        match self {
            Self::Replicated(group) => Ok(group),
            Self::Cluster(cluster) => Err(EngineError::Replication(format!(
                "{what} is not supported on cluster {} (cluster mode enabled)",
                cluster.group_id()
            ))),
        }
    }
}
