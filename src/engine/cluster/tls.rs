//! ModifyReplicationGroup's in-transit encryption migration on a running Redis Cluster, its
//! data kept. Every node's client port moves as a cluster-mode-disabled node's does (see
//! `tls_switch`: the `preferred` front on the node's address, then TLS alone on it); the
//! cluster bus and replication follow:
//!
//! - The announced ports never change: `cluster-announce-port` and `cluster-announce-tls-port`
//!   both name the node's one address, so `CLUSTER SLOTS`, `CLUSTER NODES` and MOVED keep
//!   sending either kind of client there (the front sorts them in `preferred`).
//! - `tls-cluster` flips on every node at once, after the nodes speak TLS on the way in (TLS
//!   ports first) or before they stop (on the way out). Redis 7.0 picks a bus connection's
//!   kind when it is made (connect and accept both read `tls-cluster`); the links already up
//!   are made again by Redis itself, as the flip changes the ports a node announces on the bus
//!   (its plaintext port beside the TLS one, or none) and a peer whose announced address
//!   changes drops its link to it. The step waits until every link to a flipped node is
//!   younger than the flip.
//!   (`DEBUG CLUSTERLINK KILL` would do it by hand but crashes Redis 7.0 on a link being
//!   remade, Redis#12930.)
//! - Each replica drops its link to its primary (`CLIENT KILL TYPE master`) and reconnects with
//!   the new `tls-replication`, resuming with a partial resync; on the way out before any
//!   front closes, so no replica is left speaking TLS to a plaintext port.
//!
//! The whole step runs under the group's lock, so no health check acts mid-way; it ends when
//! every node agrees on the topology again and every replica has caught up.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::ClusterRuntime;
use crate::engine::EngineError;
use crate::engine::tls::{CertificateAuthority, NodeTls, TlsMode};

/// Remaking the links takes ~0.1-0.3 s (Redis's cluster cron runs every 100 ms).
const LINKS_DEADLINE: Duration = Duration::from_secs(10);

impl ClusterRuntime {
    /// One documented step of the in-transit encryption migration on every running node.
    pub async fn switch_tls(
        &mut self,
        mode: Option<TlsMode>,
        ca: Arc<CertificateAuthority>,
    ) -> Result<(), EngineError> {
        let tls = mode.map(|mode| NodeTls {
            ca,
            mode,
            endpoint_ips: vec![*self.configuration_endpoint.addr().ip()],
        });
        let bus_was_tls = self.tls.is_some();
        let bus_is_tls = tls.is_some();
        if bus_was_tls && !bus_is_tls {
            // Off: the bus and replication leave TLS while every node's front still takes both
            // kinds; a replica still speaking TLS to a primary already plaintext would hang in
            // its handshake until `repl-timeout`.
            self.set_bus_tls(false).await?;
            let plaintext = [("tls-replication".to_string(), "no".to_string())];
            for client in self.running_node_clients() {
                crate::engine::node::set_config(&client, &plaintext).await?;
            }
            self.relink_replicas().await?;
        }
        // Primaries first: a replica whose link drops meanwhile reconnects with its new
        // `tls-replication` to a primary that already takes that kind.
        let mut order: Vec<usize> = (0..self.nodes.len()).collect();
        order.sort_by_key(|&index| !self.is_primary(index));
        for index in order {
            if let Some(process) = self.nodes[index].slot.process.as_mut() {
                crate::engine::tls_switch::switch(process, tls.clone()).await?;
            }
        }
        self.tls = tls;
        if !bus_was_tls && bus_is_tls {
            self.set_bus_tls(true).await?;
        }
        self.relink_replicas().await?;
        self.wait_converged(None).await?;
        tracing::info!(group = %self.group_id, ?mode, "in-transit encryption switched on every node");
        Ok(())
    }

    /// Flips `tls-cluster` at once on every running node that does not have it yet (a step
    /// retried after a failure may find some already flipped), then waits until the cluster
    /// has made the links to those nodes again, of the new kind.
    async fn set_bus_tls(&self, on: bool) -> Result<(), EngineError> {
        let flipped_at = unix_millis();
        let mut flips = tokio::task::JoinSet::new();
        for node in self.nodes.iter().filter(|n| n.slot.process.is_some()) {
            let client = node.slot.client();
            let current = client.command(&["CONFIG", "GET", "tls-cluster"]).await?;
            if config_value(&current).as_deref() == Some(yes_no(on).as_str()) {
                continue;
            }
            let mut settings = vec![("tls-cluster".to_string(), yes_no(on))];
            // On: without it a TLS bus announces the node's private TLS port to clients. Off:
            // the TLS port the node announces changes, which is what makes a peer drop its
            // TLS link to the node and connect again in plaintext (valkey 8 keeps a link whose
            // announced ports did not change; Redis 7.0 drops it either way).
            let port = match on {
                true => node.slot.addr.port().to_string(),
                false => "0".to_string(),
            };
            settings.insert(0, ("cluster-announce-tls-port".to_string(), port));
            let node_id = node.node_id.clone();
            flips.spawn(async move {
                crate::engine::node::set_config(&client, &settings)
                    .await
                    .map(|()| node_id)
            });
        }
        let mut flipped = Vec::new();
        while let Some(joined) = flips.join_next().await {
            flipped.push(joined.map_err(|e| EngineError::Replication(e.to_string()))??);
        }
        self.wait_links_renewed(flipped_at, &flipped).await
    }

    /// Polls `CLUSTER LINKS` on every running node until it has an outgoing link to every other
    /// running node, those to a `flipped` node made after `since` (Unix ms, the nodes' clock).
    async fn wait_links_renewed(&self, since: u64, flipped: &[String]) -> Result<(), EngineError> {
        let running: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| self.nodes[i].slot.process.is_some())
            .collect();
        let deadline = Instant::now() + LINKS_DEADLINE;
        for &index in &running {
            loop {
                let reply = self.client(index).command(&["CLUSTER", "LINKS"]).await?;
                let outgoing: Vec<Link> =
                    links(&reply).into_iter().filter(|l| l.outgoing).collect();
                let renewed = outgoing
                    .iter()
                    .all(|l| l.created_at >= since || !flipped.contains(&l.node_id));
                if renewed && outgoing.len() + 1 >= running.len() {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(EngineError::Replication(format!(
                        "{}'s cluster bus links were not made again within {LINKS_DEADLINE:?} of the TLS change",
                        self.member_at(index)
                    )));
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        Ok(())
    }

    fn running_node_clients(&self) -> Vec<crate::engine::client::NodeClient> {
        let running = self.nodes.iter().filter(|n| n.slot.process.is_some());
        running.map(|n| n.slot.client()).collect()
    }

    /// Each running replica drops its replication link: it reconnects to its primary with the
    /// node's current `tls-replication` and resumes where it was.
    async fn relink_replicas(&self) -> Result<(), EngineError> {
        for index in 0..self.nodes.len() {
            let running = self.nodes[index].slot.process.is_some();
            if running && !self.is_primary(index) {
                self.client(index)
                    .command(&["CLIENT", "KILL", "TYPE", "master"])
                    .await?;
            }
        }
        Ok(())
    }
}

fn yes_no(on: bool) -> String {
    if on { "yes" } else { "no" }.to_string()
}

fn unix_millis() -> u64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |d| d.as_millis() as u64)
}

/// The value of a one-setting `CONFIG GET` reply.
fn config_value(reply: &redis::Value) -> Option<String> {
    pairs(reply).into_iter().next().map(|(_, value)| value)
}

/// One cluster bus link, as `CLUSTER LINKS` shows it.
#[derive(Debug, PartialEq, Eq)]
struct Link {
    outgoing: bool,
    /// The node at the other end.
    node_id: String,
    /// `create-time`, Unix ms.
    created_at: u64,
}

/// The links of a `CLUSTER LINKS` reply (RESP2 flat pairs or RESP3 maps).
fn links(reply: &redis::Value) -> Vec<Link> {
    let redis::Value::Array(links) = reply else {
        return Vec::new();
    };
    links
        .iter()
        .map(|link| {
            let pairs = pairs(link);
            let field = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, v)| v);
            Link {
                outgoing: field("direction").is_some_and(|d| d == "to"),
                node_id: field("node").cloned().unwrap_or_default(),
                created_at: field("create-time")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(0),
            }
        })
        .collect()
}

fn pairs(link: &redis::Value) -> Vec<(String, String)> {
    let text = |value: &redis::Value| match value {
        redis::Value::BulkString(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        redis::Value::SimpleString(text) => text.clone(),
        redis::Value::Int(number) => number.to_string(),
        other => format!("{other:?}"),
    };
    match link {
        redis::Value::Array(items) => items
            .chunks(2)
            .filter(|pair| pair.len() == 2)
            .map(|pair| (text(&pair[0]), text(&pair[1])))
            .collect(),
        redis::Value::Map(items) => items.iter().map(|(k, v)| (text(k), text(v))).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redis::Value;

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    fn link(direction: &str, node: &str) -> Value {
        Value::Array(vec![
            bulk("direction"),
            bulk(direction),
            bulk("node"),
            bulk(node),
            bulk("create-time"),
            Value::Int(1),
        ])
    }

    #[test]
    fn links_say_their_direction_and_age() {
        let reply = Value::Array(vec![link("to", "a1"), link("from", "a1")]);
        let expected = |outgoing| Link {
            outgoing,
            node_id: "a1".into(),
            created_at: 1,
        };
        assert_eq!(links(&reply), vec![expected(true), expected(false)]);
        assert!(links(&Value::Nil).is_empty());
    }

    #[test]
    fn a_config_get_reply_gives_its_value() {
        let reply = Value::Array(vec![bulk("tls-cluster"), bulk("yes")]);
        assert_eq!(config_value(&reply).as_deref(), Some("yes"));
        assert_eq!(config_value(&Value::Array(vec![])), None);
    }
}
