//! Issue 20 item 4: every Describe action's `Marker` is opaque and tied to the listing that
//! issued it. A marker never issued, or one issued by another Describe action, is refused with
//! AWS's `InvalidParameterValue` (400), never silently read as "page 1". The list of actions
//! is read from the dispatch table, so a Describe action added later joins this test.

use reqwest::Method;

use crate::support::{TestServer, call, form_encode};

/// Every `Describe*` action the dispatch table in `src/api/mod.rs` answers.
fn describe_actions() -> Vec<String> {
    let table = include_str!("../../src/api/mod.rs");
    let mut actions: Vec<String> = table
        .lines()
        .filter_map(|line| line.trim().split_once(" => "))
        .map(|(action, _)| action.trim().to_string())
        .filter(|action| {
            action.starts_with("Describe") && action.chars().all(char::is_alphanumeric)
        })
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

/// The members an action needs besides `Marker` for the request to reach its pager.
fn required_members(action: &str) -> Vec<(String, String)> {
    let pairs: &[(&str, &str)] = match action {
        "DescribeCacheParameters" => &[("CacheParameterGroupName", "default.redis7")],
        "DescribeEngineDefaultParameters" => &[("CacheParameterGroupFamily", "redis7")],
        _ => &[],
    };
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn describe(server: &TestServer, action: &str, extra: &[(&str, &str)]) -> (u16, String) {
    let mut pairs = vec![
        ("Action".to_string(), action.to_string()),
        ("Version".to_string(), "2015-02-02".to_string()),
    ];
    pairs.extend(required_members(action));
    pairs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let (status, body, _) = call(server, Method::POST, "", &form_encode(&pairs), None).await;
    (status, body)
}

fn marker_of(body: &str) -> Option<String> {
    let start = body.find("<Marker>")? + "<Marker>".len();
    let end = body[start..].find("</Marker>")? + start;
    Some(body[start..end].to_string())
}

#[tokio::test]
async fn every_describe_action_refuses_a_marker_it_never_issued() {
    let actions = describe_actions();
    assert!(
        actions.len() >= 10,
        "the dispatch table was read: {actions:?}"
    );
    let server = TestServer::start();
    // A real marker, issued by one listing (the engine versions: more than 20 rows).
    let (status, body) = describe(
        &server,
        "DescribeCacheEngineVersions",
        &[("MaxRecords", "20")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let issued = marker_of(&body).expect("a first page of 20 engine versions has a Marker");
    let (status, body) = describe(
        &server,
        "DescribeCacheEngineVersions",
        &[("MaxRecords", "20"), ("Marker", &issued)],
    )
    .await;
    assert_eq!(status, 200, "its own listing takes the marker: {body}");

    for action in &actions {
        let (status, body) = describe(&server, action, &[]).await;
        assert_eq!(status, 200, "{action} without a Marker: {body}");
        let mut forged = vec!["never-issued", "AAAAAAAAAAAAAAAAAAAAAAAA", "1"];
        if action != "DescribeCacheEngineVersions" {
            forged.push(&issued);
        }
        for marker in forged {
            let (status, body) = describe(&server, action, &[("Marker", marker)]).await;
            assert_eq!(status, 400, "{action} Marker={marker}: {body}");
            assert!(
                body.contains("<Code>InvalidParameterValue</Code>"),
                "{action} Marker={marker}: {body}"
            );
        }
    }
}
