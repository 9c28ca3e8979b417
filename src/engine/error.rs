//! What can go wrong in the engine, in its own words: the API maps every case to
//! `InternalFailure` (see `api::engine_error`).

/// A failure of a node, a replication step or the registry.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error("node {node} could not start: {detail}")]
    Start { node: String, detail: String },
    #[error("redis at 127.0.0.1:{port}: {detail}")]
    Redis { port: u16, detail: String },
    #[error("{0}")]
    Replication(String),
    #[error("replication group {0} has no running nodes")]
    UnknownGroup(String),
    /// The server's own trouble (out of descriptors, ports or memory), not the node's.
    #[error("the server itself could not check the node: {0}")]
    Local(String),
    /// No local binary of the engine a group asks for; the message says how to get one.
    #[error("{0}")]
    NoBinary(String),
}

impl EngineError {
    pub fn start(node: &str, detail: impl Into<String>) -> Self {
        Self::Start {
            node: node.to_string(),
            detail: detail.into(),
        }
    }
}
