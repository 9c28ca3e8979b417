//! Cache parameter groups through aws-sdk-elasticache: every action with its errors and paging,
//! the defaults that cannot change, and values observed on the live nodes (CONFIG GET through a
//! plain redis client on each node's own port, and the behaviour itself).

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::ParameterNameValue;

use crate::support::{
    DEADLINE, TestServer, code, code_and_message, connect, member_ports, page_through,
    private_command, wait_until,
};

pub(crate) fn pair(name: &str, value: &str) -> ParameterNameValue {
    ParameterNameValue::builder()
        .parameter_name(name)
        .parameter_value(value)
        .build()
}

pub(crate) async fn create_parameter_group(client: &Client, name: &str, family: &str) {
    client
        .create_cache_parameter_group()
        .cache_parameter_group_name(name)
        .cache_parameter_group_family(family)
        .description("test parameters")
        .send()
        .await
        .expect("create parameter group");
}

pub(crate) async fn modify(client: &Client, name: &str, pairs: &[(&str, &str)]) {
    let mut call = client
        .modify_cache_parameter_group()
        .cache_parameter_group_name(name);
    for (n, v) in pairs {
        call = call.parameter_name_values(pair(n, v));
    }
    let out = call.send().await.expect("modify parameter group");
    assert_eq!(out.cache_parameter_group_name(), Some(name));
}

/// The `Source=user` parameters of a group, as name=value.
async fn user_parameters(client: &Client, name: &str) -> Vec<(String, String)> {
    let out = client
        .describe_cache_parameters()
        .cache_parameter_group_name(name)
        .source("user")
        .send()
        .await
        .expect("describe cache parameters");
    out.parameters()
        .iter()
        .map(|p| {
            assert_eq!(p.source(), Some("user"));
            let name = p.parameter_name().unwrap_or_default().to_string();
            (name, p.parameter_value().unwrap_or_default().to_string())
        })
        .collect()
}

pub(crate) fn config_get(port: u16, name: &str) -> String {
    let mut connection = connect(port, None).expect("connect to the node");
    let answer: Vec<String> = redis::cmd(&private_command(port, "CONFIG"))
        .arg("GET")
        .arg(name)
        .query(&mut connection)
        .expect("CONFIG GET");
    answer.get(1).cloned().unwrap_or_default()
}

/// Waits until every member node of `group_id` reports `name` = `value`.
pub(crate) async fn wait_nodes_config(client: &Client, group_id: &str, name: &str, value: &str) {
    let ports = member_ports(client, group_id).await;
    assert!(!ports.is_empty());
    for (member, port) in ports {
        let what = format!("{member} to run {name} {value}");
        wait_until(&what, DEADLINE, || async move {
            (config_get(port, name) == value).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn parameter_group_actions_their_errors_and_paging() {
    let server = TestServer::start();
    let client = server.sdk();
    let created = client
        .create_cache_parameter_group()
        .cache_parameter_group_name("Sessions")
        .cache_parameter_group_family("redis7")
        .description("session cache")
        .send()
        .await
        .expect("create");
    let group = created.cache_parameter_group().unwrap();
    assert_eq!(group.cache_parameter_group_name(), Some("sessions"));
    assert_eq!(group.cache_parameter_group_family(), Some("redis7"));
    assert_eq!(
        group.arn(),
        Some("arn:aws:elasticache:us-east-1:123456789012:parametergroup:sessions")
    );
    let again = client
        .create_cache_parameter_group()
        .cache_parameter_group_name("sessions")
        .cache_parameter_group_family("redis7")
        .description("x")
        .send()
        .await;
    assert_eq!(code(again), "CacheParameterGroupAlreadyExists");
    let default_name = client
        .create_cache_parameter_group()
        .cache_parameter_group_name("default.redis7")
        .cache_parameter_group_family("redis7")
        .description("x")
        .send()
        .await;
    assert_eq!(code(default_name), "CacheParameterGroupAlreadyExists");
    let bad_family = client
        .create_cache_parameter_group()
        .cache_parameter_group_name("other")
        .cache_parameter_group_family("redis9")
        .description("x")
        .send()
        .await;
    assert_eq!(code(bad_family), "InvalidParameterValue");

    // Describe: one (any case), not found (404), and every group paged (16 defaults + ours).
    let one = client
        .describe_cache_parameter_groups()
        .cache_parameter_group_name("SESSIONS")
        .send()
        .await
        .unwrap();
    assert_eq!(one.cache_parameter_groups().len(), 1);
    let missing = client
        .describe_cache_parameter_groups()
        .cache_parameter_group_name("nope")
        .send()
        .await;
    assert_eq!(code(missing), "CacheParameterGroupNotFound");
    for i in 0..5 {
        create_parameter_group(&client, &format!("extra-{i}"), "valkey8").await;
    }
    let (names, pages) = page_through(|marker| async {
        let page = client
            .describe_cache_parameter_groups()
            .max_records(20)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        let names: Vec<String> = page
            .cache_parameter_groups()
            .iter()
            .map(|g| g.cache_parameter_group_name().unwrap().to_string())
            .collect();
        (names, page.marker().map(str::to_string))
    })
    .await;
    assert_eq!(pages, 2);
    assert_eq!(names.len(), 16 + 6, "{names:?}");
    for expected in [
        "default.redis2.6",
        "default.redis6.x.cluster.on",
        "default.redis7",
        "default.redis7.cluster.on",
        "default.valkey7",
        "default.valkey8.cluster.on",
        "sessions",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected}: {names:?}");
    }

    // Modify: all or nothing, the parameter named; at most 20 in one call.
    modify(
        &client,
        "sessions",
        &[("maxmemory-policy", "allkeys-lru"), ("timeout", "300")],
    )
    .await;
    let bad = client
        .modify_cache_parameter_group()
        .cache_parameter_group_name("sessions")
        .parameter_name_values(pair("maxmemory-policy", "noeviction"))
        .parameter_name_values(pair("maxmemory-samples", "many"))
        .send()
        .await;
    let (error, message) = code_and_message(bad);
    assert_eq!(error, "InvalidParameterValue");
    assert!(message.contains("maxmemory-samples"), "{message}");
    let unknown = client
        .modify_cache_parameter_group()
        .cache_parameter_group_name("sessions")
        .parameter_name_values(pair("no-such-thing", "1"))
        .send()
        .await;
    assert_eq!(code(unknown), "InvalidParameterValue");
    let mut too_many = client
        .modify_cache_parameter_group()
        .cache_parameter_group_name("sessions");
    for i in 0..21 {
        too_many = too_many.parameter_name_values(pair("timeout", &format!("{}", 20 + i)));
    }
    assert_eq!(code(too_many.send().await), "InvalidParameterCombination");
    let missing = client
        .modify_cache_parameter_group()
        .cache_parameter_group_name("nope")
        .parameter_name_values(pair("timeout", "30"))
        .send()
        .await;
    assert_eq!(code(missing), "CacheParameterGroupNotFound");
    assert_eq!(
        user_parameters(&client, "sessions").await,
        [
            ("maxmemory-policy".to_string(), "allkeys-lru".to_string()),
            ("timeout".to_string(), "300".to_string())
        ]
    );

    // The defaults can be neither modified, reset nor deleted.
    let on_default = client
        .modify_cache_parameter_group()
        .cache_parameter_group_name("default.redis7")
        .parameter_name_values(pair("timeout", "30"))
        .send()
        .await;
    assert_eq!(code(on_default), "InvalidCacheParameterGroupState");
    let reset_default = client
        .reset_cache_parameter_group()
        .cache_parameter_group_name("default.redis7")
        .reset_all_parameters(true)
        .send()
        .await;
    assert_eq!(code(reset_default), "InvalidCacheParameterGroupState");
    let delete_default = client
        .delete_cache_parameter_group()
        .cache_parameter_group_name("default.redis7.cluster.on")
        .send()
        .await;
    assert_eq!(code(delete_default), "InvalidCacheParameterGroupState");

    // DescribeCacheParameters: every parameter, paged by name; Source filters.
    let (all, _) = page_through(|marker| async {
        let page = client
            .describe_cache_parameters()
            .cache_parameter_group_name("sessions")
            .max_records(20)
            .set_marker(marker)
            .send()
            .await
            .unwrap();
        (
            page.parameters().to_vec(),
            page.marker().map(str::to_string),
        )
    })
    .await;
    assert!(all.len() > 40, "redis7 has {} parameters", all.len());
    let policy = all
        .iter()
        .find(|p| p.parameter_name() == Some("maxmemory-policy"))
        .unwrap();
    assert_eq!(
        (
            policy.parameter_value(),
            policy.source(),
            policy.is_modifiable()
        ),
        (Some("allkeys-lru"), Some("user"), Some(true))
    );
    assert_eq!(policy.change_type().map(|c| c.as_str()), Some("immediate"));
    let system = client
        .describe_cache_parameters()
        .cache_parameter_group_name("sessions")
        .source("system")
        .send()
        .await
        .unwrap();
    assert_eq!(system.parameters().len(), all.len() - 2);
    let bad_source = client
        .describe_cache_parameters()
        .cache_parameter_group_name("sessions")
        .source("mine")
        .send()
        .await;
    assert_eq!(code(bad_source), "InvalidParameterValue");
    let on = client
        .describe_cache_parameters()
        .cache_parameter_group_name("default.redis7.cluster.on")
        .send()
        .await
        .unwrap();
    let enabled = on
        .parameters()
        .iter()
        .find(|p| p.parameter_name() == Some("cluster-enabled"))
        .unwrap();
    assert_eq!(enabled.parameter_value(), Some("yes"));

    // DescribeEngineDefaultParameters: the family's list, paged.
    let first = client
        .describe_engine_default_parameters()
        .cache_parameter_group_family("redis7")
        .max_records(20)
        .send()
        .await
        .unwrap();
    let defaults = first.engine_defaults().unwrap();
    assert_eq!(defaults.cache_parameter_group_family(), Some("redis7"));
    assert_eq!(defaults.parameters().len(), 20);
    let rest = client
        .describe_engine_default_parameters()
        .cache_parameter_group_family("redis7")
        .marker(defaults.marker().expect("a second page"))
        .send()
        .await
        .unwrap();
    let rest = rest.engine_defaults().unwrap();
    assert!(rest.marker().is_none());
    assert_eq!(20 + rest.parameters().len(), all.len());
    assert!(
        rest.parameters()
            .iter()
            .all(|p| p.source() == Some("system"))
    );
    let unknown_family = client
        .describe_engine_default_parameters()
        .cache_parameter_group_family("memcached1.6")
        .send()
        .await;
    assert_eq!(code(unknown_family), "InvalidParameterValue");

    // Reset: named parameters, or all; not both, not neither.
    client
        .reset_cache_parameter_group()
        .cache_parameter_group_name("sessions")
        .parameter_name_values(pair("timeout", ""))
        .send()
        .await
        .expect("reset timeout");
    assert_eq!(
        user_parameters(&client, "sessions").await,
        [("maxmemory-policy".to_string(), "allkeys-lru".to_string())]
    );
    let both = client
        .reset_cache_parameter_group()
        .cache_parameter_group_name("sessions")
        .reset_all_parameters(true)
        .parameter_name_values(pair("timeout", ""))
        .send()
        .await;
    assert_eq!(code(both), "InvalidParameterCombination");
    let neither = client
        .reset_cache_parameter_group()
        .cache_parameter_group_name("sessions")
        .send()
        .await;
    assert_eq!(code(neither), "InvalidParameterCombination");
    client
        .reset_cache_parameter_group()
        .cache_parameter_group_name("sessions")
        .reset_all_parameters(true)
        .send()
        .await
        .expect("reset all");
    assert!(user_parameters(&client, "sessions").await.is_empty());

    // Delete, then it is gone.
    client
        .delete_cache_parameter_group()
        .cache_parameter_group_name("Sessions")
        .send()
        .await
        .expect("delete");
    let gone = client
        .delete_cache_parameter_group()
        .cache_parameter_group_name("sessions")
        .send()
        .await;
    assert_eq!(code(gone), "CacheParameterGroupNotFound");
}
