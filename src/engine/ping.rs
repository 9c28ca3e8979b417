//! The health check's PING, on a socket of its own so that a failure can be told apart: the
//! server's own trouble (no descriptor left for a socket, no ephemeral port, no buffer memory)
//! is [`EngineError::Local`] and says nothing about the node; a refused connection, a timeout
//! or a wrong reply is the node's.

use std::io;
use std::net::SocketAddrV4;
use std::time::Duration;

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpSocket;

use super::EngineError;

/// A plaintext or TLS connection to a node.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// True for errors that come from this process or this host's limits, not from the peer.
pub fn is_local_error(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::EADDRNOTAVAIL)
    )
}

/// AUTH as the engine's user and PING within `timeout`; `+PONG` is healthy.
pub async fn ping(
    addr: SocketAddrV4,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<(), EngineError> {
    let (user, password) = super::restricted::engine_credentials();
    let node_error = |detail: String| EngineError::Redis { addr, detail };
    // Creating the socket needs only local resources: any failure here is ours.
    let socket = TcpSocket::new_v4().map_err(|e| EngineError::Local(e.to_string()))?;
    let exchange = async {
        let tcp = socket.connect(addr.into()).await?;
        let mut stream: Box<dyn Stream> = match tls {
            None => Box::new(tcp),
            Some(config) => {
                let connector = tokio_rustls::TlsConnector::from(config);
                Box::new(
                    connector
                        .connect(super::tls::server_name(addr), tcp)
                        .await?,
                )
            }
        };
        let mut request = format!(
            "*3\r\n$4\r\nAUTH\r\n${}\r\n{user}\r\n${}\r\n{password}\r\n",
            user.len(),
            password.len()
        )
        .into_bytes();
        request.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        stream.write_all(&request).await?;
        let wanted = 2;
        let mut reply = Vec::new();
        let mut buf = [0u8; 512];
        while reply.windows(2).filter(|w| w == b"\r\n").count() < wanted {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the node closed the connection",
                ));
            }
            reply.extend_from_slice(&buf[..n]);
        }
        Ok::<_, io::Error>(String::from_utf8_lossy(&reply).into_owned())
    };
    let reply = match tokio::time::timeout(timeout, exchange).await {
        Err(_) => return Err(node_error("PING timed out".into())),
        Ok(Err(error)) if is_local_error(&error) => {
            return Err(EngineError::Local(error.to_string()));
        }
        Ok(Err(error)) => return Err(node_error(error.to_string())),
        Ok(Ok(reply)) => reply,
    };
    let last = reply.trim_end().lines().last().unwrap_or("");
    if last == "+PONG" {
        return Ok(());
    }
    // A node at its maxclients answers, so it is alive: replacing it would lose its data.
    if last.starts_with("-ERR max number of clients") {
        tracing::warn!(%addr, reply = last, "node is alive but refuses new clients");
        return Ok(());
    }
    Err(node_error(format!(
        "unexpected reply to PING: {}",
        reply.trim_end()
    )))
}
