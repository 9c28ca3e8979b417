//! Integration tests of the changes to a running group: ModifyReplicationGroup (rules, status,
//! stored settings, graceful promotion, AUTH token strategies) and Increase/DecreaseReplicaCount,
//! checked against the real redis-server processes.

#[path = "../support/mod.rs"]
mod support;

mod auth_tokens;
mod combined;
mod engine_upgrade;
mod maintenance;
mod modify;
mod promotion;
mod replicas;
