//! Long-running workflows: background tasks that drive the engine and report each step to the
//! model (events, roles, status). They never hold the model lock across an `.await`.

pub mod failover;
pub mod health;
pub mod modify;
pub mod replicas;
