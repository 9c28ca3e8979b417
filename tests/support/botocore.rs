//! What botocore itself (its real query parser and the real ElastiCache model) reads from an
//! answer: the proof that an error body is one every SDK understands.

use std::process::Command;

/// What `../shared/tools/botocore-parse.py` (botocore's real query parser and the real
/// ElastiCache model) makes of an error body: its printed response dict.
pub fn botocore_parse(operation: &str, body: &str, status: u16) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body).unwrap();
    let tool = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/tools/botocore-parse.py"
    );
    let output = Command::new("python3")
        .arg(tool)
        .arg(operation)
        .arg(file.path())
        .arg(status.to_string())
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "botocore could not parse {body:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts botocore reads a ClientError with `code` and `status` from `body`.
pub fn assert_botocore_error(body: &str, status: u16, code: &str) {
    let parsed = botocore_parse("DescribeReplicationGroups", body, status);
    assert!(
        parsed.contains(&format!("'Code': '{code}'"))
            && parsed.contains(&format!("'HTTPStatusCode': {status}")),
        "botocore parsed {parsed} from {body:?}, not {code} {status}"
    );
}
