//! Integration tests of cluster mode enabled: real Redis Cluster shards behind the API, driven by
//! aws-sdk-elasticache, the redis-rs cluster client and `redis-cli`.

#[path = "../support/mod.rs"]
mod support;

mod az_shard;
mod create;
mod failover;
mod faults;
mod lag_faults;
mod replicas;
mod replicas_rules;
mod replicas_secure;
mod reshard;
mod reshard_rules;
mod reshard_secure;
mod security;
