//! IncreaseReplicaCount on a cluster-mode group with in-transit encryption and an AUTH token:
//! each new replica requires the token, speaks TLS like the rest of the cluster, and syncs
//! from its primary (the replication link goes over TLS when `tls-replication` is on).

use aws_sdk_elasticache::types::TransitEncryptionMode;

use super::reshard_secure::{KEYS, TOKEN, sealed_group_with_keys};
use crate::support::{
    TestServer, address_of, connect, events_for, member_addresses, messages, wait_available,
    wait_until,
};

#[tokio::test]
async fn a_tls_preferred_group_with_an_auth_token_gets_a_replica_per_shard() {
    replicas_for_sealed_group(TransitEncryptionMode::Preferred).await;
}

#[tokio::test]
async fn a_tls_required_group_with_an_auth_token_gets_a_replica_per_shard() {
    replicas_for_sealed_group(TransitEncryptionMode::Required).await;
}

async fn replicas_for_sealed_group(mode: TransitEncryptionMode) {
    let server = TestServer::start();
    let client = server.sdk();
    let mut connection = sealed_group_with_keys(&server, &client, mode.clone()).await;
    client
        .increase_replica_count()
        .replication_group_id("sealed")
        .new_replica_count(1)
        .apply_immediately(true)
        .send()
        .await
        .expect("increase accepted");
    let group = wait_available(&client, "sealed").await;
    assert_eq!(group.member_clusters().len(), 4, "{group:?}");
    let said = messages(&events_for(&client, "sealed").await);
    let failed: Vec<_> = said.iter().filter(|m| m.starts_with("Failed")).collect();
    assert!(failed.is_empty(), "{failed:?}");
    for i in 0..KEYS {
        let value: Option<usize> = redis::cmd("GET")
            .arg(format!("k{i}"))
            .query_async(&mut connection)
            .await
            .unwrap();
        assert_eq!(value, Some(i), "k{i}");
    }
    if mode != TransitEncryptionMode::Preferred {
        return;
    }
    // Plaintext is still accepted in `preferred`: look at the new replicas directly.
    let ports = member_addresses(&client, "sealed").await;
    for shard in ["0001", "0002"] {
        let primary = address_of(&ports, &format!("sealed-{shard}-001"));
        let replica = address_of(&ports, &format!("sealed-{shard}-002"));
        let mut on_primary = connect(primary, Some(TOKEN)).unwrap();
        let keys: usize = redis::cmd("DBSIZE").query(&mut on_primary).unwrap();
        assert!(keys > 0, "shard {shard} holds keys");
        wait_until(
            &format!("{replica} synced"),
            std::time::Duration::from_secs(60),
            || async {
                let mut node = connect(replica, Some(TOKEN)).ok()?;
                let copied: usize = redis::cmd("DBSIZE").query(&mut node).ok()?;
                (copied == keys).then_some(())
            },
        )
        .await;
        let anonymous =
            connect(replica, None).and_then(|mut c| redis::cmd("DBSIZE").query::<usize>(&mut c));
        assert!(anonymous.is_err(), "the new replica must require the token");
    }
}
