//! Real memcached processes behind real node proxies, driven with raw protocol bytes.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::discovery::{DiscoveryCommand, discovery_reply};
use super::{MemcachedCluster, MemcachedClusterSpec, locate_memcached};

const DEADLINE: Duration = Duration::from_secs(10);

fn spec(dir: &tempfile::TempDir) -> MemcachedClusterSpec {
    MemcachedClusterSpec {
        cluster_id: "mc".to_string(),
        memcached: locate_memcached(None).expect("memcached is installed"),
        dir: dir.path().to_path_buf(),
        memory_mb: 16,
        hostname: "mc.local".to_string(),
    }
}

/// Sends `request` and reads until the reply ends with `until` (or the deadline passes).
async fn exchange(port: u16, request: &[u8], until: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    stream.write_all(request).await.unwrap();
    read_until(&mut stream, until).await
}

async fn read_until(stream: &mut TcpStream, until: &[u8]) -> Vec<u8> {
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + DEADLINE;
    while !reply.ends_with(until) {
        let left = deadline.saturating_duration_since(Instant::now());
        let read = tokio::time::timeout(left, stream.read(&mut buf)).await;
        match read {
            Ok(Ok(n)) if n > 0 => reply.extend_from_slice(&buf[..n]),
            other => panic!(
                "no {:?} in {:?}: {other:?}",
                String::from_utf8_lossy(until),
                String::from_utf8_lossy(&reply)
            ),
        }
    }
    reply
}

async fn text(port: u16, request: &str, until: &str) -> String {
    String::from_utf8(exchange(port, request.as_bytes(), until.as_bytes()).await).unwrap()
}

/// The Auto Discovery answer parsed the way the ElastiCache node clients parse it
/// (django-elasticache's `get_cluster_info`, which pymemcache-based clients copied): read to
/// `\n\r\nEND\r\n`, split on `\r?\n`, drop empty pieces, expect exactly four (header, version,
/// nodes, END), then split the nodes on spaces and each on `|`. The header's length must
/// count the data block, as the Java client's reader requires.
fn parse_discovery(reply: &str, header: &str) -> (u64, Vec<(String, String, u16)>) {
    assert!(reply.ends_with("\n\r\nEND\r\n"), "{reply:?}");
    let pieces: Vec<&str> = reply
        .split('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .filter(|p| !p.is_empty())
        .collect();
    assert_eq!(pieces.len(), 4, "{reply:?}");
    assert_eq!(pieces[3], "END");
    let length: usize = pieces[0]
        .strip_prefix(&format!("{header} 0 "))
        .unwrap_or_else(|| panic!("header {:?}", pieces[0]))
        .parse()
        .unwrap();
    let block_start = reply.find("\r\n").unwrap() + 2;
    assert_eq!(&reply[block_start + length..], "\r\nEND\r\n", "{reply:?}");
    let version = pieces[1].parse().unwrap();
    let nodes = pieces[2]
        .split(' ')
        .map(|node| {
            let parts: Vec<&str> = node.split('|').collect();
            assert_eq!(parts.len(), 3, "{node}");
            (
                parts[0].to_string(),
                parts[1].to_string(),
                parts[2].parse().unwrap(),
            )
        })
        .collect();
    (version, nodes)
}

async fn discover(port: u16) -> (u64, Vec<u16>) {
    let reply = text(port, "config get cluster\r\n", "\r\nEND\r\n").await;
    let (version, nodes) = parse_discovery(&reply, "CONFIG cluster");
    for (hostname, ip, _) in &nodes {
        assert_eq!((hostname.as_str(), ip.as_str()), ("mc.local", "127.0.0.1"));
    }
    (
        version,
        nodes.into_iter().map(|(_, _, port)| port).collect(),
    )
}

fn ports(cluster: &MemcachedCluster) -> Vec<u16> {
    cluster.node_ports().into_iter().map(|(_, p)| p).collect()
}

fn is_alive(pid: u32) -> bool {
    // A zombie is not alive: its stat state is `Z`.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| stat.rsplit_once(") ").map(|(_, t)| !t.starts_with('Z')))
        .unwrap_or(false)
}

fn assert_all_gone(pids: &[(String, u32)]) {
    for (id, pid) in pids {
        assert!(
            !is_alive(*pid),
            "memcached of node {id} (pid {pid}) still runs"
        );
    }
}

#[tokio::test]
async fn every_node_stores_and_serves_values_and_data_blocks_are_not_commands() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = MemcachedCluster::start(spec(&dir), 2).await.unwrap();
    let ids: Vec<String> = cluster.node_ports().into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, ["0001", "0002"]);
    for (id, port) in cluster.node_ports() {
        let stored = text(port, &format!("set k 0 0 {}\r\n{id}\r\n", id.len()), "\r\n").await;
        assert_eq!(stored, "STORED\r\n");
        let got = text(port, "get k\r\n", "END\r\n").await;
        assert_eq!(got, format!("VALUE k 0 4\r\n{id}\r\nEND\r\n"));
    }
    // A value that spells a Discovery command is data: stored and served verbatim.
    let port = ports(&cluster)[0];
    let value = "config get cluster\r\nget AmazonElastiCache:cluster";
    let set = format!("set tricky 0 0 {}\r\n{value}\r\n", value.len());
    assert_eq!(text(port, &set, "\r\n").await, "STORED\r\n");
    let got = text(port, "get tricky\r\n", "END\r\n").await;
    assert_eq!(
        got,
        format!("VALUE tricky 0 {}\r\n{value}\r\nEND\r\n", value.len())
    );
    let pids = cluster.node_pids();
    cluster.stop().await;
    assert_all_gone(&pids);
}

#[tokio::test]
async fn nodes_and_the_configuration_endpoint_answer_auto_discovery() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = MemcachedCluster::start(spec(&dir), 3).await.unwrap();
    let expected = ports(&cluster);
    for port in expected
        .iter()
        .copied()
        .chain([cluster.configuration_port()])
    {
        assert_eq!(discover(port).await, (1, expected.clone()));
        let legacy = text(port, "get AmazonElastiCache:cluster\r\n", "\r\nEND\r\n").await;
        let (version, nodes) = parse_discovery(&legacy, "VALUE AmazonElastiCache:cluster");
        let legacy_ports: Vec<u16> = nodes.into_iter().map(|(_, _, p)| p).collect();
        assert_eq!((version, legacy_ports), (1, expected.clone()));
    }
    // Pipelined: the answer comes back between the replies to the commands around it.
    let node = expected[0];
    let request = "set a 0 0 1\r\nA\r\nget a\r\nconfig get cluster\r\nget a\r\nmn\r\n";
    let reply = text(node, request, "MN\r\n").await;
    let discovery = discovery_reply(DiscoveryCommand::ConfigGetCluster, &cluster.topology());
    let value = "VALUE a 0 1\r\nA\r\nEND\r\n";
    let discovery = String::from_utf8(discovery).unwrap();
    assert_eq!(reply, format!("STORED\r\n{value}{discovery}{value}MN\r\n"));
    cluster.stop().await;
}
