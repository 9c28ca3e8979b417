//! Each parameter group family's parameters (what `DescribeEngineDefaultParameters` lists and
//! every `default.<family>` group holds), the validation of a value set on a group, and how an
//! ElastiCache parameter reaches a node.
//!
//! The data is `parameters.tsv` (its header says where it comes from and how to read it):
//! one row per parameter and range of families, so a family's list is every row whose range
//! covers it. Descriptions are short forms of the AWS guide's text, not byte-for-byte the
//! API's `Description` strings.

use std::sync::OnceLock;

use super::engine_versions::FAMILIES;
use crate::protocol::ApiError;

const DATA: &str = include_str!("parameters.tsv");

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DataType {
    String,
    Integer,
    Boolean,
}

impl DataType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Integer => "integer",
            Self::Boolean => "boolean",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChangeType {
    Immediate,
    RequiresReboot,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Immediate => "immediate",
            Self::RequiresReboot => "requires-reboot",
        }
    }
}

/// One `Parameter` as the API shows it in a default group (`Source` is `system` there; a
/// group's own values are the group layer's, shown as `user`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameter {
    pub name: &'static str,
    pub default: &'static str,
    pub description: &'static str,
    pub data_type: DataType,
    /// AWS's notation: `yes,no`, `1-75`, `0-` (no upper bound), `0,20-`; `None` for free text.
    pub allowed: Option<&'static str>,
    pub modifiable: bool,
    pub min_version: &'static str,
    pub change_type: ChangeType,
}

impl Parameter {
    pub const SOURCE: &'static str = "system";
}

struct Row {
    since: usize,
    until: usize,
    min_version: &'static str,
    parameter: Parameter,
}

/// The engine version each family starts at: a parameter's `MinimumEngineVersion` unless it
/// came later within the family.
const FAMILY_FIRST_VERSIONS: [&str; 9] = [
    "2.6.13", "2.8.6", "3.2.4", "4.0.10", "5.0.0", "6.0.0", "7.0.0", "7.2.4", "8.0.0",
];

fn family_index(family: &str) -> Option<usize> {
    FAMILIES.iter().position(|f| *f == family)
}

fn rows() -> &'static [Row] {
    static ROWS: OnceLock<Vec<Row>> = OnceLock::new();
    ROWS.get_or_init(|| {
        DATA.lines()
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|line| parse_row(line).unwrap_or_else(|e| panic!("parameters.tsv: {e}: {line}")))
            .collect()
    })
}

fn parse_row(line: &'static str) -> Result<Row, String> {
    let f: Vec<&'static str> = line.split('|').collect();
    let [
        name,
        since,
        until,
        default,
        ty,
        allowed,
        modifiable,
        change,
        min,
        description,
    ] = f[..]
    else {
        return Err(format!("{} fields, not 10", f.len()));
    };
    let index = |fam: &str| family_index(fam).ok_or(format!("unknown family {fam}"));
    let parameter = Parameter {
        name,
        default,
        description,
        data_type: match ty {
            "string" => DataType::String,
            "integer" => DataType::Integer,
            "boolean" => DataType::Boolean,
            _ => return Err(format!("unknown type {ty}")),
        },
        allowed: (!allowed.is_empty()).then_some(allowed),
        modifiable: modifiable.parse().map_err(|_| "modifiable".to_string())?,
        min_version: "",
        change_type: match change {
            "immediate" => ChangeType::Immediate,
            "requires-reboot" => ChangeType::RequiresReboot,
            _ => return Err(format!("unknown change type {change}")),
        },
    };
    Ok(Row {
        since: index(since)?,
        until: if until == "-" {
            FAMILIES.len()
        } else {
            index(until)?
        },
        min_version: min,
        parameter,
    })
}

/// Splits a parameter group family or default group name: `redis7.cluster.on` is `redis7`
/// with `cluster-enabled yes`.
fn split_cluster_on(family: &str) -> (&str, bool) {
    match family.strip_suffix(".cluster.on") {
        Some(base) => (base, true),
        None => (family, false),
    }
}

/// The parameters of `family` (`redis7`), sorted by name, or `None` for an unknown family.
/// `redis7.cluster.on` is accepted too and differs only in `cluster-enabled yes`.
pub fn family_parameters(family: &str) -> Option<Vec<Parameter>> {
    let (base, cluster_on) = split_cluster_on(family);
    let index = family_index(base)?;
    let mut list: Vec<Parameter> = rows()
        .iter()
        .filter(|r| r.since <= index && index < r.until)
        .map(|r| {
            let mut p = r.parameter.clone();
            p.min_version = later_version(FAMILY_FIRST_VERSIONS[index], r.min_version);
            if cluster_on && p.name == "cluster-enabled" {
                p.default = "yes";
            }
            p
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(b.name));
    Some(list)
}

fn later_version(a: &'static str, b: &'static str) -> &'static str {
    let key = |v: &str| -> Vec<u32> { v.split('.').filter_map(|p| p.parse().ok()).collect() };
    if b.is_empty() || key(a) >= key(b) {
        a
    } else {
        b
    }
}

/// The parameters of a `default.<family>[.cluster.on]` group, or `None` if no such group.
pub fn default_group_parameters(group_name: &str) -> Option<Vec<Parameter>> {
    family_parameters(group_name.strip_prefix("default.")?)
}

/// Checks one `ParameterNameValue` of `ModifyCacheParameterGroup` against the family: the name
/// must exist, be modifiable, and the value fit its type and allowed values. The errors are
/// `InvalidParameterValue` naming the parameter (AWS's code; the wording is ours).
pub fn validate(family: &str, name: &str, value: &str) -> Result<&'static str, ApiError> {
    let invalid = |m: String| Err(ApiError::InvalidParameterValue(m));
    let list = family_parameters(family).unwrap_or_default();
    let Some(p) = list.iter().find(|p| p.name == name) else {
        return invalid(format!(
            "Unrecognized parameter name {name} for parameter group family {family}."
        ));
    };
    if !p.modifiable {
        return invalid(format!("Parameter {name} is not modifiable."));
    }
    if value_fits(p, value) {
        Ok(p.name)
    } else {
        let allowed = p
            .allowed
            .unwrap_or("keyspace event classes K,E,g,$,l,s,h,z,x,e,t,m,d,n,A");
        invalid(format!(
            "Invalid value {value:?} for parameter {name} (type {}, allowed values: {allowed}).",
            p.data_type.as_str()
        ))
    }
}

fn value_fits(p: &Parameter, value: &str) -> bool {
    if p.name == "notify-keyspace-events" {
        return value.chars().all(|c| "KEg$lshzxetmdnA".contains(c));
    }
    let Some(allowed) = p.allowed else {
        return true;
    };
    match p.data_type {
        DataType::Integer => value
            .parse::<i64>()
            .is_ok_and(|n| allowed.split(',').any(|item| integer_item_fits(item, n))),
        DataType::String | DataType::Boolean => allowed.split(',').any(|item| item == value),
    }
}

/// One item of an integer `AllowedValues`: `5`, `-2`, `1-75` or `20-` (no upper bound).
fn integer_item_fits(item: &str, n: i64) -> bool {
    // A leading `-` is a sign; the range dash is the first one after it.
    let split = item[1..].find('-').map(|i| i + 1);
    let Some(at) = split else {
        return item.parse() == Ok(n);
    };
    let (low, high) = (&item[..at], &item[at + 1..]);
    let low_ok = low.parse::<i64>().is_ok_and(|l| n >= l);
    let high_ok = high.is_empty() || high.parse::<i64>().is_ok_and(|h| n <= h);
    low_ok && high_ok
}

/// How an ElastiCache parameter reaches a running node.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NodeConfig {
    /// `CONFIG SET <name> <value>`, the same name and value (most parameters).
    Direct,
    /// `CONFIG SET` under another name or value form.
    Renamed { name: &'static str, value: String },
    /// One of the three values of `client-output-buffer-limit <class> <hard> <soft> <secs>`:
    /// set together with its two siblings (see [`client_output_buffer_limit`]).
    ClientOutputBufferLimit { class: &'static str },
    /// Not a redis setting: the service itself acts on it (memory reservation, command renames,
    /// the cluster-mode choice, ElastiCache's replica-write closing).
    Service(&'static str),
    /// A redis setting no `CONFIG SET` can change (`databases`): a node gets it on its command
    /// line when it (re)starts, so a reboot applies it.
    Startup,
}

/// Where `name`=`value` goes on a node. Parameters not listed are 1:1 `CONFIG SET`-able.
pub fn node_config(name: &str, value: &str) -> NodeConfig {
    match name {
        "reserved-memory" | "reserved-memory-percent" => {
            NodeConfig::Service("lowers the node's maxmemory; not a redis setting")
        }
        "cluster-enabled" => {
            NodeConfig::Service("chooses cluster mode when a group is created; not CONFIG SET-able")
        }
        "rename-commands" => NodeConfig::Service("an ElastiCache command-renaming layer"),
        "close-on-replica-write" | "close-on-slave-write" => {
            NodeConfig::Service("ElastiCache's own: the proxy closes clients writing to a replica")
        }
        "databases" => NodeConfig::Startup,
        // tls-dynamic means a hostname under TLS, an address otherwise; nodes here speak no TLS.
        "cluster-preferred-endpoint-type" if value == "tls-dynamic" => NodeConfig::Renamed {
            name: "cluster-preferred-endpoint-type",
            value: "ip".into(),
        },
        _ => match name.strip_prefix("client-output-buffer-limit-") {
            Some(rest) => {
                let class = rest.split('-').next().unwrap_or("");
                match class {
                    "normal" => NodeConfig::ClientOutputBufferLimit { class: "normal" },
                    "pubsub" => NodeConfig::ClientOutputBufferLimit { class: "pubsub" },
                    _ => NodeConfig::ClientOutputBufferLimit { class: "replica" },
                }
            }
            None => NodeConfig::Direct,
        },
    }
}

/// The value of `CONFIG SET client-output-buffer-limit` for one class from the group's three
/// parameters (`client-output-buffer-limit-<class>-{hard-limit,soft-limit,soft-seconds}`).
pub fn client_output_buffer_limit(class: &str, hard: &str, soft: &str, seconds: &str) -> String {
    format!("{class} {hard} {soft} {seconds}")
}

#[cfg(test)]
#[path = "parameters_tests.rs"]
mod tests;
