//! What the engine is asked to start for a cluster-mode-enabled group, and what it answers.

use std::net::SocketAddrV4;
use std::path::PathBuf;

use crate::engine::tls::TlsMode;

/// One shard to start: its node group id, its slot ranges and its members (primary first).
#[derive(Debug, Clone)]
pub struct ShardSpec {
    pub node_group_id: String,
    pub slots: Vec<(u32, u32)>,
    pub members: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ClusterSpec {
    pub group_id: String,
    pub shards: Vec<ShardSpec>,
    pub password: Option<String>,
    /// The port every node and the configuration endpoint listen on (each on its own address).
    pub port: u16,
    /// The server binary every node runs (redis-server or valkey-server).
    pub binary: PathBuf,
    /// A restore: RDBs whose keys go, each to the shard owning its slot, once formed.
    pub seed_rdbs: Vec<PathBuf>,
    /// In-transit encryption: every node (and the cluster bus) speaks TLS, in this mode.
    pub tls: Option<TlsMode>,
    /// A group brought back after a server restart: the addresses it had.
    pub previous: Option<PreviousClusterAddresses>,
}

/// Where a cluster's configuration endpoint and nodes listened before a restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousClusterAddresses {
    pub configuration: SocketAddrV4,
    /// By member id; a member missing here gets a new address.
    pub nodes: Vec<(String, SocketAddrV4)>,
}

impl PreviousClusterAddresses {
    pub(super) fn of(&self, member: &str) -> Option<SocketAddrV4> {
        let found = self.nodes.iter().find(|(m, _)| m == member);
        found
            .map(|(_, addr)| *addr)
            .filter(|a| !a.ip().is_unspecified())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedCluster {
    pub node_addresses: Vec<(String, SocketAddrV4)>,
    pub configuration: SocketAddrV4,
}
