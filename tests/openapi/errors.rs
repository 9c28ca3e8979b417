//! The error codes openapi.yaml lists against the ones the server's error enum answers.

use super::*;

/// The body of `pub fn <name>(&self)` in an error.rs (up to the end of its `match`).
fn error_fn<'a>(source: &'a str, name: &str) -> &'a str {
    source
        .split(&format!("pub fn {name}(&self)"))
        .nth(1)
        .and_then(|rest| rest.split("\n    }\n").next())
        .unwrap_or_else(|| {
            panic!("ApiError::{name} not found in src/protocol/error.rs or src/http/error.rs")
        })
}

/// `ApiError`'s wire codes with their HTTP status, read from `ApiError::code` in
/// src/protocol/error.rs and `ApiError::status` at the HTTP edge, src/http/error.rs.
fn server_error_codes() -> BTreeMap<String, u16> {
    let source = std::fs::read_to_string(root().join("src/protocol/error.rs")).expect("error.rs");
    let edge = std::fs::read_to_string(root().join("src/http/error.rs")).expect("http/error.rs");
    let mut code_of = BTreeMap::new();
    // Each arm from one `Self::` to the next (rustfmt may break a long arm over lines).
    for arm in error_fn(&source, "code").split("Self::").skip(1) {
        let (Some(variant), Some(code)) = (
            arm.split('(').next(),
            string_literals(arm).into_iter().next(),
        ) else {
            continue;
        };
        code_of.insert(variant.trim().to_string(), code);
    }
    assert!(!code_of.is_empty(), "no codes found in ApiError::code");
    // `Self::A(_) | Self::B(_) => StatusCode::X,` ... `_ => StatusCode::Y`.
    let mut status_of = BTreeMap::new();
    let mut pending: Vec<String> = Vec::new();
    let mut default = None;
    let words = error_fn(&edge, "status")
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|w| !w.is_empty());
    for word in words {
        if let Some(variant) = word.strip_prefix("Self::") {
            pending.push(variant.to_string());
        } else if let Some(name) = word.strip_prefix("StatusCode::") {
            let status = status_number(name)
                .unwrap_or_else(|| panic!("unknown StatusCode::{name} in ApiError::status"));
            if pending.is_empty() {
                default = Some(status);
            }
            for variant in pending.drain(..) {
                status_of.insert(variant, status);
            }
        }
    }
    code_of
        .into_iter()
        .map(|(variant, code)| {
            let status = status_of
                .get(&variant)
                .copied()
                .or(default)
                .unwrap_or_else(|| panic!("no status for ApiError::{variant}"));
            (code, status)
        })
        .collect()
}

fn status_number(name: &str) -> Option<u16> {
    Some(match name {
        "BAD_REQUEST" => 400,
        "FORBIDDEN" => 403,
        "NOT_FOUND" => 404,
        "TOO_MANY_REQUESTS" => 429,
        "INTERNAL_SERVER_ERROR" => 500,
        "SERVICE_UNAVAILABLE" => 503,
        _ => return None,
    })
}

/// The error codes: `ErrorCode` lists exactly the codes of the server's error type, and each
/// action's `x-elasticache-local-errors` uses only those, with the status the server gives them.
#[test]
fn error_codes_match_the_server() {
    let server = server_error_codes();
    let server_codes: BTreeSet<String> = server.keys().cloned().collect();
    let spec_codes = strings(&schemas()["ErrorCode"]["enum"]);
    let mut problems = Vec::new();
    for missing in server_codes.difference(&spec_codes) {
        problems.push(format!(
            "ApiError has code {missing}, ErrorCode in openapi.yaml does not"
        ));
    }
    for extra in spec_codes.difference(&server_codes) {
        problems.push(format!(
            "ErrorCode in openapi.yaml has {extra}, ApiError does not"
        ));
    }
    let listed = schemas()["ErrorCode"]["enum"]
        .as_array()
        .map_or(0, Vec::len);
    if listed != spec_codes.len() {
        problems.push(format!(
            "ErrorCode's enum lists {listed} codes, {} of them distinct",
            spec_codes.len()
        ));
    }
    // The whole table, which tests/schemathesis/checks.py reads instead of keeping its own.
    let table = &schemas()["ErrorCode"]["x-elasticache-local-status"];
    let table: BTreeMap<String, u16> = table
        .as_object()
        .expect("ErrorCode has x-elasticache-local-status")
        .iter()
        .map(|(code, status)| (code.clone(), status.as_u64().unwrap_or(0) as u16))
        .collect();
    if table != server {
        problems.push(format!(
            "ErrorCode's x-elasticache-local-status is {table:?}, the server's codes and statuses are {server:?}"
        ));
    }
    for (action, schema_name) in spec_actions() {
        let errors = &schemas()[&schema_name]["x-elasticache-local-errors"];
        for (code, status) in errors.as_object().into_iter().flatten() {
            match server.get(code) {
                None => problems.push(format!(
                    "{action}: x-elasticache-local-errors has {code}, which ApiError does not send"
                )),
                Some(&expected) if status.as_u64() != Some(u64::from(expected)) => {
                    problems.push(format!(
                        "{action}: x-elasticache-local-errors gives {code} HTTP {status}, \
                         ApiError::status gives {expected}"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    report(&problems, "error codes");
}
