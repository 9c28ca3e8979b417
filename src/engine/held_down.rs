//! Nodes an injected fault holds down, the same bookkeeping in both cluster modes: which
//! members no health check may restart until the fault is lifted, and the addresses of those
//! whose host is gone (an AZ power interruption), held as black holes meanwhile.

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddrV4;

use super::EngineError;
use super::blackhole::BlackHole;
use super::node::NodeSlot;

#[derive(Default)]
pub struct HeldDown {
    /// Members whose node is down on purpose: health checks skip them and nothing restarts
    /// them until the fault is lifted.
    members: BTreeSet<String>,
    /// The addresses of held-down members whose host is gone, by member: connects to them
    /// time out until the node starts there again.
    black_holes: HashMap<String, BlackHole>,
    /// The cluster bus ports of those held-down cluster nodes, by member: the other nodes'
    /// bus connects to a gone host time out too, instead of being refused.
    bus_holes: HashMap<String, BlackHole>,
}

impl HeldDown {
    /// Takes `slot`'s node down and keeps it down: SIGKILL (`graceful`: SIGTERM first, a
    /// shutdown); when its `host_gone`, its address becomes a black hole.
    pub async fn take_down(&mut self, slot: &mut NodeSlot, graceful: bool, host_gone: bool) {
        self.members.insert(slot.member.clone());
        match slot.process.take() {
            Some(process) if graceful => process.stop().await,
            Some(mut process) => process.kill().await,
            None => {}
        }
        if host_gone {
            self.black_hole(&slot.member, slot.addr).await;
        }
    }

    /// Holds the (free) address `addr` of `member` as a black hole.
    async fn black_hole(&mut self, member: &str, addr: SocketAddrV4) {
        match BlackHole::host_gone(addr).await {
            Ok(hole) => {
                tracing::info!(%member, %addr, "node's host gone: connects to its address time out");
                self.black_holes.insert(member.to_string(), hole);
            }
            // Refused instead of timing out: a weaker fault, but still a node down.
            Err(error) => {
                tracing::warn!(%member, %addr, %error, "cannot black-hole the node's address: connects to it are refused instead")
            }
        }
    }

    /// Holds the (free) cluster bus address `bus` of `member`, whose host is gone, as a black
    /// hole: on AWS the other nodes' bus pings to it go unanswered, as clients' connects do.
    pub async fn black_hole_bus(&mut self, member: &str, bus: SocketAddrV4) {
        match BlackHole::open(bus).await {
            Ok(hole) => {
                tracing::info!(%member, %bus, "node's host gone: connects to its cluster bus port time out");
                self.bus_holes.insert(member.to_string(), hole);
            }
            Err(error) => {
                tracing::warn!(%member, %bus, %error, "cannot black-hole the node's cluster bus port: connects to it are refused instead")
            }
        }
    }

    /// `member` may be restarted again (by the caller, or by the health monitor).
    pub fn release(&mut self, member: &str) {
        self.members.remove(member);
    }

    pub fn contains(&self, member: &str) -> bool {
        self.members.contains(member)
    }

    /// `member`'s host is back (its node starts there right after) or the member is gone:
    /// its address stops being a black hole.
    pub fn host_back(&mut self, member: &str) {
        self.black_holes.remove(member);
        self.bus_holes.remove(member);
    }

    /// The group stopped: every address is free again.
    pub fn clear(&mut self) {
        self.members.clear();
        self.black_holes.clear();
        self.bus_holes.clear();
    }
}

impl NodeSlot {
    /// SIGSTOPs the node and returns its pid, to thaw exactly that process later (the health
    /// monitor may have replaced it meanwhile).
    pub fn freeze(&mut self) -> Result<u32, EngineError> {
        let process = self.process.as_mut().ok_or_else(|| {
            EngineError::Replication(format!("{} has no running node", self.member))
        })?;
        process.set_frozen(true);
        Ok(process.pid())
    }

    /// SIGCONTs the node if it is still the process `pid`; false when it was replaced or is
    /// gone.
    pub fn thaw(&mut self, pid: u32) -> bool {
        match self.process.as_mut() {
            Some(process) if process.pid() == pid => {
                process.set_frozen(false);
                true
            }
            _ => false,
        }
    }
}
