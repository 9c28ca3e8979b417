//! Injected faults on a group's real processes and links: a node held down (killed or shut
//! down, and not restarted until the fault is lifted), a frozen node (SIGSTOP), and a replica
//! whose replication stream runs through a relay proxy whose toxics delay or cut it.
//!
//! A fault is a value the engine applies and later lifts; what it means for the group (events,
//! failover) is decided above the engine.

use std::net::SocketAddrV4;

use super::GroupRuntime;
use crate::engine::EngineError;
use crate::engine::proxy::EndpointProxy;
use crate::engine::toxics::ToxicRegistry;
use crate::engine::toxics::spec::NewToxic;

impl GroupRuntime {
    /// Takes the node at `index` down and keeps it down (see `HeldDown::take_down`): no
    /// health check or repair restarts it until [`Self::release`].
    pub async fn hold_down(&mut self, index: usize, graceful: bool, host_gone: bool) {
        let member = self.nodes[index].member.clone();
        self.relays.remove(&member);
        self.held
            .take_down(&mut self.nodes[index], graceful, host_gone)
            .await;
        if index == self.primary {
            self.primary_endpoint_down(host_gone);
        } else {
            self.refresh_reader_endpoint();
        }
    }

    /// The node at `index` may be restarted again (by the caller, or by the health monitor).
    pub fn release(&mut self, index: usize) {
        self.held.release(&self.nodes[index].member);
    }

    /// True when the node at `index` has a process (running, or frozen).
    pub fn has_process(&self, index: usize) -> bool {
        self.nodes[index].process.is_some()
    }

    /// The node at `index`, to freeze or thaw.
    pub(crate) fn slot_mut(&mut self, index: usize) -> &mut crate::engine::node::NodeSlot {
        &mut self.nodes[index]
    }

    /// Sends the replica at `index`'s replication stream through a relay proxy named
    /// `<member>-replication` with `toxic` on it (a `timeout` cuts the stream: the writes
    /// the primary acknowledges from now on never reach the replica). The relay is a proxy of
    /// the toxics registry, so the Toxiproxy API can change its toxics too.
    pub async fn degrade_replication(
        &mut self,
        index: usize,
        toxic: NewToxic,
    ) -> Result<String, EngineError> {
        if index == self.primary {
            return Err(EngineError::Replication(format!(
                "{} is the primary: only a replica's replication can be degraded",
                self.nodes[index].member
            )));
        }
        let member = self.nodes[index].member.clone();
        let name = format!("{member}-replication");
        if !self.relays.contains_key(&member) {
            // Synced first, so the toxic acts on the writes that come after it, only.
            self.wait_synced(index).await?;
            let primary = self.nodes[self.primary].addr;
            let relay = EndpointProxy::bind(name.clone(), &self.pool, self.port, vec![primary])
                .await
                .map_err(|e| EngineError::Replication(format!("cannot open {name}: {e}")))?;
            self.client(index)
                .replicate_from(Some(relay.addr()))
                .await?;
            self.wait_linked_through(index, relay.addr()).await?;
            self.relays.insert(member.clone(), relay);
        }
        ToxicRegistry::global()
            .add_toxic(&name, toxic)
            .map_err(|e| EngineError::Replication(format!("{name}: {e}")))?;
        Ok(name)
    }

    /// The replica at `index` replicates from the primary directly again (and catches up).
    pub async fn restore_replication(&mut self, index: usize) -> Result<(), EngineError> {
        let member = self.nodes[index].member.clone();
        if self.relays.remove(&member).is_none() || index == self.primary {
            return Ok(()); // a failover re-pointed it already
        }
        let primary = self.nodes[self.primary].addr;
        self.client(index).replicate_from(Some(primary)).await?;
        self.wait_synced(index).await
    }

    /// Waits until the replica at `index` streams from the primary through `relay`.
    async fn wait_linked_through(
        &self,
        index: usize,
        relay: SocketAddrV4,
    ) -> Result<(), EngineError> {
        self.wait_synced(index).await.map_err(|e| {
            EngineError::Replication(format!("replication through {relay} did not start: {e}"))
        })
    }
}
