//! AddTagsToResource, ListTagsForResource and RemoveTagsFromResource over the SDK: tags given
//! at create are listed, changes on a replication group reach its member cache clusters, a
//! member has its own ARN and tags, AWS's limits hold, and every bad ARN gets its kind's fault.

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::Tag;

use crate::support::{TestServer, code, wait_available};

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

async fn tags_of(client: &Client, arn: &str) -> Vec<(String, String)> {
    let output = client
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListTagsForResource {arn}: {e:?}"));
    output
        .tag_list()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
    raw.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A group of two created with tags; its ARN and its members' ARNs.
async fn tagged_group(client: &Client, id: &str) -> (String, Vec<String>) {
    client
        .create_replication_group()
        .replication_group_id(id)
        .replication_group_description("tagged")
        .num_cache_clusters(2)
        .tags(tag("team", "cache"))
        .tags(tag("env", ""))
        .send()
        .await
        .expect("create");
    let group = wait_available(client, id).await;
    let clusters = client.describe_cache_clusters().send().await.unwrap();
    let members = clusters
        .cache_clusters()
        .iter()
        .filter(|c| c.replication_group_id() == Some(id))
        .map(|c| c.arn().unwrap().to_string())
        .collect();
    (group.arn().unwrap().to_string(), members)
}

#[tokio::test]
async fn tags_on_create_are_listed_and_changes_reach_the_members() {
    let server = TestServer::start();
    let client = server.sdk();
    let (arn, members) = tagged_group(&client, "tagged").await;
    let created = pairs(&[("env", ""), ("team", "cache")]);
    assert_eq!(tags_of(&client, &arn).await, created);
    assert_eq!(members.len(), 2);
    for member in &members {
        assert!(member.contains(":cluster:tagged-00"), "{member}");
        assert_eq!(tags_of(&client, member).await, created, "{member}");
    }
    // A member's own tag stays its own.
    client
        .add_tags_to_resource()
        .resource_name(&members[0])
        .tags(tag("role", "first"))
        .send()
        .await
        .unwrap();
    assert_eq!(tags_of(&client, &arn).await, created);
    assert_eq!(tags_of(&client, &members[1]).await, created);
    // The group's changes are replicated to every member.
    let added = client
        .add_tags_to_resource()
        .resource_name(&arn)
        .tags(tag("team", "platform"))
        .tags(tag("cost", "42"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        added.tag_list().len(),
        3,
        "the answer is the group's tags after"
    );
    let after = pairs(&[("cost", "42"), ("env", ""), ("team", "platform")]);
    assert_eq!(tags_of(&client, &arn).await, after);
    assert_eq!(tags_of(&client, &members[1]).await, after);
    let removed = client
        .remove_tags_from_resource()
        .resource_name(&arn)
        .tag_keys("env")
        .tag_keys("cost")
        .send()
        .await
        .unwrap();
    assert_eq!(removed.tag_list().len(), 1);
    assert_eq!(tags_of(&client, &arn).await, pairs(&[("team", "platform")]));
    assert_eq!(
        tags_of(&client, &members[0]).await,
        pairs(&[("role", "first"), ("team", "platform")])
    );
    let missing = client
        .remove_tags_from_resource()
        .resource_name(&arn)
        .tag_keys("team")
        .tag_keys("absent")
        .send()
        .await;
    assert_eq!(code(missing), "TagNotFound");
    assert_eq!(
        tags_of(&client, &arn).await,
        pairs(&[("team", "platform")]),
        "a refused removal removes nothing"
    );
}

#[tokio::test]
async fn aws_limits_hold_on_create_and_on_add() {
    let server = TestServer::start();
    let client = server.sdk();
    let (arn, _) = tagged_group(&client, "limits").await;
    let many: Vec<Tag> = (0..49).map(|i| tag(&format!("k{i}"), "v")).collect();
    let too_many = client
        .add_tags_to_resource()
        .resource_name(&arn)
        .set_tags(Some(many.clone()))
        .send()
        .await;
    assert_eq!(code(too_many), "TagQuotaPerResourceExceeded", "2 + 49 > 50");
    let fits = client
        .add_tags_to_resource()
        .resource_name(&arn)
        .set_tags(Some(many[..48].to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(fits.tag_list().len(), 50);
    for bad in [tag("aws:owner", "x"), tag(&"k".repeat(129), "x")] {
        let refused = client
            .add_tags_to_resource()
            .resource_name(&arn)
            .tags(bad)
            .send()
            .await;
        assert_eq!(code(refused), "InvalidParameterValue");
    }
    let reserved_on_create = client
        .create_replication_group()
        .replication_group_id("reserved")
        .replication_group_description("x")
        .tags(tag("aws:cloudformation:stack", "x"))
        .send()
        .await;
    assert_eq!(code(reserved_on_create), "InvalidParameterValue");
    let none = client.describe_replication_groups().send().await.unwrap();
    assert_eq!(
        none.replication_groups().len(),
        1,
        "the refused create left nothing"
    );
}

#[tokio::test]
async fn unknown_arns_get_their_kinds_fault_and_malformed_ones_invalid_arn() {
    let server = TestServer::start();
    let client = server.sdk();
    let (arn, _) = tagged_group(&client, "known").await;
    // arn:aws:elasticache:<region>:<account>:replicationgroup:known
    let prefix = arn.trim_end_matches("replicationgroup:known");
    let account = prefix.split(':').nth(4).unwrap().to_string();
    let other_account = if account == "111111111111" {
        "222222222222"
    } else {
        "111111111111"
    };
    let cases = [
        (
            format!("{prefix}replicationgroup:absent"),
            "ReplicationGroupNotFoundFault",
        ),
        (
            format!("{prefix}cluster:absent-001"),
            "CacheClusterNotFound",
        ),
        (
            format!("{prefix}subnetgroup:absent"),
            "CacheSubnetGroupNotFoundFault",
        ),
        (
            format!("{prefix}parametergroup:absent"),
            "CacheParameterGroupNotFound",
        ),
        (format!("{prefix}user:absent"), "UserNotFound"),
        (format!("{prefix}usergroup:absent"), "UserGroupNotFound"),
        (format!("{prefix}snapshot:absent"), "SnapshotNotFoundFault"),
        (
            format!("{prefix}serverlesscache:absent"),
            "ServerlessCacheNotFoundFault",
        ),
        (
            arn.replace(&format!(":{account}:"), &format!(":{other_account}:")),
            "ReplicationGroupNotFoundFault",
        ),
        (
            arn.replace(":us-east-1:", ":eu-west-1:"),
            "ReplicationGroupNotFoundFault",
        ),
        ("known".to_string(), "InvalidARN"),
        ("arn:aws:s3:::bucket".to_string(), "InvalidARN"),
        (format!("{prefix}bucket:known"), "InvalidARN"),
        (
            format!("arn:aws:elasticache::{account}:globalreplicationgroup:x-g"),
            "InvalidARN",
        ),
    ];
    for (name, expected) in &cases {
        let listed = client
            .list_tags_for_resource()
            .resource_name(name)
            .send()
            .await;
        assert_eq!(&code(listed), expected, "list {name}");
        let added = client
            .add_tags_to_resource()
            .resource_name(name)
            .tags(tag("k", "v"))
            .send()
            .await;
        assert_eq!(&code(added), expected, "add {name}");
        let removed = client
            .remove_tags_from_resource()
            .resource_name(name)
            .tag_keys("k")
            .send()
            .await;
        assert_eq!(&code(removed), expected, "remove {name}");
    }
    // A member cluster id is matched in any case, as DescribeCacheClusters does.
    let upper = format!("{prefix}cluster:KNOWN-001");
    assert_eq!(tags_of(&client, &upper).await.len(), 2);
}

#[tokio::test]
async fn a_deleted_groups_tags_go_with_it() {
    let server = TestServer::start();
    let client = server.sdk();
    let (arn, members) = tagged_group(&client, "gone").await;
    client
        .delete_replication_group()
        .replication_group_id("gone")
        .send()
        .await
        .unwrap();
    crate::support::wait_deleted(&client, "gone").await;
    let listed = client
        .list_tags_for_resource()
        .resource_name(&arn)
        .send()
        .await;
    assert_eq!(code(listed), "ReplicationGroupNotFoundFault");
    let member = client
        .list_tags_for_resource()
        .resource_name(&members[0])
        .send()
        .await;
    assert_eq!(code(member), "CacheClusterNotFound");
    client
        .create_replication_group()
        .replication_group_id("gone")
        .replication_group_description("again")
        .send()
        .await
        .unwrap();
    assert!(
        tags_of(&client, &arn).await.is_empty(),
        "a new group starts bare"
    );
    wait_available(&client, "gone").await;
}

#[tokio::test]
async fn a_new_replica_gets_the_groups_tags_and_a_removed_ones_go() {
    let server = TestServer::start();
    let client = server.sdk();
    let (arn, members) = tagged_group(&client, "grows").await;
    let prefix = members[0].trim_end_matches("grows-001");
    crate::support::increase_replicas(&client, "grows", 2).await;
    wait_available(&client, "grows").await;
    let third = format!("{prefix}grows-003");
    assert_eq!(tags_of(&client, &third).await, tags_of(&client, &arn).await);
    crate::support::decrease_replicas(&client, "grows", 1).await;
    wait_available(&client, "grows").await;
    let removed = client
        .list_tags_for_resource()
        .resource_name(&third)
        .send()
        .await;
    assert_eq!(code(removed), "CacheClusterNotFound");
}
