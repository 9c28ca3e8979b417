//! A cluster-mode-disabled replication group: one primary, its replicas, and the primary and
//! reader endpoints in front of them.

mod changes;
mod failover;
mod faults;
mod runtime;
mod upgrade;

pub use runtime::{GroupRuntime, GroupSpec, PreviousAddresses, StartedGroup};
