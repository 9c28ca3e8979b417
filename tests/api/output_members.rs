//! Issue 20 item 3: the output members AWS reports for what was created, with the values AWS
//! would give: default windows (never overlapping), the daily snapshots' source member, the
//! client download page, the log delivery list and the auth token's last change on members.

use crate::support::{TestServer, cache_cluster, call, wait_available};

async fn describe_xml(server: &TestServer, query: &str) -> String {
    let (status, body, _) = call(server, reqwest::Method::GET, query, "", None).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_group_created_without_windows_reports_the_defaults_and_its_snapshot_source() {
    let server = TestServer::start();
    let client = server.sdk();
    client
        .create_replication_group()
        .replication_group_id("outputs")
        .replication_group_description("d")
        .num_cache_clusters(2)
        .snapshot_retention_limit(1)
        .transit_encryption_enabled(true)
        .auth_token("a-token-of-twenty-chars")
        .send()
        .await
        .expect("create");
    let group = wait_available(&client, "outputs").await;
    assert_eq!(group.snapshot_window(), Some("06:00-07:00"));
    // The engine takes daily snapshots from the first replica (as AWS when none is given).
    assert_eq!(group.snapshotting_cluster_id(), Some("outputs-002"));
    let member = cache_cluster(&client, "outputs-001").await;
    assert_eq!(
        member.preferred_maintenance_window(),
        Some("sun:05:00-sun:06:00")
    );
    assert_eq!(member.snapshot_window(), Some("06:00-07:00"));
    assert_eq!(
        member.client_download_landing_page(),
        Some("https://console.aws.amazon.com/elasticache/home#client-download:")
    );
    assert_eq!(
        member.auth_token_last_modified_date(),
        group.auth_token_last_modified_date()
    );
    assert!(member.auth_token_last_modified_date().is_some());
    let xml = describe_xml(
        &server,
        "Action=DescribeCacheClusters&Version=2015-02-02&CacheClusterId=outputs-002",
    )
    .await;
    assert!(xml.contains("<LogDeliveryConfigurations/>"), "{xml}");
}

#[tokio::test]
async fn a_given_snapshot_window_moves_the_default_maintenance_window_off_it() {
    let server = TestServer::start();
    let client = server.sdk();
    client
        .create_cache_cluster()
        .cache_cluster_id("windows")
        .engine("redis")
        .snapshot_window("05:00-06:00")
        .send()
        .await
        .expect("create");
    let cluster = cache_cluster(&client, "windows").await;
    assert_eq!(cluster.snapshot_window(), Some("05:00-06:00"));
    assert_eq!(
        cluster.preferred_maintenance_window(),
        Some("sun:09:00-sun:10:00")
    );
    // No snapshots without a retention: no snapshot source either.
    assert_eq!(cluster.snapshot_retention_limit(), Some(0));

    // Memcached takes no snapshots: no snapshot window.
    client
        .create_cache_cluster()
        .cache_cluster_id("memcached")
        .engine("memcached")
        .send()
        .await
        .expect("create memcached");
    let memcached = cache_cluster(&client, "memcached").await;
    assert_eq!(memcached.snapshot_window(), None);
    assert_eq!(
        memcached.preferred_maintenance_window(),
        Some("sun:05:00-sun:06:00")
    );
}
