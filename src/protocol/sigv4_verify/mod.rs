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
//!
//! The files: `params` finds the signing form and reads the `Authorization` header,
//! `presigned` reads the query-string form, `checks` maps each defect to its `ApiError`,
//! `scope` reads and checks the credential scope, `canonical` builds the canonical request,
//! `signing` derives the key and the signature.

mod canonical;
mod checks;
mod params;
mod presigned;
mod scope;
mod signing;
#[cfg(test)]
mod test_support;

use std::collections::HashMap;

use axum::http::HeaderMap;
use chrono::{DateTime, Duration, Utc};

use super::ApiError;
use canonical::{CanonicalInput, canonical_request, parse_query};
use scope::Credential;
use signing::{signature, string_to_sign};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
const BASIC_FORMAT: &str = "%Y%m%dT%H%M%SZ";

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
        let params = params::auth_params(headers, &query)?;

        let date = checks::request_date(&params.date_raw)?;
        let timestamp = date.format(BASIC_FORMAT).to_string();
        self.check_skew(date, &timestamp, now)?;
        let signed = checks::signed_header_names(&params.signed_headers)?;

        let credential = Credential::parse(&params.credential)?;
        credential.check(self.service.as_deref(), &timestamp, &params.date_raw)?;
        let secret = self.secret_of(credential.key_id)?;
        let payload_hash = checks::payload_hash(headers, body)?;

        let canonical = canonical_request(&CanonicalInput {
            method,
            path,
            query: &query,
            presigned: params.presigned,
            headers,
            signed: &signed,
            signed_headers_raw: &params.signed_headers,
            payload_hash: &payload_hash,
        });
        let to_sign = string_to_sign(&timestamp, &credential.scope(), &canonical);
        let expected = signature(
            secret,
            credential.date,
            credential.region,
            credential.service,
            &to_sign,
        );
        checks::signature_matches(&expected, &params.signature)?;
        Ok(credential.authenticated())
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;

    #[test]
    fn sigv4_debug_hides_secrets() {
        let text = format!("{:?}", verifier());
        assert!(text.contains(AKID));
        assert!(!text.contains(SECRET));
    }
}
