//! A cluster-mode-enabled replication group: a real Redis Cluster whose shards are the node
//! groups, behind one configuration endpoint.

mod failover;
mod migration;
mod reshard;
mod runtime;
mod tls;
mod slot_map;
pub mod topology;
mod upgrade;

pub use runtime::{ClusterRuntime, ClusterSpec, ShardSpec, StartedCluster};
