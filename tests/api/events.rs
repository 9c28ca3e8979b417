//! DescribeEvents: lifecycle events, filters, validation, and paging while events arrive.

use std::collections::HashSet;

use aws_sdk_elasticache::types::SourceType;

use crate::support::{TestServer, code, create_group, wait_available};

#[tokio::test]
async fn lifecycle_events_are_listed_newest_first_and_filtered() {
    let server = TestServer::start();
    let client = server.sdk();
    create_group(&client, "ev", 2, false).await;
    let output = client
        .describe_events()
        .source_type(SourceType::CacheCluster)
        .send()
        .await
        .unwrap();
    let listed: Vec<(&str, &str)> = output
        .events()
        .iter()
        .map(|e| (e.source_identifier().unwrap(), e.message().unwrap()))
        .collect();
    assert_eq!(listed.len(), 2);
    assert!(
        listed.contains(&("ev-001", "Cache cluster created"))
            && listed.contains(&("ev-002", "Cache cluster created"))
    );
    let dates: Vec<_> = output
        .events()
        .iter()
        .map(|e| e.date().unwrap().as_nanos())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let none = client
        .describe_events()
        .source_identifier("ev-001")
        .source_type(SourceType::ReplicationGroup)
        .send()
        .await
        .unwrap();
    assert!(none.events().is_empty());
    let future = aws_smithy_types::DateTime::from_secs(4_000_000_000);
    let later = client
        .describe_events()
        .start_time(future)
        .send()
        .await
        .unwrap();
    assert!(later.events().is_empty(), "StartTime after every event");
    assert_eq!(
        code(client.describe_events().max_records(19).send().await),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(client.describe_events().max_records(101).send().await),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(
            client
                .describe_events()
                .source_type(SourceType::from("cache-node"))
                .send()
                .await
        ),
        "InvalidParameterValue"
    );
    assert_eq!(
        code(client.describe_events().marker("garbage").send().await),
        "InvalidParameterValue"
    );
}

#[tokio::test]
async fn paging_neither_repeats_nor_skips_while_events_are_appended() {
    let server = TestServer::start();
    let client = server.sdk();
    // 9 groups of 6 nodes: 54 "created" events, each with a distinct source id.
    for i in 0..9 {
        create_group(&client, &format!("old{i}"), 6, false).await;
    }
    let before: HashSet<String> = (0..9)
        .flat_map(|i| (1..=6).map(move |n| format!("old{i}-{n:03}")))
        .collect();
    let writer = {
        let client = client.clone();
        tokio::spawn(async move {
            for i in 0..6 {
                client
                    .create_replication_group()
                    .replication_group_id(format!("new{i}"))
                    .replication_group_description("n")
                    .num_cache_clusters(6)
                    .send()
                    .await
                    .unwrap();
                wait_available(&client, &format!("new{i}")).await;
            }
        })
    };
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut paginator = client
        .describe_events()
        .source_type(SourceType::CacheCluster)
        .max_records(20)
        .into_paginator()
        .send();
    while let Some(page) = paginator.next().await {
        pages += 1;
        seen.extend(page.unwrap().events().iter().map(|e| {
            format!(
                "{} {}",
                e.source_identifier().unwrap(),
                e.message().unwrap()
            )
        }));
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    let unique: HashSet<String> = seen.iter().cloned().collect();
    let created: HashSet<String> = seen
        .iter()
        .filter_map(|s| s.strip_suffix(" Cache cluster created"))
        .map(str::to_string)
        .collect();
    let repeated: Vec<&String> = unique
        .iter()
        .filter(|id| seen.iter().filter(|s| s == id).count() > 1)
        .collect();
    assert!(
        repeated.is_empty(),
        "events repeated across pages: {repeated:?}"
    );
    assert!(
        before.is_subset(&created),
        "every event that existed before paging was returned"
    );
    assert!(pages >= 3, "paged ({pages} pages)");
}
