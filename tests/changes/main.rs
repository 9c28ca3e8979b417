//! Integration tests of the changes to a running group: ModifyReplicationGroup (rules, status,
//! stored settings, graceful promotion, AUTH token strategies) and Increase/DecreaseReplicaCount,
//! checked against the real redis-server processes.

#[path = "../common/mod.rs"]
mod common;
#[allow(dead_code)] // the shared helpers these tests do not need
#[path = "../api/support.rs"]
mod support;

mod combined;
mod modify;
mod replicas;
mod resp;
