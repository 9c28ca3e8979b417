//! The signing parameters: which form the request is signed in, and the `Authorization`
//! header form read into its parts (the query-string form is in `presigned`).

use std::collections::HashMap;

use axum::http::HeaderMap;

use super::checks::{MSG_BOTH_FORMS, missing_token};
use super::presigned::{presigned_params, query_value};
use super::{ALGORITHM, ApiError};

/// The signing parameters, from the header or from the query string.
pub(super) struct AuthParams {
    pub(super) credential: String,
    pub(super) signed_headers: String,
    pub(super) signature: String,
    /// The request date as sent (the header value or `X-Amz-Date`).
    pub(super) date_raw: String,
    pub(super) presigned: bool,
}

/// Reads the signing parameters from the `Authorization` header or the query string.
pub(super) fn auth_params(
    headers: &HeaderMap,
    query: &[(Vec<u8>, Vec<u8>)],
) -> Result<AuthParams, ApiError> {
    let header = headers
        .get(axum::http::header::AUTHORIZATION)
        .map(|v| latin1(v.as_bytes()));
    let algorithm = query_value(query, "X-Amz-Algorithm");

    match (header, algorithm) {
        (Some(_), Some(_)) => Err(ApiError::SignatureDoesNotMatch(MSG_BOTH_FORMS.into())),
        (None, None) => Err(missing_token()),
        (Some(header), None) => header_params(header.trim(), headers),
        (None, Some(algorithm)) => presigned_params(&algorithm, query),
    }
}

/// The `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
/// form, with the date from `X-Amz-Date` or `Date`.
fn header_params(header: &str, headers: &HeaderMap) -> Result<AuthParams, ApiError> {
    let fields = header_fields(header)?;
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

/// The header's algorithm checked and its `key=value` fields read.
fn header_fields(header: &str) -> Result<HashMap<&str, &str>, ApiError> {
    // Not an AWS4 scheme at all (Basic, Bearer, AWS SigV2...): no AWS token.
    if !header.starts_with("AWS4-") {
        return Err(missing_token());
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
    Ok(fields)
}

pub(super) fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| latin1(v.as_bytes()))
}

/// Header bytes as text (ISO-8859-1, so no byte is lost).
pub(super) fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use crate::protocol::sigv4_verify::checks::MSG_MISSING_TOKEN;
    use crate::protocol::sigv4_verify::test_support::*;

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

        // (Authorization header, IncompleteSignature message)
        let cases = [
            (
                "AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=x",
                "'Credential' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential, SignedHeaders=host, Signature=x'.",
            ),
            (
                "AWS4-HMAC-SHA512 Credential=a/b/c/d/e, SignedHeaders=host, Signature=x",
                "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now).",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, SignedHeaders=host;x-amz-date, Signature=x",
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/service'",
            ),
        ];
        assert_refused(ApiError::IncompleteSignature, &cases);
    }
}
