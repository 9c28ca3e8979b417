//! The in-transit encryption migration's rules on a cluster-mode-enabled group, as AWS's: only
//! from engine version 7.0 on. (The steps themselves, with real clients, the cluster bus and a
//! failover, are walked by `tests/python/tls_cluster_flow.py`.)

use aws_sdk_elasticache::types::TransitEncryptionMode;

use crate::support::{TestServer, code_and_message, wait_available, wait_deleted};

#[tokio::test]
async fn a_cluster_mode_group_before_redis_7_keeps_its_in_transit_encryption() {
    let server = TestServer::start();
    let client = server.sdk();
    client
        .create_replication_group()
        .replication_group_id("old-shards")
        .replication_group_description("redis 6 cluster")
        .engine_version("6.x")
        .cache_parameter_group_name("default.redis6.x.cluster.on")
        .num_node_groups(2)
        .replicas_per_node_group(0)
        .send()
        .await
        .expect("create a redis 6 cluster-mode group");
    let group = wait_available(&client, "old-shards").await;
    assert_eq!(group.cluster_enabled(), Some(true));

    let answer = client
        .modify_replication_group()
        .replication_group_id("old-shards")
        .apply_immediately(true)
        .transit_encryption_enabled(true)
        .transit_encryption_mode(TransitEncryptionMode::Preferred)
        .send()
        .await;
    let (code, message) = code_and_message(answer);
    assert_eq!(code, "InvalidParameterCombination");
    assert!(
        message.contains("engine version 7.0 or later") && message.contains("6.2.6"),
        "{message}"
    );
    let group = wait_available(&client, "old-shards").await;
    assert_eq!(group.transit_encryption_enabled(), Some(false));

    client
        .delete_replication_group()
        .replication_group_id("old-shards")
        .send()
        .await
        .expect("delete");
    wait_deleted(&client, "old-shards").await;
}
