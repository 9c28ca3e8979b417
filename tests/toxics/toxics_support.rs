//! A server with one single-node group, the Toxiproxy API over reqwest, and PING timers.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::TestServer;

pub const GROUP: &str = "tox";

/// A server with one single-node group `tox` from a fixture file.
pub fn start(extra: &[&str]) -> (TestServer, tempfile::NamedTempFile) {
    start_on("redis", extra)
}

/// [`start`] with the group's nodes of `engine`.
pub fn start_on(engine: &str, extra: &[&str]) -> (TestServer, tempfile::NamedTempFile) {
    let mut fixture = tempfile::NamedTempFile::new().unwrap();
    let groups = json!({ "ReplicationGroups": [{
        "ReplicationGroupId": GROUP,
        "ReplicationGroupDescription": "toxics",
        "NumCacheClusters": 1,
        "Engine": engine,
    }]});
    fixture.write_all(groups.to_string().as_bytes()).unwrap();
    let path = fixture.path().to_str().unwrap().to_string();
    let mut args = vec!["--fixtures", path.as_str()];
    args.extend_from_slice(extra);
    (TestServer::start_with(&args), fixture)
}

pub struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    pub fn of(server: &TestServer) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: format!("{}/_toxiproxy", server.url),
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    pub async fn add(&self, proxy: &str, toxic: Value) -> Value {
        let (status, body) = self
            .call("POST", &format!("/proxies/{proxy}/toxics"), Some(toxic))
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// The primary endpoint's own address, as its proxy listens (`listen`).
    pub async fn primary_port(&self) -> std::net::SocketAddr {
        let (status, proxy) = self
            .call("GET", &format!("/proxies/{GROUP}-primary"), None)
            .await;
        assert_eq!(status, 200, "{proxy}");
        let listen = proxy["listen"].as_str().unwrap();
        listen.parse().unwrap()
    }
}

pub async fn redis_connection(port: std::net::SocketAddr) -> redis::aio::MultiplexedConnection {
    // No response timeout: the client's default 500 ms would cut the paced replies short.
    let config = redis::AsyncConnectionConfig::new().set_response_timeout(None);
    redis::Client::open(format!("redis://{port}"))
        .unwrap()
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .unwrap()
}

/// The median of `n` PING round trips on `connection`, and all of them (ms).
pub async fn ping_rtts(
    connection: &mut redis::aio::MultiplexedConnection,
    n: usize,
) -> (f64, Vec<f64>) {
    let mut rtts = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let pong: String = redis::cmd("PING").query_async(connection).await.unwrap();
        rtts.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(pong, "PONG");
    }
    let mut sorted = rtts.clone();
    sorted.sort_by(f64::total_cmp);
    (sorted[n / 2], rtts)
}

/// Writes `pings` PINGs on a fresh connection to `port` and reads until every PONG came, the
/// connection closed, or `within` passed.
pub fn ping_raw(
    port: std::net::SocketAddr,
    pings: usize,
    within: Duration,
) -> (Vec<u8>, std::io::Result<()>, Duration) {
    let mut socket = TcpStream::connect(port).unwrap();
    socket.set_read_timeout(Some(within)).unwrap();
    let started = Instant::now();
    socket.write_all(&b"PING\r\n".repeat(pings)).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    let ending = loop {
        if got.len() >= 7 * pings {
            break Ok(());
        }
        match socket.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(error) => break Err(error),
        }
    };
    (got, ending, started.elapsed())
}
