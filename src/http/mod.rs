//! The HTTP front: the AWS query endpoint ([`server`]), the control endpoints `/_health` and
//! `/_reset` ([`control`]), the live dashboard ([`dashboard`]), and the one place a wire error
//! code gets its HTTP status ([`error`]).

mod control;
mod dashboard;
mod error;
pub mod server;
mod sts;
pub(crate) mod toxiproxy;
