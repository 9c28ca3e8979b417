//! Cache subnet groups over the SDK: create, describe (paged), modify, delete, the `default`
//! group, AWS's name and subnet rules and faults, and the group a replication group names
//! (Terraform's call sequence: subnet_groups_terraform.rs).

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::CacheSubnetGroup;

use crate::support::{TestServer, code, page_through, wait_available, wait_deleted};

const SUBNET_A: &str = "subnet-0a1b2c3d4e5f60718";
const SUBNET_B: &str = "subnet-0badc0de";
const SUBNET_C: &str = "subnet-abcdef01";

async fn create(client: &Client, name: &str, subnets: &[&str]) -> CacheSubnetGroup {
    let mut request = client
        .create_cache_subnet_group()
        .cache_subnet_group_name(name)
        .cache_subnet_group_description("test subnets");
    for subnet in subnets {
        request = request.subnet_ids(*subnet);
    }
    let output = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e:?}"));
    output.cache_subnet_group().unwrap().clone()
}

async fn describe_one(client: &Client, name: &str) -> CacheSubnetGroup {
    let output = client
        .describe_cache_subnet_groups()
        .cache_subnet_group_name(name)
        .send()
        .await
        .unwrap_or_else(|e| panic!("describe {name}: {e:?}"));
    assert_eq!(output.cache_subnet_groups().len(), 1);
    output.cache_subnet_groups()[0].clone()
}

pub(crate) fn subnet_ids(group: &CacheSubnetGroup) -> Vec<String> {
    group
        .subnets()
        .iter()
        .map(|s| s.subnet_identifier().unwrap().to_string())
        .collect()
}

fn zones(group: &CacheSubnetGroup) -> Vec<String> {
    group
        .subnets()
        .iter()
        .map(|s| {
            s.subnet_availability_zone()
                .and_then(|z| z.name())
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn create_describe_modify_delete_and_the_default_group() {
    let server = TestServer::start();
    let client = server.sdk();
    let default = describe_one(&client, "default").await;
    assert_eq!(default.cache_subnet_group_name(), Some("default"));
    assert!(!default.subnets().is_empty());
    let created = create(&client, "My-Subnets", &[SUBNET_A, SUBNET_B]).await;
    assert_eq!(
        created.cache_subnet_group_name(),
        Some("my-subnets"),
        "lower-cased"
    );
    assert_eq!(subnet_ids(&created), [SUBNET_A, SUBNET_B]);
    let vpc = created.vpc_id().unwrap().to_string();
    assert!(vpc.starts_with("vpc-"), "{vpc}");
    assert_eq!(default.vpc_id(), Some(vpc.as_str()), "one VPC per scope");
    for zone in zones(&created) {
        assert!(
            ["us-east-1a", "us-east-1b", "us-east-1c"].contains(&zone.as_str()),
            "{zone}"
        );
    }
    assert!(created.arn().unwrap().ends_with(":subnetgroup:my-subnets"));
    let described = describe_one(&client, "MY-SUBNETS").await;
    assert_eq!(described, created, "describe shows what create answered");
    let modified = client
        .modify_cache_subnet_group()
        .cache_subnet_group_name("my-subnets")
        .subnet_ids(SUBNET_C)
        .send()
        .await
        .unwrap();
    let modified = modified.cache_subnet_group().unwrap();
    assert_eq!(subnet_ids(modified), [SUBNET_C]);
    assert_eq!(
        modified.cache_subnet_group_description(),
        Some("test subnets")
    );
    let described = describe_one(&client, "my-subnets").await;
    assert_eq!(&described, modified);
    assert_eq!(
        zones(&described),
        zones(&create(&client, "same-zone", &[SUBNET_C]).await),
        "a subnet's zone is the same wherever it is shown"
    );
    client
        .delete_cache_subnet_group()
        .cache_subnet_group_name("My-Subnets")
        .send()
        .await
        .unwrap();
    let gone = client
        .describe_cache_subnet_groups()
        .cache_subnet_group_name("my-subnets")
        .send()
        .await;
    assert_eq!(code(gone), "CacheSubnetGroupNotFoundFault");
    let again = client
        .delete_cache_subnet_group()
        .cache_subnet_group_name("my-subnets")
        .send()
        .await;
    assert_eq!(code(again), "CacheSubnetGroupNotFoundFault");
    let delete_default = client
        .delete_cache_subnet_group()
        .cache_subnet_group_name("default")
        .send()
        .await;
    assert_eq!(code(delete_default), "InvalidParameterValue");
    let modify_default = client
        .modify_cache_subnet_group()
        .cache_subnet_group_name("default")
        .cache_subnet_group_description("x")
        .send()
        .await;
    assert_eq!(code(modify_default), "InvalidParameterValue");
}

#[tokio::test]
async fn names_subnets_and_quotas_are_checked_as_aws_does() {
    let server = TestServer::start();
    let client = server.sdk();
    create(&client, "taken", &[SUBNET_A]).await;
    let duplicate = client
        .create_cache_subnet_group()
        .cache_subnet_group_name("TAKEN")
        .cache_subnet_group_description("x")
        .subnet_ids(SUBNET_A)
        .send()
        .await;
    assert_eq!(code(duplicate), "CacheSubnetGroupAlreadyExists");
    let long = "a".repeat(256);
    for bad in ["under_score", "with space", "", long.as_str()] {
        let refused = client
            .create_cache_subnet_group()
            .cache_subnet_group_name(bad)
            .cache_subnet_group_description("x")
            .subnet_ids(SUBNET_A)
            .send()
            .await;
        let expected = if bad.is_empty() {
            "MissingParameter"
        } else {
            "InvalidParameterValue"
        };
        assert_eq!(code(refused), expected, "{bad:?}");
    }
    create(&client, &"b".repeat(255), &[SUBNET_A]).await;
    create(&client, "1-digits-and-hyphens-", &[SUBNET_A]).await;
    for bad in ["subnet-xyz", "vpc-1234abcd", "subnet-1234ABCD"] {
        let refused = client
            .create_cache_subnet_group()
            .cache_subnet_group_name("bad-subnet")
            .cache_subnet_group_description("x")
            .subnet_ids(bad)
            .send()
            .await;
        assert_eq!(code(refused), "InvalidSubnet", "{bad}");
    }
    let no_subnets = client
        .create_cache_subnet_group()
        .cache_subnet_group_name("none")
        .cache_subnet_group_description("x")
        .send()
        .await;
    assert_eq!(code(no_subnets), "MissingParameter");
    let mut too_many = client
        .create_cache_subnet_group()
        .cache_subnet_group_name("too-many")
        .cache_subnet_group_description("x");
    for i in 0..21 {
        too_many = too_many.subnet_ids(format!("subnet-{i:08x}"));
    }
    assert_eq!(code(too_many.send().await), "CacheSubnetQuotaExceededFault");
    let absent = client
        .modify_cache_subnet_group()
        .cache_subnet_group_name("absent")
        .subnet_ids(SUBNET_A)
        .send()
        .await;
    assert_eq!(code(absent), "CacheSubnetGroupNotFoundFault");
    // 150 groups a region, `default` included.
    let existing = client.describe_cache_subnet_groups().send().await.unwrap();
    let start = existing.cache_subnet_groups().len();
    for i in start..150 {
        create(&client, &format!("fill-{i:03}"), &[SUBNET_B]).await;
    }
    let over = client
        .create_cache_subnet_group()
        .cache_subnet_group_name("one-too-many")
        .cache_subnet_group_description("x")
        .subnet_ids(SUBNET_B)
        .send()
        .await;
    assert_eq!(code(over), "CacheSubnetGroupQuotaExceeded");
}

#[tokio::test]
async fn describe_pages_with_markers_and_max_records() {
    let server = TestServer::start();
    let client = server.sdk();
    for i in 0..44 {
        create(&client, &format!("group-{i:02}"), &[SUBNET_A]).await;
    }
    let (seen, pages) = page_through(|marker| async {
        let page = client
            .describe_cache_subnet_groups()
            .max_records(20)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        assert!(page.cache_subnet_groups().len() <= 20);
        let names: Vec<String> = page
            .cache_subnet_groups()
            .iter()
            .map(|g| g.cache_subnet_group_name().unwrap().to_string())
            .collect();
        (names, page.marker().map(str::to_string))
    })
    .await;
    assert_eq!(pages, 3, "45 groups in pages of 20");
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (45, 45), "no repeats, no gaps");
    assert!(seen.contains(&"default".to_string()));
    for bad in [
        client
            .describe_cache_subnet_groups()
            .max_records(19)
            .send()
            .await,
        client
            .describe_cache_subnet_groups()
            .marker("forged")
            .send()
            .await,
    ] {
        assert_eq!(code(bad), "InvalidParameterValue");
    }
}

#[tokio::test]
async fn a_replication_group_names_its_subnet_group_which_cannot_go_while_used() {
    let server = TestServer::start();
    let client = server.sdk();
    let missing = client
        .create_replication_group()
        .replication_group_id("nowhere")
        .replication_group_description("x")
        .cache_subnet_group_name("absent")
        .send()
        .await;
    assert_eq!(code(missing), "CacheSubnetGroupNotFoundFault");
    let created = create(&client, "app-subnets", &[SUBNET_A, SUBNET_B, SUBNET_C]).await;
    let az = zones(&created)[0].clone();
    client
        .create_replication_group()
        .replication_group_id("inside")
        .replication_group_description("x")
        .cache_subnet_group_name("App-Subnets")
        .preferred_cache_cluster_azs(&az)
        .send()
        .await
        .unwrap();
    wait_available(&client, "inside").await;
    let clusters = client.describe_cache_clusters().send().await.unwrap();
    assert_eq!(
        clusters.cache_clusters()[0].cache_subnet_group_name(),
        Some("app-subnets")
    );
    let in_use = client
        .delete_cache_subnet_group()
        .cache_subnet_group_name("app-subnets")
        .send()
        .await;
    assert_eq!(code(in_use), "CacheSubnetGroupInUse");
    // Dropping every subnet of the zone the node is in is refused; keeping one is not.
    let same_zone: Vec<&str> = [SUBNET_A, SUBNET_B, SUBNET_C]
        .into_iter()
        .zip(zones(&created))
        .filter(|(_, zone)| *zone == az)
        .map(|(id, _)| id)
        .collect();
    let others: Vec<String> = [SUBNET_A, SUBNET_B, SUBNET_C]
        .into_iter()
        .filter(|id| !same_zone.contains(id))
        .map(str::to_string)
        .collect();
    assert!(
        !others.is_empty(),
        "the three subnets span more than one zone"
    );
    {
        let dropped = client
            .modify_cache_subnet_group()
            .cache_subnet_group_name("app-subnets")
            .set_subnet_ids(Some(others))
            .send()
            .await;
        assert_eq!(code(dropped), "SubnetInUse");
    }
    client
        .modify_cache_subnet_group()
        .cache_subnet_group_name("app-subnets")
        .subnet_ids(same_zone[0])
        .send()
        .await
        .unwrap();
    client
        .delete_replication_group()
        .replication_group_id("inside")
        .send()
        .await
        .unwrap();
    wait_deleted(&client, "inside").await;
    client
        .delete_cache_subnet_group()
        .cache_subnet_group_name("app-subnets")
        .send()
        .await
        .expect("deletable once no group uses it");
    // Without a name, a group is in `default`.
    client
        .create_replication_group()
        .replication_group_id("plain")
        .replication_group_description("x")
        .send()
        .await
        .unwrap();
    wait_available(&client, "plain").await;
    let clusters = client.describe_cache_clusters().send().await.unwrap();
    assert_eq!(
        clusters.cache_clusters()[0].cache_subnet_group_name(),
        Some("default")
    );
}

/// The provider's generated `ListTags` (internal/service/elasticache/tags_gen.go, `ListTags`):
/// ListTagsForResource on the ARN, as a map.
pub(crate) async fn provider_list_tags(client: &Client, arn: &str) -> BTreeMap<String, String> {
    let output = client
        .list_tags_for_resource()
        .resource_name(arn)
        .send()
        .await
        .unwrap();
    output
        .tag_list()
        .iter()
        .map(|t| {
            (
                t.key().unwrap().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}
