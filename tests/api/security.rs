//! Security as ElastiCache does it: the AUTH token's rules (boto3 sees AWS's errors), and the
//! commands ElastiCache restricts, refused through every node and endpoint while the server's
//! own failover and parameter changes (which use them under private names) keep working.

use aws_sdk_elasticache::types::ParameterNameValue;
use serde_json::Value;

use crate::support::{
    At, DEADLINE, TestServer, admin_cli, connect, create_group, create_group_on, endpoints,
    member_addresses, python3, replication_field, wait_available, wait_for_event, wait_until,
};

/// Each restricted command with arguments a client would give it.
const RESTRICTED: [&[&str]; 10] = [
    &["BGREWRITEAOF"],
    &["BGSAVE"],
    &["CONFIG", "GET", "maxmemory"],
    &["DEBUG", "SLEEP", "0"],
    &["MIGRATE", "127.0.0.1", "1", "key", "0", "1000"],
    &["REPLICAOF", "NO", "ONE"],
    &["SAVE"],
    &["SLAVEOF", "NO", "ONE"],
    &["SHUTDOWN", "NOSAVE"],
    &["SYNC"],
];

/// The node's answer to `args` on a fresh connection to `at`.
fn run(at: impl At, args: &[&str]) -> redis::RedisResult<redis::Value> {
    let mut connection = connect(at, None)?;
    let mut command = redis::cmd(args[0]);
    for arg in &args[1..] {
        command.arg(*arg);
    }
    command.query(&mut connection)
}

/// Every restricted command at `at` gets redis-server's answer to an unknown command, the one
/// ElastiCache's renamed commands give.
fn assert_all_refused(at: impl At, what: &str) {
    for args in RESTRICTED {
        let answer = run(at, args);
        let error = answer.expect_err(&format!("{} through {what} must be refused", args[0]));
        let text = error.to_string();
        assert!(
            text.contains(&format!("unknown command '{}'", args[0])),
            "{} through {what}: {text}",
            args[0]
        );
    }
}

#[tokio::test]
async fn restricted_commands_are_refused_through_every_node_and_endpoint() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_group_on(&client, "redis", "locked", 3, true).await;
    let (primary, reader, members) = endpoints(&group);
    for (member, port, _) in &members {
        assert_all_refused(*port, member);
    }
    assert_all_refused(primary, "the primary endpoint");
    assert_all_refused(reader, "the reader endpoint");
    // The nodes were not touched: each still runs, in its role.
    for (member, port, _) in &members {
        assert_eq!(
            run(*port, &["PING"]).ok(),
            Some(redis::Value::SimpleString("PONG".into())),
            "{member}"
        );
    }

    // The server's own failover (REPLICAOF under its private name) still works...
    client
        .test_failover()
        .replication_group_id("locked")
        .node_group_id("0001")
        .send()
        .await
        .expect("TestFailover");
    wait_for_event(
        &client,
        "locked-001",
        "Finished recovery for cache nodes 0001",
    )
    .await;
    wait_old_primary_replicating(&client, "locked").await;
    wait_available(&client, "locked").await;
    // ...and so do parameter changes (CONFIG SET), on every node, the new primary included.
    client
        .create_cache_parameter_group()
        .cache_parameter_group_name("locked-params")
        .cache_parameter_group_family("redis7")
        .description("for the restricted commands test")
        .send()
        .await
        .expect("create a parameter group");
    client
        .modify_cache_parameter_group()
        .cache_parameter_group_name("locked-params")
        .parameter_name_values(
            ParameterNameValue::builder()
                .parameter_name("maxmemory-policy")
                .parameter_value("allkeys-lru")
                .build(),
        )
        .send()
        .await
        .expect("modify the parameter group");
    client
        .modify_replication_group()
        .replication_group_id("locked")
        .cache_parameter_group_name("locked-params")
        .apply_immediately(true)
        .send()
        .await
        .expect("switch the group's parameter group");
    for (member, port) in member_addresses(&client, "locked").await {
        wait_until(
            &format!("{member} to run allkeys-lru"),
            DEADLINE,
            || async move {
                let (out, _) = admin_cli(port, port, None, &["CONFIG", "GET", "maxmemory-policy"]);
                out.contains("allkeys-lru").then_some(())
            },
        )
        .await;
        assert_all_refused(port, &member);
    }
}

#[tokio::test]
async fn allow_restricted_commands_leaves_them_to_clients() {
    let server = TestServer::start_with(&["--allow-restricted-commands"]);
    let client = server.sdk();
    let group = create_group(&client, "raw", 2, true).await;
    let (primary, _, members) = endpoints(&group);
    let answer = run(primary, &["CONFIG", "GET", "bind"]).expect("CONFIG GET on raw Redis");
    assert!(
        format!("{answer:?}").contains(&members[0].1.ip().to_string()),
        "{answer:?}"
    );
    // The engine's own commands still work when nothing is renamed.
    client
        .test_failover()
        .replication_group_id("raw")
        .node_group_id("0001")
        .send()
        .await
        .expect("TestFailover");
    wait_old_primary_replicating(&client, "raw").await;
}

/// Waits until the first member, the primary a TestFailover replaced, runs again as a replica
/// (at the address it has now: a recovered node may get a new one).
async fn wait_old_primary_replicating(client: &aws_sdk_elasticache::Client, id: &str) {
    let member = format!("{id}-001");
    wait_until("the old primary to be a replica", DEADLINE, || {
        let member = member.clone();
        async move {
            let ports = member_addresses(client, id).await;
            let port = ports.iter().find(|(m, _)| *m == member)?.1;
            let role = replication_field(port, "role");
            (role.as_deref() == Some("slave")).then_some(())
        }
    })
    .await;
}

/// Every AuthToken rule through boto3: (case, error code, message start) or "ok".
const BOTO3_AUTH_TOKEN_RULES: &str = r#"
import json, sys, boto3, botocore.exceptions
ec = boto3.client("elasticache", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
GOOD = "Good-token!&#$^<>0123"
def outcome(call, **kwargs):
    try:
        call(**kwargs)
        return "ok"
    except botocore.exceptions.ClientError as error:
        return [error.response["Error"]["Code"], error.response["Error"]["Message"]]
def create(id, **kwargs):
    return outcome(ec.create_replication_group, ReplicationGroupId=id,
                   ReplicationGroupDescription="auth rules", NumCacheClusters=1, **kwargs)
def modify(id, **kwargs):
    return outcome(ec.modify_replication_group, ReplicationGroupId=id, ApplyImmediately=True,
                   **kwargs)
results = {
    "no TLS": create("no-tls", AuthToken=GOOD),
    "TLS false": create("tls-false", AuthToken=GOOD, TransitEncryptionEnabled=False),
    "15 chars": create("short", AuthToken="a" * 15, TransitEncryptionEnabled=True),
    "129 chars": create("long", AuthToken="a" * 129, TransitEncryptionEnabled=True),
    "an @": create("at", AuthToken=GOOD + "@", TransitEncryptionEnabled=True),
    "a slash": create("slash", AuthToken=GOOD + "/", TransitEncryptionEnabled=True),
    "a quote": create("quote", AuthToken=GOOD + '"', TransitEncryptionEnabled=True),
    "an underscore": create("underscore", AuthToken=GOOD + "_", TransitEncryptionEnabled=True),
    "a space": create("space", AuthToken=GOOD + " x", TransitEncryptionEnabled=True),
    "128 good chars": create("longest", AuthToken="A" * 128, TransitEncryptionEnabled=True),
    "good": create("good", AuthToken=GOOD, TransitEncryptionEnabled=True),
    "plain": create("plain"),
}
ec.get_waiter("replication_group_available").wait(
    ReplicationGroupId="good", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
ec.get_waiter("replication_group_available").wait(
    ReplicationGroupId="plain", WaiterConfig={"Delay": 1, "MaxAttempts": 60})
results.update({
    "SET without TLS": modify("plain", AuthToken=GOOD, AuthTokenUpdateStrategy="SET"),
    "ROTATE without TLS": modify("plain", AuthToken=GOOD, AuthTokenUpdateStrategy="ROTATE"),
    "SET a bad token": modify("good", AuthToken="short", AuthTokenUpdateStrategy="SET"),
    "ROTATE a bad token": modify("good", AuthToken=GOOD + "%", AuthTokenUpdateStrategy="ROTATE"),
    "ROTATE a good token": modify("good", AuthToken="Second-token-0123456789",
                                  AuthTokenUpdateStrategy="ROTATE"),
})
print(json.dumps(results))
"#;

#[tokio::test]
async fn boto3_gets_aws_errors_for_every_auth_token_rule() {
    let server = TestServer::start();
    let out = python3(
        BOTO3_AUTH_TOKEN_RULES,
        &[&server.url],
        "boto3 AuthToken rules",
    );
    let results: Value = serde_json::from_slice(&out).expect("json from the script");
    let needs_tls = "AuthToken can be specified only on replication groups where TransitEncryptionEnabled is true.";
    let invalid = "Invalid AuthToken provided.";
    let expected = [
        ("no TLS", Some(needs_tls)),
        ("TLS false", Some(needs_tls)),
        ("15 chars", Some(invalid)),
        ("129 chars", Some(invalid)),
        ("an @", Some(invalid)),
        ("a slash", Some(invalid)),
        ("a quote", Some(invalid)),
        ("an underscore", Some(invalid)),
        ("a space", Some(invalid)),
        ("128 good chars", None),
        ("good", None),
        ("plain", None),
        ("SET without TLS", Some(needs_tls)),
        ("ROTATE without TLS", Some(needs_tls)),
        ("SET a bad token", Some(invalid)),
        ("ROTATE a bad token", Some(invalid)),
        ("ROTATE a good token", None),
    ];
    for (case, message) in expected {
        let got = &results[case];
        match message {
            None => assert_eq!(got, "ok", "{case}"),
            Some(start) => {
                assert_eq!(got[0], "InvalidParameterValue", "{case}: {got}");
                let text = got[1].as_str().unwrap_or_default();
                assert!(text.starts_with(start), "{case}: {text}");
            }
        }
    }
}
