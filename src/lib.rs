//! elasticache-local: the Amazon ElastiCache query API over real redis-server processes.
//!
//! The layer rule (keep it: dependencies point one way, and `grep` proves it):
//! - [`protocol`]: awsQuery decoding, XML encoding, the `ErrorResponse` envelope, and
//!   [`protocol::ApiError`], the one enum of wire codes. No Redis, no engine, no HTTP status.
//! - [`model`]: replication groups, the event log, the TestFailover quota. Synchronous state
//!   with an injected clock. Knows no Redis, no engine and no HTTP (`axum`, `http`,
//!   `StatusCode` never appear under `src/model/`); its errors are `ApiError`s.
//! - [`engine`]: redis-server processes, replication, promotion, endpoint proxies, behind one
//!   interface for both cluster modes (`engine::Runtime`). Knows no HTTP, no XML, no protocol
//!   and no model (neither word appears under `src/engine/`); it fails with `EngineError`.
//! - [`api`] (one file per Action, and `From<EngineError> for ApiError`) and `workflows`
//!   (background tasks such as a failover) glue model and engine; they may use every layer.
//! - `http` is the edge: the HTTP front ([`server`]), the control endpoints and dashboard, and
//!   the one mapping of a wire code to an HTTP status. Nothing below it imports it.
//! - [`scopes`]: one [`state::AppState`] (model, caches, engine registry) per account and
//!   region, made on first use; the HTTP front picks a request's from its credentials.
//!
//! `fixtures` (the startup groups), [`config`], [`logging`] and [`state`] (the shared handle
//! over model, engine and settings) sit beside the layers.

pub mod api;
pub mod config;
mod data_dir_lock;
pub mod engine;
mod fixtures;
mod http;
pub mod logging;
pub mod model;
pub mod protocol;
mod rlimit;
pub mod scopes;
pub mod state;
mod workflows;

/// The HTTP front, at the path tests and benches use (`elasticache_local::server::app`).
pub use http::server;

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use config::Config;
use engine::Engine;
use model::{Model, SystemClock};
use scopes::Scopes;
use state::{AppState, Settings};

/// Runs the server until SIGTERM or SIGINT, then stops every node and endpoint.
pub async fn run(config: Config) -> Result<(), String> {
    rlimit::raise_nofile_limit();
    // Before any node starts: the nodes' command names are fixed for the whole run.
    if config.allow_restricted_commands && !engine::restricted::allow_restricted_commands() {
        return Err("--allow-restricted-commands came after the first node started".into());
    }
    let server = build_server(&config)?;
    // `--data-dir`: the previous run's models (every account and region), written again
    // after every change.
    let (restored, writer) = if server.kept {
        let restored =
            workflows::restore_scopes::load_every_scope(&server.scopes, &server.data_dir)?;
        (
            restored,
            Some(workflows::save_model::spawn(server.scopes.clone())),
        )
    } else {
        (Vec::new(), None)
    };
    apply_runtime_settings(&config, &server);
    learn_default_versions(server.state.clone());

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", config.listen))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    bring_up_groups(&config, &server, &restored).await?;
    if let Some(toxiproxy) = config.toxiproxy_listen {
        let toxics = server.state.toxics.clone();
        http::toxiproxy::serve(toxiproxy, toxics, &config.allowed_host).await?;
    }
    println!("elasticache-local listening on http://{address}");
    let _ = std::io::stdout().flush();

    // The Host/Origin checks and the timeouts sit in front of every scope's requests.
    let policy = http::guard::HostPolicy::new(address, &config.allowed_host);
    let guard = Arc::new(http::guard::Guard::new(policy, server.state.clone()));
    let app = server::app_with_scopes(server.scopes.clone());
    let limits = config.serve_limits();
    http::serve::serve(listener, app, guard, limits, shutdown_signal()).await;
    if let Some(writer) = writer {
        writer.finish().await;
    }
    tracing::info!("shutting down: stopping every node");
    server.scopes.shutdown().await;
    Ok(())
}

/// What `run` builds before it listens. The temp data dir (if any) lives as long as this.
struct Server {
    state: Arc<AppState>,
    scopes: Arc<Scopes>,
    binaries: engine::Binaries,
    data_dir: PathBuf,
    ca_file: PathBuf,
    /// `--data-dir` was given: node data and the model outlive the run.
    kept: bool,
    _temp_dir: Option<TempData>,
}

/// Checks the settings, makes the data dir and the CA, and builds the default scope's state.
fn build_server(config: &Config) -> Result<Server, String> {
    let binaries = engine::Binaries::locate(
        &config.redis_server,
        config.valkey_server.as_deref(),
        &config.engine_binaries,
    )?;
    let settings = settings(config)?;
    let (data_dir, temp_dir) = data_dir(config)?;
    let accounts = config.accounts()?;
    let model = model(config);
    let kept = config.data_dir.is_some();
    if kept {
        engine::process::keep_node_data();
    }
    let ca_file = data_dir.join(TLS_CA_FILE);
    let ca = certificate_authority(config, &data_dir, kept)?;
    std::fs::write(&ca_file, ca.cert_pem())
        .map_err(|e| format!("cannot write {}: {e}", ca_file.display()))?;
    let engine = Engine::with_binaries(binaries.clone(), data_dir.clone())
        .with_addressing(config.node_addresses.addressing())
        .with_ca(ca);
    let state = Arc::new(AppState::new(
        model,
        engine,
        settings,
        Arc::new(SystemClock),
    ));
    let scopes = Arc::new(Scopes::new(state.clone(), accounts, data_dir.clone()));
    Ok(Server {
        state,
        scopes,
        binaries,
        data_dir,
        ca_file,
        kept,
        _temp_dir: temp_dir,
    })
}

/// Logs what the run uses and sets the process-wide endpoint behaviour and toxics seed.
fn apply_runtime_settings(config: &Config, server: &Server) {
    for (engine, path) in server.binaries.paths() {
        tracing::info!(engine, binary = %path.display(), "engine binary");
    }
    tracing::info!(
        data_dir = %server.data_dir.display(),
        tls_ca = %server.ca_file.display(),
        "starting"
    );
    let behaviour = config.endpoint_behaviour();
    tracing::info!(
        refuse_while_primary_down = behaviour.refuse_while_down,
        dns_ttl_ms = behaviour.dns_ttl.as_millis() as u64,
        "endpoint behaviour"
    );
    engine::set_endpoint_behaviour(behaviour);
    if let Some(seed) = config.toxics_seed {
        server.state.toxics.set_seed(seed);
    }
}

/// Learns the default versions in the background: only the first create needs them.
fn learn_default_versions(state: Arc<AppState>) {
    tokio::spawn(async move {
        for (engine, _) in engine::binaries::ENGINES {
            let _ = state.engine.choose_binary(engine, None, false).await;
        }
    });
}

/// Restarts the groups the `--data-dir` models hold (`restored`), then creates the `--fixtures` groups.
async fn bring_up_groups(
    config: &Config,
    server: &Server,
    restored: &[Arc<AppState>],
) -> Result<(), String> {
    // Before fixtures: a fixture group the data dir already holds is kept, not created again.
    for scope_state in restored {
        workflows::restore_on_start::restart_groups(scope_state).await;
    }
    if let Some(path) = &config.fixtures
        && let Err(error) = fixtures::load(&server.state, path).await
    {
        server.scopes.shutdown().await;
        return Err(error);
    }
    Ok(())
}

/// The CA certificate TLS clients verify nodes against, in the data dir (and at `/_tls/ca.pem`).
const TLS_CA_FILE: &str = "tls-ca.pem";

/// The CA's key next to its certificate in a `--data-dir`, so TLS groups come back trusted
/// by the same CA after a restart.
const TLS_CA_KEY_FILE: &str = "tls-ca-key.pem";

/// `--tls-ca-*`, else the CA a `--data-dir` keeps (made there on its first run), else a new one.
fn certificate_authority(
    config: &Config,
    data_dir: &std::path::Path,
    kept: bool,
) -> Result<engine::CertificateAuthority, String> {
    let (cert, key) = (data_dir.join(TLS_CA_FILE), data_dir.join(TLS_CA_KEY_FILE));
    let own = kept && config.tls_ca_cert.is_none() && config.tls_ca_key.is_none();
    if own && cert.exists() && key.exists() {
        return engine::CertificateAuthority::from_files(&cert, &key);
    }
    let ca = config.certificate_authority()?;
    if own {
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&key)
            .map_err(|e| format!("cannot write {}: {e}", key.display()))?;
        std::io::Write::write_all(&mut file, ca.key_pem().as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", key.display()))?;
    }
    Ok(ca)
}

/// What every scope shares, each value checked (before the data dir is made).
fn settings(config: &Config) -> Result<Settings, String> {
    Ok(Settings {
        region: config.checked_region()?,
        account_id: config.account_id.clone(),
        failover_timing: config.failover_timing()?,
        health_check_interval: std::time::Duration::from_millis(
            config.health_check_interval_ms.max(10),
        ),
        verifier: config.verifier()?,
        snapshot_day: config.snapshot_day()?,
    })
}

/// The default scope's model, with the TestFailover quota as configured.
fn model(config: &Config) -> Model {
    let window =
        chrono::Duration::seconds(config.failover_quota_window.min(i64::MAX as u64 / 1000) as i64);
    let mut model = Model::new(config.failover_quota, window);
    model.snapshot_quota = config.snapshot_quota;
    model
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
