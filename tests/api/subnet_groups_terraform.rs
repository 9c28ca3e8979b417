//! The call sequence terraform-provider-aws makes for `aws_elasticache_subnet_group`: create,
//! read, update, read (no diff), delete.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::Tag;

use crate::support::{TestServer, code};

const SUBNET_A: &str = "subnet-0a1b2c3d4e5f60718";
const SUBNET_B: &str = "subnet-0badc0de";
const SUBNET_C: &str = "subnet-abcdef01";

use crate::subnet_groups::{provider_list_tags, subnet_ids};

/// What `resourceSubnetGroupRead` (subnet_group.go) puts in the state: `FindCacheSubnetGroupByName`
/// (find.go: DescribeCacheSubnetGroups by name), then name, description, subnet_ids (a set) and
/// the tags from `ListTags`.
async fn provider_read(
    client: &Client,
    id: &str,
) -> Option<(String, String, BTreeSet<String>, BTreeMap<String, String>)> {
    let found = client
        .describe_cache_subnet_groups()
        .cache_subnet_group_name(id)
        .send()
        .await;
    let group = match found {
        Ok(output) => output.cache_subnet_groups().first()?.clone(),
        Err(error) => {
            // tfresource.NotFound: the provider maps CacheSubnetGroupNotFoundFault to "gone".
            assert_eq!(code::<(), _>(Err(error)), "CacheSubnetGroupNotFoundFault");
            return None;
        }
    };
    let tags = provider_list_tags(client, group.arn().unwrap()).await;
    Some((
        group.cache_subnet_group_name().unwrap().to_string(),
        group.cache_subnet_group_description().unwrap().to_string(),
        subnet_ids(&group).into_iter().collect(),
        tags,
    ))
}

/// The provider's generated `UpdateTags` (tags_gen.go): RemoveTagsFromResource for the keys
/// removed or changed away, then AddTagsToResource for the new and updated ones.
pub(crate) async fn provider_update_tags(
    client: &Client,
    arn: &str,
    old: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
) {
    let removed: Vec<String> = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    if !removed.is_empty() {
        client
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .unwrap();
    }
    let updated: Vec<Tag> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    if !updated.is_empty() {
        client
            .add_tags_to_resource()
            .resource_name(arn)
            .set_tags(Some(updated))
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn terraform_subnet_group_create_read_update_read_delete_with_no_diff() {
    let server = TestServer::start();
    let client = server.sdk();
    // Configuration: name with capitals (the schema's StateFunc lower-cases it), the
    // description default "Managed by Terraform", two subnets and one tag.
    let config_tags: BTreeMap<String, String> =
        [("Name".to_string(), "tf-test".to_string())].into();
    // resourceSubnetGroupCreate (subnet_group.go): CreateCacheSubnetGroup with Tags...
    let created = client
        .create_cache_subnet_group()
        .cache_subnet_group_name("TF-Subnets")
        .cache_subnet_group_description("Managed by Terraform")
        .subnet_ids(SUBNET_B)
        .subnet_ids(SUBNET_A)
        .tags(Tag::builder().key("Name").value("tf-test").build())
        .send()
        .await
        .unwrap();
    let arn = created
        .cache_subnet_group()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    // ...then d.SetId(strings.ToLower(name)) and resourceSubnetGroupRead.
    let id = "tf-subnets";
    let expected = |description: &str, subnets: &[&str], tags: &BTreeMap<String, String>| {
        (
            id.to_string(),
            description.to_string(),
            subnets
                .iter()
                .map(|s| s.to_string())
                .collect::<BTreeSet<_>>(),
            tags.clone(),
        )
    };
    let state = provider_read(&client, id)
        .await
        .expect("found after create");
    assert_eq!(
        state,
        expected("Managed by Terraform", &[SUBNET_A, SUBNET_B], &config_tags),
        "no diff after create"
    );
    // A later `terraform plan` refreshes with the same read: still no diff.
    assert_eq!(provider_read(&client, id).await, Some(state.clone()));
    // resourceSubnetGroupUpdate: HasChanges("subnet_ids", "description") -> ModifyCacheSubnetGroup
    // with the name, the description and every subnet id...
    client
        .modify_cache_subnet_group()
        .cache_subnet_group_name(id)
        .cache_subnet_group_description("changed by Terraform")
        .subnet_ids(SUBNET_C)
        .subnet_ids(SUBNET_A)
        .send()
        .await
        .unwrap();
    // ...HasChange("tags_all") -> UpdateTags(old, new)...
    let new_tags: BTreeMap<String, String> = [
        ("team".to_string(), "cache".to_string()),
        ("env".to_string(), "ci".to_string()),
    ]
    .into();
    provider_update_tags(&client, &arn, &config_tags, &new_tags).await;
    // ...then resourceSubnetGroupRead: the state matches the new configuration.
    let state = provider_read(&client, id)
        .await
        .expect("found after update");
    assert_eq!(
        state,
        expected("changed by Terraform", &[SUBNET_A, SUBNET_C], &new_tags),
        "no diff after update"
    );
    // resourceSubnetGroupDelete: DeleteCacheSubnetGroup by id (retried on DependencyViolation
    // only); CacheSubnetGroupNotFoundFault counts as deleted.
    client
        .delete_cache_subnet_group()
        .cache_subnet_group_name(id)
        .send()
        .await
        .unwrap();
    // The provider's post-destroy check reads again and expects NotFound.
    assert_eq!(provider_read(&client, id).await, None);
    let listed = client
        .list_tags_for_resource()
        .resource_name(&arn)
        .send()
        .await;
    assert_eq!(code(listed), "CacheSubnetGroupNotFoundFault");
}
