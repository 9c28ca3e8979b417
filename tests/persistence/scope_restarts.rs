//! Every account and region keeps its resources across a restart, each in its own model file
//! beside its node dirs, and none sees another's after it.

use crate::restarts::{assert_keys, start_on, wait_model_holds, write_keys};
use crate::support::{create_group, endpoints, wait_available};

/// A twelve-digit access key is its own account.
const ACCOUNT: &str = "111111111111";
const REGION: &str = "eu-west-1";

async fn group_ids(client: &aws_sdk_elasticache::Client) -> Vec<String> {
    let answer = client.describe_replication_groups().send().await;
    let groups = answer.expect("describe").replication_groups().to_vec();
    groups
        .iter()
        .filter_map(|g| g.replication_group_id().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn another_accounts_group_in_another_region_comes_back_in_its_scope_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_on(dir.path());
    let theirs = server.sdk_in_region(ACCOUNT, "secret", REGION);
    let before = create_group(&theirs, "keep", 2, true).await;
    write_keys(endpoints(&before).0);
    create_group(&server.sdk(), "mine", 1, false).await;
    let scope_dir = dir.path().join(ACCOUNT).join(REGION);
    wait_model_holds(&scope_dir, "groups", "keep");
    wait_model_holds(dir.path(), "groups", "mine");
    assert!(server.stop(), "SIGTERM ends the server cleanly");

    let server = start_on(dir.path());
    let theirs = server.sdk_in_region(ACCOUNT, "secret", REGION);
    let after = wait_available(&theirs, "keep").await;
    assert_eq!(
        endpoints(&after),
        endpoints(&before),
        "same endpoints and nodes"
    );
    assert_eq!(
        after.arn(),
        Some(format!("arn:aws:elasticache:{REGION}:{ACCOUNT}:replicationgroup:keep").as_str())
    );
    assert_keys(endpoints(&after).0);
    assert_eq!(group_ids(&theirs).await, ["keep"]);
    let mine = server.sdk();
    wait_available(&mine, "mine").await;
    assert_eq!(
        group_ids(&mine).await,
        ["mine"],
        "the default scope sees only its own"
    );
    // The same account in another region is a scope of its own, with nothing in it.
    let elsewhere = server.sdk_in_region(ACCOUNT, "secret", "us-west-2");
    assert!(group_ids(&elsewhere).await.is_empty());
}
