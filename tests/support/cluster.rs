//! Cluster-mode nodes: `CLUSTER NODES` as each node sees it, and a cluster client bootstrapped
//! from the configuration endpoint.

use redis::cluster_async::ClusterConnection;

use super::node::redis_cli;

/// One line of `CLUSTER NODES`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    pub id: String,
    pub port: u16,
    pub is_primary: bool,
    /// The primary's node id for a replica.
    pub primary_id: Option<String>,
    pub flags: String,
    pub slots: Vec<String>,
}

/// The cluster as the node on `port` sees it.
pub fn cluster_nodes(port: u16) -> Vec<ClusterNode> {
    redis_cli(port, &["CLUSTER", "NODES"])
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let port = fields[1]
                .split('@')
                .next()?
                .rsplit_once(':')?
                .1
                .parse()
                .ok()?;
            Some(ClusterNode {
                id: fields[0].to_string(),
                port,
                is_primary: fields[2].contains("master"),
                primary_id: (fields[3] != "-").then(|| fields[3].to_string()),
                flags: fields[2].to_string(),
                slots: fields[8..].iter().map(|s| s.to_string()).collect(),
            })
        })
        .collect()
}

/// The node (as `port`'s node sees it) listening on `node_port`.
pub fn node_on(view: &[ClusterNode], node_port: u16) -> ClusterNode {
    view.iter()
        .find(|n| n.port == node_port)
        .cloned()
        .unwrap_or_else(|| panic!("no node on port {node_port} in {view:#?}"))
}

/// A redis-rs cluster client bootstrapped from the configuration endpoint, as an application
/// would be.
pub async fn cluster_client(configuration_port: u16) -> ClusterConnection {
    redis::cluster::ClusterClient::new(vec![format!("redis://127.0.0.1:{configuration_port}")])
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
