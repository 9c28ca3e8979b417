//! Command line and environment (`ELASTICACHE_LOCAL_<FLAG>`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

use crate::model::scope::{AccountResolver, Scope, UnknownKeys};
use crate::protocol::sigv4_verify::Verifier;
use crate::state::FailoverTiming;

/// The default port: clear of LocalStack (4566, 4510-4559), moto (5000) and Redis (6379).
pub const DEFAULT_PORT: u16 = 9736;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimingProfile {
    /// As fast as Redis allows.
    Fast,
    /// The phase gaps AWS shows: ~60 s to promotion, ~80 s more to recovery, ~10 min recovering.
    Aws,
}

/// Where nodes and endpoints listen (see `engine::address`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NodeAddresses {
    /// Each node and endpoint on its own 127.X.Y.Z, at the Port asked for (6379 by default),
    /// as on AWS.
    Loopback,
    /// Every node and endpoint on 127.0.0.1, each on a free port of its own.
    Shared,
}

impl NodeAddresses {
    pub fn addressing(self) -> crate::engine::Addressing {
        match self {
            Self::Loopback => crate::engine::Addressing::Loopback,
            Self::Shared => crate::engine::Addressing::Shared,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum UnknownKeyRule {
    Default,
    Hashed,
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "elasticache-local",
    version,
    about = "A local Amazon ElastiCache API over real redis-server processes"
)]
pub struct Config {
    /// Address to listen on (127.0.0.1:0 picks a free port).
    #[arg(long, env = "ELASTICACHE_LOCAL_LISTEN", default_value_t = SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)))]
    pub listen: SocketAddr,

    /// The redis-server binary to run nodes with.
    #[arg(
        long,
        env = "ELASTICACHE_LOCAL_REDIS_SERVER",
        default_value = "redis-server"
    )]
    pub redis_server: PathBuf,

    /// Where nodes and endpoints listen: `loopback` gives each its own 127.X.Y.Z at the Port
    /// asked for (6379 by default), as AWS gives each its own host; `shared` puts all of them
    /// on 127.0.0.1, each on a free port (endpoints then report that port, not the one asked).
    #[arg(long, env = "ELASTICACHE_LOCAL_NODE_ADDRESSES", value_enum, default_value_t = NodeAddresses::Loopback)]
    pub node_addresses: NodeAddresses,

    /// The valkey-server binary `Engine=valkey` nodes run (default: `valkey-server` on PATH,
    /// when there is one; without any, a valkey group is refused with how to get one).
    #[arg(long, env = "ELASTICACHE_LOCAL_VALKEY_SERVER")]
    pub valkey_server: Option<PathBuf>,

    /// A binary for one engine version, as ENGINE:MAJOR.MINOR=PATH (e.g.
    /// `redis:6.2=/opt/redis-6.2/bin/redis-server`; repeat the flag, or separate them by
    /// commas in the environment variable): a group asking for that version runs it.
    #[arg(
        long = "engine-binary",
        env = "ELASTICACHE_LOCAL_ENGINE_BINARIES",
        value_delimiter = ','
    )]
    pub engine_binaries: Vec<String>,

    /// A JSON file of replication groups to create at startup (see README, "Fixtures").
    #[arg(long, env = "ELASTICACHE_LOCAL_FIXTURES")]
    pub fixtures: Option<PathBuf>,

    /// Where node working dirs and logs go (default: a temp dir removed on exit).
    #[arg(long, env = "ELASTICACHE_LOCAL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,

    /// Region used in ARNs when a request carries no SigV4 credential scope.
    #[arg(long, env = "ELASTICACHE_LOCAL_REGION", default_value = "us-east-1")]
    pub region: String,

    /// The default account: unsigned requests and fixtures live in it, and (with
    /// --unknown-keys default) every access key that is neither mapped nor 12 digits.
    #[arg(
        long,
        env = "ELASTICACHE_LOCAL_ACCOUNT_ID",
        default_value = "123456789012"
    )]
    pub account_id: String,

    /// The account of an access key, as ACCESS_KEY_ID=ACCOUNT_ID (repeat the flag, or separate
    /// them by commas in the environment variable). A 12-digit access key is its own account.
    #[arg(
        long = "account",
        env = "ELASTICACHE_LOCAL_ACCOUNTS",
        value_delimiter = ','
    )]
    pub accounts: Vec<String>,

    /// A JSON file mapping access key ids to account ids (`{"AKIDJOB1": "111111111111"}`),
    /// read at start; --account entries win over it.
    #[arg(long, env = "ELASTICACHE_LOCAL_ACCOUNTS_FILE")]
    pub accounts_file: Option<PathBuf>,

    /// Where an access key that is neither mapped nor 12 digits lives: `default` (the
    /// --account-id account, as LocalStack does) or `hashed` (its own stable account).
    #[arg(long, env = "ELASTICACHE_LOCAL_UNKNOWN_KEYS", value_enum, default_value_t = UnknownKeyRule::Default)]
    pub unknown_keys: UnknownKeyRule,

    /// Accepted TestFailover calls allowed per account in any rolling window.
    #[arg(long, env = "ELASTICACHE_LOCAL_FAILOVER_QUOTA", default_value_t = 15)]
    pub failover_quota: usize,

    /// The rolling window of the TestFailover quota, in seconds (default 24 hours).
    #[arg(
        long,
        env = "ELASTICACHE_LOCAL_FAILOVER_QUOTA_WINDOW",
        default_value_t = 86_400
    )]
    pub failover_quota_window: u64,

    /// Manual snapshots allowed per account and region (SnapshotQuotaExceededFault beyond).
    #[arg(long, env = "ELASTICACHE_LOCAL_SNAPSHOT_QUOTA", default_value_t = crate::model::snapshot::DEFAULT_SNAPSHOT_QUOTA)]
    pub snapshot_quota: usize,

    /// Failover phase timing.
    #[arg(long, env = "ELASTICACHE_LOCAL_TIMING_PROFILE", value_enum, default_value_t = TimingProfile::Fast)]
    pub timing_profile: TimingProfile,

    /// Multiplies the `aws` profile's delays (0.01 makes a 60 s gap 0.6 s).
    #[arg(long, env = "ELASTICACHE_LOCAL_TIME_SCALE", default_value_t = 1.0)]
    pub time_scale: f64,

    /// Milliseconds from the kill of the primary to the promotion (overrides the profile).
    #[arg(long, env = "ELASTICACHE_LOCAL_PROMOTION_DELAY_MS")]
    pub promotion_delay_ms: Option<u64>,

    /// Milliseconds from the promotion to the start of recovery (overrides the profile).
    #[arg(long, env = "ELASTICACHE_LOCAL_RECOVERY_DELAY_MS")]
    pub recovery_delay_ms: Option<u64>,

    /// How often every node's health is checked, in milliseconds (automatic failover notices a
    /// dead or frozen node within about this plus 500 ms).
    #[arg(
        long,
        env = "ELASTICACHE_LOCAL_HEALTH_CHECK_INTERVAL_MS",
        default_value_t = 250
    )]
    pub health_check_interval_ms: u64,

    /// Verify SigV4 signatures against --credentials (off by default, as in every local mock).
    #[arg(long, env = "ELASTICACHE_LOCAL_VERIFY_SIGV4", default_value_t = false)]
    pub verify_sigv4: bool,

    /// Credentials accepted by --verify-sigv4, as ACCESS_KEY_ID:SECRET_ACCESS_KEY (repeat the
    /// flag, or separate them by commas in the environment variable).
    #[arg(long, env = "ELASTICACHE_LOCAL_CREDENTIALS", value_delimiter = ',')]
    pub credentials: Vec<String>,

    /// Another `Host` this server answers to, besides loopback names and the listen address
    /// (e.g. a Docker service name; `name` matches any port, `name:port` only that one, `*`
    /// any host). Repeat the flag, or separate them by commas in the environment variable.
    #[arg(long, env = "ELASTICACHE_LOCAL_ALLOWED_HOST", value_delimiter = ',')]
    pub allowed_host: Vec<String>,

    /// Milliseconds a client has to send a request's headers, from its first byte.
    #[arg(
        long,
        env = "ELASTICACHE_LOCAL_HEADER_READ_TIMEOUT_MS",
        default_value_t = 20_000
    )]
    pub header_read_timeout_ms: u64,

    /// Milliseconds a client has to send a request's body, from the end of its headers.
    #[arg(
        long,
        env = "ELASTICACHE_LOCAL_BODY_READ_TIMEOUT_MS",
        default_value_t = 20_000
    )]
    pub body_read_timeout_ms: u64,

    /// Milliseconds a keep-alive connection may sit idle between requests (60 s, as an AWS
    /// load balancer's default idle timeout).
    #[arg(
        long,
        env = "ELASTICACHE_LOCAL_IDLE_TIMEOUT_MS",
        default_value_t = 60_000
    )]
    pub idle_timeout_ms: u64,

    /// Open HTTP connections at most; past it a new one is answered 503 ServiceUnavailable.
    #[arg(
        long,
        env = "ELASTICACHE_LOCAL_MAX_CONNECTIONS",
        default_value_t = 1024
    )]
    pub max_connections: usize,

    /// Least milliseconds recovery takes (overrides the profile).
    #[arg(long, env = "ELASTICACHE_LOCAL_RECOVERY_DURATION_MS")]
    pub recovery_duration_ms: Option<u64>,

    /// Also serve the Toxiproxy API at its bare paths (`/proxies`, ...) on this address, for
    /// Toxiproxy clients that take only a host and port (Toxiproxy's own is 127.0.0.1:8474).
    /// It is always served under `/_toxiproxy` on --listen.
    #[arg(long, env = "ELASTICACHE_LOCAL_TOXIPROXY_LISTEN")]
    pub toxiproxy_listen: Option<SocketAddr>,

    /// Seed for the toxics' random draws (toxicity, latency jitter, slicer sizes): the same
    /// seed gives the same draws for the same connections (default: a random seed).
    #[arg(long, env = "ELASTICACHE_LOCAL_TOXICS_SEED")]
    pub toxics_seed: Option<u64>,

    /// How primary endpoints behave around a failover: `aws` (refused while the primary is
    /// down, then the old primary's address for `--dns-ttl-ms` after the promotion, as a cached
    /// DNS answer) or `fast` (always accepting, re-pointed at once). Default: `aws` with
    /// `--timing-profile aws`, else `fast`.
    #[arg(long, env = "ELASTICACHE_LOCAL_ENDPOINT_BEHAVIOUR", value_enum)]
    pub endpoint_behaviour: Option<EndpointBehaviourChoice>,

    /// The DNS TTL of the `aws` endpoint behaviour, in milliseconds (scaled by
    /// `--time-scale` under `--timing-profile aws`). 5000 is an assumption, not a measured
    /// AWS value.
    #[arg(long, env = "ELASTICACHE_LOCAL_DNS_TTL_MS", default_value_t = 5000)]
    pub dns_ttl_ms: u64,

    /// The level of the one log line per API call (`api call`, target
    /// `elasticache_local::access`): `info` (default), `debug` (shown with `RUST_LOG=debug`
    /// only) or `off`. The failover narration and every other line keep their level.
    #[arg(long, env = "ELASTICACHE_LOCAL_ACCESS_LOG", value_enum, default_value_t = AccessLog::Info)]
    pub access_log: AccessLog,

    /// Let clients run the commands ElastiCache restricts (CONFIG, DEBUG, SHUTDOWN, REPLICAOF,
    /// SLAVEOF, SAVE, BGSAVE, BGREWRITEAOF, MIGRATE, SYNC), as on raw Redis. Off by default:
    /// nodes answer them as ElastiCache does, `ERR unknown command`.
    #[arg(
        long,
        env = "ELASTICACHE_LOCAL_ALLOW_RESTRICTED_COMMANDS",
        default_value_t = false
    )]
    pub allow_restricted_commands: bool,

    /// The CA certificate (PEM) that signs TLS nodes' certificates, with `--tls-ca-key`
    /// (default: a CA made at start). Published at `<data dir>/tls-ca.pem` and `/_tls/ca.pem`.
    #[arg(long, env = "ELASTICACHE_LOCAL_TLS_CA_CERT", requires = "tls_ca_key")]
    pub tls_ca_cert: Option<PathBuf>,

    /// The private key (PEM) of `--tls-ca-cert`.
    #[arg(long, env = "ELASTICACHE_LOCAL_TLS_CA_KEY", requires = "tls_ca_cert")]
    pub tls_ca_key: Option<PathBuf>,
}

/// `--endpoint-behaviour`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EndpointBehaviourChoice {
    Aws,
    Fast,
}

/// How loud the per-request access lines are (`--access-log`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AccessLog {
    Info,
    Debug,
    Off,
}

impl AccessLog {
    /// The filter directive for the access lines' target; `None` leaves them to `RUST_LOG`.
    pub fn directive(self) -> Option<&'static str> {
        // `debug` needs no directive: the lines are written at debug level instead (see
        // `logging::access_line!`), so `RUST_LOG` decides whether they show.
        (self == Self::Off).then_some("elasticache_local::access=off")
    }
}

impl Config {
    /// The user's CA, or a new one for this run.
    pub fn certificate_authority(&self) -> Result<crate::engine::CertificateAuthority, String> {
        match (&self.tls_ca_cert, &self.tls_ca_key) {
            (Some(cert), Some(key)) => crate::engine::CertificateAuthority::from_files(cert, key),
            _ => crate::engine::CertificateAuthority::generate(),
        }
    }

    pub fn serve_limits(&self) -> crate::http::serve::ServeLimits {
        crate::http::serve::ServeLimits {
            header_read: Duration::from_millis(self.header_read_timeout_ms.max(1)),
            body_read: Duration::from_millis(self.body_read_timeout_ms.max(1)),
            idle: Duration::from_millis(self.idle_timeout_ms.max(1)),
            max_connections: self.max_connections,
        }
    }

    /// The access key -> account rule from --account, --accounts-file and --unknown-keys.
    pub fn accounts(&self) -> Result<AccountResolver, String> {
        let mut mapped = HashMap::new();
        if let Some(path) = &self.accounts_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read --accounts-file {}: {e}", path.display()))?;
            let file: HashMap<String, String> = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "--accounts-file {}: expected an object of access key id to account id: {e}",
                    path.display()
                )
            })?;
            mapped.extend(file);
        }
        for pair in &self.accounts {
            match pair.split_once('=') {
                Some((key, account)) if !key.is_empty() => {
                    mapped.insert(key.to_string(), account.to_string());
                }
                _ => {
                    return Err(format!(
                        "--account takes ACCESS_KEY_ID=ACCOUNT_ID, not {pair:?}"
                    ));
                }
            }
        }
        let unknown = match self.unknown_keys {
            UnknownKeyRule::Default => UnknownKeys::DefaultAccount,
            UnknownKeyRule::Hashed => UnknownKeys::Hashed,
        };
        AccountResolver::new(&self.account_id, mapped, unknown)
    }

    /// The signature verifier, when --verify-sigv4 is on.
    pub fn verifier(&self) -> Result<Option<Verifier>, String> {
        if !self.verify_sigv4 {
            return Ok(None);
        }
        let credentials = self
            .credentials
            .iter()
            .map(|pair| match pair.split_once(':') {
                Some((key, secret)) if !key.is_empty() && !secret.is_empty() => {
                    Ok((key.to_string(), secret.to_string()))
                }
                _ => Err(format!(
                    "--credentials takes ACCESS_KEY_ID:SECRET_ACCESS_KEY, not {pair:?}"
                )),
            })
            .collect::<Result<Vec<_>, _>>()?;
        if credentials.is_empty() {
            return Err(
                "--verify-sigv4 needs at least one --credentials ACCESS_KEY_ID:SECRET_ACCESS_KEY"
                    .into(),
            );
        }
        Ok(Some(Verifier::new(credentials).with_service("elasticache")))
    }

    /// --region, checked as a credential scope's region is.
    pub fn checked_region(&self) -> Result<String, String> {
        if Scope::is_valid_region(&self.region) {
            Ok(self.region.clone())
        } else {
            Err(format!("--region {:?} is not a region name", self.region))
        }
    }

    /// A day of automatic snapshots: 24 hours times `--time-scale` (at least 1 s).
    pub fn snapshot_day(&self) -> Result<Duration, String> {
        if !self.time_scale.is_finite() || self.time_scale < 0.0 {
            return Err(format!(
                "--time-scale must be a non-negative number, not {}",
                self.time_scale
            ));
        }
        Ok(Duration::from_secs_f64(
            (86_400.0 * self.time_scale).max(1.0),
        ))
    }

    /// The primary endpoints' behaviour this run (see `engine::EndpointBehaviour`).
    pub fn endpoint_behaviour(&self) -> crate::engine::EndpointBehaviour {
        let aws_profile = self.timing_profile == TimingProfile::Aws;
        let choice = self.endpoint_behaviour.unwrap_or(if aws_profile {
            EndpointBehaviourChoice::Aws
        } else {
            EndpointBehaviourChoice::Fast
        });
        let scale = if aws_profile && self.time_scale.is_finite() {
            self.time_scale.max(0.0)
        } else {
            1.0
        };
        match choice {
            EndpointBehaviourChoice::Fast => crate::engine::EndpointBehaviour::default(),
            EndpointBehaviourChoice::Aws => crate::engine::EndpointBehaviour {
                refuse_while_down: true,
                dns_ttl: Duration::from_secs_f64(self.dns_ttl_ms as f64 / 1000.0 * scale),
            },
        }
    }

    pub fn failover_timing(&self) -> Result<FailoverTiming, String> {
        if !self.time_scale.is_finite() || self.time_scale < 0.0 {
            return Err(format!(
                "--time-scale must be a non-negative number, not {}",
                self.time_scale
            ));
        }
        let scaled = |seconds: f64| Duration::from_secs_f64(seconds * self.time_scale);
        let base = match self.timing_profile {
            TimingProfile::Fast => FailoverTiming::default(),
            TimingProfile::Aws => FailoverTiming {
                before_kill: Duration::ZERO,
                before_promotion: scaled(60.0),
                before_recovery: scaled(80.0),
                recovery_duration: scaled(600.0),
            },
        };
        let ms =
            |value: Option<u64>, default: Duration| value.map_or(default, Duration::from_millis);
        Ok(FailoverTiming {
            before_kill: base.before_kill,
            before_promotion: ms(self.promotion_delay_ms, base.before_promotion),
            before_recovery: ms(self.recovery_delay_ms, base.before_recovery),
            recovery_duration: ms(self.recovery_duration_ms, base.recovery_duration),
        })
    }
}
