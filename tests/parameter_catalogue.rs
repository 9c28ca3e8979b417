//! The redis7 parameter catalogue against a real redis-server: every modifiable `immediate`
//! parameter's default, mapped the way the service would apply it (`node_config`), must be
//! accepted by `CONFIG SET` and read back by `CONFIG GET`; the ones the catalogue says the
//! service handles itself must not be redis settings at all, and every parameter the mapping
//! renames or combines must be refused by redis under its ElastiCache name and value.
//!
//! The server is the `redis-server` on PATH (or `ELASTICACHE_LOCAL_REDIS_SERVER`), owned by the
//! test: started in a temp dir without persistence, killed and reaped on drop, and (Linux) sent
//! SIGKILL by the kernel if the test process dies first.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use elasticache_local::model::catalogue::parameters::{
    ChangeType, NodeConfig, client_output_buffer_limit, family_parameters, node_config,
};

struct OwnedRedis {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for OwnedRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis_binary() -> String {
    std::env::var("ELASTICACHE_LOCAL_REDIS_SERVER").unwrap_or_else(|_| "redis-server".into())
}

fn free_loopback_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().unwrap().port()
}

fn spawn_redis(port: u16) -> OwnedRedis {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(redis_binary());
    command
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    let child = command.spawn().expect("start redis-server");
    OwnedRedis {
        child,
        port,
        _dir: dir,
    }
}

/// Starts redis-server on a free loopback port and waits (polling PING) until it answers. A
/// port taken between probe and bind makes the server exit: then another port is tried.
fn start_redis() -> (OwnedRedis, redis::Connection) {
    for _ in 0..3 {
        let mut server = spawn_redis(free_loopback_port());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if server.child.try_wait().unwrap().is_some() {
                break;
            }
            let url = format!("redis://127.0.0.1:{}/", server.port);
            if let Ok(mut con) = redis::Client::open(url).unwrap().get_connection()
                && redis::cmd("PING").query::<String>(&mut con).is_ok()
            {
                return (server, con);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    panic!("redis-server did not start");
}

fn config_set(con: &mut redis::Connection, name: &str, value: &str) -> Result<(), String> {
    redis::cmd("CONFIG")
        .arg("SET")
        .arg(name)
        .arg(value)
        .query::<()>(con)
        .map_err(|e| e.to_string())
}

fn config_get(con: &mut redis::Connection, name: &str) -> Vec<String> {
    redis::cmd("CONFIG")
        .arg("GET")
        .arg(name)
        .query(con)
        .expect("CONFIG GET")
}

#[test]
fn redis7_immediate_defaults_are_accepted_by_config_set() {
    let (_server, mut con) = start_redis();
    let version: String = redis::cmd("INFO").arg("server").query(&mut con).unwrap();
    let version = version
        .lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .to_string();

    let mut refused = Vec::new();
    let mut applied = 0;
    let mut service_handled = Vec::new();
    let mut buffer_limits: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    let params = family_parameters("redis7").unwrap();
    for p in params
        .iter()
        .filter(|p| p.modifiable && p.change_type == ChangeType::Immediate)
    {
        let mapping = node_config(p.name, p.default);
        if mapping != NodeConfig::Direct {
            // The mapping exists because redis refuses the parameter as ElastiCache names it.
            let raw = config_set(&mut con, p.name, p.default);
            assert!(
                raw.is_err(),
                "{}={:?} is CONFIG SET-able as is",
                p.name,
                p.default
            );
        }
        let (name, value) = match mapping {
            NodeConfig::Direct => (p.name.to_string(), p.default.to_string()),
            NodeConfig::Renamed { name, value } => (name.to_string(), value),
            NodeConfig::Service(_) => {
                service_handled.push(p.name);
                continue;
            }
            NodeConfig::ClientOutputBufferLimit { class } => {
                let field = p.name.rsplit_once(&format!("{class}-")).unwrap().1;
                buffer_limits
                    .entry(class)
                    .or_default()
                    .insert(field.to_string(), p.default.to_string());
                continue;
            }
        };
        match config_set(&mut con, &name, &value) {
            Ok(()) => {
                applied += 1;
                let got = config_get(&mut con, &name);
                assert_eq!(got, [name.clone(), value.clone()], "{} read back", p.name);
            }
            Err(e) => refused.push(format!("{}={value:?}: {e}", p.name)),
        }
    }
    for (class, fields) in &buffer_limits {
        let [hard, soft, secs] = ["hard-limit", "soft-limit", "soft-seconds"].map(|f| {
            fields
                .get(f)
                .unwrap_or_else(|| panic!("{class} lacks {f}"))
                .as_str()
        });
        let value = client_output_buffer_limit(class, hard, soft, secs);
        match config_set(&mut con, "client-output-buffer-limit", &value) {
            Ok(()) => {
                applied += 1;
                let got = config_get(&mut con, "client-output-buffer-limit");
                assert!(got[1].contains(&value), "{got:?} lacks {value}");
            }
            Err(e) => refused.push(format!("client-output-buffer-limit {value:?}: {e}")),
        }
    }
    println!(
        "redis-server {version}: {applied} CONFIG SETs accepted; service-handled: {service_handled:?}"
    );
    assert!(applied > 30, "only {applied} applied");
    assert!(
        refused.is_empty(),
        "refused by redis {version}: {refused:#?}"
    );

    // What the catalogue calls service-handled really is not a redis setting.
    for name in [
        "reserved-memory",
        "reserved-memory-percent",
        "rename-commands",
    ] {
        assert!(service_handled.contains(&name), "{name}");
        assert!(
            config_get(&mut con, name).is_empty(),
            "{name} is a redis setting"
        );
    }
    assert!(config_get(&mut con, "close-on-replica-write").is_empty());
}
