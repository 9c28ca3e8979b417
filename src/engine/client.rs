//! Short commands to one node over loopback, each bounded by a timeout so a frozen node
//! (SIGSTOP, DEBUG SLEEP) can never hang a workflow.

use std::collections::HashMap;
use std::net::SocketAddrV4;
use std::sync::Arc;
use std::time::Duration;

use redis::{ConnectionAddr, IntoConnectionInfo, RedisConnectionInfo, Value};

use super::EngineError;
use super::tls::CertificateAuthority;

const COMMAND_TIMEOUT: Duration = Duration::from_millis(1500);

/// Commands to one node, as the engine's own ACL user (see `restricted`): the `default` user's
/// password (the AUTH token) and rights are the group's business, not the engine's.
#[derive(Debug, Clone)]
pub struct NodeClient {
    addr: SocketAddrV4,
    /// Set for a TLS node: the engine connects with TLS and verifies the node's certificate
    /// against this CA (see `tls` for why the engine has no plaintext side door).
    tls: Option<Arc<CertificateAuthority>>,
}

/// The fields of `INFO replication` the engine decides by.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicationInfo {
    pub role: String,
    pub master_replid: String,
    pub master_repl_offset: i64,
    pub master_host: Option<String>,
    pub master_port: Option<u16>,
    pub link_up: bool,
    /// `master_link_status` as the node wrote it (`up`, `down`; absent on a primary).
    pub master_link_status: Option<String>,
    /// `connected_slaves` (a primary's count of attached replicas).
    pub connected_replicas: Option<u64>,
    /// `slave_repl_offset`: what a replica has applied (`-1` on a primary).
    pub replica_offset: i64,
    pub replica_priority: i64,
}

impl ReplicationInfo {
    pub fn parse(text: &str) -> Self {
        let fields: HashMap<&str, &str> = text
            .lines()
            .filter_map(|line| line.trim().split_once(':'))
            .collect();
        let int = |key: &str| fields.get(key).and_then(|v| v.parse().ok());
        Self {
            role: fields.get("role").unwrap_or(&"").to_string(),
            master_replid: fields.get("master_replid").unwrap_or(&"").to_string(),
            master_repl_offset: int("master_repl_offset").unwrap_or(0),
            master_host: fields.get("master_host").map(|s| s.to_string()),
            master_port: fields.get("master_port").and_then(|v| v.parse().ok()),
            link_up: fields.get("master_link_status") == Some(&"up"),
            master_link_status: fields.get("master_link_status").map(|s| s.to_string()),
            connected_replicas: fields.get("connected_slaves").and_then(|v| v.parse().ok()),
            replica_offset: int("slave_repl_offset").unwrap_or(-1),
            replica_priority: int("slave_priority")
                .or_else(|| int("replica_priority"))
                .unwrap_or(100),
        }
    }
}

impl NodeClient {
    pub fn new(addr: SocketAddrV4) -> Self {
        Self { addr, tls: None }
    }

    /// The same client, speaking TLS when `tls` names the CA of the node's certificate.
    pub fn with_tls(self, tls: Option<Arc<CertificateAuthority>>) -> Self {
        Self { tls, ..self }
    }

    /// Runs one command on a fresh connection (cheap on loopback, and never stale after the
    /// node is replaced).
    pub async fn command(&self, args: &[&str]) -> Result<Value, EngineError> {
        self.command_within(COMMAND_TIMEOUT, args).await
    }

    /// The health check's PING; [`EngineError::Local`] when the server itself is to blame.
    pub async fn ping_within(&self, timeout: Duration) -> Result<(), EngineError> {
        let tls = self.tls.as_ref().map(|ca| ca.client_config());
        super::ping::ping(super::node_toxics::direct(self.addr), tls, timeout).await
    }

    async fn command_within(&self, timeout: Duration, args: &[&str]) -> Result<Value, EngineError> {
        let work = async {
            let (user, password) = super::restricted::engine_credentials();
            let settings = RedisConnectionInfo::default()
                .set_skip_set_lib_name()
                .set_username(user)
                .set_password(password);
            let client = self.redis_client(settings)?;
            // The crate's own limits (500 ms response, 1 s connect by default) would cut a
            // command short before ours: the outer timeout is the one that counts.
            let config = redis::AsyncConnectionConfig::new()
                .set_connection_timeout(Some(timeout))
                .set_response_timeout(Some(timeout));
            let mut connection = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            // A restricted command goes out under its private name (see `restricted`).
            let mut cmd = redis::cmd(super::restricted::engine_name(args[0]));
            for arg in &args[1..] {
                cmd.arg(*arg);
            }
            cmd.query_async::<Value>(&mut connection).await
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(result) => result.map_err(|e| EngineError::Redis {
                addr: self.addr,
                detail: super::restricted::public_text(&e.to_string()),
            }),
            Err(_) => Err(EngineError::Redis {
                addr: self.addr,
                detail: format!("{} timed out", args[0]),
            }),
        }
    }

    /// A redis crate client for the node: over TLS (verifying the node's IP against the CA)
    /// for a TLS node.
    fn redis_client(&self, settings: RedisConnectionInfo) -> redis::RedisResult<redis::Client> {
        // The engine's own channel never passes a node's toxics (see `node_toxics`).
        let addr = super::node_toxics::direct(self.addr);
        let (host, port) = (addr.ip().to_string(), addr.port());
        let Some(ca) = &self.tls else {
            let info = ConnectionAddr::Tcp(host, port).into_connection_info()?;
            return redis::Client::open(info.set_redis_settings(settings));
        };
        let address = ConnectionAddr::TcpTls {
            host,
            port,
            insecure: false,
            tls_params: None,
        };
        let info = address.into_connection_info()?.set_redis_settings(settings);
        let certificates = redis::TlsCertificates {
            client_tls: None,
            root_cert: Some(ca.cert_pem().as_bytes().to_vec()),
        };
        redis::Client::build_with_tls(info, certificates)
    }

    /// A connection kept open for many commands (a slot migration sends thousands), as the
    /// engine's own user, each reply bounded by `timeout`. Restricted commands sent on it must
    /// use [`super::restricted::engine_name`] themselves.
    pub async fn session(
        &self,
        timeout: Duration,
    ) -> Result<redis::aio::MultiplexedConnection, EngineError> {
        let (user, password) = super::restricted::engine_credentials();
        let settings = RedisConnectionInfo::default()
            .set_skip_set_lib_name()
            .set_username(user)
            .set_password(password);
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout));
        let connect = async {
            self.redis_client(settings)?
                .get_multiplexed_async_connection_with_config(&config)
                .await
        };
        connect.await.map_err(|e| EngineError::Redis {
            addr: self.addr,
            detail: super::restricted::public_text(&e.to_string()),
        })
    }

    pub fn addr(&self) -> SocketAddrV4 {
        self.addr
    }

    pub async fn ping(&self) -> Result<(), EngineError> {
        self.command(&["PING"]).await.map(|_| ())
    }

    pub async fn replication_info(&self) -> Result<ReplicationInfo, EngineError> {
        Ok(ReplicationInfo::parse(
            &self.text(&["INFO", "replication"]).await?,
        ))
    }

    /// A command whose reply is text (`INFO`, `CLUSTER NODES`, `CLUSTER MYID`).
    pub async fn text(&self, args: &[&str]) -> Result<String, EngineError> {
        match self.command(args).await? {
            Value::BulkString(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            Value::VerbatimString { text, .. } => Ok(text),
            Value::SimpleString(text) => Ok(text),
            other => Err(EngineError::Redis {
                addr: self.addr,
                detail: format!("unexpected reply to {}: {other:?}", args.join(" ")),
            }),
        }
    }

    /// `REPLICAOF <ip> <port>`, or `REPLICAOF NO ONE` to promote.
    pub async fn replicate_from(&self, primary: Option<SocketAddrV4>) -> Result<(), EngineError> {
        match primary {
            Some(primary) => {
                let (ip, port) = (primary.ip().to_string(), primary.port().to_string());
                self.command(&["REPLICAOF", &ip, &port]).await?
            }
            None => self.command(&["REPLICAOF", "NO", "ONE"]).await?,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_replica_section() {
        let text = "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7001\r\n\
master_link_status:up\r\nslave_repl_offset:1234\r\nslave_priority:100\r\nmaster_replid:abc\r\nmaster_repl_offset:1234\r\n";
        let info = ReplicationInfo::parse(text);
        assert_eq!(info.role, "slave");
        assert_eq!(info.master_port, Some(7001));
        assert!(info.link_up);
        assert_eq!(info.replica_offset, 1234);
        assert_eq!(info.master_replid, "abc");
    }

    #[test]
    fn a_primary_has_no_replica_offset() {
        let info = ReplicationInfo::parse("role:master\r\nmaster_repl_offset:99\r\n");
        assert_eq!(info.replica_offset, -1);
        assert!(!info.link_up);
        assert_eq!(info.master_repl_offset, 99);
        assert_eq!(info.master_link_status, None);
        let primary = ReplicationInfo::parse("role:master\r\nconnected_slaves:2\r\n");
        assert_eq!(primary.connected_replicas, Some(2));
    }
}
