//! `--data-dir` persistence (issue 18 item 4): a server stopped with SIGTERM or SIGKILL and
//! started again on the same dir brings its groups (either cluster mode) and standalone cache
//! clusters back with their data and endpoints.

#[path = "../support/mod.rs"]
mod support;

mod cache_cluster_restarts;
mod cluster_restarts;
mod restarts;
mod scope_restarts;
mod secure_cluster_restarts;
