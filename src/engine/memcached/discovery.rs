//! ElastiCache Auto Discovery: the cluster's node list with its version counter, and the exact
//! bytes ElastiCache answers to `config get cluster` (engine 1.4.14+) and to the older
//! `get AmazonElastiCache:cluster`. Both carry the same data block: the version, `\n`, the
//! nodes as `hostname|ip|port` separated by spaces, `\n`; the block's length counts exactly
//! those bytes, and the usual `\r\n` ends it before `END\r\n`.

use std::sync::{Arc, RwLock};

/// One node as Auto Discovery lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiscoveredNode {
    pub hostname: String,
    pub ip: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Topology {
    /// Bumped on every node change (add, remove, replace).
    pub version: u64,
    pub nodes: Vec<DiscoveredNode>,
}

/// The cluster's current topology, read by every node proxy when it answers.
#[derive(Debug, Clone)]
pub(crate) struct SharedTopology(Arc<RwLock<Topology>>);

impl SharedTopology {
    /// Version 0, no nodes: what a cluster has until its first nodes are published as
    /// version 1 (nobody knows its addresses before that).
    pub fn empty() -> Self {
        Self(Arc::new(RwLock::new(Topology {
            version: 0,
            nodes: Vec::new(),
        })))
    }

    pub fn current(&self) -> Topology {
        self.0.read().expect("topology lock poisoned").clone()
    }

    /// Replaces the node list and bumps the version.
    pub fn publish(&self, nodes: Vec<DiscoveredNode>) -> u64 {
        let mut topology = self.0.write().expect("topology lock poisoned");
        topology.version += 1;
        topology.nodes = nodes;
        topology.version
    }
}

/// Which of the two Auto Discovery commands a client sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiscoveryCommand {
    /// `config get cluster`, answered `CONFIG cluster 0 <len>`.
    ConfigGetCluster,
    /// `get AmazonElastiCache:cluster`, answered like a stored item, `VALUE ... 0 <len>`.
    LegacyGet,
}

/// The data block both commands carry.
pub(crate) fn config_block(topology: &Topology) -> String {
    let nodes: Vec<String> = topology
        .nodes
        .iter()
        .map(|n| format!("{}|{}|{}", n.hostname, n.ip, n.port))
        .collect();
    format!("{}\n{}\n", topology.version, nodes.join(" "))
}

/// The whole reply, as ElastiCache sends it.
pub(crate) fn discovery_reply(command: DiscoveryCommand, topology: &Topology) -> Vec<u8> {
    let block = config_block(topology);
    let header = match command {
        DiscoveryCommand::ConfigGetCluster => "CONFIG cluster",
        DiscoveryCommand::LegacyGet => "VALUE AmazonElastiCache:cluster",
    };
    format!("{header} 0 {}\r\n{block}\r\nEND\r\n", block.len()).into_bytes()
}

/// What one text-protocol command line is, for a proxy that must find command boundaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextCommand {
    /// Answered by the proxy itself.
    Discovery(DiscoveryCommand),
    /// A storage command: `bytes` of data and `\r\n` follow the line.
    WithData { bytes: usize },
    /// Any other command: the line is all of it.
    Line,
}

/// Classifies one command line (with or without its `\r\n`). Storage commands are recognised
/// only when memcached itself would read their data block (well-formed numbers); a malformed
/// one is a single line to memcached too, answered `CLIENT_ERROR`.
pub(crate) fn classify_line(line: &[u8]) -> TextCommand {
    let text = String::from_utf8_lossy(line);
    let tokens: Vec<&str> = text.split_ascii_whitespace().collect();
    let number = |i: usize| tokens.get(i).and_then(|t| t.parse::<i64>().ok());
    let data = |bytes: Option<i64>| match bytes {
        Some(bytes) if bytes >= 0 => TextCommand::WithData {
            bytes: bytes as usize,
        },
        _ => TextCommand::Line,
    };
    match tokens.as_slice() {
        ["config", "get", "cluster"] => TextCommand::Discovery(DiscoveryCommand::ConfigGetCluster),
        ["get", "AmazonElastiCache:cluster"] => TextCommand::Discovery(DiscoveryCommand::LegacyGet),
        [
            "set" | "add" | "replace" | "append" | "prepend",
            _,
            _,
            _,
            _,
            ..,
        ]
        | ["cas", _, _, _, _, _, ..] => {
            let valid_header = number(2).is_some_and(|f| (0..=u32::MAX as i64).contains(&f))
                && number(3).is_some();
            data(valid_header.then(|| number(4)).flatten())
        }
        ["ms", _, _, ..] => data(number(2)),
        _ => TextCommand::Line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topology() -> Topology {
        Topology {
            version: 12,
            nodes: vec![
                DiscoveredNode {
                    hostname: "a.example".into(),
                    ip: "10.0.0.1".into(),
                    port: 11211,
                },
                DiscoveredNode {
                    hostname: "b.example".into(),
                    ip: "10.0.0.2".into(),
                    port: 11212,
                },
            ],
        }
    }

    #[test]
    fn replies_carry_the_documented_block_and_its_exact_length() {
        let block = "12\na.example|10.0.0.1|11211 b.example|10.0.0.2|11212\n";
        let config = discovery_reply(DiscoveryCommand::ConfigGetCluster, &topology());
        let expected = format!("CONFIG cluster 0 {}\r\n{block}\r\nEND\r\n", block.len());
        assert_eq!(String::from_utf8(config).unwrap(), expected);
        let legacy = discovery_reply(DiscoveryCommand::LegacyGet, &topology());
        let expected = format!(
            "VALUE AmazonElastiCache:cluster 0 {}\r\n{block}\r\nEND\r\n",
            block.len()
        );
        assert_eq!(String::from_utf8(legacy).unwrap(), expected);
    }

    #[test]
    fn command_lines_are_classified_like_memcached_reads_them() {
        let cases: &[(&[u8], TextCommand)] = &[
            (
                b"config get cluster\r\n",
                TextCommand::Discovery(DiscoveryCommand::ConfigGetCluster),
            ),
            (
                b"get AmazonElastiCache:cluster\n",
                TextCommand::Discovery(DiscoveryCommand::LegacyGet),
            ),
            (
                b"get AmazonElastiCache:cluster other\r\n",
                TextCommand::Line,
            ),
            (b"config get other\r\n", TextCommand::Line),
            (b"set k 0 0 5\r\n", TextCommand::WithData { bytes: 5 }),
            (
                b"set k 0 0 5 noreply\r\n",
                TextCommand::WithData { bytes: 5 },
            ),
            (b"cas k 1 0 3 99\r\n", TextCommand::WithData { bytes: 3 }),
            (b"append k 0 0 0\r\n", TextCommand::WithData { bytes: 0 }),
            (b"ms k 7 T0\r\n", TextCommand::WithData { bytes: 7 }),
            (b"set k 0 0 -1\r\n", TextCommand::Line),
            (b"set k x 0 5\r\n", TextCommand::Line),
            (b"set k 0 0\r\n", TextCommand::Line),
            (b"get k\r\n", TextCommand::Line),
            (b"version\r\n", TextCommand::Line),
        ];
        for (line, expected) in cases {
            assert_eq!(
                classify_line(line),
                *expected,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn publishing_bumps_the_version() {
        let shared = SharedTopology::empty();
        assert_eq!(shared.current().version, 0);
        assert_eq!(shared.publish(topology().nodes), 1);
        assert_eq!(shared.publish(vec![]), 2);
        assert_eq!(shared.current().nodes, vec![]);
    }
}
