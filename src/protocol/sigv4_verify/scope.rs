//! The credential: `keyid/date/region/service/aws4_request`, read and checked against the
//! request (its date) and the verifier (its required service).

use super::{ApiError, Authenticated, TERMINATOR};

/// The parts of a `Credential=` / `X-Amz-Credential` value.
pub(super) struct Credential<'a> {
    pub(super) key_id: &'a str,
    /// The scope date, `YYYYMMDD`.
    pub(super) date: &'a str,
    pub(super) region: &'a str,
    pub(super) service: &'a str,
    terminator: &'a str,
}

impl<'a> Credential<'a> {
    /// Splits the value into its five parts (trailing slashes ignored).
    pub(super) fn parse(raw: &'a str) -> Result<Self, ApiError> {
        let parts: Vec<&str> = raw.trim_end_matches('/').split('/').collect();
        let [key_id, date, region, service, terminator] = parts[..] else {
            return Err(ApiError::IncompleteSignature(format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{raw}'"
            )));
        };
        Ok(Self {
            key_id,
            date,
            region,
            service,
            terminator,
        })
    }

    /// Every defect of the scope at once, as AWS lists them: a region, the required service
    /// (any non-empty one when `required_service` is `None`), the terminator, and the date
    /// of the request (`timestamp` in basic format, `date_raw` as sent).
    pub(super) fn check(
        &self,
        required_service: Option<&str>,
        timestamp: &str,
        date_raw: &str,
    ) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        if self.region.is_empty() {
            errors.push(format!(
                "Credential should be scoped to a valid region, not '{}'.",
                self.region
            ));
        }
        match required_service {
            Some(expected) if expected != self.service => errors.push(format!(
                "Credential should be scoped to correct service: '{expected}'."
            )),
            None if self.service.is_empty() => {
                errors.push("Credential should be scoped to correct service: ''.".to_string())
            }
            _ => {}
        }
        if self.terminator != TERMINATOR {
            errors.push(format!(
                "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'.",
                self.terminator
            ));
        }
        let request_day = &timestamp[..8];
        if self.date != request_day {
            errors.push(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{request_day}', from '{date_raw}'.",
                self.date
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::SignatureDoesNotMatch(errors.join(" ")))
        }
    }

    /// The scope as it appears in the string to sign: `date/region/service/aws4_request`.
    pub(super) fn scope(&self) -> String {
        format!(
            "{}/{}/{}/{TERMINATOR}",
            self.date, self.region, self.service
        )
    }

    /// Who signed, once the signature is verified.
    pub(super) fn authenticated(&self) -> Authenticated {
        Authenticated {
            access_key_id: self.key_id.to_string(),
            region: self.region.to_string(),
            service: self.service.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::protocol::sigv4_verify::test_support::*;

    #[test]
    fn sigv4_scope_must_match_the_request() {
        // (Authorization header, SignatureDoesNotMatch message)
        let cases = [
            // Scope date other than X-Amz-Date's.
            (
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150831/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=x",
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'.",
            ),
            // Bad terminator.
            (
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws5_request, SignedHeaders=host;x-amz-date, Signature=x",
                "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
            ),
        ];
        assert_refused(ApiError::SignatureDoesNotMatch, &cases);
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
}
