//! What a person and an application see during a failover: the log's narration of each
//! phase, `--access-log off`, and the `aws` endpoint behaviour (refused, then READONLY for the
//! DNS TTL, then writable).

use std::time::Duration;

use crate::support::{TestServer, create_group, endpoints, wait_for_event, wait_until};

const FINISHED: &str = "Finished recovery for cache nodes 0001";

#[tokio::test]
async fn the_log_narrates_each_failover_phase_with_its_elapsed_time_and_access_lines_can_be_turned_off()
 {
    let server = TestServer::start_with(&["--access-log", "off"]);
    let client = server.sdk();
    create_group(&client, "told", 2, true).await;
    client
        .test_failover()
        .replication_group_id("told")
        .node_group_id("0001")
        .send()
        .await
        .expect("TestFailover");
    wait_for_event(&client, "told-001", FINISHED).await;
    let log = wait_until(
        "the last phase in the log",
        Duration::from_secs(10),
        || async {
            let log = server.log_text();
            log.contains("failover 5/5").then_some(log)
        },
    )
    .await;
    for phase in [
        "failover 1/5: TestFailover accepted; primary told-001 will fail",
        "failover 2/5: primary told-001 killed",
        "failover 3/5: replica told-002 promoted",
        "failover 4/5: recovering told-001 as a new, empty replica",
        "failover 5/5: told-001 recovered and in sync; failover finished",
    ] {
        let line = log
            .lines()
            .find(|l| l.contains(phase))
            .unwrap_or_else(|| panic!("no {phase:?} in the log:\n{log}"));
        assert!(line.contains(" INFO "), "{line}");
        assert!(
            phase.starts_with("failover 1/5") || line.contains("elapsed="),
            "{line}"
        );
        assert!(!line.contains('{'), "no struct dump: {line}");
    }
    assert!(
        !log.contains("api call"),
        "--access-log off drops the access lines"
    );
}

/// What a new client connection to `endpoint` gets for a write.
enum NewConnection {
    Refused,
    ReadOnly,
    Written,
    Other,
}

fn write_on_a_new_connection(endpoint: std::net::SocketAddr) -> NewConnection {
    match std::net::TcpStream::connect_timeout(&endpoint, Duration::from_secs(2)) {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            return NewConnection::Refused;
        }
        Err(_) => return NewConnection::Other,
        Ok(_) => {}
    }
    let client = redis::Client::open(format!("redis://{endpoint}/")).unwrap();
    let answer = client
        .get_connection_with_timeout(Duration::from_secs(2))
        .and_then(|mut c| {
            redis::cmd("SET")
                .arg("probe")
                .arg("v")
                .query::<String>(&mut c)
        });
    match answer {
        Ok(_) => NewConnection::Written,
        Err(e) if e.to_string().contains("read only replica") => NewConnection::ReadOnly,
        Err(_) => NewConnection::Other,
    }
}

#[tokio::test]
async fn the_aws_endpoint_behaviour_refuses_while_the_primary_is_down_then_gives_readonly_for_the_dns_ttl()
 {
    let server = TestServer::start_with(&[
        "--endpoint-behaviour",
        "aws",
        "--promotion-delay-ms",
        "1500",
        "--dns-ttl-ms",
        "2500",
    ]);
    let client = server.sdk();
    let group = create_group(&client, "dns", 2, true).await;
    let (primary_endpoint, _, _) = endpoints(&group);
    assert!(matches!(
        write_on_a_new_connection(primary_endpoint),
        NewConnection::Written
    ));
    client
        .test_failover()
        .replication_group_id("dns")
        .node_group_id("0001")
        .send()
        .await
        .expect("TestFailover");
    let mut seen = Vec::new();
    wait_until(
        "refused, then READONLY, then a write",
        Duration::from_secs(20),
        || {
            let answer = write_on_a_new_connection(primary_endpoint);
            let name = match &answer {
                NewConnection::Refused => "refused",
                NewConnection::ReadOnly => "readonly",
                NewConnection::Written => "written",
                NewConnection::Other => "other",
            };
            if seen.last() != Some(&name) {
                seen.push(name);
            }
            let done = name == "written" && seen.contains(&"readonly");
            async move { done.then_some(()) }
        },
    )
    .await;
    // A probe may still write before the kill; connections accepted and closed while the
    // old address has no node yet (between the promotion and its recovery) are "other".
    let mut phases: Vec<&str> = seen
        .into_iter()
        .filter(|p| *p != "other")
        .skip_while(|p| *p == "written")
        .collect();
    phases.dedup();
    assert_eq!(
        phases,
        ["refused", "readonly", "written"],
        "new connections while the primary is down, during the DNS TTL, after it"
    );
}
