//! `--data-dir` persistence (issue 18 item 4): a server stopped with SIGTERM or SIGKILL and
//! started again on the same dir brings its groups back with their data and endpoints.

#[path = "../support/mod.rs"]
mod support;

mod restarts;
