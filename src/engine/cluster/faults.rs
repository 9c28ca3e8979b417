//! Injected faults on a cluster's real processes: a node held down (killed or shut down, and
//! not restarted until the fault is lifted, its address and its cluster bus port black holes
//! when its host is gone)
//! and a frozen node, with the same bookkeeping as a cluster-mode-disabled group's.

use super::ClusterRuntime;
use crate::engine::node::NodeSlot;

impl ClusterRuntime {
    /// Takes the node at `index` down and keeps it down: no health check or repair restarts
    /// it until [`Self::release`]. The configuration endpoint stops sending clients to it.
    pub async fn hold_down(&mut self, index: usize, graceful: bool, host_gone: bool) {
        self.forget_lag(index).await;
        let node = &mut self.nodes[index];
        self.held
            .take_down(&mut node.slot, graceful, host_gone)
            .await;
        if host_gone && node.bus_port != 0 {
            let bus = std::net::SocketAddrV4::new(*node.slot.addr.ip(), node.bus_port);
            self.held.black_hole_bus(&node.slot.member, bus).await;
        }
        self.refresh_configuration_endpoint();
    }

    /// The node at `index` may be restarted again (by the caller, or by the health monitor).
    pub fn release(&mut self, index: usize) {
        self.held.release(&self.nodes[index].slot.member);
    }

    /// The node at `index`, to freeze or thaw.
    pub(crate) fn slot_mut(&mut self, index: usize) -> &mut NodeSlot {
        &mut self.nodes[index].slot
    }
}
