//! The presigned form: the signing parameters in the query string (`X-Amz-Algorithm`,
//! `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-SignedHeaders`, `X-Amz-Signature`), as
//! botocore's `SigV4QueryAuth` writes them. `X-Amz-Expires` is not enforced (see the module
//! doc of `sigv4_verify`).

use super::checks::missing_token;
use super::params::{AuthParams, latin1};
use super::{ALGORITHM, ApiError};

/// The first value of a decoded query parameter, as text.
pub(super) fn query_value(query: &[(Vec<u8>, Vec<u8>)], name: &str) -> Option<String> {
    query
        .iter()
        .find(|(k, _)| k.as_slice() == name.as_bytes())
        .map(|(_, v)| latin1(v))
}

/// Reads the signing parameters of a request whose query string has this `X-Amz-Algorithm`.
pub(super) fn presigned_params(
    algorithm: &str,
    query: &[(Vec<u8>, Vec<u8>)],
) -> Result<AuthParams, ApiError> {
    // Another algorithm is no AWS token at all (in the header form an `AWS4-` scheme other
    // than ours is an IncompleteSignature instead).
    if algorithm != ALGORITHM {
        return Err(missing_token());
    }
    let mut missing = Vec::new();
    let mut take = |name: &str| {
        let value = query_value(query, name).filter(|v| !v.is_empty());
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

#[cfg(test)]
mod tests {
    use crate::protocol::sigv4_verify::canonical::parse_query;
    use crate::protocol::sigv4_verify::checks::{MSG_BOTH_FORMS, MSG_MISMATCH, MSG_MISSING_TOKEN};
    use crate::protocol::sigv4_verify::test_support::*;
    use chrono::Duration;
    use sha2::{Digest, Sha256};

    /// Presigns GET /?Action=DescribeEvents as botocore's SigV4QueryAuth does.
    fn presigned_query(secret: &str) -> String {
        let base = "Action=DescribeEvents&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host";
        let h = headers(&[("host", "example.amazonaws.com")]);
        let empty_hash = hex::encode(Sha256::digest(b""));
        let sig = sign(
            secret,
            "GET",
            &parse_query(base),
            true,
            &h,
            "host",
            &empty_hash,
        );
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
}
