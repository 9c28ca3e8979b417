//! How an engine failure reaches the wire: the engine speaks of nodes and ports, and every
//! such failure is ours, not the caller's, so it is an `InternalFailure` with the engine's
//! words as the message.

use crate::engine::EngineError;
use crate::protocol::ApiError;

impl From<EngineError> for ApiError {
    fn from(error: EngineError) -> Self {
        ApiError::InternalFailure(error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_engine_failure_is_an_internal_failure_with_the_engines_words() {
        let error = ApiError::from(EngineError::UnknownGroup("g1".into()));
        assert_eq!(error.code(), "InternalFailure");
        assert_eq!(error.message(), "replication group g1 has no running nodes");
    }
}
