//! A replica of a shard whose replication stream runs through a relay proxy with toxics (the
//! `replication-lag` fault), while the cluster bus and every other connection stay direct.
//!
//! A Redis Cluster replica replicates from the address its primary announces, the same for
//! every node (`cluster-announce-*` cannot differ per replica, and `REPLICAOF` is refused in
//! cluster mode), so the relay cannot be put in one replica's way by re-pointing it, as
//! cluster mode disabled does. Instead the primary's client `port` moves to a private port
//! and a [`LagFront`] takes its address: the connections from the lagged replica's own
//! address (its `bind-source-addr`) go to the relay, all others straight to the node. The
//! announced address, the bus and every other client are unchanged. Lifting the fault sends
//! the replica straight to the primary again, and the primary's port back to its address.

use std::collections::HashMap;
use std::net::SocketAddrV4;

use super::ClusterRuntime;
use crate::engine::EngineError;
use crate::engine::client::NodeClient;
use crate::engine::lag_front::LagFront;
use crate::engine::node::{set_config, wait_replica_synced};
use crate::engine::proxy::EndpointProxy;
use crate::engine::toxics::ToxicRegistry;
use crate::engine::toxics::spec::NewToxic;

/// The degraded replication links of a cluster.
#[derive(Default)]
pub(crate) struct LaggedLinks {
    /// By the member of the primary whose address each fronts.
    fronts: HashMap<String, LagFront>,
    /// By lagged replica member: its relay, and the primary member it lags behind.
    relays: HashMap<String, (EndpointProxy, String)>,
}

fn replication_error(message: String) -> EngineError {
    EngineError::Replication(message)
}

impl ClusterRuntime {
    /// The running replicas of the shard of the node at `index`.
    pub fn replicas_of_shard_at(&self, index: usize) -> Vec<usize> {
        self.replicas_of(self.nodes[index].shard)
    }

    /// Sends the replication stream of the replica at `index` through a relay proxy named
    /// `<member>-replication` with `toxic` on it; returns the relay's name. The relay is a
    /// proxy of the toxics registry, so the Toxiproxy API can change its toxics too.
    pub async fn degrade_replication(
        &mut self,
        index: usize,
        toxic: NewToxic,
    ) -> Result<String, EngineError> {
        let member = self.member_at(index).to_string();
        if self.is_primary(index) {
            return Err(replication_error(format!(
                "{member} is a primary: only a replica's replication can be degraded"
            )));
        }
        let name = format!("{member}-replication");
        if !self.lag.relays.contains_key(&member) {
            self.relay_replication(index, &name).await?;
        }
        ToxicRegistry::global()
            .add_toxic(&name, toxic)
            .map_err(|e| replication_error(format!("{name}: {e}")))?;
        Ok(name)
    }

    /// Puts the relay `name` in the way of the replica at `index`, once it has caught up (so
    /// the toxic acts on the writes that come after it, only).
    async fn relay_replication(&mut self, index: usize, name: &str) -> Result<(), EngineError> {
        let primary = self.primaries[self.nodes[index].shard];
        let (member, primary_member) = (
            self.member_at(index).to_string(),
            self.member_at(primary).to_string(),
        );
        let (replica_addr, primary_addr) =
            (self.nodes[index].slot.addr, self.nodes[primary].slot.addr);
        if self.tls.is_some() {
            return Err(replication_error(format!(
                "replication lag is not supported on {} with in-transit encryption",
                self.group_id
            )));
        }
        if replica_addr.ip() == primary_addr.ip() {
            // The front tells the replica apart by its address only.
            return Err(replication_error(format!(
                "replication lag in cluster mode needs a loopback address per node (--node-addresses loopback); {member} and {primary_member} share {}",
                replica_addr.ip()
            )));
        }
        if crate::engine::node_toxics::is_fronted(primary_addr) {
            // Both fronts want the primary's address; one front per address.
            return Err(replication_error(format!(
                "replication lag cannot start while {primary_member} has network toxics; remove them first"
            )));
        }
        self.wait_caught_up(index, primary).await?;
        let private = self.front_primary(primary).await?;
        let relay = EndpointProxy::bind(
            name.to_string(),
            &self.pool,
            primary_addr.port(),
            vec![private],
        )
        .await
        .map_err(|e| replication_error(format!("cannot open {name}: {e}")))?;
        self.lag.fronts[&primary_member].route(*replica_addr.ip(), relay.addr());
        self.lag
            .relays
            .insert(member.clone(), (relay, primary_member.clone()));
        let replica = self.client(index);
        let source = replica_addr.ip().to_string();
        set_config(&replica, &[("bind-source-addr".to_string(), source)]).await?;
        // It reconnects at once, from its own address, so through the relay.
        replica
            .command(&["CLIENT", "KILL", "TYPE", "master"])
            .await?;
        self.wait_caught_up(index, primary).await.map_err(|e| {
            replication_error(format!("replication through {name} did not start: {e}"))
        })?;
        tracing::info!(group = %self.group_id, replica = %member, primary = %primary_member, %private, relay = %name, "replica replicates through its relay; the primary listens on a private port behind a front on its address");
        Ok(())
    }

    /// The private address of the primary at `index`, behind the front on its own address
    /// (moved there now if it is not yet).
    async fn front_primary(&mut self, primary: usize) -> Result<SocketAddrV4, EngineError> {
        let member = self.member_at(primary).to_string();
        if let Some(front) = self.lag.fronts.get(&member) {
            return Ok(front.node());
        }
        let addr = self.nodes[primary].slot.addr;
        let port = crate::engine::address::free_port(*addr.ip())
            .map_err(|e| replication_error(format!("no private port for {member}: {e}")))?;
        let private = SocketAddrV4::new(*addr.ip(), port);
        set_config(&self.client(primary), &[port_setting(private)]).await?;
        match LagFront::bind(addr, private).await {
            Ok(front) => {
                self.lag.fronts.insert(member, front);
                Ok(private)
            }
            Err(error) => {
                let back = set_config(&NodeClient::new(private), &[port_setting(addr)]).await;
                Err(replication_error(format!(
                    "cannot front {member} at {addr}: {error} (port back: {back:?})"
                )))
            }
        }
    }

    /// The replica at `index` replicates from its primary directly again, and catches up.
    pub async fn restore_replication(&mut self, index: usize) -> Result<(), EngineError> {
        if !self.end_lag(index).await? || self.is_primary(index) {
            return Ok(()); // never degraded, or promoted meanwhile: nothing to follow
        }
        let primary = self.primaries[self.nodes[index].shard];
        self.wait_caught_up(index, primary).await
    }

    /// Drops the relay of the replica at `index`, which ends its link (it reconnects to the
    /// node directly), and the primary's front with the last route. False when it had none.
    async fn end_lag(&mut self, index: usize) -> Result<bool, EngineError> {
        let member = self.member_at(index).to_string();
        let Some((relay, via)) = self.lag.relays.remove(&member) else {
            return Ok(false);
        };
        drop(relay);
        let ip = *self.nodes[index].slot.addr.ip();
        let last = self.lag.fronts.get(&via).is_some_and(|f| f.unroute(ip));
        if let Some(front) = last.then(|| self.lag.fronts.remove(&via)).flatten() {
            let private = front.node();
            drop(front);
            let addr = self.index_of(&via).map(|i| self.nodes[i].slot.addr);
            if let Some(addr) = addr {
                set_config(&NodeClient::new(private), &[port_setting(addr)]).await?;
            }
        }
        Ok(true)
    }

    /// Before the node at `index` goes down or restarts: its front goes (the address must be
    /// free for its restart) and so does its own relay.
    pub(super) async fn forget_lag(&mut self, index: usize) {
        let member = self.member_at(index).to_string();
        self.lag.fronts.remove(&member);
        if let Err(error) = self.end_lag(index).await {
            tracing::warn!(group = %self.group_id, %member, %error, "the lagged link of a node going down was not undone");
        }
    }

    /// Every front and relay goes (the group stops).
    pub(super) fn forget_all_lag(&mut self) {
        self.lag = LaggedLinks::default();
    }

    async fn wait_caught_up(&self, index: usize, primary: usize) -> Result<(), EngineError> {
        let member = self.member_at(index).to_string();
        wait_replica_synced(&self.client(primary), &self.client(index), &member).await
    }
}

fn port_setting(addr: SocketAddrV4) -> (String, String) {
    ("port".to_string(), addr.port().to_string())
}
