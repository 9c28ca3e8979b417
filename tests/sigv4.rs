//! SigV4 verification against the real client signer: botocore (python3) signs requests,
//! `Verifier` checks them. Needs no server: the requests are only built, never sent.

mod support;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use chrono::Utc;
use elasticache_local::protocol::ApiError;
use elasticache_local::protocol::sigv4_verify::Verifier;
use serde_json::Value;
use support::python3;

const AKID: &str = "AKIDLOCALTEST";
const SECRET: &str = "local/Secret+Key/For/SigV4/Tests0000000";

/// Signs each case with botocore and prints what would go on the wire, as JSON.
const SIGNER: &str = r#"
import json, sys
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from urllib.parse import urlsplit

akid, secret = sys.argv[1], sys.argv[2]
creds = Credentials(akid, secret)
token_creds = Credentials(akid, secret, "session-token-value")
form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
url = "http://127.0.0.1:9736/"

cases = {
    "post_form": (SigV4Auth(creds, "elasticache", "us-east-1"),
        AWSRequest(method="POST", url=url, data=b"Action=DescribeEvents&Version=2015-02-02", headers=dict(form))),
    "post_form_session_token": (SigV4Auth(token_creds, "elasticache", "eu-west-1"),
        AWSRequest(method="POST", url=url, data=b"Action=DescribeReplicationGroups&Version=2015-02-02", headers=dict(form))),
    "get_params": (SigV4Auth(creds, "elasticache", "us-east-1"),
        AWSRequest(method="GET", url=url, params={"Action": "DescribeEvents", "Version": "2015-02-02",
            "SourceIdentifier": "my group+1/\u1234~*'", "Duration": "60"})),
    "get_url_query": (SigV4Auth(creds, "elasticache", "us-east-1"),
        AWSRequest(method="GET", url=url + "?Version=2015-02-02&Action=DescribeEvents&Marker=a%20b%2Fc")),
    "get_presigned": (SigV4QueryAuth(creds, "elasticache", "us-east-1", expires=300),
        AWSRequest(method="GET", url=url, params={"Action": "DescribeEvents", "Version": "2015-02-02"})),
}
out = {}
for name, (signer, request) in cases.items():
    signer.add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    out[name] = {
        "method": prepared.method,
        "path": parts.path,
        "query": parts.query or None,
        # The HTTP client adds Host from the URL, as botocore assumed when signing.
        "headers": [["Host", parts.netloc]] + [[k, v] for k, v in prepared.headers.items()],
        "body": body.decode("latin-1"),
    }
print(json.dumps(out))
"#;

#[derive(Clone)]
struct Signed {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// The botocore-signed cases, signed once for all the tests.
fn sign_with_botocore() -> &'static [(String, Signed)] {
    static CASES: std::sync::OnceLock<Vec<(String, Signed)>> = std::sync::OnceLock::new();
    CASES.get_or_init(run_signer)
}

fn run_signer() -> Vec<(String, Signed)> {
    let stdout = python3(
        SIGNER,
        &[AKID, SECRET],
        "the botocore signer: python3 with botocore is needed for this test",
    );
    let json: Value = serde_json::from_slice(&stdout).expect("signer prints JSON");
    json.as_object()
        .unwrap()
        .iter()
        .map(|(name, case)| {
            let mut headers = HeaderMap::new();
            for pair in case["headers"].as_array().unwrap() {
                let name = pair[0].as_str().unwrap();
                let value = pair[1].as_str().unwrap();
                headers.append(
                    HeaderName::from_bytes(name.as_bytes()).unwrap(),
                    HeaderValue::from_str(value).unwrap(),
                );
            }
            let body = case["body"]
                .as_str()
                .unwrap()
                .chars()
                .map(|c| c as u8)
                .collect();
            (
                name.clone(),
                Signed {
                    method: case["method"].as_str().unwrap().to_string(),
                    path: case["path"].as_str().unwrap().to_string(),
                    query: case["query"].as_str().map(str::to_string),
                    headers,
                    body,
                },
            )
        })
        .collect()
}

fn verify(verifier: &Verifier, signed: &Signed) -> Result<(), ApiError> {
    verifier.verify(
        &signed.method,
        &signed.path,
        signed.query.as_deref(),
        &signed.headers,
        &signed.body,
        Utc::now(),
    )
}

#[test]
fn botocore_signed_requests_verify_with_the_right_secret_only() {
    let cases = sign_with_botocore();
    assert_eq!(cases.len(), 5);
    let right = Verifier::new(vec![(AKID.into(), SECRET.into())]).with_service("elasticache");
    let wrong = Verifier::new(vec![(AKID.into(), "not-the-secret".into())]);
    let unknown = Verifier::new(vec![("AKIDSOMEONEELSE".into(), SECRET.into())]);

    for (name, signed) in cases {
        assert_eq!(
            verify(&right, signed),
            Ok(()),
            "{name} with the right secret"
        );
        match verify(&wrong, signed) {
            Err(ApiError::SignatureDoesNotMatch(message)) => assert!(
                message.starts_with("The request signature we calculated does not match"),
                "{name}: {message}"
            ),
            other => panic!("{name} with a wrong secret: {other:?}"),
        }
        assert_eq!(
            verify(&unknown, signed),
            Err(ApiError::InvalidClientTokenId(
                "The security token included in the request is invalid.".into()
            )),
            "{name} with an unknown key"
        );
    }
}

#[test]
fn botocore_signed_requests_fail_when_tampered_with() {
    let verifier = Verifier::new(vec![(AKID.into(), SECRET.into())]);
    for (name, signed) in sign_with_botocore() {
        // Another body.
        if !signed.body.is_empty() {
            let mut tampered = Signed {
                body: b"Action=DeleteReplicationGroup&Version=2015-02-02".to_vec(),
                ..signed.clone()
            };
            assert!(
                matches!(
                    verify(&verifier, &tampered),
                    Err(ApiError::SignatureDoesNotMatch(_))
                ),
                "{name}: body"
            );
            tampered.body = signed.body.clone();
            assert_eq!(verify(&verifier, &tampered), Ok(()), "{name}: restored");
        }
        // Another query string.
        if let Some(query) = &signed.query {
            let tampered = Signed {
                query: Some(query.replace("DescribeEvents", "DeleteReplicationGroup")),
                ..signed.clone()
            };
            assert!(
                matches!(
                    verify(&verifier, &tampered),
                    Err(ApiError::SignatureDoesNotMatch(_))
                ),
                "{name}: query"
            );
        }
        // Another host.
        let mut tampered = signed.clone();
        tampered
            .headers
            .insert("host", HeaderValue::from_static("127.0.0.1:9999"));
        assert!(
            matches!(
                verify(&verifier, &tampered),
                Err(ApiError::SignatureDoesNotMatch(_))
            ),
            "{name}: host"
        );
    }
}

#[test]
fn botocore_signed_requests_expire_after_15_minutes() {
    let verifier = Verifier::new(vec![(AKID.into(), SECRET.into())]);
    for (name, signed) in sign_with_botocore() {
        let later = Utc::now() + chrono::Duration::minutes(16);
        match verifier.verify(
            &signed.method,
            &signed.path,
            signed.query.as_deref(),
            &signed.headers,
            &signed.body,
            later,
        ) {
            Err(ApiError::SignatureDoesNotMatch(message)) => {
                assert!(
                    message.starts_with("Signature expired: "),
                    "{name}: {message}"
                );
                assert!(message.ends_with(" - 15 min.)"), "{name}: {message}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn unsigned_requests_are_missing_the_token() {
    let verifier = Verifier::new(vec![(AKID.into(), SECRET.into())]);
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:9736"));
    assert_eq!(
        verifier.verify(
            "POST",
            "/",
            None,
            &headers,
            b"Action=DescribeEvents",
            Utc::now()
        ),
        Err(ApiError::MissingAuthenticationToken(
            "Request is missing Authentication Token".into()
        ))
    );
}
