//! Helpers for cluster-mode groups: creating one, reading `CLUSTER NODES`, a cluster client.

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::ReplicationGroup;
use redis::cluster_async::ClusterConnection;

use crate::common::redis_cli;
use crate::support::wait_available;

/// Creates a cluster-mode group of `shards` x (1 + `replicas`) and waits until it is available.
pub async fn create_cluster(
    client: &Client,
    id: &str,
    shards: i32,
    replicas: i32,
) -> ReplicationGroup {
    let created = client
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description("cluster test")
        .num_node_groups(shards)
        .replicas_per_node_group(replicas)
        .send()
        .await
        .expect("create a cluster-mode group");
    let group = created.replication_group().expect("group in the answer");
    assert_eq!(group.status(), Some("creating"));
    assert_eq!(group.cluster_enabled(), Some(true));
    wait_available(client, id).await
}

pub fn configuration_port(group: &ReplicationGroup) -> u16 {
    group
        .configuration_endpoint()
        .and_then(|e| e.port())
        .expect("a configuration endpoint") as u16
}

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

/// Each member's own port, from DescribeCacheClusters with node info.
pub async fn member_ports(client: &Client, group_id: &str) -> Vec<(String, u16)> {
    let output = client
        .describe_cache_clusters()
        .show_cache_node_info(true)
        .send()
        .await
        .expect("describe cache clusters");
    output
        .cache_clusters()
        .iter()
        .filter(|c| c.replication_group_id() == Some(group_id))
        .map(|c| {
            let port = c.cache_nodes()[0]
                .endpoint()
                .and_then(|e| e.port())
                .expect("every member has its own endpoint");
            (c.cache_cluster_id().unwrap().to_string(), port as u16)
        })
        .collect()
}

pub fn port_of(ports: &[(String, u16)], member: &str) -> u16 {
    ports
        .iter()
        .find(|(m, _)| m == member)
        .unwrap_or_else(|| panic!("{member} not in {ports:?}"))
        .1
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

pub async fn set(connection: &mut ClusterConnection, key: &str, value: &str) {
    redis::cmd("SET")
        .arg(key)
        .arg(value)
        .query_async::<()>(connection)
        .await
        .unwrap_or_else(|e| panic!("SET {key}: {e}"));
}

pub async fn get(connection: &mut ClusterConnection, key: &str) -> Option<String> {
    redis::cmd("GET")
        .arg(key)
        .query_async(connection)
        .await
        .unwrap_or_else(|e| panic!("GET {key}: {e}"))
}
