//! Hardening (issue 12): the server under fd exhaustion, cross-site requests, slow clients,
//! protocol errors, all nodes killed, and a SIGKILL's leftovers.

#[path = "../support/mod.rs"]
mod support;

mod all_nodes_killed;
mod cross_site;
mod fd_exhaustion;
mod leftovers;
mod protocol_errors;
mod scoped;
mod timeouts;
