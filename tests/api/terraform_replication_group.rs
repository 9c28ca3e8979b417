//! A replay of terraform-provider-aws's `aws_elasticache_replication_group` call sequence, with
//! a "plan" after each step: what the provider's read puts in its state must equal the
//! configuration (no diff; `port` and `subnet_group_name` are ForceNew, so a diff there would
//! replace the group on every plan). Each step names the function of
//! `internal/service/elasticache/` it comes from:
//! - create: `resourceReplicationGroupCreate` (replication_group.go), then
//!   `WaitReplicationGroupAvailable` (wait.go), then the read;
//! - read: `resourceReplicationGroupRead`: `FindReplicationGroupByID` (find.go), the wait again,
//!   `ListTags` (tags_gen.go), `DescribeCacheClusters` of the first member with node info and
//!   `setFromCacheCluster` (cluster.go) with `setEngineVersionRedis` (engine_version.go);
//! - update: `resourceReplicationGroupUpdate`: `modifyReplicationGroupNumCacheClusters`
//!   (IncreaseReplicaCount, then the wait), ModifyReplicationGroup for the changed attributes
//!   (then the wait), `UpdateTags`;
//! - destroy: `resourceReplicationGroupDelete` / `deleteReplicationGroup`, then
//!   `WaitReplicationGroupDeleted` (wait.go: until ReplicationGroupNotFoundFault).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::{ReplicationGroup, Tag};

use super::subnet_groups::provider_list_tags;
use super::subnet_groups_terraform::provider_update_tags;
use crate::support::{TestServer, address_of_endpoint, code, redis_cli, wait_until};

/// How long the provider's waiters may take here (theirs are 40-60 minutes).
const WAIT: Duration = Duration::from_secs(60);

/// The resource's configuration: only the attributes the replay sets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Config {
    id: String,
    description: String,
    node_type: String,
    engine: String,
    engine_version: String,
    port: i32,
    subnet_group_name: String,
    parameter_group_name: String,
    automatic_failover_enabled: bool,
    multi_az_enabled: bool,
    /// Cluster mode disabled: `num_cache_clusters`; enabled: (`num_node_groups`,
    /// `replicas_per_node_group`).
    layout: Layout,
    tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    CacheClusters(usize),
    Shards { node_groups: usize, replicas: usize },
}

/// What the read put in the state besides the configured attributes.
#[derive(Debug)]
struct Computed {
    arn: String,
    /// `primary_endpoint_address` and `reader_endpoint_address`, or
    /// `configuration_endpoint_address`, with the port.
    endpoints: Vec<SocketAddr>,
    member_clusters: Vec<String>,
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `resourceReplicationGroupCreate`: the CreateReplicationGroup input as it builds it from the
/// configuration (tags on the create, `Port` and `CacheSubnetGroupName` as given).
async fn create(client: &Client, config: &Config) {
    let tags: Vec<Tag> = config
        .tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect();
    let mut create = client
        .create_replication_group()
        .replication_group_id(&config.id)
        .set_tags(Some(tags))
        .replication_group_description(&config.description)
        .automatic_failover_enabled(config.automatic_failover_enabled)
        .cache_node_type(&config.node_type)
        .engine(&config.engine)
        .engine_version(&config.engine_version)
        .cache_parameter_group_name(&config.parameter_group_name)
        .port(config.port)
        .cache_subnet_group_name(&config.subnet_group_name)
        .multi_az_enabled(config.multi_az_enabled);
    create = match config.layout {
        Layout::CacheClusters(count) => create.num_cache_clusters(count as i32),
        Layout::Shards {
            node_groups,
            replicas,
        } => create
            .num_node_groups(node_groups as i32)
            .replicas_per_node_group(replicas as i32),
    };
    let created = create.send().await.expect("CreateReplicationGroup");
    assert_eq!(
        created.replication_group().unwrap().replication_group_id(),
        Some(config.id.as_str()),
        "d.SetId(resp.ReplicationGroup.ReplicationGroupId)"
    );
    wait_available(client, &config.id).await;
}

/// `FindReplicationGroupByID` (find.go): DescribeReplicationGroups by id, exactly one result;
/// `None` on ReplicationGroupNotFoundFault (`tfresource.NotFound`).
async fn find(client: &Client, id: &str) -> Option<ReplicationGroup> {
    match client
        .describe_replication_groups()
        .replication_group_id(id)
        .send()
        .await
    {
        Ok(output) => {
            assert_eq!(output.replication_groups().len(), 1, "exactly one result");
            Some(output.replication_groups()[0].clone())
        }
        Err(error) => {
            assert_eq!(code::<(), _>(Err(error)), "ReplicationGroupNotFoundFault");
            None
        }
    }
}

/// `WaitReplicationGroupAvailable` (wait.go): pending `creating`, `modifying`, `snapshotting`;
/// target `available`. Any other status fails the wait, as the StateChangeConf does.
async fn wait_available(client: &Client, id: &str) -> ReplicationGroup {
    wait_until(&format!("{id} available"), WAIT, || async {
        let group = find(client, id).await.expect("the group exists");
        let status = group.status().unwrap_or_default().to_string();
        assert!(
            ["creating", "modifying", "snapshotting", "available"].contains(&status.as_str()),
            "unexpected state {status}"
        );
        (status == "available").then_some(group)
    })
    .await
}

/// `resourceReplicationGroupRead`, returning the configured attributes as it sets them and the
/// computed ones.
async fn read(client: &Client, config: &Config) -> (Config, Computed) {
    let group = find(client, &config.id)
        .await
        .expect("FindReplicationGroupByID");
    assert_ne!(group.status(), Some("deleting"));
    let node_groups = group.node_groups();
    let (port, endpoints) = match group.configuration_endpoint() {
        Some(endpoint) => (endpoint.port(), vec![address_of_endpoint(endpoint)]),
        None => {
            let primary = node_groups[0].primary_endpoint().expect("PrimaryEndpoint");
            let reader = node_groups[0].reader_endpoint().expect("ReaderEndpoint");
            let both = vec![address_of_endpoint(primary), address_of_endpoint(reader)];
            (primary.port(), both)
        }
    };
    let layout = if group.cluster_enabled() == Some(true) {
        Layout::Shards {
            node_groups: node_groups.len(),
            replicas: node_groups[0].node_group_members().len() - 1,
        }
    } else {
        Layout::CacheClusters(group.member_clusters().len())
    };
    wait_available(client, &config.id).await; // "Tags cannot be read when ... not Available"
    let tags = provider_list_tags(client, group.arn().unwrap()).await;
    let first = node_groups[0].node_group_members()[0]
        .cache_cluster_id()
        .unwrap();
    let clusters = client
        .describe_cache_clusters()
        .cache_cluster_id(first)
        .show_cache_node_info(true)
        .send()
        .await
        .expect("DescribeCacheClusters of the first member");
    let cluster = &clusters.cache_clusters()[0];
    let state = Config {
        id: group.replication_group_id().unwrap().to_string(),
        description: group.description().unwrap_or_default().to_string(),
        node_type: cluster.cache_node_type().unwrap_or_default().to_string(),
        engine: cluster.engine().unwrap_or_default().to_string(),
        engine_version: redis_engine_version(cluster.engine_version().unwrap()),
        port: port.expect("the endpoint's port"),
        subnet_group_name: cluster
            .cache_subnet_group_name()
            .unwrap_or_default()
            .to_string(),
        parameter_group_name: cluster
            .cache_parameter_group()
            .and_then(|p| p.cache_parameter_group_name())
            .unwrap_or_default()
            .to_string(),
        automatic_failover_enabled: matches!(
            group.automatic_failover().map(|s| s.as_str()),
            Some("enabled" | "enabling")
        ),
        multi_az_enabled: group.multi_az().map(|s| s.as_str()) == Some("enabled"),
        layout,
        tags,
    };
    let computed = Computed {
        arn: group.arn().unwrap().to_string(),
        endpoints,
        member_clusters: group.member_clusters().to_vec(),
    };
    (state, computed)
}

/// `setEngineVersionRedis` (engine_version.go) for a configuration without `.x`: from 6 on,
/// `engine_version` is `major.minor` of what the cluster reports.
fn redis_engine_version(reported: &str) -> String {
    let mut parts = reported.split('.');
    let major = parts.next().unwrap();
    let minor = parts.next().unwrap_or("0");
    if major.parse::<u32>().unwrap() < 6 {
        reported.to_string()
    } else {
        format!("{major}.{minor}")
    }
}

/// A `terraform plan` right after: the read must show exactly the configuration, every
/// endpoint on the configured port.
async fn assert_no_diff(client: &Client, config: &Config, step: &str) -> Computed {
    let (state, computed) = read(client, config).await;
    assert_eq!(
        &state, config,
        "{step}: the read differs from the configuration"
    );
    assert!(
        computed
            .endpoints
            .iter()
            .all(|e| e.port() == config.port as u16),
        "{step}: {computed:?}"
    );
    computed
}

/// `resourceReplicationGroupDelete`: DeleteReplicationGroup, then `WaitReplicationGroupDeleted`
/// (pending `creating`, `available`, `deleting`, until NotFound).
async fn destroy(client: &Client, id: &str) {
    client
        .delete_replication_group()
        .replication_group_id(id)
        .send()
        .await
        .expect("DeleteReplicationGroup");
    wait_until(&format!("{id} deleted"), WAIT, || async {
        match find(client, id).await {
            None => Some(()),
            Some(group) => {
                let status = group.status().unwrap_or_default();
                assert!(["creating", "available", "deleting"].contains(&status));
                None
            }
        }
    })
    .await;
}

/// The subnet group the configuration references (an `aws_elasticache_subnet_group`).
async fn subnet_group(client: &Client, name: &str) {
    client
        .create_cache_subnet_group()
        .cache_subnet_group_name(name)
        .cache_subnet_group_description("terraform replay")
        .subnet_ids("subnet-0123456789abcdef0")
        .subnet_ids("subnet-0fedcba9876543210")
        .send()
        .await
        .expect("CreateCacheSubnetGroup");
}

fn cluster_mode_disabled() -> Config {
    Config {
        id: "tf-rg".into(),
        description: "managed by terraform".into(),
        node_type: "cache.t4g.micro".into(),
        engine: "redis".into(),
        engine_version: "7.0".into(),
        port: 6379,
        subnet_group_name: "tf-subnets".into(),
        parameter_group_name: "default.redis7".into(),
        automatic_failover_enabled: true,
        multi_az_enabled: true,
        layout: Layout::CacheClusters(2),
        tags: tags(&[("Name", "tf-rg"), ("env", "test")]),
    }
}

#[tokio::test]
async fn terraform_replication_group_cluster_mode_disabled_round_trips_with_no_diff() {
    let server = TestServer::start();
    let client = server.sdk();
    subnet_group(&client, "tf-subnets").await;
    let mut config = cluster_mode_disabled();

    create(&client, &config).await;
    let computed = assert_no_diff(&client, &config, "after create").await;
    let primary = computed.endpoints[0];
    assert_eq!(redis_cli(primary, &["SET", "tf", "applied"]), "OK");

    // Update: one more cache cluster, a new description, tags changed.
    let old_tags = config.tags.clone();
    config.layout = Layout::CacheClusters(3);
    config.description = "managed by terraform, grown".into();
    config.tags = tags(&[("Name", "tf-rg"), ("team", "payments")]);
    client
        .increase_replica_count()
        .replication_group_id(&config.id)
        .new_replica_count(2)
        .apply_immediately(true)
        .send()
        .await
        .expect("modifyReplicationGroupNumCacheClusters: IncreaseReplicaCount");
    wait_available(&client, &config.id).await;
    client
        .modify_replication_group()
        .replication_group_id(&config.id)
        .apply_immediately(false)
        .replication_group_description(&config.description)
        .send()
        .await
        .expect("ModifyReplicationGroup");
    wait_available(&client, &config.id).await;
    provider_update_tags(&client, &computed.arn, &old_tags, &config.tags).await;
    let after = assert_no_diff(&client, &config, "after update").await;
    assert_eq!(after.member_clusters.len(), 3);
    assert_eq!(
        after.endpoints, computed.endpoints,
        "the endpoints stay put"
    );
    assert_eq!(redis_cli(after.endpoints[0], &["GET", "tf"]), "applied");

    // A later refresh (terraform plan) reads the same.
    assert_no_diff(&client, &config, "on refresh").await;
    destroy(&client, &config.id).await;
    assert!(
        !crate::support::port_accepts(primary),
        "the primary endpoint is gone"
    );
}

#[tokio::test]
async fn terraform_replication_group_cluster_mode_enabled_round_trips_with_no_diff() {
    let server = TestServer::start();
    let client = server.sdk();
    subnet_group(&client, "tf-subnets").await;
    let mut config = Config {
        id: "tf-cluster".into(),
        parameter_group_name: "default.redis7.cluster.on".into(),
        layout: Layout::Shards {
            node_groups: 2,
            replicas: 1,
        },
        ..cluster_mode_disabled()
    };

    create(&client, &config).await;
    let computed = assert_no_diff(&client, &config, "after create").await;
    assert_eq!(computed.endpoints.len(), 1, "a configuration endpoint only");
    assert_eq!(computed.member_clusters.len(), 4);

    let old_tags = config.tags.clone();
    config.description = "sharded by terraform".into();
    config.tags = tags(&[("Name", "tf-cluster")]);
    client
        .modify_replication_group()
        .replication_group_id(&config.id)
        .apply_immediately(false)
        .replication_group_description(&config.description)
        .send()
        .await
        .expect("ModifyReplicationGroup");
    wait_available(&client, &config.id).await;
    provider_update_tags(&client, &computed.arn, &old_tags, &config.tags).await;
    assert_no_diff(&client, &config, "after update").await;
    destroy(&client, &config.id).await;
}
