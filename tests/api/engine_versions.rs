//! DescribeCacheEngineVersions over the SDK: the memcached, redis and valkey catalogue, each filter, and
//! paging with MaxRecords/Marker.

use aws_sdk_elasticache::Client;

use crate::support::{TestServer, code, page_through};

async fn versions(
    client: &Client,
    engine: Option<&str>,
    version: Option<&str>,
    family: Option<&str>,
    default_only: bool,
) -> Vec<(String, String, String)> {
    let output = client
        .describe_cache_engine_versions()
        .set_engine(engine.map(str::to_string))
        .set_engine_version(version.map(str::to_string))
        .set_cache_parameter_group_family(family.map(str::to_string))
        .default_only(default_only)
        .send()
        .await
        .unwrap();
    output
        .cache_engine_versions()
        .iter()
        .map(|v| {
            (
                v.engine().unwrap().to_string(),
                v.engine_version().unwrap().to_string(),
                v.cache_parameter_group_family().unwrap().to_string(),
            )
        })
        .collect()
}

fn row(engine: &str, version: &str, family: &str) -> (String, String, String) {
    (engine.into(), version.into(), family.into())
}

#[tokio::test]
async fn filters_select_engines_versions_families_and_defaults() {
    let server = TestServer::start();
    let client = server.sdk();
    let all = versions(&client, None, None, None, false).await;
    assert!(all.contains(&row("redis", "7.1", "redis7")));
    assert!(all.contains(&row("valkey", "8.0", "valkey8")));
    let valkey = versions(&client, Some("valkey"), None, None, false).await;
    assert!(!valkey.is_empty() && valkey.iter().all(|r| r.0 == "valkey"));
    assert_eq!(
        versions(&client, Some("redis"), None, None, true).await,
        [row("redis", "7.1", "redis7")]
    );
    assert_eq!(
        versions(&client, None, None, Some("redis6.x"), false).await,
        [
            row("redis", "6.0", "redis6.x"),
            row("redis", "6.2", "redis6.x")
        ]
    );
    assert_eq!(
        versions(&client, Some("redis"), Some("6.x"), None, true).await,
        [row("redis", "6.2", "redis6.x")]
    );
    assert_eq!(
        versions(&client, Some("redis"), Some("5.0.6"), None, false).await,
        [row("redis", "5.0.6", "redis5.0")]
    );
    assert_eq!(
        versions(&client, Some("memcached"), None, None, true).await,
        [row("memcached", "1.6.22", "memcached1.6")]
    );
    assert_eq!(
        versions(&client, None, None, Some("memcached1.4"), false).await[0],
        row("memcached", "1.4.5", "memcached1.4")
    );
    assert!(
        versions(&client, None, None, Some("redis99"), false)
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn pages_cover_the_catalogue_once() {
    let server = TestServer::start();
    let client = server.sdk();
    let all = versions(&client, None, None, None, false).await;
    assert!(all.len() > 20, "more than one page of 20");
    let (seen, _) = page_through(|marker| async {
        let page = client
            .describe_cache_engine_versions()
            .max_records(20)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        assert!(page.cache_engine_versions().len() <= 20);
        let rows: Vec<_> = page
            .cache_engine_versions()
            .iter()
            .map(|v| {
                (
                    v.engine().unwrap().to_string(),
                    v.engine_version().unwrap().to_string(),
                    v.cache_parameter_group_family().unwrap().to_string(),
                )
            })
            .collect();
        (rows, page.marker().map(str::to_string))
    })
    .await;
    assert_eq!(seen, all, "the pages are the whole list, in order");
    let forged = client
        .describe_cache_engine_versions()
        .marker("0019")
        .send()
        .await;
    assert_eq!(code(forged), "InvalidParameterValue");
    let small = client
        .describe_cache_engine_versions()
        .max_records(5)
        .send()
        .await;
    assert_eq!(code(small), "InvalidParameterValue");
}
