//! Integration tests: the real binary on port 0, driven by aws-sdk-elasticache and raw HTTP,
//! checked against the real redis-server processes.

#[path = "../support/mod.rs"]
mod support;

mod events;
mod failover;
mod health;
mod lifecycle;
mod processes;
mod protocol;
mod scopes;
