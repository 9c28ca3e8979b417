//! Which `ApiError` each defect of a signed request gets, with AWS's wording: the date, the
//! clock-skew window, the signed header list, the access key, the payload hash and the
//! signature itself. (The credential scope's checks are in `scope`, the signing
//! parameters' in `params` and `presigned`.)

use axum::http::HeaderMap;
use chrono::{DateTime, NaiveDateTime, Utc};
use sha2::{Digest, Sha256};

use super::params::header_str;
use super::signing::constant_time_eq;
use super::{ApiError, BASIC_FORMAT, Verifier};

pub(super) const MSG_MISSING_TOKEN: &str = "Request is missing Authentication Token";
pub(super) const MSG_INVALID_KEY: &str = "The security token included in the request is invalid.";
pub(super) const MSG_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
pub(super) const MSG_HOST_NOT_SIGNED: &str =
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";
pub(super) const MSG_BOTH_FORMS: &str =
    "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.";

/// No signature of either form, or a scheme that is not AWS's.
pub(super) fn missing_token() -> ApiError {
    ApiError::MissingAuthenticationToken(MSG_MISSING_TOKEN.into())
}

/// The signature (or a signed payload hash) differs from the one we calculate.
fn mismatch() -> ApiError {
    ApiError::SignatureDoesNotMatch(MSG_MISMATCH.into())
}

/// The request date: ISO-8601 basic format (a `Date` header may also be RFC 1123).
pub(super) fn request_date(raw: &str) -> Result<DateTime<Utc>, ApiError> {
    parse_date(raw).ok_or_else(|| {
        ApiError::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{raw}'. See http://en.wikipedia.org/wiki/ISO_8601"
        ))
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

/// SignedHeaders: lowercase names separated by ';', host among them.
pub(super) fn signed_header_names(raw: &str) -> Result<Vec<String>, ApiError> {
    let signed: Vec<String> = raw
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
    Ok(signed)
}

/// The payload hash: x-amz-content-sha256 when sent (it must then match the body unless it
/// is one of the UNSIGNED/STREAMING markers), else the body's hash.
pub(super) fn payload_hash(headers: &HeaderMap, body: &[u8]) -> Result<String, ApiError> {
    let body_hash = hex::encode(Sha256::digest(body));
    match header_str(headers, "x-amz-content-sha256") {
        Some(declared) => {
            let declared = declared.trim().to_string();
            if is_hex_sha256(&declared) && !declared.eq_ignore_ascii_case(&body_hash) {
                return Err(mismatch());
            }
            Ok(declared)
        }
        None => Ok(body_hash),
    }
}

fn is_hex_sha256(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The signature sent against the one calculated, in constant time.
pub(super) fn signature_matches(expected: &str, sent: &str) -> Result<(), ApiError> {
    if constant_time_eq(expected.as_bytes(), sent.trim().as_bytes()) {
        Ok(())
    } else {
        Err(mismatch())
    }
}

impl Verifier {
    /// The request date must be within `max_skew` of `now`, either way.
    pub(super) fn check_skew(
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

    /// The secret of a known access key id.
    pub(super) fn secret_of(&self, key_id: &str) -> Result<&str, ApiError> {
        self.credentials
            .get(key_id)
            .map(String::as_str)
            .ok_or_else(|| ApiError::InvalidClientTokenId(MSG_INVALID_KEY.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::sigv4_verify::test_support::*;
    use chrono::Duration;

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
        let empty_hash = hex::encode(Sha256::digest(b""));
        let sig = sign(SECRET, "GET", &[], false, &h, "date;host", &empty_hash);
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
        let signed = "host;x-amz-content-sha256;x-amz-date";
        let sig = sign(SECRET, "POST", &[], false, &h, signed, &hash);
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
}
