//! Cluster-mode nodes: `CLUSTER NODES` as each node sees it, and a cluster client bootstrapped
//! from the configuration endpoint.

use std::net::SocketAddr;

use redis::cluster_async::ClusterConnection;

use super::node::{At, redis_cli};

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    pub id: String,
    /// The address it announces (where clients are redirected to).
    pub addr: SocketAddr,
    /// Its cluster bus address (the announced IP and bus port).
    pub bus: Option<SocketAddr>,
    pub is_primary: bool,
    /// The primary's node id for a replica.
    pub primary_id: Option<String>,
    pub flags: String,
    pub slots: Vec<String>,
}

/// The cluster as the node at `at` sees it.
pub fn cluster_nodes(at: impl At) -> Vec<ClusterNode> {
    redis_cli(at, &["CLUSTER", "NODES"])
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let addr: SocketAddr = fields[1].split(['@', ',']).next()?.parse().ok()?;
            let bus = fields[1]
                .split(',')
                .next()
                .and_then(|a| a.split_once('@'))
                .and_then(|(_, port)| port.parse().ok())
                .map(|port| SocketAddr::new(addr.ip(), port));
            Some(ClusterNode {
                id: fields[0].to_string(),
                addr,
                bus,
                is_primary: fields[2].contains("master"),
                primary_id: (fields[3] != "-").then(|| fields[3].to_string()),
                flags: fields[2].to_string(),
                slots: fields[8..].iter().map(|s| s.to_string()).collect(),
            })
        })
        .collect()
}

/// The node (in a view from `cluster_nodes`) at `node`.
pub fn node_on(view: &[ClusterNode], node: impl At) -> ClusterNode {
    let node = node.at();
    view.iter()
        .find(|n| n.addr == node)
        .cloned()
        .unwrap_or_else(|| panic!("no node at {node} in {view:#?}"))
}

/// A redis-rs cluster client bootstrapped from the configuration endpoint, as an application
/// would be: it follows the addresses the nodes announce.
pub async fn cluster_client(configuration: impl At) -> ClusterConnection {
    redis::cluster::ClusterClient::new(vec![format!("redis://{}", configuration.at())])
        .expect("cluster client")
        .get_async_connection()
        .await
        .expect("cluster connection")
}

pub async fn cluster_set(connection: &mut ClusterConnection, key: &str, value: &str) {
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query_async::<()>(connection)
        .await
        .unwrap_or_else(|e| panic!("SET {key}: {e}"));
}

pub async fn cluster_get(connection: &mut ClusterConnection, key: &str) -> Option<String> {
    redis::cmd("GET")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap_or_else(|e| panic!("GET {key}: {e}"))
}
