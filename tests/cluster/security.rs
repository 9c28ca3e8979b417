//! Restricted commands and user groups in cluster mode: the same rules as with cluster mode
//! disabled, through the configuration endpoint and on every shard's nodes.

use aws_sdk_elasticache::types::AuthenticationMode;

use crate::support::{
    At, TestServer, configuration_endpoint, connect, create_cluster, member_addresses,
    wait_available,
};

fn command(
    at: impl At,
    login: Option<(&str, &str)>,
    args: &[&str],
) -> redis::RedisResult<redis::Value> {
    let mut connection = connect(at, None)?;
    if let Some((user, password)) = login {
        redis::cmd("AUTH")
            .arg(user)
            .arg(password)
            .query::<()>(&mut connection)?;
    }
    let mut cmd = redis::cmd(args[0]);
    for arg in &args[1..] {
        cmd.arg(*arg);
    }
    cmd.query(&mut connection)
}

#[tokio::test]
async fn restricted_commands_are_refused_through_the_configuration_endpoint_and_every_node() {
    let server = TestServer::start();
    let client = server.sdk();
    let group = create_cluster(&client, "locked", 2, 1).await;
    let mut addresses = vec![configuration_endpoint(&group)];
    addresses.extend(
        member_addresses(&client, "locked")
            .await
            .into_iter()
            .map(|(_, p)| p),
    );
    for at in addresses {
        for args in [
            &["CONFIG", "GET", "port"][..],
            &["SHUTDOWN", "NOSAVE"],
            &["REPLICAOF", "NO", "ONE"],
        ] {
            let error = command(at, None, args).expect_err("a restricted command");
            assert!(
                error.to_string().contains("unknown command"),
                "{at}: {error}"
            );
        }
    }
}

#[tokio::test]
async fn a_user_group_gives_every_shard_its_acl_users() {
    user_group_gives_every_shard_its_acl_users("redis").await;
}

/// The same on valkey shards, which need a valkey built with TLS (./dev builds one).
#[tokio::test]
async fn a_user_group_gives_every_valkey_shard_its_acl_users() {
    if crate::support::valkey_tls_version().is_some() {
        user_group_gives_every_shard_its_acl_users("valkey").await;
    }
}

async fn user_group_gives_every_shard_its_acl_users(engine: &str) {
    const PASSWORD: &str = "reader-password-0123456789";
    let server = TestServer::start();
    let client = server.sdk();
    for (id, name, access) in [
        ("closed", "default", "off -@all"),
        ("reader", "reader", "on ~* -@all +get +ping +info"),
    ] {
        let mode = match name {
            "default" => AuthenticationMode::builder().r#type("no-password-required".into()),
            _ => AuthenticationMode::builder()
                .r#type("password".into())
                .passwords(PASSWORD),
        };
        client
            .create_user()
            .user_id(id)
            .user_name(name)
            .engine(engine)
            .access_string(access)
            .authentication_mode(mode.build())
            .send()
            .await
            .expect("create a user");
    }
    client
        .create_user_group()
        .user_group_id("readers")
        .engine(engine)
        .user_ids("closed")
        .user_ids("reader")
        .send()
        .await
        .expect("create the user group");
    client
        .create_replication_group()
        .replication_group_id("shared")
        .replication_group_description("rbac in cluster mode")
        .engine(engine)
        .num_node_groups(2)
        .replicas_per_node_group(1)
        .transit_encryption_enabled(true)
        .transit_encryption_mode(aws_sdk_elasticache::types::TransitEncryptionMode::Preferred)
        .user_group_ids("readers")
        .send()
        .await
        .expect("create a cluster with a user group");
    wait_available(&client, "shared").await;
    for (member, node) in member_addresses(&client, "shared").await {
        let anonymous = command(node, None, &["PING"]).expect_err("no anonymous PING");
        assert_eq!(anonymous.code(), Some("NOAUTH"), "{member}");
        let pong = command(node, Some(("reader", PASSWORD)), &["PING"]);
        assert!(pong.is_ok(), "{member}: {pong:?}");
        let set =
            command(node, Some(("reader", PASSWORD)), &["SET", "k", "v"]).expect_err("no SET");
        assert_eq!(set.code(), Some("NOPERM"), "{member}");
        let Ok(redis::Value::BulkString(info)) =
            command(node, Some(("reader", PASSWORD)), &["INFO", "server"])
        else {
            panic!("{member}: INFO server as the reader");
        };
        let runs_valkey = String::from_utf8_lossy(&info).contains("server_name:valkey");
        assert_eq!(runs_valkey, engine == "valkey", "{member} runs {engine}");
    }
}
