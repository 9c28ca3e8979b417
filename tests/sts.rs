//! STS `GetCallerIdentity` on the ElastiCache endpoint: boto3's own STS client (query form),
//! the awsJson1_0 form, the account of the caller's access key, and STS's error for every
//! other STS operation; ElastiCache requests are not mistaken for STS.

#[path = "support/mod.rs"]
mod support;

use serde_json::Value;
use support::{TestServer, python3};

const BOTO3_IDENTITY: &str = r#"
import json, sys, boto3, botocore.exceptions
url, key = sys.argv[1], sys.argv[2]
sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1",
                   aws_access_key_id=key, aws_secret_access_key="secret")
identity = sts.get_caller_identity()
try:
    sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/r", RoleSessionName="session")
    other = None
except botocore.exceptions.ClientError as error:
    other = [error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]]
ec = boto3.client("elasticache", endpoint_url=url, region_name="us-east-1",
                  aws_access_key_id=key, aws_secret_access_key="secret")
groups = ec.describe_replication_groups()["ReplicationGroups"]
print(json.dumps({"account": identity["Account"], "arn": identity["Arn"],
                  "user": identity["UserId"], "other": other, "groups": len(groups)}))
"#;

fn boto3_identity(server: &TestServer, key: &str) -> Value {
    let out = python3(BOTO3_IDENTITY, &[&server.url, key], "boto3 sts");
    serde_json::from_slice(&out).expect("json from the script")
}

#[test]
fn boto3_get_caller_identity_names_the_callers_account() {
    let server = TestServer::start();
    // A twelve-digit access key is its own account; another key is the default account.
    let own = boto3_identity(&server, "210987654321");
    assert_eq!(own["account"], "210987654321");
    assert_eq!(own["arn"], "arn:aws:iam::210987654321:root");
    assert_eq!(own["user"], "210987654321");
    assert_eq!(own["other"], serde_json::json!(["InvalidAction", 400]));
    assert_eq!(
        own["groups"], 0,
        "ElastiCache is still answered as ElastiCache"
    );
    let default = boto3_identity(&server, "AKIDTEST");
    let account = default["account"].as_str().unwrap();
    assert!(
        account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()),
        "{account}"
    );
}

async fn post(server: &TestServer, headers: &[(&str, &str)], body: &str) -> (u16, String, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/", server.url))
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    assert!(response.headers().contains_key("x-amzn-requestid"));
    support::parts(response).await
}

const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");
const JSON: (&str, &str) = ("Content-Type", "application/x-amz-json-1.0");

fn signed(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=333333333333/20240101/us-east-1/{service}/aws4_request, \
         SignedHeaders=host, Signature=abc"
    )
}

#[tokio::test]
async fn the_json_and_query_forms_and_unknown_operations() {
    let server = TestServer::start();
    let sts_auth = signed("sts");
    let target = (
        "X-Amz-Target",
        "AWSSecurityTokenServiceV20110615.GetCallerIdentity",
    );
    let (status, content_type, body) =
        post(&server, &[JSON, target, ("Authorization", &sts_auth)], "{}").await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "application/x-amz-json-1.0")
    );
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["Account"], "333333333333");
    // Unsigned, the JSON target alone says STS.
    let (status, _, body) = post(&server, &[JSON, target], "{}").await;
    assert_eq!(status, 200);
    assert!(serde_json::from_str::<Value>(&body).unwrap()["Account"].is_string());
    let assume = (
        "X-Amz-Target",
        "AWSSecurityTokenServiceV20110615.AssumeRole",
    );
    let (status, _, body) = post(&server, &[JSON, assume], "{}").await;
    assert_eq!(status, 400);
    assert!(body.contains("UnknownOperationException"), "{body}");
    // The query form, unsigned: STS's Version says STS.
    let query = "Action=GetCallerIdentity&Version=2011-06-15";
    let (status, content_type, body) = post(&server, &[FORM], query).await;
    assert_eq!((status, content_type.as_str()), (200, "text/xml"));
    assert!(body.contains("<GetCallerIdentityResult>"), "{body}");
    let (status, _, body) = post(
        &server,
        &[FORM],
        "Action=GetSessionToken&Version=2011-06-15",
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    // Signed for elasticache, the same body is an ElastiCache request (an unknown action).
    let ec_auth = signed("elasticache");
    let (status, _, body) = post(&server, &[FORM, ("Authorization", &ec_auth)], query).await;
    assert_eq!(status, 400);
    assert!(body.contains("<Code>InvalidAction</Code>"), "{body}");
    assert!(!body.contains("GetCallerIdentityResult"), "{body}");
}
