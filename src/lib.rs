//! elasticache-local: the Amazon ElastiCache query API over real redis-server processes.
//!
//! Layers, each depending only on those above it:
//! - [`protocol`]: awsQuery decoding, XML encoding, the `ErrorResponse` envelope. No Redis.
//! - [`model`]: replication groups, the event log, the TestFailover quota. Synchronous state
//!   with an injected clock. No Redis, no HTTP.
//! - [`engine`]: redis-server processes, replication, promotion, endpoint proxies. No HTTP.
//! - [`api`] (one file per Action) and [`workflows`] (background tasks such as a failover)
//!   glue them; [`server`] is the HTTP front, [`control`] its `/_health` and `/_reset`, and
//!   [`fixtures`] the startup groups.

pub mod api;
pub mod config;
pub mod control;
pub mod dashboard;
pub mod data_dir_lock;
pub mod engine;
pub mod fixtures;
pub mod http_errors;
pub mod http_guard;
pub mod http_serve;
pub mod http_timed_io;
pub mod logging;
pub mod model;
pub mod protocol;
pub mod rlimit;
pub mod server;
pub mod state;
pub mod workflows;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use config::Config;
use engine::Engine;
use model::{Model, SystemClock};
use state::{AppState, Settings};

/// Runs the server until SIGTERM or SIGINT, then stops every node and endpoint.
pub async fn run(config: Config) -> Result<(), String> {
    rlimit::raise_nofile_limit();
    let redis_server = Engine::locate_redis_server(&config.redis_server)?;
    let failover_timing = config.failover_timing()?;
    let (data_dir, _temp_dir) = data_dir(&config)?;
    let settings = Settings {
        region: config.region.clone(),
        account_id: config.account_id.clone(),
        failover_timing,
        health_check_interval: std::time::Duration::from_millis(
            config.health_check_interval_ms.max(10),
        ),
        verifier: config.verifier()?,
    };
    let window =
        chrono::Duration::seconds(config.failover_quota_window.min(i64::MAX as u64 / 1000) as i64);
    let model = Model::new(config.failover_quota, window);
    let engine = Engine::new(redis_server.clone(), data_dir.clone());
    let state = Arc::new(AppState::new(
        model,
        engine,
        settings,
        Arc::new(SystemClock),
    ));
    tracing::info!(redis_server = %redis_server.display(), data_dir = %data_dir.display(), "starting");
    // Learn the version in the background: it is only needed by the first CreateReplicationGroup.
    let background = state.clone();
    tokio::spawn(async move { background.engine.redis_version().await });

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    if let Some(path) = &config.fixtures
        && let Err(error) = fixtures::load(&state, path).await
    {
        state.engine.shutdown().await;
        return Err(error);
    }
    println!("elasticache-local listening on http://{address}");
    let _ = std::io::stdout().flush();

    let policy = Arc::new(http_guard::HostPolicy::new(address, &config.allowed_host));
    let app = server::app(state.clone()).layer(axum::middleware::from_fn_with_state(
        (policy, state.clone()),
        http_guard::guard,
    ));
    http_serve::serve(listener, app, config.serve_limits(), shutdown_signal()).await;
    tracing::info!("shutting down: stopping every node");
    state.engine.shutdown().await;
    Ok(())
}

/// The data dir; a temp one comes with its owner lock, and stale ones are removed first.
type TempData = (tempfile::TempDir, data_dir_lock::OwnerLock);

fn data_dir(config: &Config) -> Result<(PathBuf, Option<TempData>), String> {
    match &config.data_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create --data-dir {}: {e}", dir.display()))?;
            Ok((dir.clone(), None))
        }
        None => {
            let temp = tempfile::Builder::new()
                .prefix(data_dir_lock::TEMP_DIR_PREFIX)
                .tempdir()
                .map_err(|e| format!("cannot create a temp dir: {e}"))?;
            let lock = data_dir_lock::lock(temp.path())?;
            data_dir_lock::remove_stale(&std::env::temp_dir(), temp.path());
            Ok((temp.path().to_path_buf(), Some((temp, lock))))
        }
    }
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
    }
}
