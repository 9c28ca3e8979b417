//! What we read from a SigV4 `Authorization` header. Signatures are not verified (as in every
//! local mock); the credential scope only tells the caller's access key and region.

/// The parts of `Credential=AKID/20240101/us-west-2/elasticache/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key_id: String,
    pub region: String,
}

impl CredentialScope {
    /// Reads the scope from an `Authorization` header value; `None` when it is not SigV4.
    pub fn from_authorization(header: &str) -> Option<Self> {
        let rest = header.strip_prefix("AWS4-HMAC-SHA256")?;
        let credential = rest
            .split(',')
            .map(str::trim)
            .find_map(|part| part.strip_prefix("Credential="))?;
        Self::from_credential(credential)
    }

    /// Reads `AKID/20240101/us-west-2/elasticache/aws4_request`: the `Credential=` of the
    /// header, or a presigned URL's `X-Amz-Credential` parameter.
    pub fn from_credential(credential: &str) -> Option<Self> {
        let mut parts = credential.split('/');
        let access_key_id = parts.next().filter(|s| !s.is_empty())?.to_string();
        let _date = parts.next()?;
        let region = parts.next().filter(|s| !s.is_empty())?.to_string();
        Some(Self {
            access_key_id,
            region,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_key_and_region_from_a_botocore_header() {
        let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/elasticache/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        let scope = CredentialScope::from_authorization(header).unwrap();
        assert_eq!(scope.access_key_id, "AKIDEXAMPLE");
        assert_eq!(scope.region, "eu-west-1");
    }

    #[test]
    fn reads_a_presigned_credential() {
        let scope =
            CredentialScope::from_credential("AKIDQ/20240101/ap-south-1/elasticache/aws4_request")
                .unwrap();
        assert_eq!(
            (scope.access_key_id.as_str(), scope.region.as_str()),
            ("AKIDQ", "ap-south-1")
        );
        assert_eq!(CredentialScope::from_credential("AKIDQ"), None);
    }

    #[test]
    fn other_schemes_and_junk_give_none() {
        assert_eq!(CredentialScope::from_authorization("Basic abc"), None);
        assert_eq!(
            CredentialScope::from_authorization("AWS4-HMAC-SHA256 Credential=/x"),
            None
        );
        assert_eq!(
            CredentialScope::from_authorization("AWS4-HMAC-SHA256 garbage"),
            None
        );
    }
}
