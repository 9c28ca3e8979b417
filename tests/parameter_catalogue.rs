//! The redis7 parameter catalogue against a real redis-server: every modifiable `immediate`
//! parameter's default, mapped the way the service would apply it (`node_config`), must be
//! accepted by `CONFIG SET` and read back by `CONFIG GET`; the ones the catalogue says the
//! service handles itself must not be redis settings at all, and every parameter the mapping
//! renames or combines must be refused by redis under its ElastiCache name and value.
//!
//! The redis is the test's own (`support::StandaloneRedis`).

use std::collections::BTreeMap;

mod support;

use support::StandaloneRedis;

use elasticache_local::model::catalogue::parameters::{
    ChangeType, NodeConfig, Parameter, client_output_buffer_limit, family_parameters, node_config,
};

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

/// What applying a family's defaults to a node came to.
#[derive(Default)]
struct Applied {
    accepted: usize,
    refused: Vec<String>,
    service_handled: Vec<&'static str>,
    /// class -> field (`hard-limit`, ...) -> value, set together afterwards.
    buffer_limits: BTreeMap<&'static str, BTreeMap<String, String>>,
}

impl Applied {
    fn set(&mut self, con: &mut redis::Connection, what: &str, name: &str, value: &str) {
        match config_set(con, name, value) {
            Ok(()) => {
                self.accepted += 1;
                let got = config_get(con, name);
                if name == "client-output-buffer-limit" {
                    // Read back as all three classes in one value.
                    assert!(got[1].contains(value), "{what}: read back {got:?}");
                } else {
                    assert_eq!(got, [name, value], "{what}: read back");
                }
            }
            Err(e) => self.refused.push(format!("{what}={value:?}: {e}")),
        }
    }
}

/// Applies one parameter's default the way the service would (`node_config`), after checking
/// that a parameter the mapping rewrites is indeed refused by redis as ElastiCache names it.
fn apply_default(con: &mut redis::Connection, p: &Parameter, out: &mut Applied) {
    let mapping = node_config(p.name, p.default);
    if mapping != NodeConfig::Direct {
        let raw = config_set(con, p.name, p.default);
        assert!(
            raw.is_err(),
            "{}={:?} is CONFIG SET-able as is",
            p.name,
            p.default
        );
    }
    match mapping {
        NodeConfig::Direct => out.set(con, p.name, p.name, p.default),
        NodeConfig::Renamed { name, value } => out.set(con, p.name, name, &value),
        // A startup setting (`databases`) is given on a restarted node's command line.
        NodeConfig::Service(_) | NodeConfig::Startup => out.service_handled.push(p.name),
        NodeConfig::ClientOutputBufferLimit { class } => {
            let field = p.name.rsplit_once(&format!("{class}-")).unwrap().1;
            out.buffer_limits
                .entry(class)
                .or_default()
                .insert(field.to_string(), p.default.to_string());
        }
    }
}

fn apply_buffer_limits(con: &mut redis::Connection, out: &mut Applied) {
    for (class, fields) in std::mem::take(&mut out.buffer_limits) {
        let [hard, soft, secs] = ["hard-limit", "soft-limit", "soft-seconds"].map(|f| {
            fields
                .get(f)
                .unwrap_or_else(|| panic!("{class} lacks {f}"))
                .clone()
        });
        let value = client_output_buffer_limit(class, &hard, &soft, &secs);
        out.set(
            con,
            "client-output-buffer-limit",
            "client-output-buffer-limit",
            &value,
        );
    }
}

fn server_version(con: &mut redis::Connection) -> String {
    let info: String = redis::cmd("INFO").arg("server").query(con).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("redis_version:"))
        .unwrap_or("?")
        .to_string()
}

#[test]
fn redis7_immediate_defaults_are_accepted_by_config_set() {
    let (_server, mut con) = StandaloneRedis::start();
    let version = server_version(&mut con);
    let mut out = Applied::default();
    let params = family_parameters("redis7").unwrap();
    let immediate = params
        .iter()
        .filter(|p| p.modifiable && p.change_type == ChangeType::Immediate);
    for p in immediate {
        apply_default(&mut con, p, &mut out);
    }
    apply_buffer_limits(&mut con, &mut out);
    println!(
        "redis-server {version}: {} CONFIG SETs accepted; service-handled: {:?}",
        out.accepted, out.service_handled
    );
    assert!(out.accepted > 30, "only {} accepted", out.accepted);
    assert!(
        out.refused.is_empty(),
        "refused by redis {version}: {:#?}",
        out.refused
    );

    // What the catalogue calls service-handled really is not a redis setting.
    for name in [
        "reserved-memory",
        "reserved-memory-percent",
        "rename-commands",
    ] {
        assert!(out.service_handled.contains(&name), "{name}");
        assert!(
            config_get(&mut con, name).is_empty(),
            "{name} is a redis setting"
        );
    }
    assert!(config_get(&mut con, "close-on-replica-write").is_empty());
}
