//! The engine half of the standalone cache cluster actions: start, reboot, add and remove
//! Memcached nodes, delete, and the monitor that replaces a failed node empty (neither engine
//! fails over: there is no replica to take over). Each reports back to the model.

use crate::engine::CacheClusterHandle;
use crate::state::SharedState;

/// What the engine is asked to start.
pub enum StartPlan {
    Redis(RedisPlan),
    Memcached {
        count: usize,
        /// `Port`: every node and the configuration endpoint listen on it.
        port: u16,
        /// A cluster brought back after a server restart: its node ids and addresses.
        previous: Option<crate::engine::PreviousMemcached>,
    },
}

/// One redis-server or valkey-server node.
pub struct RedisPlan {
    /// The server binary it runs.
    pub binary: std::path::PathBuf,
    pub password: Option<String>,
    /// In-transit encryption: the node speaks TLS, in this mode.
    pub tls: Option<crate::engine::TlsMode>,
    /// The parameter group's settings, `CONFIG SET` on the fresh node.
    pub config: Vec<(String, String)>,
    /// `Port`: the node listens on it, on an address of its own.
    pub port: u16,
    /// A restore (`SnapshotName`, `SnapshotArns`), or a restart: the RDB the node loads at
    /// start.
    pub seed_rdb: Option<std::path::PathBuf>,
    /// A node brought back after a server restart: its previous address.
    pub previous: Option<std::net::SocketAddrV4>,
}

/// Starts the cluster's nodes and makes it `available` (`restart`: a cluster brought back
/// after a server restart, whose nodes are not new).
pub async fn start(state: SharedState, cluster_id: String, plan: StartPlan, restart: bool) {
    // Redis and Valkey nodes hold data: they take their daily snapshots (if the retention
    // limit asks for them); Memcached has none.
    let snapshots = matches!(plan, StartPlan::Redis(_));
    let started = match plan {
        StartPlan::Redis(plan) => start_redis(&state, &cluster_id, plan).await,
        StartPlan::Memcached {
            count,
            port,
            previous,
        } => state
            .engine
            .start_memcached_cluster(&cluster_id, count, port, previous.as_ref())
            .await
            .and_then(|()| state.engine.cache_cluster(&cluster_id)),
    };
    let handle = match started {
        Ok(handle) => handle,
        Err(error) => {
            tracing::error!(cluster = %cluster_id, %error, "cache cluster could not be created");
            state.engine.stop_cache_cluster(&cluster_id).await;
            let reason = error.to_string();
            state
                .model()
                .fail_cluster_create(&cluster_id, reason, state.now());
            return;
        }
    };
    let (addresses, configuration) = {
        let runtime = handle.lock().await;
        (runtime.node_addresses(), runtime.configuration_address())
    };
    let kept = {
        let (now, mut model) = (state.now(), state.model());
        if restart {
            model.mark_cluster_running(&cluster_id, &addresses, configuration, now)
        } else {
            model.finish_cluster_create(&cluster_id, &addresses, configuration, now)
        }
    };
    if kept {
        if snapshots {
            let of = crate::workflows::snapshot::SnapshotOf::CacheCluster(cluster_id.clone());
            crate::workflows::automatic_snapshots::spawn(state.clone(), of);
        }
        tokio::spawn(monitor(state, cluster_id, handle));
    } else {
        // Reset away while its nodes started.
        state.engine.stop_cache_cluster(&cluster_id).await;
    }
}

async fn start_redis(
    state: &SharedState,
    cluster_id: &str,
    plan: RedisPlan,
) -> Result<CacheClusterHandle, crate::engine::EngineError> {
    state
        .engine
        .start_redis_cluster(
            cluster_id,
            crate::engine::StandaloneRedis {
                binary: plan.binary,
                password: plan.password,
                port: plan.port,
                tls: plan.tls,
                seed_rdb: plan.seed_rdb,
                previous: plan.previous,
            },
        )
        .await?;
    let handle = state.engine.cache_cluster(cluster_id)?;
    if !plan.config.is_empty() {
        handle.lock().await.apply_config(&plan.config).await?;
    }
    Ok(handle)
}

/// Restarts `node_ids` empty (a Redis node with `settings`, its parameter group's values, in
/// effect), then makes the cluster available again with the events.
pub async fn reboot(
    state: SharedState,
    cluster_id: String,
    node_ids: Vec<String>,
    settings: Vec<(String, String)>,
) {
    let outcome = match state.engine.cache_cluster(&cluster_id) {
        Ok(handle) => handle.lock().await.reboot(&node_ids, &settings).await,
        Err(error) => Err(error),
    };
    let failure = outcome.err().map(|e| e.to_string());
    if let Some(reason) = &failure {
        tracing::error!(cluster = %cluster_id, %reason, "reboot failed");
    }
    state
        .model()
        .finish_cluster_reboot(&cluster_id, &node_ids, failure, state.now());
    tracing::info!(cluster = %cluster_id, ?node_ids, "cache cluster nodes rebooted");
}

/// Adds `add` Memcached nodes and removes `remove`, then records the new node list.
pub async fn change_nodes(state: SharedState, cluster_id: String, add: usize, remove: Vec<String>) {
    let (addresses, failure) = match state.engine.cache_cluster(&cluster_id) {
        Ok(handle) => {
            let mut runtime = handle.lock().await;
            let mut failure = None;
            if !remove.is_empty()
                && let Err(error) = runtime.remove_nodes(&remove).await
            {
                failure = Some(error.to_string());
            }
            if add > 0
                && let Err(error) = runtime.add_nodes(add).await
            {
                failure.get_or_insert(error.to_string());
            }
            (runtime.node_addresses(), failure)
        }
        Err(error) => (vec![], Some(error.to_string())),
    };
    state
        .model()
        .finish_node_change(&cluster_id, &addresses, failure, state.now());
    tracing::info!(cluster = %cluster_id, add, ?remove, "cache cluster nodes changed");
}

/// Stops the cluster's nodes (after its final snapshot, when one was asked for) and forgets
/// it, with its automatic snapshots (manual ones stay, as on AWS).
pub async fn delete(state: SharedState, cluster_id: String, final_snapshot: Option<String>) {
    if let Some(name) = final_snapshot {
        let of = crate::workflows::snapshot::SnapshotOf::CacheCluster(cluster_id.clone());
        crate::workflows::snapshot::take(&state, &name, &of).await;
    }
    state.engine.stop_cache_cluster(&cluster_id).await;
    crate::workflows::automatic_snapshots::prune(&state, &cluster_id, 0);
    state
        .model()
        .finish_cluster_delete(&cluster_id, state.now());
    tracing::info!(cluster = %cluster_id, "cache cluster deleted");
}

/// Checks every node each interval; a failed one is replaced empty at its address.
async fn monitor(state: SharedState, cluster_id: String, handle: CacheClusterHandle) {
    let interval = state.settings.health_check_interval;
    loop {
        tokio::time::sleep(interval).await;
        let mut runtime = handle.lock().await;
        if runtime.is_stopped() {
            return;
        }
        match runtime.repair_failed_nodes().await {
            Ok(replaced) if replaced.is_empty() => {}
            Ok(replaced) => {
                let addresses = runtime.node_addresses();
                drop(runtime);
                tracing::warn!(cluster = %cluster_id, ?replaced, "failed cache nodes replaced");
                state.model().record_node_replacements(
                    &cluster_id,
                    &replaced,
                    &addresses,
                    state.now(),
                );
            }
            Err(error) => {
                tracing::error!(cluster = %cluster_id, %error, "a failed cache node could not be replaced");
            }
        }
    }
}

/// Restarts a replication group member's node empty, holding the group's runtime so no health
/// repair or failover interleaves: a primary in place (no failover) with every replica
/// resynced from it, a replica as a fresh replica. `settings` (the parameter group's values)
/// take effect on the restarted node.
pub async fn reboot_member(
    state: SharedState,
    group_id: String,
    cluster_id: String,
    settings: Vec<(String, String)>,
) {
    let (addresses, outcome) = match state.engine.runtime(&group_id) {
        Ok(handle) => {
            let mut runtime = handle.lock().await;
            runtime.keep_for_restarts(&settings);
            let outcome = restart_member(&mut runtime, &cluster_id).await;
            (runtime.node_addresses(), outcome)
        }
        Err(error) => (vec![], Err(error)),
    };
    let failure = outcome.err().map(|e| e.to_string());
    if let Some(reason) = &failure {
        tracing::error!(group = %group_id, cluster = %cluster_id, %reason, "member reboot failed");
    }
    state
        .model()
        .finish_member_reboot(&group_id, &cluster_id, &addresses, failure, state.now());
    tracing::info!(group = %group_id, cluster = %cluster_id, "member node rebooted");
}

async fn restart_member(
    runtime: &mut crate::engine::Runtime,
    cluster_id: &str,
) -> Result<(), crate::engine::EngineError> {
    let index = (0..runtime.node_addresses().len())
        .find(|i| runtime.member_at(*i) == cluster_id)
        .ok_or_else(|| crate::engine::EngineError::start(cluster_id, "no such member"))?;
    if runtime.is_primary(index) {
        runtime.restart_failed_primary(index).await?;
        runtime.wait_resynced_from(index).await;
        Ok(())
    } else {
        runtime.recover(index).await
    }
}
