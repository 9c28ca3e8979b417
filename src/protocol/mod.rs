//! The awsQuery wire protocol: request decoding, XML encoding, the error envelope.
//! Knows nothing of Redis or of the model.

pub mod api_version;
pub mod error;
pub mod fragments;
pub mod query;
pub mod sigv4;
pub mod sigv4_verify;
pub mod xml;

pub use error::ApiError;
pub use query::QueryParams;
