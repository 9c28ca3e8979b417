//! STS `GetCallerIdentity`, so that tools which ask who they are before anything else
//! (Terraform's AWS provider, unless told `skip_requesting_account_id`) get an answer on the
//! same endpoint.
//!
//! botocore's `data/sts/2011-06-15/service-2.json` lists one protocol, `query` (awsQuery:
//! form body `Action=GetCallerIdentity&Version=2011-06-15`, XML answer in the
//! `https://sts.amazonaws.com/doc/2011-06-15/` namespace with a `GetCallerIdentityResult`
//! wrapper). SDKs generated from the Smithy model may instead send awsJson1_0
//! (`X-Amz-Target: AWSSecurityTokenServiceV20110615.GetCallerIdentity`,
//! `Content-Type: application/x-amz-json-1.0`, body `{}`), answered with the bare output
//! structure; both are encoded here.
//!
//! Credentials here are not IAM users, so the caller is the account's root: `UserId` is the
//! account id and `Arn` is `arn:aws:iam::<account>:root`, as AWS answers root credentials.

pub const QUERY_VERSION: &str = "2011-06-15";
pub const XML_NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
pub const JSON_TARGET_PREFIX: &str = "AWSSecurityTokenServiceV20110615.";
pub const JSON_CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// The service name in a SigV4 credential scope (`.../us-east-1/sts/aws4_request`).
pub const SIGNING_NAME: &str = "sts";

/// Which wire form an STS request came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsForm {
    Query,
    Json,
}

/// What the router knows of a request before dispatching it.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFacts<'a> {
    /// The service of the SigV4 credential scope, if the request is signed.
    pub signing_service: Option<&'a str>,
    /// The `X-Amz-Target` header.
    pub target: Option<&'a str>,
    /// The form's `Action` and `Version`, if it has a form body or query string.
    pub action: Option<&'a str>,
    pub version: Option<&'a str>,
}

/// Whether a request is for STS, and in which form. The credential scope decides when present
/// (every SDK signs with the service's signing name, `sts` or `elasticache`); an unsigned
/// request is STS when it carries STS's JSON target or STS's query `Version`. ElastiCache's own
/// `Version` is `2015-02-02`, so the two query APIs cannot be confused.
pub fn classify(facts: &RequestFacts<'_>) -> Option<StsForm> {
    let json = facts
        .target
        .is_some_and(|t| t.starts_with(JSON_TARGET_PREFIX));
    let query = facts.version == Some(QUERY_VERSION);
    let form = if json { StsForm::Json } else { StsForm::Query };
    match facts.signing_service {
        Some(service) if service == SIGNING_NAME => Some(form),
        Some(_) => None,
        None => (json || query).then_some(form),
    }
}

/// The service of a SigV4 `Authorization` header's credential scope
/// (`AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sts/aws4_request, ...` -> `sts`).
/// `None` for anything else; `CredentialScope` in `sigv4.rs` reads the key and region only.
pub fn signing_service(authorization: &str) -> Option<&str> {
    let rest = authorization.strip_prefix("AWS4-HMAC-SHA256")?;
    let credential = rest
        .split(',')
        .find_map(|part| part.trim().strip_prefix("Credential="))?;
    let mut fields = credential.rsplit('/');
    (fields.next()? == "aws4_request").then_some(())?;
    fields.next().filter(|s| !s.is_empty())
}

/// The STS operation a request names: the `Action` of a query request, the part of the target
/// after the prefix for JSON.
pub fn operation<'a>(form: StsForm, facts: &RequestFacts<'a>) -> Option<&'a str> {
    match form {
        StsForm::Query => facts.action,
        StsForm::Json => facts.target?.strip_prefix(JSON_TARGET_PREFIX),
    }
}

/// The caller identity for root credentials of `account_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub user_id: String,
    pub account: String,
    pub arn: String,
}

impl CallerIdentity {
    pub fn root(account_id: &str) -> Self {
        Self {
            user_id: account_id.to_string(),
            account: account_id.to_string(),
            arn: format!("arn:aws:iam::{account_id}:root"),
        }
    }
}

/// The awsQuery answer (`text/xml`).
pub fn query_response(identity: &CallerIdentity, request_id: &str) -> String {
    let e = |s: &str| quick_xml::escape::escape(s).into_owned();
    format!(
        "<GetCallerIdentityResponse xmlns=\"{XML_NAMESPACE}\">\
<GetCallerIdentityResult>\
<Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>\
</GetCallerIdentityResult>\
<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
</GetCallerIdentityResponse>",
        e(&identity.arn),
        e(&identity.user_id),
        e(&identity.account),
        e(request_id)
    )
}

/// The awsJson1_0 answer (`application/x-amz-json-1.0`; the request id goes in the
/// `x-amzn-RequestId` header, not the body).
pub fn json_response(identity: &CallerIdentity) -> String {
    serde_json::json!({
        "UserId": identity.user_id,
        "Account": identity.account,
        "Arn": identity.arn,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts<'a>(
        signing_service: Option<&'a str>,
        target: Option<&'a str>,
        version: Option<&'a str>,
    ) -> RequestFacts<'a> {
        RequestFacts {
            signing_service,
            target,
            action: Some("GetCallerIdentity"),
            version,
        }
    }

    #[test]
    fn classify_by_scope_then_target_then_version() {
        let target = Some("AWSSecurityTokenServiceV20110615.GetCallerIdentity");
        assert_eq!(
            classify(&facts(Some("sts"), None, Some(QUERY_VERSION))),
            Some(StsForm::Query)
        );
        assert_eq!(
            classify(&facts(Some("sts"), target, None)),
            Some(StsForm::Json)
        );
        assert_eq!(
            classify(&facts(Some("elasticache"), None, Some("2015-02-02"))),
            None
        );
        // The scope wins over a body that looks like STS.
        assert_eq!(
            classify(&facts(Some("elasticache"), None, Some(QUERY_VERSION))),
            None
        );
        assert_eq!(
            classify(&facts(None, None, Some(QUERY_VERSION))),
            Some(StsForm::Query)
        );
        assert_eq!(classify(&facts(None, target, None)), Some(StsForm::Json));
        assert_eq!(classify(&facts(None, None, Some("2015-02-02"))), None);
        assert_eq!(
            classify(&facts(None, Some("DynamoDB_20120810.GetItem"), None)),
            None
        );
    }

    #[test]
    fn signing_service_from_authorization() {
        let sts = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/sts/aws4_request, \
SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(signing_service(sts), Some("sts"));
        let ec = "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/elasticache/aws4_request, \
SignedHeaders=host, Signature=abc";
        assert_eq!(signing_service(ec), Some("elasticache"));
        assert_eq!(signing_service("Basic abc"), None);
        assert_eq!(
            signing_service("AWS4-HMAC-SHA256 Credential=AKID/x/y"),
            None
        );
    }

    #[test]
    fn operation_of_each_form() {
        let q = facts(Some("sts"), None, Some(QUERY_VERSION));
        assert_eq!(operation(StsForm::Query, &q), Some("GetCallerIdentity"));
        let j = RequestFacts {
            target: Some("AWSSecurityTokenServiceV20110615.AssumeRole"),
            ..Default::default()
        };
        assert_eq!(operation(StsForm::Json, &j), Some("AssumeRole"));
    }

    #[test]
    fn root_identity_and_encodings() {
        let id = CallerIdentity::root("123456789012");
        assert_eq!(id.arn, "arn:aws:iam::123456789012:root");
        let xml = query_response(&id, "req-<1>");
        assert!(xml.starts_with(
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
        ));
        assert!(xml.contains("<Account>123456789012</Account>"));
        assert!(xml.contains("<RequestId>req-&lt;1&gt;</RequestId>"));
        let json: serde_json::Value = serde_json::from_str(&json_response(&id)).unwrap();
        assert_eq!(json["Account"], "123456789012");
        assert_eq!(json["UserId"], "123456789012");
        assert_eq!(json["Arn"], "arn:aws:iam::123456789012:root");
    }
}
