//! Integration tests of cluster mode enabled: real Redis Cluster shards behind the API, driven by
//! aws-sdk-elasticache, the redis-rs cluster client and `redis-cli`.

#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)] // the shared helpers these tests do not need
#[path = "../api/support.rs"]
mod support;

mod cluster_support;
mod create;
mod failover;
