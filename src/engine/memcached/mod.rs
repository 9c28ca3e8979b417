//! Memcached cache clusters: owned memcached processes, each behind a node proxy that answers
//! ElastiCache Auto Discovery, and a configuration endpoint. No replication, no failover: a
//! dead node is replaced empty at the same address.

mod cluster;
mod discovery;
mod node_proxy;
mod process;
#[cfg(test)]
mod tests;

pub(crate) use cluster::{MemcachedCluster, MemcachedClusterSpec, PreviousMemcached};
pub(crate) use discovery::{DiscoveredNode, Topology};
pub(crate) use process::{MEMCACHED_ENV, locate_memcached, memcached_version};
