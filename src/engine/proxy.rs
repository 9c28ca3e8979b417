//! A stable endpoint: a TCP proxy on its own port that forwards each client connection to one
//! of its current targets (round robin). Switching the targets closes every connection to a
//! target that is no longer listed, so clients reconnect to the new primary, as they do when
//! AWS re-points the endpoint's DNS name.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::toxics::ToxicRegistry;
use super::toxics::registry::Registration;

pub struct EndpointProxy {
    name: String,
    port: u16,
    targets: watch::Sender<Vec<u16>>,
    accept_task: JoinHandle<()>,
    /// Lists the endpoint in the toxics registry while it lives.
    _toxics: Registration,
}

impl EndpointProxy {
    /// Binds `127.0.0.1:0` (the listener is held, so no other process can take the port).
    pub async fn bind(name: String, targets: Vec<u16>) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let (sender, receiver) = watch::channel(targets);
        let _toxics = ToxicRegistry::global().register(&name, port, receiver.clone());
        let accept_task = tokio::spawn(accept_loop(listener, receiver));
        tracing::info!(endpoint = %name, port, "endpoint proxy listening");
        Ok(Self {
            name,
            port,
            targets: sender,
            accept_task,
            _toxics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn targets(&self) -> Vec<u16> {
        self.targets.borrow().clone()
    }

    /// Points the endpoint at new node ports and drops connections to the old ones.
    pub fn switch(&self, targets: Vec<u16>) {
        tracing::info!(endpoint = %self.name, port = self.port, ?targets, "endpoint switched");
        self.targets.send_replace(targets);
    }

    /// Stops listening and drops every connection, at once (a stopped group's endpoint must not
    /// accept anything, even while a workflow still holds the runtime).
    pub fn close(&self) {
        self.targets.send_replace(vec![]);
        self.accept_task.abort();
    }
}

impl Drop for EndpointProxy {
    fn drop(&mut self) {
        // Dropping the sender ends every connection task; aborting ends the listener.
        self.accept_task.abort();
        tracing::info!(endpoint = %self.name, port = self.port, "endpoint proxy closed");
    }
}

async fn accept_loop(listener: TcpListener, targets: watch::Receiver<Vec<u16>>) {
    let next = Arc::new(AtomicUsize::new(0));
    let mut backoff = AcceptBackoff::default();
    loop {
        let client = match listener.accept().await {
            Ok((client, _)) => {
                backoff.succeeded();
                client
            }
            Err(error) => {
                backoff.failed(&error).await;
                continue;
            }
        };
        let current = targets.borrow().clone();
        if current.is_empty() {
            continue; // dropping `client` closes it: nothing to forward to
        }
        let target = current[next.fetch_add(1, Ordering::Relaxed) % current.len()];
        tokio::spawn(forward(client, target, targets.clone()));
    }
}

/// An accept that fails (out of descriptors: the pending connection stays queued) would fail
/// again at once: wait, doubling from 10 ms to 1 s, and log once per streak of failures.
#[derive(Default)]
struct AcceptBackoff {
    delay: Option<std::time::Duration>,
}

impl AcceptBackoff {
    async fn failed(&mut self, error: &io::Error) {
        let delay = match self.delay {
            None => {
                tracing::error!(%error, "endpoint proxy cannot accept a connection (the server is out of resources, not the node); retrying with backoff");
                std::time::Duration::from_millis(10)
            }
            Some(delay) => (delay * 2).min(std::time::Duration::from_secs(1)),
        };
        self.delay = Some(delay);
        tokio::time::sleep(delay).await;
    }

    fn succeeded(&mut self) {
        if self.delay.take().is_some() {
            tracing::info!("endpoint proxy accepts connections again");
        }
    }
}

async fn forward(mut client: TcpStream, target: u16, mut targets: watch::Receiver<Vec<u16>>) {
    let Ok(mut upstream) = TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], target))).await
    else {
        return; // the node is down: the client sees its connection closed, as with a dead host
    };
    let _ = client.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let still_listed = |t: &Vec<u16>| t.contains(&target);
    tokio::select! {
        _ = super::toxics::pipe(&mut client, &mut upstream) => {}
        _ = targets.wait_for(|t| !still_listed(t)) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn echo_server() -> (u16, JoinHandle<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            loop {
                let (mut socket, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buf = [0u8; 64];
                    while let Ok(n) = socket.read(&mut buf).await {
                        if n == 0 || socket.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        (port, task)
    }

    #[tokio::test]
    async fn forwards_and_closes_connections_to_a_target_switched_away() {
        let (first, _a) = echo_server().await;
        let (second, _b) = echo_server().await;
        let proxy = EndpointProxy::bind("test".into(), vec![first])
            .await
            .unwrap();
        let mut client = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        client.write_all(b"ping").await.unwrap();
        let mut buf = [0u8; 4];
        client.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ping");

        proxy.switch(vec![second]);
        // The old connection is closed by the proxy: a read returns 0 (EOF) or an error.
        let mut rest = [0u8; 4];
        let closed =
            tokio::time::timeout(std::time::Duration::from_secs(5), client.read(&mut rest))
                .await
                .unwrap();
        assert!(matches!(closed, Ok(0) | Err(_)));

        let mut fresh = TcpStream::connect(("127.0.0.1", proxy.port()))
            .await
            .unwrap();
        fresh.write_all(b"pong").await.unwrap();
        fresh.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");
    }
}
