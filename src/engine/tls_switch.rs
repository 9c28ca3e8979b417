//! ModifyReplicationGroup's in-transit encryption migration on a running node, without a
//! restart (its data stays): redis 7 changes `port` and `tls-port` at runtime. Each step is
//! one of AWS's documented ones, and the engine keeps reaching the node throughout:
//!
//! - off -> preferred: TLS files and settings, `tls-port` and `port` moved to private ports,
//!   then the front takes the node's address.
//! - preferred -> required: the front goes (its connections end), and so do the plaintext
//!   connections redis-server accepted on the address before `preferred`; `tls-port` takes the
//!   address and `port` closes: no plaintext listener or client is left.
//! - required -> preferred: `port` and `tls-port` move to private ports, the front comes back.
//! - preferred -> off: the front goes (and the TLS connections accepted on the address while
//!   `required`), `port` takes the address, `tls-port` closes.

use std::net::SocketAddrV4;

use super::EngineError;
use super::client::NodeClient;
use super::process::{RedisProcess, private_targets, tls_settings};
use super::tls::{NodeTls, TlsMode};
use super::tls_front::TlsFront;

/// Moves the running node from its current TLS state to `wanted` (one documented step).
pub(crate) async fn switch(
    process: &mut RedisProcess,
    wanted: Option<NodeTls>,
) -> Result<(), EngineError> {
    let current = process.spec().tls.as_ref().map(|t| t.mode);
    let target = wanted.as_ref().map(|t| t.mode);
    match (current, target) {
        (a, b) if a == b => Ok(()),
        (None, Some(TlsMode::Preferred)) | (Some(TlsMode::Required), Some(TlsMode::Preferred)) => {
            to_preferred(process, wanted.expect("a mode")).await
        }
        (Some(TlsMode::Preferred), Some(TlsMode::Required)) => {
            to_required(process, wanted.expect("a mode")).await
        }
        (Some(TlsMode::Preferred), None) => to_plaintext(process).await,
        (from, to) => Err(EngineError::Replication(format!(
            "in-transit encryption cannot go from {from:?} to {to:?} in one step"
        ))),
    }
}

fn set(name: &str, value: &str) -> Vec<(String, String)> {
    vec![(name.to_string(), value.to_string())]
}

async fn to_preferred(process: &mut RedisProcess, tls: NodeTls) -> Result<(), EngineError> {
    let spec = process.spec().clone();
    let client = process.client();
    if spec.tls.is_none() {
        super::node::set_config(&client, &tls_settings(&spec, &tls)?).await?;
    }
    let targets = private_targets(&spec)?;
    // Each command has a connection of its own: the listener the engine reaches the node on
    // (plaintext when off, TLS when `required`) moves last.
    let tls_port = ("tls-port".to_string(), targets.tls.port().to_string());
    let port = ("port".to_string(), targets.plaintext.port().to_string());
    let settings = match spec.tls {
        None => [tls_port, port],
        Some(_) => [port, tls_port],
    };
    super::node::set_config(&client, &settings).await?;
    let front = TlsFront::bind(spec.addr, targets)
        .await
        .map_err(|e| EngineError::start(&spec.name, format!("its front: {e}")))?;
    process.set_tls(Some(tls), Some(front));
    Ok(())
}

async fn to_required(process: &mut RedisProcess, tls: NodeTls) -> Result<(), EngineError> {
    let addr = process.addr();
    let private_tls = private_port(process, "tls-port").await?;
    process.close_front();
    let on_private =
        NodeClient::new(SocketAddrV4::new(*addr.ip(), private_tls)).with_tls(Some(tls.ca.clone()));
    drop_clients_of_old_listener(&on_private, addr, false).await?;
    super::node::set_config(&on_private, &set("tls-port", &addr.port().to_string())).await?;
    process.set_tls(Some(tls), None);
    super::node::set_config(&process.client(), &set("port", "0")).await
}

async fn to_plaintext(process: &mut RedisProcess) -> Result<(), EngineError> {
    let addr = process.addr();
    let private_plain = private_port(process, "port").await?;
    process.close_front();
    let on_private = NodeClient::new(SocketAddrV4::new(*addr.ip(), private_plain));
    drop_clients_of_old_listener(&on_private, addr, true).await?;
    super::node::set_config(&on_private, &set("port", &addr.port().to_string())).await?;
    process.set_tls(None, None);
    let settings = [
        ("tls-port".to_string(), "0".to_string()),
        ("tls-replication".to_string(), "no".to_string()),
    ];
    super::node::set_config(&process.client(), &settings).await
}

/// Closes the connections redis-server still holds on the node's address from before
/// `preferred` (its listener there moved to a private port then, but what it had accepted
/// stayed): plaintext ones when going `required`, TLS ones when going off, so no client of the
/// other kind is left. Those clients reconnect, as on AWS. Going off, a replica's link is
/// spared: a replica still set for TLS replication would reconnect with TLS to the plaintext
/// port and hang there until `repl-timeout` (the cluster switch relinks them first instead).
async fn drop_clients_of_old_listener(
    on_private: &NodeClient,
    addr: SocketAddrV4,
    spare_replicas: bool,
) -> Result<(), EngineError> {
    let laddr = addr.to_string();
    let kill = ["CLIENT", "KILL", "LADDR", laddr.as_str()];
    if !spare_replicas {
        return on_private.command(&kill).await.map(drop);
    }
    for kind in ["normal", "pubsub"] {
        let of_kind: Vec<&str> = kill.iter().copied().chain(["TYPE", kind]).collect();
        on_private.command(&of_kind).await?;
    }
    Ok(())
}

/// The private port a `preferred` node's redis-server listens on for `name` (`port`,
/// `tls-port`), as it says itself.
async fn private_port(process: &RedisProcess, name: &str) -> Result<u16, EngineError> {
    let reply = process.client().command(&["CONFIG", "GET", name]).await?;
    let port = match reply {
        redis::Value::Array(items) => items_port(&items),
        _ => None,
    };
    port.ok_or_else(|| EngineError::Replication(format!("CONFIG GET {name}: no port")))
}

fn items_port(items: &[redis::Value]) -> Option<u16> {
    match items.get(1)? {
        redis::Value::BulkString(bytes) => std::str::from_utf8(bytes).ok()?.parse().ok(),
        _ => None,
    }
}
