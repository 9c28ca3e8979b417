//! The command line a node's redis-server (or valkey-server) starts with: its ports and dir,
//! its log, its save points, its replication, cluster and TLS arguments, and the private
//! config file of renamed commands first.

use std::fs::File;
use std::process::Stdio;

use tokio::process::Command;

use super::EngineError;
use super::process::{
    CLUSTER_CONFIG_FILE, CLUSTER_NODE_TIMEOUT_MS, ClusterNodeConfig, Listen, NodeSpec,
    die_with_parent, log_path, tls_settings,
};
use super::tls::NodeTls;

/// The TLS arguments of a node: its certificate, the CA, TLS replication (and cluster bus);
/// clients need no certificate of their own, as on ElastiCache.
fn tls_args(command: &mut Command, spec: &NodeSpec, tls: &NodeTls) -> Result<(), EngineError> {
    for (name, value) in tls_settings(spec, tls)? {
        command.arg(format!("--{name}")).arg(value);
    }
    if spec.cluster.is_some() {
        // Clients of either kind are sent to the node's one advertised port.
        let port = spec.addr.port().to_string();
        command.args(["--tls-cluster", "yes", "--cluster-announce-tls-port", &port]);
    }
    Ok(())
}

/// The redis-server command line for `spec`, logging to the node's `redis.log`, with the
/// child set to die with the server.
pub(super) fn command_for(spec: &NodeSpec, listen: Listen) -> Result<Command, EngineError> {
    let log = File::create(log_path(&spec.dir))
        .map_err(|e| EngineError::start(&spec.name, e.to_string()))?;
    let mut command = Command::new(&spec.redis_server);
    // The config file must come first; it holds the private command names (see `restricted`).
    let renames = super::restricted::write_config_file(&spec.dir)
        .map_err(|e| EngineError::start(&spec.name, format!("cannot write its config: {e}")))?;
    command.arg(renames);
    command
        .args(["--port", &listen.plaintext.to_string()])
        .args(["--bind", &spec.addr.ip().to_string()])
        .args(["--save", save_points(), "--appendonly", "no"])
        // Disk sync streams commands as soon as the link is up; diskless sync can stall ~1 s
        // (see ../shared/spec/redis-mechanics.md).
        .args(["--repl-diskless-sync", "no", "--hz", "100"])
        .args(["--daemonize", "no", "--protected-mode", "no"])
        .arg("--dir")
        .arg(&spec.dir)
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(
            log.try_clone()
                .map_err(|e| EngineError::start(&spec.name, e.to_string()))?,
        )
        .stderr(log);
    if let Some(password) = &spec.password {
        // Replicas authenticate as the engine's user (`masteruser`, in the private file).
        command.args(["--requirepass", password]);
    }
    if let Some(primary) = spec.replica_of {
        command.args([
            "--replicaof",
            &primary.ip().to_string(),
            &primary.port().to_string(),
        ]);
    }
    if let Some(cluster) = spec.cluster {
        cluster_args(&mut command, spec, cluster);
    }
    if let Some(tls) = &spec.tls {
        command.args(["--tls-port", &listen.tls.to_string()]);
        tls_args(&mut command, spec, tls)?;
    }
    for (name, value) in &spec.startup_config {
        command.arg(format!("--{name}")).arg(value);
    }
    die_with_parent(&mut command);
    Ok(command)
}

/// The arguments that make the node a Redis Cluster node. It announces its own address, so
/// `CLUSTER SLOTS` and MOVED redirects name where clients really reach it.
fn cluster_args(command: &mut Command, spec: &NodeSpec, cluster: ClusterNodeConfig) {
    command
        .args(["--cluster-enabled", "yes", "--cluster-config-file"])
        .arg(spec.dir.join(CLUSTER_CONFIG_FILE))
        .args(["--cluster-port", &cluster.bus_port.to_string()])
        .args(["--cluster-announce-ip", &spec.addr.ip().to_string()])
        .args(["--cluster-announce-port", &spec.addr.port().to_string()])
        .args(["--cluster-announce-bus-port", &cluster.bus_port.to_string()])
        .args([
            "--cluster-node-timeout",
            &CLUSTER_NODE_TIMEOUT_MS.to_string(),
        ])
        // Any replica may take over, however long its link was down.
        .args(["--cluster-replica-validity-factor", "0"])
        // ElastiCache's default: the other shards keep serving while one has no primary.
        .args(["--cluster-require-full-coverage", "no"])
        // Replicas stay in the shard they were started in.
        .args(["--cluster-allow-replica-migration", "no"]);
}

static KEEP_NODE_DATA: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// With `--data-dir` groups come back after a restart with their data: from then on every node
/// writes an RDB a second after a change and on SIGTERM (Redis saves at shutdown when it has
/// save points), so a SIGKILL loses at most about the last second of writes.
pub fn keep_node_data() {
    KEEP_NODE_DATA.store(true, std::sync::atomic::Ordering::Relaxed);
}

fn save_points() -> &'static str {
    if KEEP_NODE_DATA.load(std::sync::atomic::Ordering::Relaxed) {
        "1 1"
    } else {
        ""
    }
}
