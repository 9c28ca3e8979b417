//! Standalone cache clusters survive a server restart: a Redis one with its data at the same
//! node address, a Memcached one at the same node and configuration endpoint addresses, empty
//! (Memcached keeps nothing, on AWS either).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use aws_sdk_elasticache::Client;

use super::restarts::{start_on, wait_model_holds, wait_saved};
use crate::support::{
    address_of_endpoint, is_alive, live_children, redis_cli, wait_blocking,
    wait_cache_cluster_available,
};

/// The cluster's node addresses by id, and its configuration endpoint (Memcached), once it is
/// `available`.
async fn wait_cluster(
    client: &Client,
    id: &str,
) -> (Vec<(String, SocketAddr)>, Option<SocketAddr>) {
    wait_cache_cluster_available(client, id, |cluster| {
        let nodes = (cluster.cache_nodes().iter())
            .map(|n| {
                let id = n.cache_node_id().unwrap_or_default().to_string();
                Some((id, address_of_endpoint(n.endpoint()?)))
            })
            .collect::<Option<Vec<_>>>()?;
        let configuration = cluster.configuration_endpoint().map(address_of_endpoint);
        Some((nodes, configuration))
    })
    .await
}

async fn create(client: &Client, id: &str, engine: &str, nodes: i32) {
    (client.create_cache_cluster())
        .cache_cluster_id(id)
        .engine(engine)
        .num_cache_nodes(nodes)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {id}: {e:?}"));
}

/// One Memcached text command and its reply, up to its last line (`STORED`, `END`...).
fn memcached(at: SocketAddr, command: &str, last_line: &str) -> String {
    let mut stream = TcpStream::connect_timeout(&at, Duration::from_secs(5)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(command.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut reply = String::new();
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "reply cut: {reply}"
        );
        reply.push_str(&line);
        if line.trim_end() == last_line || line.starts_with("ERROR") {
            return reply;
        }
    }
}

/// The memcached processes whose command line names `dir` (this test's data dir).
fn memcached_under(dir: &Path) -> Vec<u32> {
    let dir = dir.to_string_lossy().into_owned();
    let entries = std::fs::read_dir("/proc").expect("/proc");
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            // The program itself, not any path that names it (a checkout under `memcached-*`).
            let program = cmdline.split('\0').next().unwrap_or_default();
            program.ends_with("memcached") && cmdline.contains(&dir)
        })
        .filter(|pid| is_alive(*pid))
        .collect()
}

fn stop(server: &mut crate::support::TestServer, dir: &Path, hard: bool) {
    let mut children = live_children(server.pid());
    assert_eq!(children.len(), 1, "the Redis node");
    let memcached = memcached_under(dir);
    assert_eq!(memcached.len(), 2, "two memcached nodes");
    children.extend(memcached);
    if hard {
        server.kill_hard();
    } else {
        assert!(server.stop(), "SIGTERM ends the server cleanly");
    }
    wait_blocking(
        "every node of the stopped server to be gone",
        Duration::from_secs(10),
        || children.iter().all(|pid| !is_alive(*pid)).then_some(()),
    );
}

async fn survives(hard: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_on(dir.path());
    let client = server.sdk();
    create(&client, "solo", "redis", 1).await;
    create(&client, "mc", "memcached", 2).await;
    let (redis_before, _) = wait_cluster(&client, "solo").await;
    let (memcached_before, configuration_before) = wait_cluster(&client, "mc").await;
    let node = redis_before[0].1;
    assert_eq!(redis_cli(node, &["SET", "kept", "yes"]), "OK");
    let first = memcached_before[0].1;
    let set = memcached(first, "set gone 0 0 3\r\nbye\r\n", "STORED");
    assert_eq!(set.trim_end(), "STORED");
    if hard {
        wait_saved(node);
    }
    wait_model_holds(dir.path(), "cache_clusters", "solo");
    wait_model_holds(dir.path(), "cache_clusters", "mc");
    stop(&mut server, dir.path(), hard);

    assert_come_back(
        dir.path(),
        &redis_before,
        &memcached_before,
        configuration_before,
    )
    .await;
}

async fn assert_come_back(
    dir: &Path,
    redis_before: &[(String, SocketAddr)],
    memcached_before: &[(String, SocketAddr)],
    configuration_before: Option<SocketAddr>,
) {
    let server = start_on(dir);
    let client = server.sdk();
    let (redis_after, _) = wait_cluster(&client, "solo").await;
    assert_eq!(
        redis_after, redis_before,
        "the Redis node at the same address"
    );
    assert_eq!(redis_cli(redis_after[0].1, &["GET", "kept"]), "yes");
    let (memcached_after, configuration) = wait_cluster(&client, "mc").await;
    assert_eq!(
        memcached_after, memcached_before,
        "the same nodes and addresses"
    );
    assert!(configuration_before.is_some());
    assert_eq!(
        configuration, configuration_before,
        "the same configuration endpoint"
    );
    for (id, at) in &memcached_after {
        let reply = memcached(*at, "get gone\r\n", "END");
        assert_eq!(reply, "END\r\n", "node {id} starts empty");
    }
    assert_eq!(memcached_under(dir).len(), 2, "two memcached nodes again");
    let discovery = memcached(configuration.unwrap(), "config get cluster\r\n", "END");
    for (_, at) in &memcached_after {
        assert!(discovery.contains(&at.ip().to_string()), "{discovery}");
    }
}

#[tokio::test]
async fn standalone_clusters_survive_a_sigterm_restart_at_their_addresses() {
    survives(false).await;
}

#[tokio::test]
async fn standalone_clusters_survive_a_sigkill_once_redis_saved() {
    survives(true).await;
}
