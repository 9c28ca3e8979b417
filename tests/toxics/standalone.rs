//! Standalone Redis cache clusters' nodes as proxies: each is named `<CacheClusterId>-0001`
//! (every standalone node's id is `0001`, so the id alone would make two clusters one proxy),
//! both are listed, and a toxic on one slows that node only.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::support::{DEADLINE, TestServer, wait_cache_cluster_available, wait_until};
use crate::toxics_support::{Api, ping_rtts, redis_connection};

async fn create_standalone(server: &TestServer, id: &str) -> SocketAddr {
    let client = server.sdk();
    client
        .create_cache_cluster()
        .cache_cluster_id(id)
        .engine("redis")
        .num_cache_nodes(1)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create cache cluster {id}: {e:?}"));
    wait_cache_cluster_available(&client, id, |cluster| {
        let endpoint = cluster.cache_nodes().first()?.endpoint()?;
        format!("{}:{}", endpoint.address()?, endpoint.port()?)
            .parse()
            .ok()
    })
    .await
}

async fn median_ping(at: SocketAddr) -> f64 {
    let mut connection = redis_connection(at).await;
    ping_rtts(&mut connection, 15).await.0
}

#[tokio::test]
async fn two_standalone_clusters_have_a_node_proxy_each_and_a_toxic_slows_one() {
    let server = TestServer::start();
    let first = create_standalone(&server, "sta").await;
    let second = create_standalone(&server, "stb").await;
    let api = Api::of(&server);

    let (status, proxies) = api.call("GET", "/proxies", None).await;
    assert_eq!(status, 200, "{proxies}");
    for (name, node) in [("sta-0001", first), ("stb-0001", second)] {
        assert_eq!(
            proxies[name]["listen"],
            json!(node.to_string()),
            "{name} in {proxies}"
        );
    }
    assert_eq!(
        proxies.get("0001"),
        None,
        "no proxy named by the bare node id"
    );

    let latency: Value = json!({"name": "slow", "type": "latency", "stream": "downstream",
        "attributes": {"latency": 200}});
    api.add("sta-0001", latency).await;
    let slowed = median_ping(first).await;
    let other = median_ping(second).await;
    println!("sta-0001 with 200 ms latency: {slowed:.1} ms; stb-0001: {other:.1} ms");
    assert!(
        (200.0..=220.0).contains(&slowed),
        "sta-0001 median {slowed} ms"
    );
    assert!(other < 10.0, "stb-0001 median {other} ms");

    // Deleting one cluster forgets its node's proxy only.
    server
        .sdk()
        .delete_cache_cluster()
        .cache_cluster_id("sta")
        .send()
        .await
        .expect("delete sta");
    let proxies = wait_until("sta-0001 forgotten", DEADLINE, || async {
        let (_, proxies) = api.call("GET", "/proxies", None).await;
        proxies.get("sta-0001").is_none().then_some(proxies)
    })
    .await;
    assert_eq!(
        proxies["stb-0001"]["listen"],
        json!(second.to_string()),
        "{proxies}"
    );
}
