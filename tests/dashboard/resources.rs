//! The dashboard's other resources: cache subnet groups, the user's parameter groups and the
//! tags of each, in `/_state` and on the page a real headless Chromium renders.

use crate::support::{self, TestServer};
use crate::{dashboard_state, group_in, run_chromium};

#[tokio::test]
async fn subnet_groups_parameter_groups_and_tags_are_shown() {
    let server = TestServer::start();
    let client = server.sdk();
    let tag = |key: &str, value: &str| {
        aws_sdk_elasticache::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
    };
    client
        .create_cache_subnet_group()
        .cache_subnet_group_name("private")
        .cache_subnet_group_description("private subnets")
        .subnet_ids("subnet-0aa11bb22cc33dd44")
        .subnet_ids("subnet-0ee55ff66aa77bb88")
        .tags(tag("team", "payments"))
        .send()
        .await
        .expect("create a subnet group");
    client
        .create_cache_parameter_group()
        .cache_parameter_group_name("events")
        .cache_parameter_group_family("redis7")
        .description("keyspace events")
        .tags(tag("cost-center", "42"))
        .send()
        .await
        .expect("create a parameter group");
    client
        .modify_cache_parameter_group()
        .cache_parameter_group_name("events")
        .parameter_name_values(
            aws_sdk_elasticache::types::ParameterNameValue::builder()
                .parameter_name("notify-keyspace-events")
                .parameter_value("KEA")
                .build(),
        )
        .send()
        .await
        .expect("modify the parameter group");
    client
        .create_replication_group()
        .replication_group_id("shown")
        .replication_group_description("resources on the dashboard")
        .num_cache_clusters(1)
        .cache_subnet_group_name("private")
        .cache_parameter_group_name("events")
        .tags(tag("env", "test"))
        .send()
        .await
        .expect("create a group");
    support::wait_available(&client, "shown").await;

    let state = dashboard_state(&server).await.expect("/_state answers");
    let group = group_in(&state, "shown").expect("the group");
    assert_eq!(group["subnet_group"], "private");
    assert_eq!(group["parameter_group"], "events");
    assert_eq!(
        group["tags"],
        serde_json::json!([{"key": "env", "value": "test"}])
    );
    let subnet_groups = state["subnet_groups"].as_array().unwrap();
    let names: Vec<&str> = subnet_groups
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["default", "private"]);
    let private = &subnet_groups[1];
    assert_eq!(private["used_by"], serde_json::json!(["shown"]));
    assert_eq!(private["subnets"][0]["id"], "subnet-0aa11bb22cc33dd44");
    assert!(private["vpc_id"].as_str().unwrap().starts_with("vpc-"));
    assert_eq!(
        private["tags"],
        serde_json::json!([{"key": "team", "value": "payments"}])
    );
    let parameter_groups = state["parameter_groups"].as_array().unwrap();
    assert_eq!(
        parameter_groups.len(),
        1,
        "only the user's own: {parameter_groups:#?}"
    );
    assert_eq!(parameter_groups[0]["name"], "events");
    assert_eq!(parameter_groups[0]["family"], "redis7");
    assert_eq!(
        parameter_groups[0]["values"]["notify-keyspace-events"],
        "KEA"
    );
    assert_eq!(parameter_groups[0]["used_by"], serde_json::json!(["shown"]));
    assert_eq!(parameter_groups[0]["tags"][0]["key"], "cost-center");

    let url = format!("{}/", server.url);
    let dom = tokio::task::spawn_blocking(move || run_chromium(&url, &["--dump-dom"]))
        .await
        .unwrap();
    for shown in [
        "data-subnet-group=\"private\"",
        "data-parameter-group=\"events\"",
        "data-tag=\"team\"",
        "data-tag=\"cost-center\"",
        "data-tag=\"env\"",
        "notify-keyspace-events=KEA",
        "subnet-0ee55ff66aa77bb88",
    ] {
        assert!(dom.contains(shown), "{shown} on the page:\n{dom}");
    }
}
