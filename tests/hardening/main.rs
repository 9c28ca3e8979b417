//! Hardening (issue 12): the server under fd exhaustion, cross-site requests, slow clients,
//! protocol errors, all nodes killed, and a SIGKILL's leftovers.

mod harness;
mod fd_exhaustion;
mod leftovers;
