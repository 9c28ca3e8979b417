//! A cluster-mode-enabled replication group: a real Redis Cluster whose shards are the node
//! groups, behind one configuration endpoint.

mod failover;
mod faults;
mod lag;
mod migration;
mod replicas;
mod reshard;
mod runtime;
mod slot_map;
mod spec;
mod tls;
pub mod topology;
mod upgrade;

pub use runtime::{
    ClusterRuntime, ClusterSpec, PreviousClusterAddresses, ShardSpec, StartedCluster,
};
