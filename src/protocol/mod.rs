//! The awsQuery wire protocol: request decoding, XML encoding, the error envelope.
//! Knows nothing of Redis or of the model.

pub(crate) mod api_version;
mod error;
pub mod fragments;
pub(crate) mod query;
pub mod sigv4;
pub mod sigv4_verify;
// Not yet routed: the HTTP front sends STS requests here in a later change (issue 14).
#[allow(dead_code)]
pub mod sts;
pub(crate) mod xml;

pub use error::ApiError;
pub use query::QueryParams;
