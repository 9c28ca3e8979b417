//! Optional AWS Signature Version 4 verification, as the real endpoint does it.
//!
//! Pure: no I/O, no clock (the caller passes `now`). Both signing forms are accepted:
//! the `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
//! header, and the presigned query string (`X-Amz-Algorithm`, `X-Amz-Credential`,
//! `X-Amz-Date`, `X-Amz-SignedHeaders`, `X-Amz-Signature`).
//!
//! The checks run in the order AWS reports them, with AWS's codes and wording:
//! 1. no header and no `X-Amz-Algorithm` -> `MissingAuthenticationToken`;
//! 2. unsupported algorithm, malformed header, missing parts or date -> `IncompleteSignature`;
//! 3. date not ISO-8601 basic -> `IncompleteSignature`; outside the clock-skew window ->
//!    `SignatureDoesNotMatch` ("Signature expired" / "Signature not yet current");
//! 4. `host` not signed -> `SignatureDoesNotMatch`;
//! 5. credential not `key/date/region/service/aws4_request` in shape -> `IncompleteSignature`;
//!    wrong terminator, service (when one is required) or a scope date other than the
//!    request's -> `SignatureDoesNotMatch`;
//! 6. unknown access key id -> `InvalidClientTokenId`;
//! 7. signature mismatch -> `SignatureDoesNotMatch`.
//!
//! Like every AWS service but S3, `X-Amz-Expires` of a presigned request is not enforced:
//! presigned requests get the same clock-skew window as header-signed ones.

use std::collections::HashMap;

use axum::http::HeaderMap;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::ApiError;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
const BASIC_FORMAT: &str = "%Y%m%dT%H%M%SZ";

const MSG_MISSING_TOKEN: &str = "Request is missing Authentication Token";
const MSG_INVALID_KEY: &str = "The security token included in the request is invalid.";
const MSG_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const MSG_HOST_NOT_SIGNED: &str =
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";
const MSG_BOTH_FORMS: &str =
    "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.";

type HmacSha256 = Hmac<Sha256>;

/// Verifies SigV4 signatures against a fixed set of access keys.
#[derive(Clone)]
pub struct Verifier {
    /// Access key id -> secret access key.
    credentials: HashMap<String, String>,
    /// How far the request date may be from `now`, either way (AWS: 15 minutes).
    max_skew: Duration,
    /// The service the credential scope must name; `None` accepts any.
    service: Option<String>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secrets.
        let mut keys: Vec<&String> = self.credentials.keys().collect();
        keys.sort();
        f.debug_struct("Verifier")
            .field("access_key_ids", &keys)
            .field("max_skew", &self.max_skew)
            .field("service", &self.service)
            .finish()
    }
}

/// Who signed a verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    pub access_key_id: String,
    pub region: String,
    pub service: String,
}

/// The signing parameters, from the header or from the query string.
struct AuthParams {
    credential: String,
    signed_headers: String,
    signature: String,
    /// The request date as sent (the header value or `X-Amz-Date`).
    date_raw: String,
    presigned: bool,
}

impl Verifier {
    /// A verifier knowing these `(access key id, secret access key)` pairs, with AWS's
    /// 15-minute clock-skew window and any service name accepted in the scope.
    pub fn new(credentials: Vec<(String, String)>) -> Self {
        Self {
            credentials: credentials.into_iter().collect(),
            max_skew: Duration::minutes(15),
            service: None,
        }
    }

    /// Changes the clock-skew window (whole minutes appear in the messages).
    pub fn with_max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = max_skew;
        self
    }

    /// Requires the credential scope to name this service (e.g. `elasticache`).
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// Verifies the request's SigV4 signature. `path` is the URI path as received (still
    /// percent-encoded), `raw_query` the raw query string without `?`, `body` the raw body.
    pub fn verify(
        &self,
        method: &str,
        path: &str,
        raw_query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        self.authenticate(method, path, raw_query, headers, body, now)
            .map(|_| ())
    }

    /// As [`Verifier::verify`], returning the signer's access key id and scope.
    pub fn authenticate(
        &self,
        method: &str,
        path: &str,
        raw_query: Option<&str>,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Authenticated, ApiError> {
        let query = parse_query(raw_query.unwrap_or(""));
        let params = auth_params(headers, &query)?;

        // The date: ISO-8601 basic format (a `Date` header may also be RFC 1123).
        let date = parse_date(&params.date_raw).ok_or_else(|| {
            ApiError::IncompleteSignature(format!(
                "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
                params.date_raw
            ))
        })?;
        let timestamp = date.format(BASIC_FORMAT).to_string();
        self.check_skew(date, &timestamp, now)?;

        // SignedHeaders: lowercase names separated by ';', host among them.
        let signed: Vec<String> = params
            .signed_headers
            .split(';')
            .map(|name| name.trim().to_ascii_lowercase())
            .filter(|name| !name.is_empty())
            .collect();
        if !signed
            .iter()
            .any(|name| name == "host" || name == ":authority")
        {
            return Err(ApiError::SignatureDoesNotMatch(MSG_HOST_NOT_SIGNED.into()));
        }

        // Credential: keyid/date/region/service/aws4_request (trailing slashes ignored).
        let trimmed_credential = params.credential.trim_end_matches('/');
        let parts: Vec<&str> = trimmed_credential.split('/').collect();
        if parts.len() != 5 {
            return Err(ApiError::IncompleteSignature(format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
                params.credential
            )));
        }
        let (key_id, scope_date, region, service, terminator) =
            (parts[0], parts[1], parts[2], parts[3], parts[4]);
        let mut scope_errors = Vec::new();
        if region.is_empty() {
            scope_errors.push(format!(
                "Credential should be scoped to a valid region, not '{region}'."
            ));
        }
        match &self.service {
            Some(expected) if expected != service => scope_errors.push(format!(
                "Credential should be scoped to correct service: '{expected}'."
            )),
            None if service.is_empty() => {
                scope_errors.push("Credential should be scoped to correct service: ''.".to_string())
            }
            _ => {}
        }
        if terminator != TERMINATOR {
            scope_errors.push(format!(
                "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{terminator}'."
            ));
        }
        if scope_date != &timestamp[..8] {
            scope_errors.push(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{}'.",
                &timestamp[..8],
                params.date_raw
            ));
        }
        if !scope_errors.is_empty() {
            return Err(ApiError::SignatureDoesNotMatch(scope_errors.join(" ")));
        }

        let secret = self
            .credentials
            .get(key_id)
            .ok_or_else(|| ApiError::InvalidClientTokenId(MSG_INVALID_KEY.into()))?;

        // The payload hash: x-amz-content-sha256 when sent (it must then match the body
        // unless it is one of the UNSIGNED/STREAMING markers), else the body's hash.
        let body_hash = hex::encode(Sha256::digest(body));
        let payload_hash = match header_str(headers, "x-amz-content-sha256") {
            Some(declared) => {
                let declared = declared.trim().to_string();
                if is_hex_sha256(&declared) && !declared.eq_ignore_ascii_case(&body_hash) {
                    return Err(ApiError::SignatureDoesNotMatch(MSG_MISMATCH.into()));
                }
                declared
            }
            None => body_hash,
        };

        let canonical = canonical_request(
            method,
            path,
            &query,
            params.presigned,
            headers,
            &signed,
            &params.signed_headers,
            &payload_hash,
        );
        let scope = format!("{scope_date}/{region}/{service}/{TERMINATOR}");
        let to_sign = string_to_sign(&timestamp, &scope, &canonical);
        let expected = signature(secret, scope_date, region, service, &to_sign);

        if !constant_time_eq(expected.as_bytes(), params.signature.trim().as_bytes()) {
            return Err(ApiError::SignatureDoesNotMatch(MSG_MISMATCH.into()));
        }
        Ok(Authenticated {
            access_key_id: key_id.to_string(),
            region: region.to_string(),
            service: service.to_string(),
        })
    }

    fn check_skew(
        &self,
        date: DateTime<Utc>,
        timestamp: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let minutes = self.max_skew.num_minutes();
        let now_s = now.format(BASIC_FORMAT).to_string();
        let earliest = now - self.max_skew;
        let latest = now + self.max_skew;
        if date < earliest {
            return Err(ApiError::SignatureDoesNotMatch(format!(
                "Signature expired: {timestamp} is now earlier than {} ({now_s} - {minutes} min.)",
                earliest.format(BASIC_FORMAT)
            )));
        }
        if date > latest {
            return Err(ApiError::SignatureDoesNotMatch(format!(
                "Signature not yet current: {timestamp} is still later than {} ({now_s} + {minutes} min.)",
                latest.format(BASIC_FORMAT)
            )));
        }
        Ok(())
    }
}

/// Reads the signing parameters from the `Authorization` header or the query string.
fn auth_params(headers: &HeaderMap, query: &[(Vec<u8>, Vec<u8>)]) -> Result<AuthParams, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| latin1(v.as_bytes()));
    let query_value = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k.as_slice() == name.as_bytes())
            .map(|(_, v)| latin1(v))
    };
    let algorithm = query_value("X-Amz-Algorithm");

    match (header, algorithm) {
        (Some(_), Some(_)) => Err(ApiError::SignatureDoesNotMatch(MSG_BOTH_FORMS.into())),
        (None, None) => Err(ApiError::MissingAuthenticationToken(
            MSG_MISSING_TOKEN.into(),
        )),
        (Some(header), None) => header_params(header.trim(), headers),
        (None, Some(algorithm)) => {
            if algorithm != ALGORITHM {
                return Err(ApiError::MissingAuthenticationToken(
                    MSG_MISSING_TOKEN.into(),
                ));
            }
            let mut missing = Vec::new();
            let mut take = |name: &str| {
                let value = query_value(name).filter(|v| !v.is_empty());
                if value.is_none() {
                    missing.push(format!(
                        "AWS query-string parameters must include '{name}'."
                    ));
                }
                value.unwrap_or_default()
            };
            let credential = take("X-Amz-Credential");
            let signature = take("X-Amz-Signature");
            let signed_headers = take("X-Amz-SignedHeaders");
            let date_raw = take("X-Amz-Date");
            if !missing.is_empty() {
                return Err(ApiError::IncompleteSignature(format!(
                    "{} Re-examine the query-string parameters.",
                    missing.join(" ")
                )));
            }
            Ok(AuthParams {
                credential,
                signed_headers,
                signature,
                date_raw,
                presigned: true,
            })
        }
    }
}

fn header_params(header: &str, headers: &HeaderMap) -> Result<AuthParams, ApiError> {
    // Not an AWS4 scheme at all (Basic, Bearer, AWS SigV2...): no AWS token.
    if !header.starts_with("AWS4-") {
        return Err(ApiError::MissingAuthenticationToken(
            MSG_MISSING_TOKEN.into(),
        ));
    }
    let (algorithm, rest) = match header.find(char::is_whitespace) {
        Some(at) => (&header[..at], &header[at..]),
        None => (header, ""),
    };
    if algorithm != ALGORITHM {
        return Err(ApiError::IncompleteSignature(format!(
            "Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now)."
        )));
    }

    let mut fields: HashMap<&str, &str> = HashMap::new();
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(ApiError::IncompleteSignature(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        fields.insert(key.trim(), value.trim());
    }

    let mut missing = Vec::new();
    let credential = fields.get("Credential").filter(|v| !v.is_empty());
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    let signature = fields.get("Signature").filter(|v| !v.is_empty());
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    let signed_headers = fields.get("SignedHeaders");
    if signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    let date_raw = header_str(headers, "x-amz-date").or_else(|| header_str(headers, "date"));
    if date_raw.is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
    }
    if !missing.is_empty() {
        return Err(ApiError::IncompleteSignature(format!(
            "{} Authorization={header}",
            missing.join(" ")
        )));
    }
    Ok(AuthParams {
        credential: credential.unwrap().to_string(),
        signed_headers: signed_headers.unwrap().to_string(),
        signature: signature.unwrap().to_string(),
        date_raw: date_raw.unwrap().trim().to_string(),
        presigned: false,
    })
}

/// ISO-8601 basic (`20150830T123600Z`), or an RFC 1123 `Date` header.
fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(naive) = NaiveDateTime::parse_from_str(raw, BASIC_FORMAT) {
        return Some(naive.and_utc());
    }
    DateTime::parse_from_rfc2822(raw)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// The canonical request of the SigV4 spec, as bytes (header values need not be UTF-8).
#[allow(clippy::too_many_arguments)]
fn canonical_request(
    method: &str,
    path: &str,
    query: &[(Vec<u8>, Vec<u8>)],
    presigned: bool,
    headers: &HeaderMap,
    signed: &[String],
    signed_headers_raw: &str,
    payload_hash: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(method.to_ascii_uppercase().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(query, presigned).as_bytes());
    out.push(b'\n');
    for name in signed {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        let values: Vec<Vec<u8>> = headers
            .get_all(name.as_str())
            .iter()
            .map(|v| trim_all(v.as_bytes()))
            .collect();
        out.extend_from_slice(&values.join(&b',')[..]);
        out.push(b'\n');
    }
    out.push(b'\n');
    // The list exactly as the client sent it (lowercase, ';'-separated, sorted).
    out.extend_from_slice(signed_headers_raw.trim().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

fn string_to_sign(timestamp: &str, scope: &str, canonical: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical))
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes any key size");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The hex signature: HMAC chain from "AWS4"+secret over date, region, service, terminator.
fn signature(secret: &str, date: &str, region: &str, service: &str, to_sign: &str) -> String {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, TERMINATOR.as_bytes());
    hex::encode(hmac(&k_signing, to_sign.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The path normalized (empty and `.` segments dropped, `..` applied) and each segment
/// URI-encoded once more: AWS services other than S3 sign the path as sent, encoded again.
fn canonical_uri(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = String::from("/");
    out.push_str(
        &segments
            .iter()
            .map(|s| uri_encode(s.as_bytes()))
            .collect::<Vec<_>>()
            .join("/"),
    );
    if path.ends_with('/') && !segments.is_empty() {
        out.push('/');
    }
    out
}

/// Parameters sorted by encoded name then value, each decoded then RFC 3986-encoded.
/// A presigned request's own `X-Amz-Signature` is left out.
fn canonical_query(query: &[(Vec<u8>, Vec<u8>)], presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(k, _)| !(presigned && k.as_slice() == b"X-Amz-Signature"))
        .map(|(k, v)| (uri_encode(k), uri_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Splits and percent-decodes a raw query string. `+` is a space, as in the form
/// encoding the server decodes parameters with (botocore sends spaces that way).
fn parse_query(raw: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k.as_bytes()), percent_decode(v.as_bytes()))
        })
        .collect()
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'%' if i + 2 < input.len() => {
                match (hex_value(input[i + 1]), hex_value(input[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h << 4 | l);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// RFC 3986: unreserved characters kept, every other byte `%XX` (uppercase).
fn uri_encode(input: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(input.len() * 3);
    for &b in input {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        }
    }
    out
}

/// Trims a header value and collapses inner runs of whitespace to one space.
fn trim_all(value: &[u8]) -> Vec<u8> {
    value
        .split(|b| b.is_ascii_whitespace())
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(&b' ')
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| latin1(v.as_bytes()))
}

/// Header bytes as text (ISO-8859-1, so no byte is lost).
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

fn is_hex_sha256(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderName, HeaderValue};
    use chrono::TimeZone;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SCOPE: &str = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";

    fn verifier() -> Verifier {
        Verifier::new(vec![(AKID.into(), SECRET.into())])
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    fn auth(signed: &str, signature: &str) -> String {
        format!(
            "AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders={signed}, Signature={signature}"
        )
    }

    /// A test-suite GET / request with host and x-amz-date and this Authorization.
    fn vanilla(authorization: &str) -> HeaderMap {
        headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", authorization),
        ])
    }

    const GET_VANILLA_SIG: &str =
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    fn check(
        v: &Verifier,
        method: &str,
        path: &str,
        query: Option<&str>,
        h: &HeaderMap,
        body: &[u8],
    ) -> Result<(), ApiError> {
        v.verify(method, path, query, h, body, at())
    }

    #[test]
    fn sigv4_get_vanilla_test_vector() {
        let h = vanilla(&auth("host;x-amz-date", GET_VANILLA_SIG));
        assert_eq!(check(&verifier(), "GET", "/", None, &h, b""), Ok(()));
        let who = verifier()
            .authenticate("GET", "/", None, &h, b"", at())
            .unwrap();
        assert_eq!(who.access_key_id, AKID);
        assert_eq!(who.region, "us-east-1");
        assert_eq!(who.service, "service");
    }

    #[test]
    fn sigv4_post_x_www_form_urlencoded_test_vector() {
        let h = headers(&[
            ("content-type", "application/x-www-form-urlencoded"),
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                &auth(
                    "content-type;host;x-amz-date",
                    "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
                ),
            ),
        ]);
        assert_eq!(
            check(&verifier(), "POST", "/", None, &h, b"Param1=value1"),
            Ok(())
        );
        // The body is signed: another body fails.
        assert!(matches!(
            check(&verifier(), "POST", "/", None, &h, b"Param1=value2"),
            Err(ApiError::SignatureDoesNotMatch(_))
        ));
    }

    #[test]
    fn sigv4_query_test_vectors() {
        let cases = [
            (
                "Param2=value2&Param1=value1",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
            (
                "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
            ),
            (
                "%E1%88%B4=bar",
                "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
            ),
        ];
        for (query, sig) in cases {
            let h = vanilla(&auth("host;x-amz-date", sig));
            assert_eq!(
                check(&verifier(), "GET", "/", Some(query), &h, b""),
                Ok(()),
                "{query}"
            );
        }
        // post-vanilla-query-nonunreserved: reserved characters, `+` sent as %2B.
        let h = vanilla(&auth(
            "host;x-amz-date",
            "66c82657c86e26fb25238d0e69f011edc4c6df5ae71119d7cb98ed9b87393c1e",
        ));
        let query = "%40%23%24%25%5E=&%2B=%2F%2C%3F%3E%3C%60%22%3B%3A%5C%7C%5D%5B%7B%7D";
        assert_eq!(
            check(&verifier(), "POST", "/", Some(query), &h, b""),
            Ok(())
        );
    }

    #[test]
    fn sigv4_path_test_vectors() {
        let cases = [
            (
                "/-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
            ),
            (
                "/ሴ",
                "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            ),
            // Normalization: these all sign as "/".
            ("//", GET_VANILLA_SIG),
            ("/./", GET_VANILLA_SIG),
            ("/example/..", GET_VANILLA_SIG),
            ("", GET_VANILLA_SIG),
        ];
        for (path, sig) in cases {
            let h = vanilla(&auth("host;x-amz-date", sig));
            assert_eq!(
                check(&verifier(), "GET", path, None, &h, b""),
                Ok(()),
                "{path}"
            );
        }
    }

    #[test]
    fn sigv4_header_value_trim_and_duplicates() {
        // get-header-value-trim
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("my-header1", " value1"),
            ("my-header2", "\"a   b   c\""),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                &auth(
                    "host;my-header1;my-header2;x-amz-date",
                    "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
                ),
            ),
        ]);
        assert_eq!(check(&verifier(), "GET", "/", None, &h, b""), Ok(()));
        // get-header-value-order: repeated headers joined with ',' in arrival order.
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("my-header1", "value4"),
            ("my-header1", "value1"),
            ("my-header1", "value3"),
            ("my-header1", "value2"),
            ("x-amz-date", "20150830T123600Z"),
            (
                "authorization",
                &auth(
                    "host;my-header1;x-amz-date",
                    "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
                ),
            ),
        ]);
        assert_eq!(check(&verifier(), "GET", "/", None, &h, b""), Ok(()));
    }

    #[test]
    fn sigv4_wrong_secret_is_signature_does_not_match() {
        let v = Verifier::new(vec![(AKID.into(), "not-the-secret".into())]);
        let h = vanilla(&auth("host;x-amz-date", GET_VANILLA_SIG));
        assert_eq!(
            check(&v, "GET", "/", None, &h, b""),
            Err(ApiError::SignatureDoesNotMatch(MSG_MISMATCH.into()))
        );
        // A tampered signature, a tampered method or query fail the same way.
        let mut bad = GET_VANILLA_SIG.to_string();
        bad.replace_range(0..1, "6");
        let h2 = vanilla(&auth("host;x-amz-date", &bad));
        assert!(matches!(
            check(&verifier(), "GET", "/", None, &h2, b""),
            Err(ApiError::SignatureDoesNotMatch(_))
        ));
        assert!(matches!(
            check(&verifier(), "POST", "/", None, &h, b""),
            Err(ApiError::SignatureDoesNotMatch(_))
        ));
        assert!(matches!(
            check(&verifier(), "GET", "/", Some("a=b"), &h, b""),
            Err(ApiError::SignatureDoesNotMatch(_))
        ));
    }

    #[test]
    fn sigv4_unknown_key_is_invalid_client_token_id() {
        let v = Verifier::new(vec![("AKIDOTHER".into(), SECRET.into())]);
        let h = vanilla(&auth("host;x-amz-date", GET_VANILLA_SIG));
        assert_eq!(
            check(&v, "GET", "/", None, &h, b""),
            Err(ApiError::InvalidClientTokenId(MSG_INVALID_KEY.into()))
        );
    }

    #[test]
    fn sigv4_missing_authorization_is_missing_authentication_token() {
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
        ]);
        assert_eq!(
            check(&verifier(), "GET", "/", None, &h, b""),
            Err(ApiError::MissingAuthenticationToken(
                MSG_MISSING_TOKEN.into()
            ))
        );
        let h = vanilla("Basic dXNlcjpwYXNz");
        assert_eq!(
            check(&verifier(), "GET", "/", None, &h, b""),
            Err(ApiError::MissingAuthenticationToken(
                MSG_MISSING_TOKEN.into()
            ))
        );
    }

    #[test]
    fn sigv4_incomplete_authorization_names_the_missing_parts() {
        let header = format!("AWS4-HMAC-SHA256 Credential={SCOPE}");
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("authorization", &header),
        ]);
        let err = check(&verifier(), "GET", "/", None, &h, b"").unwrap_err();
        assert_eq!(
            err,
            ApiError::IncompleteSignature(format!(
                "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={header}"
            ))
        );

        let h = vanilla("AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=x");
        assert_eq!(
            check(&verifier(), "GET", "/", None, &h, b""),
            Err(ApiError::IncompleteSignature(
                "'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=x'.".into()
            ))
        );

        let h = vanilla("AWS4-HMAC-SHA512 Credential=a/b/c/d/e, SignedHeaders=host, Signature=x");
        assert_eq!(
            check(&verifier(), "GET", "/", None, &h, b""),
            Err(ApiError::IncompleteSignature(
                "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now)."
                    .into()
            ))
        );

        let h = vanilla(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, SignedHeaders=host;x-amz-date, Signature=x",
        );
        assert_eq!(
            check(&verifier(), "GET", "/", None, &h, b""),
            Err(ApiError::IncompleteSignature(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/service'".into()
            ))
        );
    }

    #[test]
    fn sigv4_bad_date_format_is_incomplete_signature() {
        let h = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "2015-08-30"),
            ("authorization", &auth("host;x-amz-date", GET_VANILLA_SIG)),
        ]);
        assert_eq!(
            check(&verifier(), "GET", "/", None, &h, b""),
            Err(ApiError::IncompleteSignature(
                "Date must be in ISO-8601 'basic format'. Got '2015-08-30'. See http://en.wikipedia.org/wiki/ISO_8601".into()
            ))
        );
    }

    #[test]
    fn sigv4_expired_date() {
        let h = vanilla(&auth("host;x-amz-date", GET_VANILLA_SIG));
        let now = at() + Duration::minutes(30);
        assert_eq!(
            verifier().verify("GET", "/", None, &h, b"", now),
            Err(ApiError::SignatureDoesNotMatch(
                "Signature expired: 20150830T123600Z is now earlier than 20150830T125100Z (20150830T130600Z - 15 min.)".into()
            ))
        );
        // 15 minutes exactly is still fine, either way.
        let v = verifier();
        assert_eq!(
            v.verify("GET", "/", None, &h, b"", at() + Duration::minutes(15)),
            Ok(())
        );
        assert_eq!(
            v.verify("GET", "/", None, &h, b"", at() - Duration::minutes(15)),
            Ok(())
        );
    }

    #[test]
    fn sigv4_future_date() {
        let h = vanilla(&auth("host;x-amz-date", GET_VANILLA_SIG));
        let now = at() - Duration::minutes(20);
        assert_eq!(
            verifier().verify("GET", "/", None, &h, b"", now),
            Err(ApiError::SignatureDoesNotMatch(
                "Signature not yet current: 20150830T123600Z is still later than 20150830T123100Z (20150830T121600Z + 15 min.)".into()
            ))
        );
    }

    #[test]
    fn sigv4_scope_must_match_the_request() {
        // Scope date other than X-Amz-Date's.
        let h = vanilla(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=x",
        );
        assert_eq!(
            check(&verifier(), "GET", "/", None, &h, b""),
            Err(ApiError::SignatureDoesNotMatch(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'.".into()
            ))
        );
        // Bad terminator.
        let h = vanilla(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws5_request, SignedHeaders=host;x-amz-date, Signature=x",
        );
        assert_eq!(
            check(&verifier(), "GET", "/", None, &h, b""),
            Err(ApiError::SignatureDoesNotMatch(
                "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.".into()
            ))
        );
        // A required service.
        let h = vanilla(&auth("host;x-amz-date", GET_VANILLA_SIG));
        let v = verifier().with_service("elasticache");
        assert_eq!(
            check(&v, "GET", "/", None, &h, b""),
            Err(ApiError::SignatureDoesNotMatch(
                "Credential should be scoped to correct service: 'elasticache'.".into()
            ))
        );
        assert_eq!(
            check(
                &verifier().with_service("service"),
                "GET",
                "/",
                None,
                &h,
                b""
            ),
            Ok(())
        );
    }

    #[test]
    fn sigv4_host_must_be_signed() {
        let h = vanilla(&auth("x-amz-date", GET_VANILLA_SIG));
        assert_eq!(
            check(&verifier(), "GET", "/", None, &h, b""),
            Err(ApiError::SignatureDoesNotMatch(MSG_HOST_NOT_SIGNED.into()))
        );
    }

    #[test]
    fn sigv4_date_header_instead_of_x_amz_date() {
        // Signed with the RFC 1123 Date header; the string to sign uses the basic format.
        let date = "Sun, 30 Aug 2015 12:36:00 GMT";
        let mut h = headers(&[("host", "example.amazonaws.com"), ("date", date)]);
        let canonical = canonical_request(
            "GET",
            "/",
            &[],
            false,
            &h,
            &["date".into(), "host".into()],
            "date;host",
            &hex::encode(Sha256::digest(b"")),
        );
        let to_sign = string_to_sign(
            "20150830T123600Z",
            "20150830/us-east-1/service/aws4_request",
            &canonical,
        );
        let sig = signature(SECRET, "20150830", "us-east-1", "service", &to_sign);
        h.insert("authorization", auth("date;host", &sig).parse().unwrap());
        assert_eq!(check(&verifier(), "GET", "/", None, &h, b""), Ok(()));
    }

    #[test]
    fn sigv4_content_sha256_header_must_match_the_body() {
        let body = b"Action=DescribeEvents";
        let hash = hex::encode(Sha256::digest(body));
        let mut h = headers(&[
            ("host", "example.amazonaws.com"),
            ("x-amz-date", "20150830T123600Z"),
            ("x-amz-content-sha256", &hash),
        ]);
        let canonical = canonical_request(
            "POST",
            "/",
            &[],
            false,
            &h,
            &[
                "host".into(),
                "x-amz-content-sha256".into(),
                "x-amz-date".into(),
            ],
            "host;x-amz-content-sha256;x-amz-date",
            &hash,
        );
        let to_sign = string_to_sign(
            "20150830T123600Z",
            "20150830/us-east-1/service/aws4_request",
            &canonical,
        );
        let sig = signature(SECRET, "20150830", "us-east-1", "service", &to_sign);
        h.insert(
            "authorization",
            auth("host;x-amz-content-sha256;x-amz-date", &sig)
                .parse()
                .unwrap(),
        );
        assert_eq!(check(&verifier(), "POST", "/", None, &h, body), Ok(()));
        assert!(matches!(
            check(&verifier(), "POST", "/", None, &h, b"Action=Other"),
            Err(ApiError::SignatureDoesNotMatch(_))
        ));
    }

    /// Presigns GET /?Action=DescribeEvents as botocore's SigV4QueryAuth does.
    fn presigned_query(secret: &str) -> String {
        let base = "Action=DescribeEvents&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host";
        let h = headers(&[("host", "example.amazonaws.com")]);
        let canonical = canonical_request(
            "GET",
            "/",
            &parse_query(base),
            true,
            &h,
            &["host".into()],
            "host",
            &hex::encode(Sha256::digest(b"")),
        );
        let to_sign = string_to_sign(
            "20150830T123600Z",
            "20150830/us-east-1/service/aws4_request",
            &canonical,
        );
        let sig = signature(secret, "20150830", "us-east-1", "service", &to_sign);
        format!("{base}&X-Amz-Signature={sig}")
    }

    #[test]
    fn sigv4_presigned_query() {
        let h = headers(&[("host", "example.amazonaws.com")]);
        let good = presigned_query(SECRET);
        assert_eq!(check(&verifier(), "GET", "/", Some(&good), &h, b""), Ok(()));
        let bad = presigned_query("wrong");
        assert_eq!(
            check(&verifier(), "GET", "/", Some(&bad), &h, b""),
            Err(ApiError::SignatureDoesNotMatch(MSG_MISMATCH.into()))
        );
        // Expired like a header-signed request.
        assert!(matches!(
            verifier().verify("GET", "/", Some(&good), &h, b"", at() + Duration::hours(1)),
            Err(ApiError::SignatureDoesNotMatch(m)) if m.starts_with("Signature expired: ")
        ));
        // Both forms at once.
        let both = vanilla(&auth("host;x-amz-date", GET_VANILLA_SIG));
        assert_eq!(
            check(&verifier(), "GET", "/", Some(&good), &both, b""),
            Err(ApiError::SignatureDoesNotMatch(MSG_BOTH_FORMS.into()))
        );
        // Missing parameters.
        assert_eq!(
            check(
                &verifier(),
                "GET",
                "/",
                Some("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20150830T123600Z"),
                &h,
                b""
            ),
            Err(ApiError::IncompleteSignature(
                "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.".into()
            ))
        );
        // Another algorithm is no AWS token at all.
        assert_eq!(
            check(
                &verifier(),
                "GET",
                "/",
                Some("X-Amz-Algorithm=HMAC"),
                &h,
                b""
            ),
            Err(ApiError::MissingAuthenticationToken(
                MSG_MISSING_TOKEN.into()
            ))
        );
    }

    #[test]
    fn sigv4_canonical_helpers() {
        assert_eq!(canonical_uri("/example space/"), "/example%20space/");
        assert_eq!(canonical_uri("/a%20b"), "/a%2520b");
        assert_eq!(canonical_uri("//example//"), "/example/");
        assert_eq!(
            canonical_query(&parse_query("b=2&a=2&a=1&c&d=x+y%2Bz&e=%zz"), false),
            "a=1&a=2&b=2&c=&d=x%20y%2Bz&e=%25zz"
        );
        assert_eq!(trim_all(b"  a \t b  "), b"a b".to_vec());
        assert_eq!(percent_decode(b"%4"), b"%4".to_vec());
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn sigv4_debug_hides_secrets() {
        let text = format!("{:?}", verifier());
        assert!(text.contains(AKID));
        assert!(!text.contains(SECRET));
    }
}
