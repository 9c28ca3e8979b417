//! Engine upgrades through ModifyReplicationGroup (`Engine`, `EngineVersion`): every node
//! replaced by one of the new engine, one at a time, while a client writes through the primary
//! endpoint; the data kept, no acknowledged write lost; downgrades refused.

use aws_sdk_elasticache::Client;

use crate::support::{
    At, DEADLINE, TestServer, Writer, address_of, cache_cluster, cluster_client, cluster_get,
    cluster_nodes, cluster_set, code_and_message, configuration_endpoint, connect,
    create_cluster_on, create_group_on, endpoints, events_for, member_addresses, messages,
    node_engine, node_on, redis_cli, wait_available, wait_for_event, wait_until,
};

/// The acknowledged `SET <prefix><i> <i>` writes the node behind `at` does not hold.
fn missing_writes(at: impl At, prefix: &str, acknowledged: &[usize]) -> Vec<String> {
    let mut connection = connect(at, None).unwrap();
    let mut missing = Vec::new();
    for chunk in acknowledged.chunks(500) {
        let keys: Vec<String> = chunk.iter().map(|i| format!("{prefix}{i}")).collect();
        let values: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&keys)
            .query(&mut connection)
            .unwrap();
        for (i, value) in chunk.iter().zip(values) {
            if value.as_deref() != Some(i.to_string().as_str()) {
                missing.push(format!("{prefix}{i}"));
            }
        }
    }
    missing
}

/// Writes through the endpoint until `Writer` has `count` more acknowledgements.
async fn wait_acknowledged(writer: &Writer, count: usize) {
    let target = writer.acknowledged() + count;
    wait_until("the writer to make progress", DEADLINE, || async {
        (writer.acknowledged() >= target).then_some(())
    })
    .await;
}

async fn modify_engine(client: &Client, id: &str, engine: Option<&str>, version: Option<&str>) {
    let answer = client
        .modify_replication_group()
        .replication_group_id(id)
        .set_engine(engine.map(str::to_string))
        .set_engine_version(version.map(str::to_string))
        .apply_immediately(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("upgrade {id}: {e:?}"));
    assert_eq!(
        answer.replication_group().and_then(|g| g.status()),
        Some("modifying")
    );
}

#[tokio::test]
async fn a_redis_group_becomes_valkey_node_by_node_while_a_client_writes_and_loses_nothing() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group_on(&client, "redis", "shop", 3, true).await;
    let (primary_endpoint, _, before) = endpoints(&group);

    // A TestFailover's write gap, for comparison.
    let writer = Writer::start(primary_endpoint, "f");
    wait_acknowledged(&writer, 200).await;
    client
        .test_failover()
        .replication_group_id("shop")
        .node_group_id("0001")
        .send()
        .await
        .unwrap();
    wait_for_event(
        &client,
        "shop-001",
        "Finished recovery for cache nodes 0001",
    )
    .await;
    wait_available(&client, "shop").await;
    wait_acknowledged(&writer, 200).await;
    let failover_gap = writer.longest_gap();
    writer.finish();

    let writer = Writer::start(primary_endpoint, "u");
    wait_acknowledged(&writer, 200).await;
    modify_engine(&client, "shop", Some("valkey"), Some("8.1")).await;
    wait_for_event(
        &client,
        "shop",
        "Cache engine upgraded to valkey 8.1.1 on replication group shop",
    )
    .await;
    let group = wait_available(&client, "shop").await;
    wait_acknowledged(&writer, 200).await;
    let upgrade_gap = writer.longest_gap();
    let errors = writer.errors();
    let acknowledged = writer.finish();
    eprintln!(
        "{} writes acknowledged during the upgrade, {errors} errors; longest gap {upgrade_gap:?} (a TestFailover's: {failover_gap:?})",
        acknowledged.len()
    );

    assert_eq!(
        missing_writes(primary_endpoint, "u", &acknowledged),
        Vec::<String>::new()
    );
    let (endpoint_after, _, after) = endpoints(&group);
    assert_eq!(
        endpoint_after, primary_endpoint,
        "the endpoint keeps its address"
    );
    assert_eq!(
        after.iter().map(|m| m.1).collect::<Vec<_>>(),
        before.iter().map(|m| m.1).collect::<Vec<_>>(),
        "every node kept its address"
    );
    for (id, port, _) in &after {
        assert_eq!(node_engine(*port, None).0, "valkey", "{id} runs valkey");
        let cluster = cache_cluster(&client, id).await;
        assert_eq!(
            (cluster.engine(), cluster.engine_version()),
            (Some("valkey"), Some("8.1.1")),
            "{id}"
        );
        assert_eq!(
            cluster
                .cache_parameter_group()
                .and_then(|p| p.cache_parameter_group_name()),
            Some("default.valkey8"),
            "{id}: the parameter group moved to the new family's default"
        );
    }
    assert_eq!(group.engine(), Some("valkey"));
    // The roles the model reports are the nodes' own.
    for (id, port, role) in &after {
        let node_role = redis_cli(*port, &["ROLE"]);
        let expected = if role == "primary" { "master" } else { "slave" };
        assert!(
            node_role.starts_with(expected),
            "{id}: {role} but {node_role}"
        );
    }
}

#[tokio::test]
async fn a_single_node_keeps_its_data_and_address_through_an_upgrade() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group_on(&client, "redis", "solo", 1, false).await;
    let (primary_endpoint, _, before) = endpoints(&group);
    for i in 0..100 {
        assert_eq!(
            redis_cli(primary_endpoint, &["SET", &format!("k{i}"), &i.to_string()]),
            "OK"
        );
    }
    modify_engine(&client, "solo", Some("valkey"), None).await;
    let group = wait_available(&client, "solo").await;
    let (_, _, after) = endpoints(&group);
    assert_eq!((after.len(), after[0].1), (1, before[0].1), "{after:?}");
    let (engine, version) = node_engine(after[0].1, None);
    assert_eq!(engine, "valkey");
    // Without EngineVersion the group runs, and reports, the local valkey's version.
    assert_eq!(
        cache_cluster(&client, "solo-001").await.engine_version(),
        Some(version.as_str())
    );
    for i in (0..100).step_by(7) {
        assert_eq!(
            redis_cli(primary_endpoint, &["GET", &format!("k{i}")]),
            i.to_string()
        );
    }
    let events = messages(&events_for(&client, "solo").await);
    assert!(
        events
            .iter()
            .any(|m| m.starts_with("Cache engine upgraded to valkey")),
        "{events:?}"
    );
}

#[tokio::test]
async fn downgrades_valkey_to_redis_and_unknown_versions_are_refused() {
    let server = TestServer::start();
    let client = server.sdk();
    client
        .create_replication_group()
        .replication_group_id("newer")
        .replication_group_description("versions")
        .engine_version("7.1")
        .send()
        .await
        .unwrap();
    wait_available(&client, "newer").await;
    create_cluster_on(&client, "redis", "sharded", 2, 0).await;
    client
        .create_replication_group()
        .replication_group_id("vk")
        .replication_group_description("versions")
        .engine("valkey")
        .send()
        .await
        .unwrap();
    wait_available(&client, "vk").await;

    let refused =
        |id: &'static str, engine: Option<&'static str>, version: Option<&'static str>| {
            let client = client.clone();
            async move {
                code_and_message(
                    client
                        .modify_replication_group()
                        .replication_group_id(id)
                        .set_engine(engine.map(str::to_string))
                        .set_engine_version(version.map(str::to_string))
                        .apply_immediately(true)
                        .send()
                        .await,
                )
            }
        };
    let (code, message) = refused("newer", None, Some("7.0")).await;
    assert_eq!(code, "InvalidParameterCombination");
    assert!(message.contains("cannot downgrade"), "{message}");
    let (code, message) = refused("vk", Some("redis"), Some("7.1")).await;
    assert_eq!(code, "InvalidParameterCombination");
    assert!(message.contains("from engine valkey to redis"), "{message}");
    assert_eq!(
        refused("newer", None, Some("99.9")).await,
        (
            "InvalidParameterCombination".to_string(),
            "Cannot find version 99.9 for redis".to_string()
        )
    );
    let (code, _) = refused("newer", Some("memcached"), None).await;
    assert_eq!(code, "InvalidParameterValue");
    let (code, message) = refused("sharded", Some("valkey"), Some("8.0")).await;
    assert_eq!(code, "InvalidParameterValue");
    assert!(
        message.contains("every node group has a replica"),
        "{message}"
    );
    // Nothing changed: the same version again is no upgrade either.
    assert_eq!(
        cache_cluster(&client, "newer-001").await.engine_version(),
        Some("7.1.0")
    );
    client
        .modify_replication_group()
        .replication_group_id("newer")
        .engine_version("7.1")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let group = wait_available(&client, "newer").await;
    assert_eq!(group.engine(), Some("redis"));
    let events = messages(&events_for(&client, "newer").await);
    assert!(
        events
            .iter()
            .all(|m| !m.starts_with("Cache engine upgraded")),
        "{events:?}"
    );
}

#[tokio::test]
async fn a_redis_cluster_becomes_valkey_shard_by_shard_and_keeps_every_key() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_cluster_on(&client, "redis", "carts", 2, 1).await;
    let configuration = configuration_endpoint(&group);
    let mut connection = cluster_client(configuration).await;
    for i in 0..200 {
        cluster_set(&mut connection, &format!("cart:{i}"), &i.to_string()).await;
    }
    let before = member_addresses(&client, "carts").await;

    modify_engine(&client, "carts", Some("valkey"), Some("8.0")).await;
    wait_for_event(
        &client,
        "carts",
        "Cache engine upgraded to valkey 8.0.1 on replication group carts",
    )
    .await;
    wait_available(&client, "carts").await;

    let after = member_addresses(&client, "carts").await;
    assert_eq!(after, before, "every node kept its address");
    for (member, port) in &after {
        assert_eq!(node_engine(*port, None).0, "valkey", "{member} runs valkey");
        let info = redis_cli(*port, &["CLUSTER", "INFO"]);
        assert!(info.contains("cluster_state:ok"), "{member}: {info}");
        let cluster = cache_cluster(&client, member).await;
        assert_eq!(cluster.engine_version(), Some("8.0.1"), "{member}");
        assert_eq!(
            cluster
                .cache_parameter_group()
                .and_then(|p| p.cache_parameter_group_name()),
            Some("default.valkey8.cluster.on"),
            "{member}"
        );
    }
    let mut connection = cluster_client(configuration).await;
    for i in 0..200 {
        assert_eq!(
            cluster_get(&mut connection, &format!("cart:{i}")).await,
            Some(i.to_string()),
            "cart:{i} survived"
        );
    }
    // Each shard's primary role moved to its upgraded replica, in the nodes and in the events.
    let view = cluster_nodes(configuration);
    let events = messages(&events_for(&client, "carts").await);
    for shard in ["0001", "0002"] {
        let (old, new) = (format!("carts-{shard}-001"), format!("carts-{shard}-002"));
        assert!(
            node_on(&view, address_of(&after, &new)).is_primary,
            "{new}: {view:?}"
        );
        let moved =
            format!("Primary cache cluster of replication group carts changed from {old} to {new}");
        assert!(events.contains(&moved), "{moved}: {events:?}");
    }
}
