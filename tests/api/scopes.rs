//! Accounts and regions are isolated: two access keys (two accounts) and two regions on one
//! server each see only their own groups, events and TestFailover quota; the same group id
//! lives in several scopes at once on separate nodes; ARNs carry the caller's account and
//! region; `/_reset` clears every scope.

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;

use crate::support::{TestServer, redis_cli};
use crate::support::{code, create_group, endpoints, wait_for_event};

const FINISHED: &str = "Finished recovery for cache nodes 0001";
const CALLED: &str = "Test Failover API called for node group 0001";

/// Twelve-digit access keys are their own accounts (LocalStack's rule).
const ACCOUNT_A: &str = "111111111111";
const ACCOUNT_B: &str = "222222222222";

fn client(server: &TestServer, access_key: &str, region: &str) -> Client {
    let config = aws_sdk_elasticache::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .credentials_provider(Credentials::new(access_key, "secret", None, None, "test"))
        .endpoint_url(&server.url)
        .build();
    Client::from_conf(config)
}

async fn group_arns(client: &Client) -> Vec<String> {
    let output = client.describe_replication_groups().send().await.unwrap();
    output
        .replication_groups()
        .iter()
        .map(|g| g.arn().unwrap_or_default().to_string())
        .collect()
}

async fn cluster_arns(client: &Client) -> Vec<String> {
    let output = client.describe_cache_clusters().send().await.unwrap();
    output
        .cache_clusters()
        .iter()
        .map(|c| c.arn().unwrap_or_default().to_string())
        .collect()
}

/// Every event message of `source` in the last hour.
async fn messages_of(client: &Client, source: &str) -> Vec<String> {
    let output = client
        .describe_events()
        .source_identifier(source)
        .duration(60)
        .send()
        .await
        .unwrap();
    output
        .events()
        .iter()
        .map(|e| e.message().unwrap_or_default().to_string())
        .collect()
}

async fn test_failover(client: &Client, id: &str) -> Result<(), String> {
    client
        .test_failover()
        .replication_group_id(id)
        .node_group_id("0001")
        .send()
        .await
        .map(|_| ())
        .map_err(|e| code::<(), _>(Err(e)))
}

#[tokio::test]
async fn accounts_and_regions_see_only_their_own_groups_events_and_quota() {
    let data_dir = tempfile::tempdir().unwrap();
    let server = TestServer::start_with(&[
        "--failover-quota",
        "1",
        "--account",
        "AKIDMAPPED=333333333333",
        "--data-dir",
        data_dir.path().to_str().unwrap(),
    ]);
    let a_east = client(&server, ACCOUNT_A, "us-east-1");
    let b_east = client(&server, ACCOUNT_B, "us-east-1");
    let a_west = client(&server, ACCOUNT_A, "eu-west-1");
    let mapped = client(&server, "AKIDMAPPED", "us-east-1");

    // The same id in three scopes at once, each on its own nodes.
    let scopes = [
        (&a_east, ACCOUNT_A, "us-east-1"),
        (&b_east, ACCOUNT_B, "us-east-1"),
        (&a_west, ACCOUNT_A, "eu-west-1"),
    ];
    let mut primaries = Vec::new();
    for (client, account, region) in scopes {
        let group = create_group(client, "shared", 2, true).await;
        primaries.push(endpoints(&group).0);
        assert_eq!(
            group_arns(client).await,
            vec![format!(
                "arn:aws:elasticache:{region}:{account}:replicationgroup:shared"
            )]
        );
        assert_eq!(
            cluster_arns(client).await,
            ["shared-001", "shared-002"]
                .map(|id| format!("arn:aws:elasticache:{region}:{account}:cluster:{id}"))
        );
    }
    // Each scope's nodes keep their dirs apart; the default scope (unused here) has none.
    for (account, region) in [
        (ACCOUNT_A, "us-east-1"),
        (ACCOUNT_B, "us-east-1"),
        (ACCOUNT_A, "eu-west-1"),
    ] {
        let dir = data_dir.path().join(account).join(region).join("shared");
        assert!(dir.is_dir(), "{} missing", dir.display());
    }
    assert!(!data_dir.path().join("shared").exists());
    redis_cli(primaries[0], &["SET", "owner", "a-east"]);
    assert_eq!(redis_cli(primaries[1], &["GET", "owner"]), "");
    assert_eq!(redis_cli(primaries[2], &["GET", "owner"]), "");

    // A mapped key is its mapped account, which has nothing yet.
    assert!(group_arns(&mapped).await.is_empty());
    assert!(messages_of(&mapped, "shared-001").await.is_empty());

    // Quota: one call per account and region; the others are not charged for it.
    test_failover(&a_east, "shared").await.unwrap();
    wait_for_event(&a_east, "shared-001", FINISHED).await;
    assert_eq!(
        test_failover(&a_east, "shared").await.unwrap_err(),
        "APICallRateForCustomerExceeded"
    );
    assert!(
        !messages_of(&b_east, "shared-001")
            .await
            .iter()
            .any(|m| m == CALLED),
        "account B sees account A's failover events"
    );
    assert!(
        !messages_of(&a_west, "shared-001")
            .await
            .iter()
            .any(|m| m == CALLED)
    );
    test_failover(&b_east, "shared").await.unwrap();
    wait_for_event(&b_east, "shared-001", FINISHED).await;
    test_failover(&a_west, "shared").await.unwrap();
    wait_for_event(&a_west, "shared-001", FINISHED).await;

    // Deleting one scope's group leaves the others'.
    b_east
        .delete_replication_group()
        .replication_group_id("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(
            mapped
                .delete_replication_group()
                .replication_group_id("shared")
                .send()
                .await
        ),
        "ReplicationGroupNotFoundFault"
    );
    assert_eq!(group_arns(&a_east).await.len(), 1);
    assert_eq!(group_arns(&a_west).await.len(), 1);

    // /_health names each group's scope; /_reset clears every scope.
    let http = reqwest::Client::new();
    let health: Value = http
        .get(format!("{}/_health", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let scopes: Vec<(String, String)> = health["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["id"] == "shared" && g["status"] == "available")
        .map(|g| {
            (
                g["account"].as_str().unwrap().into(),
                g["region"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        scopes.contains(&(ACCOUNT_A.into(), "us-east-1".into())),
        "{health}"
    );
    assert!(
        scopes.contains(&(ACCOUNT_A.into(), "eu-west-1".into())),
        "{health}"
    );
    let reset = http
        .post(format!("{}/_reset", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 200);
    for client in [&a_east, &b_east, &a_west] {
        assert!(group_arns(client).await.is_empty());
        assert!(messages_of(client, "shared-001").await.is_empty());
    }
}

#[tokio::test]
async fn unsigned_requests_and_ordinary_keys_share_the_default_account() {
    let server =
        TestServer::start_with(&["--account-id", "444444444444", "--region", "ap-south-1"]);
    let ordinary = client(&server, "AKIDEXAMPLE", "ap-south-1");
    let other_region = client(&server, "AKIDEXAMPLE", "us-west-2");
    let created = ordinary
        .create_replication_group()
        .replication_group_id("plain")
        .replication_group_description("d")
        .num_cache_clusters(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.replication_group().and_then(|g| g.arn()),
        Some("arn:aws:elasticache:ap-south-1:444444444444:replicationgroup:plain")
    );
    assert!(
        group_arns(&other_region).await.is_empty(),
        "regions are separate"
    );
    // An unsigned request is the default account in --region.
    let body = reqwest::Client::new()
        .post(&server.url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=DescribeReplicationGroups&Version=2015-02-02")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains(
            "<ARN>arn:aws:elasticache:ap-south-1:444444444444:replicationgroup:plain</ARN>"
        ),
        "{body}"
    );
    // A credential scope naming no valid region is refused, not put in a scope of its own.
    let refused = reqwest::Client::new()
        .post(&server.url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDX/20260101/Not_A_Region/elasticache/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body("Action=DescribeReplicationGroups&Version=2015-02-02")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    let body = refused.text().await.unwrap();
    assert!(body.contains("<Code>IncompleteSignature</Code>"), "{body}");
}
