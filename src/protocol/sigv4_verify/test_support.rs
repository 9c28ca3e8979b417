//! Fixtures of the unit tests: the AWS SigV4 test suite's key, date and scope
//! (`AKIDEXAMPLE`, 2015-08-30T12:36:00Z, `us-east-1/service`), requests built on them, and
//! a client-side signer.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, TimeZone, Utc};

pub(super) use super::ApiError;
pub(super) use super::Verifier;
use super::canonical::{CanonicalInput, canonical_request};
use super::signing::{signature, string_to_sign};

pub(super) const AKID: &str = "AKIDEXAMPLE";
pub(super) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub(super) const SCOPE: &str = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

/// The test suite's get-vanilla signature (GET /, host and x-amz-date signed).
pub(super) const GET_VANILLA_SIG: &str =
    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

pub(super) fn verifier() -> Verifier {
    Verifier::new(vec![(AKID.into(), SECRET.into())])
}

/// The test suite's request time.
pub(super) fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap()
}

pub(super) fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

pub(super) fn auth(signed: &str, signature: &str) -> String {
    format!("AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders={signed}, Signature={signature}")
}

/// A test-suite GET / request with host and x-amz-date and this Authorization.
pub(super) fn vanilla(authorization: &str) -> HeaderMap {
    headers(&[
        ("host", "example.amazonaws.com"),
        ("x-amz-date", "20150830T123600Z"),
        ("authorization", authorization),
    ])
}

/// Verifies at the test suite's request time.
pub(super) fn check(
    v: &Verifier,
    method: &str,
    path: &str,
    query: Option<&str>,
    h: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    v.verify(method, path, query, h, body, at())
}

/// Each `(Authorization header, message)` of a test-suite GET / is refused with `error`
/// of that message.
pub(super) fn assert_refused(error: fn(String) -> ApiError, cases: &[(&str, &str)]) {
    for (authorization, message) in cases {
        let h = vanilla(authorization);
        assert_eq!(
            check(&verifier(), "GET", "/", None, &h, b""),
            Err(error(message.to_string())),
            "{authorization}"
        );
    }
}

/// Signs a request to `/` as a client does, at the test suite's time and scope, with this
/// secret; `signed_headers` is the `;`-separated list as sent.
pub(super) fn sign(
    secret: &str,
    method: &str,
    query: &[(Vec<u8>, Vec<u8>)],
    presigned: bool,
    headers: &HeaderMap,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    let signed: Vec<String> = signed_headers.split(';').map(String::from).collect();
    let canonical = canonical_request(&CanonicalInput {
        method,
        path: "/",
        query,
        presigned,
        headers,
        signed: &signed,
        signed_headers_raw: signed_headers,
        payload_hash,
    });
    let to_sign = string_to_sign(
        "20150830T123600Z",
        "20150830/us-east-1/service/aws4_request",
        &canonical,
    );
    signature(secret, "20150830", "us-east-1", "service", &to_sign)
}
