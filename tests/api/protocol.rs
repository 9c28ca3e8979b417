//! The wire: GET and POST, envelopes, headers and error bodies, checked with raw HTTP.

use crate::support::{NS, TestServer, call};

#[tokio::test]
async fn errors_are_aws_envelopes_to_the_byte() {
    let server = TestServer::start();
    let get = reqwest::Method::GET;
    let (status, body, _) = call(
        &server,
        get.clone(),
        "Action=DescribeReplicationGroups&Version=2015-02-02&ReplicationGroupId=nope",
        "",
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        body,
        format!(
            "<ErrorResponse {NS}><Error><Type>Sender</Type><Code>ReplicationGroupNotFoundFault</Code><Message>Replication group nope not found.</Message></Error><RequestId>RID</RequestId></ErrorResponse>"
        )
    );
    // Every other refusal: (method, query, body) -> (status, what the body must contain).
    let post = reqwest::Method::POST;
    let refused = [
        (&get, "", "", 400, &["<Code>MissingAction</Code>"][..]),
        (
            &get,
            "Action=Bogus",
            "",
            400,
            &["<Code>InvalidAction</Code>"],
        ),
        (
            &get,
            "Action=PurchaseReservedCacheNodesOffering",
            "",
            400,
            &["<Code>InvalidAction</Code>", "does not implement"],
        ),
        (
            &post,
            "",
            "Action=TestFailover&Version=2015-02-02&ReplicationGroupId=x",
            400,
            &[
                "<Code>MissingParameter</Code><Message>The request must contain the parameter NodeGroupId.</Message>",
            ],
        ),
        (
            &post,
            "",
            "Action=DescribeEvents&Version=2015-02-02&Duration=abc",
            400,
            &["<Code>InvalidParameterValue</Code>"],
        ),
        (
            &post,
            "",
            "Action=CreateReplicationGroup&Version=2015-02-02&ReplicationGroupId=x&ReplicationGroupDescription=d&Tags.Tag.x.Key=k",
            400,
            &["<Code>InvalidParameterValue</Code>"],
        ),
    ];
    for (method, query, request_body, expected_status, expected) in refused {
        let (status, body, _) = call(&server, method.clone(), query, request_body, None).await;
        assert_eq!(
            status, expected_status,
            "{method} ?{query} {request_body}: {body}"
        );
        for part in expected {
            assert!(
                body.contains(part),
                "{method} ?{query} {request_body}: {part} in {body}"
            );
        }
    }
}

#[tokio::test]
async fn get_and_post_both_work_and_the_result_precedes_the_metadata() {
    let server = TestServer::start();
    let (status, body, _) = call(
        &server,
        reqwest::Method::GET,
        "Action=DescribeEvents&Version=2015-02-02",
        "",
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        format!(
            "<DescribeEventsResponse {NS}><DescribeEventsResult><Events/></DescribeEventsResult><ResponseMetadata><RequestId>RID</RequestId></ResponseMetadata></DescribeEventsResponse>"
        )
    );
    let create = "Action=CreateReplicationGroup&Version=2015-02-02&ReplicationGroupId=viapost&ReplicationGroupDescription=from+a+form&PreferredCacheClusterAZs.AvailabilityZone.1=eu-west-1c";
    let auth = "AWS4-HMAC-SHA256 Credential=AKIDX/20260101/eu-west-1/elasticache/aws4_request, SignedHeaders=host, Signature=0";
    let (status, body, _) = call(&server, reqwest::Method::POST, "", create, Some(auth)).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.starts_with(&format!(
            "<CreateReplicationGroupResponse {NS}><CreateReplicationGroupResult><ReplicationGroup>"
        )),
        "{body}"
    );
    assert!(body.ends_with("</ReplicationGroup></CreateReplicationGroupResult><ResponseMetadata><RequestId>RID</RequestId></ResponseMetadata></CreateReplicationGroupResponse>"));
    assert!(body.contains("<Description>from a form</Description>"));
    assert!(
        body.contains(
            "<ARN>arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:viapost</ARN>"
        ),
        "the SigV4 scope's region wins"
    );
    assert!(
        body.contains("<Status>creating</Status>") && !body.contains("<NodeGroups>"),
        "no node groups while creating"
    );
}

#[tokio::test]
async fn an_oversized_body_gets_an_aws_error_not_a_plain_413() {
    let server = TestServer::start();
    let body = format!("Action=DescribeEvents&Pad={}", "x".repeat(2 * 1024 * 1024));
    let (status, body, _) = call(&server, reqwest::Method::POST, "", &body, None).await;
    assert_eq!(status, 400);
    assert!(
        body.contains("<Code>InvalidParameterValue</Code>") && body.contains("larger than"),
        "{body}"
    );
}

#[tokio::test]
async fn reset_removes_every_group_event_and_process_and_health_counts_them() {
    let server = TestServer::start();
    let client = server.sdk();
    crate::support::create_group(&client, "one", 2, true).await;
    crate::support::create_group(&client, "two", 1, false).await;
    let http = reqwest::Client::new();
    let health: serde_json::Value = http
        .get(format!("{}/_health", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["members"], 3);
    assert_eq!(health["redis_processes"], 3);
    let nodes = crate::support::live_children(server.pid());
    let reset: serde_json::Value = http
        .post(format!("{}/_reset", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reset["deleted"], serde_json::json!(["one", "two"]));
    assert!(
        nodes.iter().all(|pid| !crate::support::is_alive(*pid)),
        "no process left behind"
    );
    let groups = client.describe_replication_groups().send().await.unwrap();
    assert!(groups.replication_groups().is_empty());
    assert!(
        client
            .describe_events()
            .send()
            .await
            .unwrap()
            .events()
            .is_empty(),
        "events cleared"
    );
    let health: serde_json::Value = http
        .get(format!("{}/_health", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["redis_processes"], 0);
}

#[tokio::test]
async fn with_verify_sigv4_only_correctly_signed_requests_pass() {
    let server = TestServer::start_with(&[
        "--verify-sigv4",
        "--credentials",
        "AKIDTEST:secret,AKIDOTHER:other-secret",
    ]);
    server
        .sdk()
        .describe_events()
        .send()
        .await
        .expect("signed with the right secret");
    server
        .sdk_with_credentials("AKIDOTHER", "other-secret")
        .describe_events()
        .send()
        .await
        .expect("second credential");
    let wrong = server
        .sdk_with_credentials("AKIDTEST", "not-the-secret")
        .describe_events()
        .send()
        .await;
    assert_eq!(crate::support::code(wrong), "SignatureDoesNotMatch");
    let unknown = server
        .sdk_with_credentials("AKIDNOBODY", "secret")
        .describe_events()
        .send()
        .await;
    assert_eq!(crate::support::code(unknown), "InvalidClientTokenId");
    let (status, body, _) = call(
        &server,
        reqwest::Method::GET,
        "Action=DescribeEvents",
        "",
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        body.contains("<Code>MissingAuthenticationToken</Code>"),
        "{body}"
    );
    let stale = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20200101/us-east-1/elasticache/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/?Action=DescribeEvents", server.url))
        .header("Authorization", stale)
        .header("X-Amz-Date", "20200101T000000Z")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403);
    let text = response.text().await.unwrap();
    assert!(
        text.contains("<Code>SignatureDoesNotMatch</Code>") && text.contains("Signature expired"),
        "{text}"
    );
    let health = client
        .get(format!("{}/_health", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(
        health.status().as_u16(),
        200,
        "control endpoints are not signed"
    );
}

#[test]
fn verify_sigv4_without_credentials_is_refused_at_startup() {
    let output = std::process::Command::new(crate::support::BINARY)
        .args(["--listen", "127.0.0.1:0", "--verify-sigv4"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr)
            .contains("--verify-sigv4 needs at least one --credentials")
    );
}

#[tokio::test]
async fn control_characters_in_values_never_make_the_xml_unparseable() {
    let server = TestServer::start();
    let create = "Action=CreateReplicationGroup&Version=2015-02-02&ReplicationGroupId=ctl&ReplicationGroupDescription=a%14b";
    let (status, body, _) = call(&server, reqwest::Method::POST, "", create, None).await;
    assert_eq!(status, 200, "{body}");
    let client = server.sdk();
    let groups = client
        .describe_replication_groups()
        .send()
        .await
        .expect("parseable by the SDK");
    assert_eq!(
        groups.replication_groups()[0].description(),
        Some("a\u{FFFD}b")
    );
    let (status, body, _) = call(
        &server,
        reqwest::Method::GET,
        "Action=DescribeReplicationGroups&Version=2015-02-02&ReplicationGroupId=x%00y",
        "",
        None,
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        !body.contains('\0') && body.contains("x\u{FFFD}y"),
        "{body}"
    );
    crate::support::wait_available(&client, "ctl").await;
}

/// Log lines are batched per worker (`logging`): an idle server still shows each call's line
/// at once, and every line of a burst reaches the log by the time the server has stopped.
#[tokio::test]
async fn every_api_call_is_logged_promptly_and_none_is_lost_at_shutdown() {
    let mut server = TestServer::start();
    let (_, _, request_id) = call(
        &server,
        reqwest::Method::GET,
        "Action=DescribeEvents&Version=2015-02-02",
        "",
        None,
    )
    .await;
    crate::support::wait_until(
        "the call's log line while the server is idle",
        std::time::Duration::from_secs(5),
        || {
            let logged = server.log_text().contains(&request_id);
            async move { logged.then_some(()) }
        },
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..200 {
        let query = "Action=DescribeReplicationGroups&Version=2015-02-02";
        let (_, _, id) = call(&server, reqwest::Method::GET, query, "", None).await;
        ids.push(id);
    }
    assert!(server.stop(), "the server exits cleanly on SIGTERM");
    let log = server.log_text();
    let missing: Vec<_> = ids.iter().filter(|id| !log.contains(id.as_str())).collect();
    assert!(missing.is_empty(), "{} calls not logged", missing.len());
    assert!(log.contains("shutting down"), "{log}");
    assert!(
        log.lines()
            .all(|line| line.contains(" INFO ") || line.contains(" WARN ")),
        "every line whole: {log}"
    );
}
