//! Integration tests: the real binary on port 0, driven by aws-sdk-elasticache and raw HTTP,
//! checked against the real redis-server processes.

#[path = "../common/mod.rs"]
mod common;

mod events;
mod failover;
mod health;
mod lifecycle;
mod processes;
mod protocol;
mod scopes;
mod support;
