//! Real memcached processes behind real node proxies, driven with raw protocol bytes.

use std::net::SocketAddrV4;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::discovery::{DiscoveryCommand, discovery_reply};
use super::{MemcachedCluster, MemcachedClusterSpec, locate_memcached};
use crate::engine::address::{AddressPool, Addressing};

const DEADLINE: Duration = Duration::from_secs(10);

fn spec(dir: &tempfile::TempDir) -> MemcachedClusterSpec {
    MemcachedClusterSpec {
        cluster_id: "mc".to_string(),
        memcached: locate_memcached(None).expect("memcached is installed"),
        dir: dir.path().to_path_buf(),
        memory_mb: 16,
        pool: Arc::new(AddressPool::new(Addressing::Loopback)),
        port: 11211,
    }
}

/// Sends `request` and reads until the reply ends with `until` (or the deadline passes).
async fn exchange(at: SocketAddrV4, request: &[u8], until: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(at).await.unwrap();
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

async fn text(at: SocketAddrV4, request: &str, until: &str) -> String {
    String::from_utf8(exchange(at, request.as_bytes(), until.as_bytes()).await).unwrap()
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

/// The version and node addresses Auto Discovery answers at `at`; every node is listed with its
/// own IP as hostname and IP, at the cluster's port.
async fn discover(at: SocketAddrV4) -> (u64, Vec<SocketAddrV4>) {
    let reply = text(at, "config get cluster\r\n", "\r\nEND\r\n").await;
    let (version, nodes) = parse_discovery(&reply, "CONFIG cluster");
    let addresses = nodes
        .into_iter()
        .map(|(hostname, ip, port)| {
            assert_eq!(hostname, ip);
            SocketAddrV4::new(ip.parse().unwrap(), port)
        })
        .collect();
    (version, addresses)
}

fn addresses(cluster: &MemcachedCluster) -> Vec<SocketAddrV4> {
    cluster
        .node_addresses()
        .into_iter()
        .map(|(_, a)| a)
        .collect()
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
    let ids: Vec<String> = cluster
        .node_addresses()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["0001", "0002"]);
    for (id, port) in cluster.node_addresses() {
        let stored = text(port, &format!("set k 0 0 {}\r\n{id}\r\n", id.len()), "\r\n").await;
        assert_eq!(stored, "STORED\r\n");
        let got = text(port, "get k\r\n", "END\r\n").await;
        assert_eq!(got, format!("VALUE k 0 4\r\n{id}\r\nEND\r\n"));
    }
    // A value that spells a Discovery command is data: stored and served verbatim.
    let port = addresses(&cluster)[0];
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
    let expected = addresses(&cluster);
    // Each node and the endpoint on an address of its own, all at the cluster's port (as AWS).
    let endpoint = cluster.configuration_address();
    assert!(
        expected
            .iter()
            .all(|a| a.port() == 11211 && a.ip() != endpoint.ip())
    );
    assert_eq!(endpoint.port(), 11211);
    assert_ne!(expected[0].ip(), expected[1].ip());
    for port in expected
        .iter()
        .copied()
        .chain([cluster.configuration_address()])
    {
        assert_eq!(discover(port).await, (1, expected.clone()));
        let legacy = text(port, "get AmazonElastiCache:cluster\r\n", "\r\nEND\r\n").await;
        let (version, nodes) = parse_discovery(&legacy, "VALUE AmazonElastiCache:cluster");
        let legacy_nodes: Vec<SocketAddrV4> = nodes
            .into_iter()
            .map(|(_, ip, p)| SocketAddrV4::new(ip.parse().unwrap(), p))
            .collect();
        assert_eq!((version, legacy_nodes), (1, expected.clone()));
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

#[tokio::test]
async fn every_node_change_bumps_the_configuration_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = MemcachedCluster::start(spec(&dir), 2).await.unwrap();
    let endpoint = cluster.configuration_address();
    assert_eq!(discover(endpoint).await.0, 1);

    let added = cluster.add_nodes(2).await.unwrap();
    assert_eq!(added, ["0003", "0004"]);
    assert_eq!(discover(endpoint).await, (2, addresses(&cluster)));
    assert_eq!(addresses(&cluster).len(), 4);

    let removed_port = cluster.node_addresses()[1].1;
    let removed_pid = cluster.node_pids()[1].1;
    cluster.remove_nodes(&["0002".to_string()]).await.unwrap();
    let ids: Vec<String> = cluster
        .node_addresses()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, ["0001", "0003", "0004"]);
    assert!(
        !is_alive(removed_pid),
        "the removed node's memcached still runs"
    );
    assert!(TcpStream::connect(removed_port).await.is_err());
    // Every remaining node answers the new version, not only the one the endpoint picked.
    for port in addresses(&cluster) {
        assert_eq!(discover(port).await, (3, addresses(&cluster)));
    }
    // Ids are not reused after a removal.
    assert_eq!(cluster.add_nodes(1).await.unwrap(), ["0005"]);
    assert_eq!(discover(endpoint).await.0, 4);

    let before = addresses(&cluster);
    cluster.replace_node("0003").await.unwrap();
    assert_eq!(discover(endpoint).await, (5, before));
    assert!(cluster.remove_nodes(&["0009".to_string()]).await.is_err());
    assert_eq!(
        discover(endpoint).await.0,
        5,
        "a refused removal changes nothing"
    );
    let pids = cluster.node_pids();
    cluster.stop().await;
    assert_all_gone(&pids);
}

#[tokio::test]
async fn a_killed_node_is_found_by_the_health_check_and_replaced_empty_at_its_address() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = MemcachedCluster::start(spec(&dir), 2).await.unwrap();
    let (id, port) = cluster.node_addresses()[0].clone();
    for (_, port) in cluster.node_addresses() {
        assert_eq!(
            text(port, "set k 0 0 1\r\nv\r\n", "\r\n").await,
            "STORED\r\n"
        );
    }
    assert_eq!(cluster.check_health().await.unwrap(), Vec::<String>::new());

    let (_, pid) = cluster.node_pids()[0];
    // SAFETY: kill(2) on the memcached this test's cluster started.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
    let deadline = Instant::now() + DEADLINE;
    while is_alive(pid) {
        assert!(Instant::now() < deadline, "SIGKILLed memcached still runs");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(cluster.check_health().await.unwrap(), vec![id.clone()]);
    assert_eq!(
        cluster.node_addresses()[0],
        (id, port),
        "same id, same address"
    );
    assert_ne!(cluster.node_pids()[0].1, pid);
    assert_eq!(text(port, "get k\r\n", "END\r\n").await, "END\r\n", "empty");
    let other = cluster.node_addresses()[1].1;
    let kept = text(other, "get k\r\n", "END\r\n").await;
    assert_eq!(
        kept, "VALUE k 0 1\r\nv\r\nEND\r\n",
        "the other node kept its data"
    );
    assert_eq!(discover(cluster.configuration_address()).await.0, 2);
    cluster.stop().await;
}

#[tokio::test]
async fn binary_protocol_connections_pass_through_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = MemcachedCluster::start(spec(&dir), 1).await.unwrap();
    let port = addresses(&cluster)[0];
    // A binary `version` request (opcode 0x0b) with opaque 01020304.
    let mut request = vec![0x80, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
    request.extend_from_slice(&[0; 8]);
    let mut stream = TcpStream::connect(port).await.unwrap();
    stream.write_all(&request).await.unwrap();
    let mut header = [0u8; 24];
    tokio::time::timeout(DEADLINE, stream.read_exact(&mut header))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(header[0], 0x81, "response magic");
    assert_eq!(header[1], 0x0b, "opcode");
    assert_eq!(&header[6..8], &[0, 0], "status: no error");
    assert_eq!(&header[12..16], &[1, 2, 3, 4], "opaque");
    let length = u32::from_be_bytes(header[8..12].try_into().unwrap()) as usize;
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.unwrap();
    let version = super::process::query_version(&dir.path().join("0001/memcached.sock"))
        .await
        .unwrap();
    assert_eq!(String::from_utf8(body).unwrap(), version);
    cluster.stop().await;
}

#[tokio::test]
async fn dropping_a_cluster_kills_and_reaps_its_memcached_processes() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = MemcachedCluster::start(spec(&dir), 2).await.unwrap();
    let pids = cluster.node_pids();
    assert_eq!(pids.len(), 2);
    assert!(pids.iter().all(|(_, pid)| is_alive(*pid)));
    drop(cluster);
    assert_all_gone(&pids);
    // Reaped, not zombies: the pids are no longer our children.
    for (_, pid) in &pids {
        // SAFETY: waitpid with WNOHANG on a pid this test's cluster started.
        let status = unsafe { libc::waitpid(*pid as libc::pid_t, std::ptr::null_mut(), 1) };
        assert_eq!(status, -1, "pid {pid} was not reaped");
    }
}

/// A real Python client: pymemcache reads the engine version, Auto Discovery is read and
/// parsed as django-elasticache's `get_cluster_info` does, and pymemcache then sets and gets a
/// key on every node it found.
const PYMEMCACHE_DISCOVERY: &str = r#"
import re, socket, sys
from pymemcache.client.base import Client
host, port = sys.argv[1], int(sys.argv[2])
version = Client((host, port)).version().decode()
new = tuple(int(p) for p in version.split(".")[:3]) >= (1, 4, 14)
cmd = b"config get cluster\n" if new else b"get AmazonElastiCache:cluster\n"
conn = socket.create_connection((host, port), timeout=10)
conn.sendall(cmd)
res = b""
while not res.endswith(b"\n\r\nEND\r\n"):
    chunk = conn.recv(4096)
    if not chunk:
        sys.exit("connection closed: %r" % res)
    res += chunk
ls = list(filter(None, re.compile(rb"\r?\n").split(res)))
if len(ls) != 4:
    sys.exit("unexpected answer %r" % res)
nodes = []
for node in ls[2].split(b" "):
    host, ip, node_port = node.split(b"|")
    nodes.append((ip.decode(), int(node_port)))
for i, address in enumerate(nodes):
    client = Client(address)
    client.set("py%d" % i, "value%d" % i)
    assert client.get("py%d" % i) == ("value%d" % i).encode()
print(int(ls[1]), " ".join("%s:%d" % n for n in nodes))
"#;

#[tokio::test]
async fn pymemcache_discovers_the_nodes_and_uses_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut cluster = MemcachedCluster::start(spec(&dir), 2).await.unwrap();
    let output = tokio::process::Command::new("python3")
        .args(["-c", PYMEMCACHE_DISCOVERY])
        .arg(cluster.configuration_address().ip().to_string())
        .arg(cluster.configuration_address().port().to_string())
        .output()
        .await
        .expect("python3 runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "pymemcache (CI installs it; `pip install pymemcache`): {stderr}"
    );
    let nodes: Vec<String> = addresses(&cluster).iter().map(|a| a.to_string()).collect();
    let expected = format!("1 {}\n", nodes.join(" "));
    assert_eq!(String::from_utf8_lossy(&output.stdout), expected);
    // pymemcache's writes are really on the nodes.
    for (i, port) in addresses(&cluster).into_iter().enumerate() {
        let got = text(port, &format!("get py{i}\r\n"), "END\r\n").await;
        assert_eq!(got, format!("VALUE py{i} 0 6\r\nvalue{i}\r\nEND\r\n"));
    }
    cluster.stop().await;
}
