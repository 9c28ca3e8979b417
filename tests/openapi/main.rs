//! Drift test for openapi.yaml: it must describe exactly the actions the server implements,
//! name only parameters the botocore model has, and name every parameter the server reads.
//!
//! The model is botocore's `elasticache/2015-02-02/service-2.json.gz`, found through
//! `python3 -c 'import botocore'` (CI installs boto3) or named by `ELASTICACHE_MODEL_JSON_GZ`.

#[path = "../support/mod.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

use elasticache_local::api::Action;
use serde_json::{Map, Value};
use support::{python3, repo_path};
use yaml_rust2::{Yaml, YamlLoader};

/// Protocol parameters of every awsQuery request; not members of any input shape.
const PROTOCOL_PARAMETERS: [&str; 2] = ["Action", "Version"];

fn root() -> PathBuf {
    repo_path("")
}

// ---------------------------------------------------------------------------------------------
// Loading

fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = root().join("openapi.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let docs = YamlLoader::load_from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
        assert_eq!(docs.len(), 1, "openapi.yaml must hold one YAML document");
        yaml_to_json(&docs[0])
    })
}

fn yaml_to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Hash(hash) => {
            let mut object = Map::new();
            for (key, value) in hash {
                let key = match key {
                    Yaml::String(s) | Yaml::Real(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => panic!("unsupported YAML key {other:?}"),
                };
                object.insert(key, yaml_to_json(value));
            }
            Value::Object(object)
        }
        Yaml::Array(items) => Value::Array(items.iter().map(yaml_to_json).collect()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(s.clone()), Value::Number),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Null => Value::Null,
        other => panic!("unsupported YAML node {other:?} (aliases are not used in openapi.yaml)"),
    }
}

fn model() -> &'static Value {
    static MODEL: OnceLock<Value> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = model_path();
        let file = std::fs::File::open(&path)
            .unwrap_or_else(|e| panic!("cannot open the botocore model {}: {e}", path.display()));
        let mut json = String::new();
        flate2::read::GzDecoder::new(file)
            .read_to_string(&mut json)
            .unwrap_or_else(|e| panic!("cannot decompress {}: {e}", path.display()));
        serde_json::from_str(&json)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
    })
}

fn model_path() -> PathBuf {
    if let Some(path) = std::env::var_os("ELASTICACHE_MODEL_JSON_GZ") {
        return PathBuf::from(path);
    }
    let script = "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), \
                  'data', 'elasticache', '2015-02-02', 'service-2.json.gz'))";
    let stdout = python3(
        script,
        &[],
        "botocore is needed for the ElastiCache model (python3 -m pip install boto3), or set \
         ELASTICACHE_MODEL_JSON_GZ to service-2.json.gz",
    );
    PathBuf::from(String::from_utf8_lossy(&stdout).trim())
}

// ---------------------------------------------------------------------------------------------
// Reading the spec and the model

fn schemas() -> &'static Map<String, Value> {
    spec()["components"]["schemas"]
        .as_object()
        .expect("openapi.yaml has components.schemas")
}

/// A schema with its `$ref` (if any) followed.
fn resolve(schema: &Value) -> &Value {
    match schema_name(&schema["$ref"]) {
        Some(name) => resolve(&schemas()[name]),
        None => schema,
    }
}

fn schema_name(reference: &Value) -> Option<&str> {
    reference
        .as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
}

/// Action name -> its request schema's name, from `ActionRequest`'s discriminator mapping.
fn spec_actions() -> BTreeMap<String, String> {
    let mapping = schemas()["ActionRequest"]["discriminator"]["mapping"]
        .as_object()
        .expect("components.schemas.ActionRequest.discriminator.mapping");
    mapping
        .iter()
        .map(|(action, reference)| {
            let name = schema_name(reference)
                .unwrap_or_else(|| panic!("mapping of {action} is not a schema reference"));
            (action.clone(), name.to_string())
        })
        .collect()
}

fn supported_actions() -> BTreeSet<String> {
    Action::ALL.iter().map(|a| a.name().to_string()).collect()
}

fn shape(name: &str) -> &'static Value {
    &model()["shapes"][name]
}

/// The operation's input members: name -> member definition.
fn input_members(action: &str) -> &'static Map<String, Value> {
    let input = model()["operations"][action]["input"]["shape"]
        .as_str()
        .unwrap_or_else(|| panic!("the botocore model has no operation {action}"));
    shape(input)["members"].as_object().expect("input members")
}

fn input_required(action: &str) -> BTreeSet<String> {
    let input = model()["operations"][action]["input"]["shape"]
        .as_str()
        .unwrap_or_default();
    strings(&shape(input)["required"])
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// One wire parameter of a request schema: a property (`NodeGroupId`) or a pattern of
/// flattened list keys (`^Tags\.Tag\.[1-9][0-9]*\.Key$`), reduced to its top-level member and,
/// for a list, the member name used for its items.
#[derive(Debug)]
struct SpecParameter {
    key: String,
    member: String,
    list_item: Option<String>,
}

fn spec_parameters(schema: &Value) -> Vec<SpecParameter> {
    let mut parameters = Vec::new();
    for key in schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        parameters.push(SpecParameter {
            key: key.clone(),
            member: key.clone(),
            list_item: None,
        });
    }
    for key in schema["patternProperties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
    {
        // `^Member\.item\.` ...: the segments are literal names joined by `\.`.
        let body = key.trim_start_matches('^');
        let mut segments = body.split("\\.");
        let member: String = segments
            .next()
            .unwrap_or_default()
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        let list_item = segments
            .next()
            .map(|s| s.chars().take_while(char::is_ascii_alphanumeric).collect());
        parameters.push(SpecParameter {
            key: key.clone(),
            member,
            list_item,
        });
    }
    parameters
}

/// The wire name of a list member's items: its `locationName`, or `member`.
fn list_item_name(member: &Value) -> Option<String> {
    let list = shape(member["shape"].as_str()?);
    if list["type"] != "list" {
        return None;
    }
    Some(
        list["member"]["locationName"]
            .as_str()
            .unwrap_or("member")
            .to_string(),
    )
}

// ---------------------------------------------------------------------------------------------
// Reading the source

fn snake_case(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The string literals of Rust source, outside comments (char literals and lifetimes skipped).
mod errors;
mod sources;
use sources::{members_read, string_literals};

fn report(problems: &[String], what: &str) {
    if problems.is_empty() {
        return;
    }
    let mut message = format!("openapi.yaml has drifted ({what}):\n");
    for problem in problems {
        let _ = writeln!(message, "  - {problem}");
    }
    panic!("{message}");
}

// ---------------------------------------------------------------------------------------------
// The tests

/// (a) The actions of openapi.yaml are exactly `Action::ALL`, and every place that lists them
/// (the `oneOf`, the discriminator, each schema's `Action` const, the success envelopes, GET
/// and POST) agrees.
#[test]
fn the_spec_describes_exactly_the_supported_actions() {
    let supported = supported_actions();
    let mapped = spec_actions();
    let in_spec: BTreeSet<String> = mapped.keys().cloned().collect();
    let mut problems = Vec::new();
    for missing in supported.difference(&in_spec) {
        problems.push(format!(
            "{missing} is in Action::ALL but not in openapi.yaml (add {missing}Request to ActionRequest)"
        ));
    }
    for extra in in_spec.difference(&supported) {
        problems.push(format!(
            "{extra} is in openapi.yaml but not in Action::ALL (remove it, or implement it)"
        ));
    }

    let one_of: BTreeSet<String> = schemas()["ActionRequest"]["oneOf"]
        .as_array()
        .expect("ActionRequest.oneOf")
        .iter()
        .filter_map(|r| schema_name(&r["$ref"]).map(str::to_string))
        .collect();
    let targets: BTreeSet<String> = mapped.values().cloned().collect();
    if one_of != targets {
        problems.push(format!(
            "ActionRequest.oneOf {one_of:?} differs from its discriminator mapping {targets:?}"
        ));
    }
    for (action, schema) in &mapped {
        let pinned = &schemas()[schema]["properties"]["Action"]["const"];
        if pinned.as_str() != Some(action) {
            problems.push(format!(
                "{schema}.properties.Action.const is {pinned}, expected \"{action}\""
            ));
        }
    }

    let envelopes: BTreeSet<String> = spec()["components"]["responses"]["ActionSuccess"]["content"]
        ["text/xml"]["schema"]["oneOf"]
        .as_array()
        .expect("components.responses.ActionSuccess text/xml oneOf")
        .iter()
        .filter_map(|r| schema_name(&r["$ref"]).map(str::to_string))
        .collect();
    let expected: BTreeSet<String> = supported.iter().map(|a| format!("{a}Response")).collect();
    for missing in expected.difference(&envelopes) {
        problems.push(format!("the 200 response has no {missing} envelope"));
    }
    for extra in envelopes.difference(&expected) {
        problems.push(format!(
            "the 200 response lists {extra}, which no supported action answers"
        ));
    }
    for action in &supported {
        let envelope = &schemas()[&format!("{action}Response")];
        if envelope["xml"]["name"].as_str() != Some(&format!("{action}Response")) {
            problems.push(format!("{action}Response has no xml.name {action}Response"));
        }
        if envelope["properties"][format!("{action}Result")].is_null() {
            problems.push(format!("{action}Response has no {action}Result element"));
        }
    }

    let root_path = &spec()["paths"]["/"];
    let get_schema = root_path["get"]["parameters"][0]["schema"]["$ref"].clone();
    let post_schema =
        root_path["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
            ["$ref"]
            .clone();
    for (method, schema) in [("GET", get_schema), ("POST", post_schema)] {
        if schema_name(&schema) != Some("ActionRequest") {
            problems.push(format!(
                "{method} / does not take ActionRequest (it takes {schema})"
            ));
        }
    }
    report(&problems, "actions");
}

/// (b) Every parameter openapi.yaml names for an action is a member of the action's input
/// shape in the botocore model, list keys use the model's item names, and the model's
/// required members are required.
#[test]
fn every_spec_parameter_is_a_model_input_member() {
    let mut problems = Vec::new();
    for (action, schema_name) in spec_actions() {
        if !supported_actions().contains(&action) {
            continue; // reported by the test of actions
        }
        let schema = &schemas()[&schema_name];
        let members = input_members(&action);
        for parameter in spec_parameters(schema) {
            if PROTOCOL_PARAMETERS.contains(&parameter.member.as_str()) {
                continue;
            }
            let Some(member) = members.get(&parameter.member) else {
                problems.push(format!(
                    "{action}: `{}` names {}, which is not a member of the model's input shape ({})",
                    parameter.key,
                    parameter.member,
                    members.keys().cloned().collect::<Vec<_>>().join(", ")
                ));
                continue;
            };
            if let Some(item) = &parameter.list_item {
                match list_item_name(member) {
                    Some(expected) if &expected == item => {}
                    Some(expected) => problems.push(format!(
                        "{action}: `{}` uses item name {item}, the model's is {expected} \
                         ({}.{expected}.N)",
                        parameter.key, parameter.member
                    )),
                    None if !matches!(
                        shape(member["shape"].as_str().unwrap_or_default())["type"].as_str(),
                        Some("structure")
                    ) =>
                    {
                        problems.push(format!(
                            "{action}: `{}` flattens {}, which is not a list or structure in the model",
                            parameter.key, parameter.member
                        ));
                    }
                    None => {}
                }
            }
        }
        let required = strings(&schema["required"]);
        for missing in input_required(&action).difference(&required) {
            problems.push(format!(
                "{action}: the model requires {missing}, openapi.yaml does not"
            ));
        }
        for name in &required {
            if schema["properties"][name].is_null() {
                problems.push(format!("{action}: {name} is required but not a property"));
            }
        }
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            let Some(member) = members.get(name) else {
                continue;
            };
            let model_enum = strings(&shape(member["shape"].as_str().unwrap_or_default())["enum"]);
            if model_enum.is_empty() {
                continue;
            }
            let spec_enum = strings(&resolve(property)["enum"]);
            if spec_enum != model_enum {
                problems.push(format!(
                    "{action}: {name} allows {spec_enum:?}, the model's enum is {model_enum:?}"
                ));
            }
        }
    }
    report(&problems, "parameters against the botocore model");
}

/// (c) Every model input member the action's source reads (a string literal of
/// `src/api/<action>.rs` or a parameter-reading helper it uses) is in openapi.yaml.
#[test]
fn every_member_the_server_reads_is_in_the_spec() {
    let mapped = spec_actions();
    let mut problems = Vec::new();
    for action in supported_actions() {
        let Some(schema_name) = mapped.get(&action) else {
            continue; // reported by the test of actions
        };
        let described: BTreeSet<String> = spec_parameters(&schemas()[schema_name])
            .into_iter()
            .map(|p| p.member)
            .collect();
        for (member, file) in members_read(&action) {
            if !described.contains(&member) {
                problems.push(format!(
                    "{action}: {file} reads {member}, which openapi.yaml does not describe"
                ));
            }
        }
    }
    report(&problems, "parameters the server reads");
}
