//! The one harness every test binary shares, by concern: the server process, the processes it
//! owns, waiting by polling against a deadline, the SDK and its answers, the Redis nodes (through
//! the `redis` crate, and `redis-cli` where the CLI's own behaviour is part of the check),
//! cluster-mode nodes, and raw HTTP/query helpers.
//!
//! Each binary uses a different part of it, hence `dead_code` is allowed. Everything is
//! re-exported here, so a test writes `use crate::support::{TestServer, wait_until};`.
#![allow(dead_code, unused_imports)]

pub mod aws;
pub mod botocore;
pub mod cluster;
pub mod engines;
pub mod http;
pub mod node;
pub mod process;
pub mod server;
pub mod standalone;
pub mod wait;

pub use aws::*;
pub use botocore::*;
pub use cluster::*;
pub use engines::*;
pub use http::*;
pub use node::*;
pub use process::*;
pub use server::*;
pub use standalone::*;
pub use wait::*;
