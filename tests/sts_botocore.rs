//! The STS `GetCallerIdentity` encodings, fed to botocore's real parser with the real STS
//! model (tests/python/sts_parse.py).

use std::io::Write;
use std::process::{Command, Stdio};

use elasticache_local::protocol::sts::{CallerIdentity, json_response, query_response};
use serde_json::{Value, json};

fn botocore_parse(protocol: &str, body: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/sts_parse.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let request = json!({"protocol": protocol, "status": 200, "body": body});
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "botocore could not parse: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn query_form_parses_with_botocore() {
    let identity = CallerIdentity::root("123456789012");
    let out = botocore_parse("query", &query_response(&identity, "rid-1"));
    let parsed = &out["parsed"];
    assert_eq!(parsed["Account"], "123456789012");
    assert_eq!(parsed["UserId"], "123456789012");
    assert_eq!(parsed["Arn"], "arn:aws:iam::123456789012:root");
    assert_eq!(parsed["ResponseMetadata"]["RequestId"], "rid-1");
    // What this botocore's STS model declares (the query form is the one it sends).
    assert!(
        out["model_protocols"]
            .as_array()
            .is_some_and(|p| p.iter().any(|p| p == "query")),
        "{out}"
    );
}

#[test]
fn json_form_parses_with_botocore() {
    let identity = CallerIdentity::root("000000000000");
    let parsed = &botocore_parse("json", &json_response(&identity))["parsed"];
    assert_eq!(parsed["Account"], "000000000000");
    assert_eq!(parsed["Arn"], "arn:aws:iam::000000000000:root");
    assert_eq!(parsed["ResponseMetadata"]["RequestId"], "from-header");
}
