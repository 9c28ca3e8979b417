//! The HTTP front: the AWS query endpoint ([`server`]), the control endpoints `/_health`, `/_faults` and
//! `/_reset` ([`control`]), the live dashboard ([`dashboard`]), and the one place a wire error
//! code gets its HTTP status ([`error`]); in front of them all, the accept loop with its
//! timeouts and connection cap ([`serve`], [`timed_io`]), the Host/Origin checks ([`guard`]) and
//! the AWS-shaped answers to HTTP-level errors ([`protocol_errors`]).

mod control;
mod dashboard;
mod error;
mod faults;
pub(crate) mod guard;
mod protocol_errors;
pub(crate) mod serve;
pub mod server;
mod sts;
mod timed_io;
pub(crate) mod toxiproxy;
