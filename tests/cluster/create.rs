//! CreateReplicationGroup with cluster mode enabled: the shape AWS shows, a real Redis Cluster
//! behind it that cluster clients use, validation, and nothing left after delete.

use std::collections::BTreeSet;

use aws_sdk_elasticache::types::NodeGroupConfiguration;

use crate::support::{
    TestServer, address_of, cluster_client, cluster_get, cluster_nodes, cluster_set, code,
    configuration_endpoint, create_cluster_on, member_addresses, node_engine, node_on,
    port_accepts, redis_cli, wait_available, wait_deleted, wait_for_event,
};

#[tokio::test]
async fn three_shards_form_a_real_cluster_that_a_cluster_client_spreads_keys_over() {
    three_shards_form_a_real_cluster("redis").await;
}

#[tokio::test]
async fn three_valkey_shards_form_a_real_cluster_that_a_cluster_client_spreads_keys_over() {
    three_shards_form_a_real_cluster("valkey").await;
}

async fn three_shards_form_a_real_cluster(engine: &str) {
    if !crate::support::engine_available(engine) {
        return;
    }
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_cluster_on(&client, engine, "Carts", 3, 1).await;

    assert_eq!(group.cluster_enabled(), Some(true));
    assert_eq!(group.cluster_mode().map(|m| m.as_str()), Some("enabled"));
    assert_eq!(
        group.automatic_failover().map(|s| s.as_str()),
        Some("enabled")
    );
    let members = [
        "carts-0001-001",
        "carts-0001-002",
        "carts-0002-001",
        "carts-0002-002",
        "carts-0003-001",
        "carts-0003-002",
    ];
    assert_eq!(group.member_clusters(), members);
    let node_groups: Vec<(&str, &str)> = group
        .node_groups()
        .iter()
        .map(|ng| (ng.node_group_id().unwrap(), ng.slots().unwrap()))
        .collect();
    assert_eq!(
        node_groups,
        [
            ("0001", "0-5460"),
            ("0002", "5461-10922"),
            ("0003", "10923-16383")
        ]
    );
    for node_group in group.node_groups() {
        // As AWS shows cluster mode: no per-shard endpoints, no roles, no member endpoints.
        assert!(node_group.primary_endpoint().is_none());
        assert!(node_group.reader_endpoint().is_none());
        for member in node_group.node_group_members() {
            assert!(member.current_role().is_none());
            assert!(member.read_endpoint().is_none());
            assert_eq!(member.cache_node_id(), Some("0001"));
        }
    }

    // Every member is a real cluster node on its own endpoint; each replica follows its shard's
    // primary, and every node serves all slots.
    let ports = member_addresses(&client, "carts").await;
    assert_eq!(ports.len(), 6);
    let configuration = configuration_endpoint(&group);
    // As on AWS, every node and the configuration endpoint answer on 6379, each on its own
    // address, and each node announces that address to the cluster.
    assert_eq!(configuration.port(), 6379);
    let addresses: BTreeSet<_> = ports.iter().map(|(_, a)| a.ip()).collect();
    assert_eq!(addresses.len(), 6, "{ports:?}");
    assert!(ports.iter().all(|(_, a)| a.port() == 6379), "{ports:?}");
    assert!(!addresses.contains(&configuration.ip()));
    let view = cluster_nodes(configuration);
    assert_eq!(view.len(), 6, "{view:#?}");
    for shard in ["0001", "0002", "0003"] {
        let primary = node_on(&view, address_of(&ports, &format!("carts-{shard}-001")));
        let replica = node_on(&view, address_of(&ports, &format!("carts-{shard}-002")));
        assert!(primary.is_primary, "{primary:?}");
        assert_eq!(
            replica.primary_id.as_ref(),
            Some(&primary.id),
            "{replica:?}"
        );
    }
    for (member, port) in &ports {
        assert_eq!(node_engine(*port, None).0, engine, "{member}'s INFO server");
        let info = redis_cli(*port, &["CLUSTER", "INFO"]);
        assert!(info.contains("cluster_state:ok"), "{member}: {info}");
        assert!(info.contains("cluster_slots_ok:16384"), "{member}: {info}");
    }

    // A cluster client bootstrapped from the configuration endpoint spreads keys over every
    // shard, and redis-cli -c follows the redirects.
    let mut connection = cluster_client(configuration).await;
    for i in 0..200 {
        cluster_set(&mut connection, &format!("cart:{i}"), &i.to_string()).await;
    }
    for shard in ["0001", "0002", "0003"] {
        let primary = address_of(&ports, &format!("carts-{shard}-001"));
        let keys: u64 = redis_cli(primary, &["DBSIZE"]).parse().unwrap();
        assert!(keys > 30, "shard {shard} holds only {keys} of 200 keys");
    }
    assert_eq!(
        cluster_get(&mut connection, "cart:7").await.as_deref(),
        Some("7")
    );
    let output = std::process::Command::new("redis-cli")
        .args(["-c", "-h", &configuration.ip().to_string()])
        .args(["-p", &configuration.port().to_string(), "GET", "cart:123"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "123");

    // The dashboard's snapshot shows the shards, their slots and every node's live link.
    let snapshot: serde_json::Value = reqwest::get(format!("{}/_state", server.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shown = &snapshot["groups"][0];
    assert_eq!(shown["cluster_enabled"], true);
    assert_eq!(shown["engine"], engine);
    assert_eq!(shown["configuration_endpoint_port"], 6379);
    assert_eq!(
        shown["configuration_endpoint"]["address"],
        configuration.ip().to_string()
    );
    assert_eq!(shown["node_groups"][1]["slots"], "5461-10922");
    let nodes = shown["members"].as_array().unwrap();
    assert_eq!(nodes.len(), 6);
    for node in nodes {
        assert_eq!(node["link"], "up", "{node}");
        let expected_role = if node["cluster_id"].as_str().unwrap().ends_with("-001") {
            "primary"
        } else {
            "replica"
        };
        assert_eq!(node["node_role"], expected_role, "{node}");
    }

    // Cluster mode keeps automatic failover on.
    let refused = client
        .modify_replication_group()
        .replication_group_id("carts")
        .automatic_failover_enabled(false)
        .apply_immediately(true)
        .send()
        .await;
    let error = refused.expect_err("turning automatic failover off must fail");
    assert_eq!(
        aws_sdk_elasticache::error::ProvideErrorMetadata::message(&error),
        Some(
            "Turning off automatic failover for replication group with cluster mode enabled is not supported."
        )
    );
    assert_eq!(
        aws_sdk_elasticache::error::ProvideErrorMetadata::code(&error),
        Some("InvalidParameterCombination")
    );

    client
        .delete_replication_group()
        .replication_group_id("carts")
        .send()
        .await
        .unwrap();
    wait_deleted(&client, "carts").await;
    for (member, port) in &ports {
        assert!(!port_accepts(*port), "{member} still listens on {port}");
    }
    assert!(
        !port_accepts(configuration),
        "the configuration endpoint is closed"
    );
}

#[tokio::test]
async fn node_group_configurations_choose_ids_slots_and_replica_counts() {
    let server = TestServer::start();
    let client = server.sdk();
    let shard = |id: &str, slots: &str, replicas: i32| {
        NodeGroupConfiguration::builder()
            .node_group_id(id)
            .slots(slots)
            .replica_count(replicas)
            .build()
    };
    client
        .create_replication_group()
        .replication_group_id("uneven")
        .replication_group_description("two shards")
        .cluster_mode(aws_sdk_elasticache::types::ClusterMode::Enabled)
        .node_group_configuration(shard("0005", "0-99,200-16383", 2))
        .node_group_configuration(shard("0009", "100-199", 0))
        .send()
        .await
        .expect("create");
    let group = wait_available(&client, "uneven").await;
    let node_groups: Vec<(&str, &str, usize)> = group
        .node_groups()
        .iter()
        .map(|ng| {
            (
                ng.node_group_id().unwrap(),
                ng.slots().unwrap(),
                ng.node_group_members().len(),
            )
        })
        .collect();
    assert_eq!(
        node_groups,
        [("0005", "0-99,200-16383", 3), ("0009", "100-199", 1)]
    );
    // The slots are really where the layout says.
    let ports = member_addresses(&client, "uneven").await;
    let view = cluster_nodes(configuration_endpoint(&group));
    assert_eq!(
        node_on(&view, address_of(&ports, "uneven-0009-001")).slots,
        ["100-199"]
    );
    assert_eq!(
        node_on(&view, address_of(&ports, "uneven-0005-001")).slots,
        ["0-99", "200-16383"]
    );

    // A shard without a replica cannot fail over.
    let no_replica = client
        .test_failover()
        .replication_group_id("uneven")
        .node_group_id("0009")
        .send()
        .await;
    assert_eq!(code(no_replica), "InvalidReplicationGroupState");
    let unknown = client
        .test_failover()
        .replication_group_id("uneven")
        .node_group_id("0001")
        .send()
        .await;
    assert_eq!(code(unknown), "NodeGroupNotFoundFault");

    // With two replicas, the one that is not promoted follows the new primary too.
    client
        .test_failover()
        .replication_group_id("uneven")
        .node_group_id("0005")
        .send()
        .await
        .expect("TestFailover on 0005");
    wait_for_event(
        &client,
        "uneven-0005-001",
        "Finished recovery for cache nodes 0001",
    )
    .await;
    let view = cluster_nodes(configuration_endpoint(&group));
    let shard: Vec<_> = ["uneven-0005-001", "uneven-0005-002", "uneven-0005-003"]
        .iter()
        .map(|m| node_on(&view, address_of(&ports, m)))
        .collect();
    let primaries: Vec<_> = shard.iter().filter(|n| n.is_primary).collect();
    assert_eq!(primaries.len(), 1, "{shard:#?}");
    assert_ne!(primaries[0].id, shard[0].id, "the old primary was replaced");
    assert_eq!(primaries[0].slots, ["0-99", "200-16383"]);
    for node in shard.iter().filter(|n| !n.is_primary) {
        assert_eq!(node.primary_id.as_ref(), Some(&primaries[0].id), "{node:?}");
    }
}

#[tokio::test]
async fn invalid_cluster_layouts_are_refused_before_anything_starts() {
    let server = TestServer::start();
    let client = server.sdk();
    let create = || {
        client
            .create_replication_group()
            .replication_group_id("bad")
            .replication_group_description("bad")
    };
    let slots = |slots: &str| NodeGroupConfiguration::builder().slots(slots).build();
    let cases = [
        (
            "a gap in the slots",
            create()
                .node_group_configuration(slots("0-8000"))
                .node_group_configuration(slots("8002-16383")),
            "InvalidParameterValue",
        ),
        (
            "overlapping slots",
            create()
                .node_group_configuration(slots("0-9000"))
                .node_group_configuration(slots("8000-16383")),
            "InvalidParameterValue",
        ),
        (
            "automatic failover off",
            create()
                .num_node_groups(2)
                .automatic_failover_enabled(false),
            "InvalidParameterCombination",
        ),
        (
            "too many shards",
            create().num_node_groups(91),
            "NodeGroupsPerReplicationGroupQuotaExceeded",
        ),
        (
            "more than 90 nodes",
            create().num_node_groups(20).replicas_per_node_group(5),
            "NodeQuotaForClusterExceeded",
        ),
        (
            "six replicas",
            create().num_node_groups(2).replicas_per_node_group(6),
            "InvalidParameterValue",
        ),
        (
            "NumCacheClusters with shards",
            create().num_node_groups(2).num_cache_clusters(2),
            "InvalidParameterCombination",
        ),
        (
            "a count that disagrees with the configurations",
            create()
                .num_node_groups(3)
                .node_group_configuration(slots("0-16383")),
            "InvalidParameterCombination",
        ),
    ];
    for (case, request, expected) in cases {
        assert_eq!(code(request.send().await), expected, "{case}");
    }
    let listed = client.describe_replication_groups().send().await.unwrap();
    assert!(
        listed.replication_groups().is_empty(),
        "nothing was created"
    );
    assert!(
        crate::support::live_children(server.pid()).is_empty(),
        "no node was started"
    );
}
