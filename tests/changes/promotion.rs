//! ModifyReplicationGroup's PrimaryClusterId: a graceful promotion on real processes.

use std::net::SocketAddr;

use crate::support::{
    DEADLINE, TestServer, Writer, assert_replication, connect, create_group, endpoints,
    live_children, replication_field, wait_available, wait_for_event, wait_until,
};

#[tokio::test]
async fn primary_cluster_id_promotes_gracefully_and_no_acknowledged_write_is_lost() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group(&client, "promo", 3, false).await;
    let (primary_endpoint, _, before) = endpoints(&group);

    // Two writers through the primary endpoint, each retrying a key until it is acknowledged.
    let writers = [
        Writer::start(primary_endpoint, "a"),
        Writer::start(primary_endpoint, "b"),
    ];
    let acknowledged = || writers.iter().map(Writer::acknowledged).min().unwrap();
    wait_until("the writers to get going", DEADLINE, || async {
        (acknowledged() >= 200).then_some(())
    })
    .await;

    let answer = client
        .modify_replication_group()
        .replication_group_id("promo")
        .primary_cluster_id("promo-002")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let pending = answer.replication_group().unwrap();
    assert_eq!(pending.status(), Some("modifying"));
    assert_eq!(
        pending
            .pending_modified_values()
            .and_then(|p| p.primary_cluster_id()),
        Some("promo-002")
    );

    let group = wait_available(&client, "promo").await;
    // Writes go on through the same endpoint, now to the new primary.
    let at_available = acknowledged();
    wait_until("writes to go on after the promotion", DEADLINE, || async {
        (acknowledged() >= at_available + 200).then_some(())
    })
    .await;
    let errors: usize = writers.iter().map(Writer::errors).sum();
    let acknowledged: Vec<(&str, Vec<usize>)> = ["a", "b"]
        .into_iter()
        .zip(writers.map(Writer::finish))
        .collect();
    eprintln!(
        "{} acknowledged writes, {errors} errors/reconnects on the way",
        acknowledged.iter().map(|(_, a)| a.len()).sum::<usize>()
    );

    let (endpoint_after, _, after) = endpoints(&group);
    assert_eq!(
        endpoint_after, primary_endpoint,
        "the endpoint keeps its port"
    );
    let roles: Vec<(&str, &str)> = after
        .iter()
        .map(|(id, _, role)| (id.as_str(), role.as_str()))
        .collect();
    assert_eq!(
        roles,
        [
            ("promo-001", "replica"),
            ("promo-002", "primary"),
            ("promo-003", "replica")
        ]
    );
    let ports: Vec<SocketAddr> = after.iter().map(|m| m.1).collect();
    assert_eq!(
        ports,
        before.iter().map(|m| m.1).collect::<Vec<_>>(),
        "no node restarted"
    );
    let new_primary = after[1].1;
    assert_eq!(
        replication_field(new_primary, "role").as_deref(),
        Some("master")
    );
    for (id, port, _) in [&after[0], &after[2]] {
        assert_replication(
            *port,
            id,
            &[
                ("role", "slave"),
                ("master_host", &new_primary.ip().to_string()),
                ("master_port", &new_primary.port().to_string()),
            ],
        );
        wait_until(&format!("{id} linked"), DEADLINE, || async {
            (replication_field(*port, "master_link_status").as_deref() == Some("up")).then_some(())
        })
        .await;
    }
    assert_eq!(
        replication_field(primary_endpoint, "role").as_deref(),
        Some("master"),
        "the endpoint leads to the new primary"
    );

    // Every acknowledged write is on the new primary, read through the endpoint.
    let mut connection = connect(primary_endpoint, None).unwrap();
    let mut missing = Vec::new();
    let total: usize = acknowledged.iter().map(|(_, a)| a.len()).sum();
    for (prefix, chunk) in acknowledged
        .iter()
        .flat_map(|(prefix, acked)| acked.chunks(500).map(move |c| (*prefix, c)))
    {
        let keys: Vec<String> = chunk.iter().map(|i| format!("{prefix}{i}")).collect();
        let values: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&keys)
            .query(&mut connection)
            .expect("MGET answers an array");
        assert_eq!(values.len(), keys.len(), "one MGET value per key");
        for (i, value) in chunk.iter().zip(values) {
            if value.as_deref() != Some(i.to_string().as_str()) {
                missing.push((format!("{prefix}{i}"), value));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes lost, first: {:?}",
        missing.len(),
        total,
        &missing[..missing.len().min(10)]
    );

    wait_for_event(
        &client,
        "promo",
        "Primary cache cluster of replication group promo changed from promo-001 to promo-002",
    )
    .await;
    assert_eq!(live_children(server.pid()).len(), 3);
}
