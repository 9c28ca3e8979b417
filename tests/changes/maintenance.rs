//! `ApplyImmediately=false`, Terraform's default: the node type waits in the members'
//! `PendingModifiedValues` with the group `available`, until `POST /_maintenance/{id}`
//! fast-forwards to the maintenance window; metadata-only changes never make it `modifying`.

use crate::support::{
    TestServer, cache_cluster, create_group, describe, fast_forward_maintenance, member_ids,
    wait_available, wait_cache_cluster_available, wait_for_event,
};

const NEW_TYPE: &str = "cache.r7g.large";

#[tokio::test]
async fn a_deferred_node_type_waits_for_the_maintenance_window() {
    let server = TestServer::start();
    let client = server.sdk();
    let created = create_group(&client, "deferred", 2, false).await;
    let members = member_ids(&created);
    let old_type = created.cache_node_type().unwrap().to_string();
    assert_ne!(old_type, NEW_TYPE);

    // A description-only change: applied at once, no `modifying`.
    let answer = client
        .modify_replication_group()
        .replication_group_id("deferred")
        .replication_group_description("renamed")
        .send()
        .await
        .expect("description")
        .replication_group
        .unwrap();
    assert_eq!(answer.status(), Some("available"));
    assert_eq!(answer.description(), Some("renamed"));

    // The node type, as Terraform sends it (ApplyImmediately=false).
    let answer = client
        .modify_replication_group()
        .replication_group_id("deferred")
        .cache_node_type(NEW_TYPE)
        .apply_immediately(false)
        .send()
        .await
        .expect("deferred node type")
        .replication_group
        .unwrap();
    assert_eq!(answer.status(), Some("available"));
    assert_eq!(answer.cache_node_type(), Some(old_type.as_str()));
    let group = describe(&client, "deferred").await.unwrap();
    assert_eq!(group.status(), Some("available"));
    assert_eq!(group.cache_node_type(), Some(old_type.as_str()));
    for id in &members {
        let member = cache_cluster(&client, id).await;
        assert_eq!(member.cache_node_type(), Some(old_type.as_str()));
        let pending = member.pending_modified_values().expect("pending values");
        assert_eq!(pending.cache_node_type(), Some(NEW_TYPE), "{id}");
    }

    // Fast-forward to the maintenance window.
    let (status, body) = fast_forward_maintenance(&server, "deferred").await;
    assert_eq!(status, 200);
    assert_eq!(body["applied"], true, "{body}");
    let group = wait_available(&client, "deferred").await;
    assert_eq!(group.cache_node_type(), Some(NEW_TYPE));
    for id in &members {
        let member = cache_cluster(&client, id).await;
        assert_eq!(member.cache_node_type(), Some(NEW_TYPE));
        let pending = member.pending_modified_values();
        assert!(
            pending.is_none_or(|p| p.cache_node_type().is_none()),
            "{id}: {pending:?}"
        );
    }
    wait_for_event(
        &client,
        "deferred",
        &format!("Cache node type modified to {NEW_TYPE} on replication group deferred"),
    )
    .await;

    // Nothing deferred any more: the route says so; an unknown group is a 404.
    let (_, body) = fast_forward_maintenance(&server, "deferred").await;
    assert_eq!(body["applied"], false, "{body}");
    let (missing, _) = fast_forward_maintenance(&server, "nope").await;
    assert_eq!(missing, 404);

    // ApplyImmediately=true: applied at once, as before.
    client
        .modify_replication_group()
        .replication_group_id("deferred")
        .cache_node_type("cache.m7g.large")
        .apply_immediately(true)
        .send()
        .await
        .expect("immediate node type");
    let group = wait_available(&client, "deferred").await;
    assert_eq!(group.cache_node_type(), Some("cache.m7g.large"));
}

#[tokio::test]
async fn a_modify_that_goes_modifying_answers_with_its_metadata_already_applied() {
    let server = TestServer::start();
    let client = server.sdk();
    create_group(&client, "answers", 2, false).await;
    // Automatic failover makes it `modifying`; the rest is metadata AWS reports at once.
    let answer = client
        .modify_replication_group()
        .replication_group_id("answers")
        .automatic_failover_enabled(true)
        .replication_group_description("renamed")
        .snapshot_retention_limit(3)
        .snapshot_window("04:00-05:00")
        .apply_immediately(true)
        .send()
        .await
        .expect("modify")
        .replication_group
        .unwrap();
    assert_eq!(answer.status(), Some("modifying"));
    assert_eq!(answer.description(), Some("renamed"));
    assert_eq!(answer.snapshot_retention_limit(), Some(3));
    assert_eq!(answer.snapshot_window(), Some("04:00-05:00"));
    let done = wait_available(&client, "answers").await;
    assert_eq!(done.description(), Some("renamed"));
    assert_eq!(done.snapshot_retention_limit(), Some(3));
    assert_eq!(
        done.automatic_failover().map(|a| a.as_str()),
        Some("enabled")
    );
}

/// ModifyCacheCluster of a Memcached cluster, `NumCacheNodes` and `CacheNodeType` with
/// ApplyImmediately=false (the AWS default): the cluster stays `available` with its one node
/// and reports both as pending; `POST /_maintenance/{CacheClusterId}` applies them: the cluster
/// grows and reports the new node type.
#[tokio::test]
async fn a_deferred_memcached_node_count_waits_for_the_maintenance_window() {
    let server = TestServer::start();
    let client = server.sdk();
    client
        .create_cache_cluster()
        .cache_cluster_id("mc-deferred")
        .engine("memcached")
        .num_cache_nodes(1)
        .send()
        .await
        .expect("create");
    let nodes = |c: &aws_sdk_elasticache::types::CacheCluster| Some(c.cache_nodes().len());
    assert_eq!(
        wait_cache_cluster_available(&client, "mc-deferred", nodes).await,
        1
    );

    let answer = client
        .modify_cache_cluster()
        .cache_cluster_id("mc-deferred")
        .num_cache_nodes(2)
        .cache_node_type("cache.m5.large")
        .send()
        .await
        .expect("deferred node count")
        .cache_cluster
        .unwrap();
    assert_eq!(answer.cache_cluster_status(), Some("available"));
    let pending = |c: &aws_sdk_elasticache::types::CacheCluster| {
        c.pending_modified_values()
            .and_then(|p| p.num_cache_nodes())
    };
    assert_eq!(pending(&answer), Some(2));
    let described = cache_cluster(&client, "mc-deferred").await;
    assert_eq!(described.cache_cluster_status(), Some("available"));
    assert_eq!(
        (described.num_cache_nodes(), pending(&described)),
        (Some(1), Some(2))
    );
    let pending_type = described
        .pending_modified_values()
        .and_then(|p| p.cache_node_type());
    assert_eq!(pending_type, Some("cache.m5.large"));
    assert_ne!(described.cache_node_type(), Some("cache.m5.large"));

    let (status, body) = fast_forward_maintenance(&server, "mc-deferred").await;
    assert_eq!(status, 200);
    assert_eq!(body["applied"], true, "{body}");
    let grown = |c: &aws_sdk_elasticache::types::CacheCluster| {
        (c.cache_nodes().len() == 2).then(|| pending(c))
    };
    assert_eq!(
        wait_cache_cluster_available(&client, "mc-deferred", grown).await,
        None
    );
    let grown = cache_cluster(&client, "mc-deferred").await;
    assert_eq!(grown.cache_node_type(), Some("cache.m5.large"));
    let pending_type = grown
        .pending_modified_values()
        .and_then(|p| p.cache_node_type());
    assert_eq!(pending_type, None);
}
