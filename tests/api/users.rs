//! Users and user groups (RBAC) as real ACLs: a replication group with a user group gives every
//! node exactly its users (the `default` user as the group defines it), changes to a user or a
//! group reach connected clients, and boto3 gets AWS's error for every rule.

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::AuthenticationMode;
use serde_json::Value;

use crate::support::{
    At, DEADLINE, TestServer, connect, endpoints, python3, wait_available, wait_until,
};

const WRITER_PASSWORD: &str = "writer-password-0123456789";
const READER_PASSWORD: &str = "reader-password-0123456789";
const READER_NEW_PASSWORD: &str = "reader-rotated-9876543210";

async fn create_user(
    client: &Client,
    engine: &str,
    id: &str,
    name: &str,
    access: &str,
    password: Option<&str>,
) {
    let mode = match password {
        Some(p) => AuthenticationMode::builder()
            .r#type("password".into())
            .passwords(p)
            .build(),
        None => AuthenticationMode::builder()
            .r#type("no-password-required".into())
            .build(),
    };
    client
        .create_user()
        .user_id(id)
        .user_name(name)
        .engine(engine)
        .access_string(access)
        .authentication_mode(mode)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create user {id}: {e:?}"));
}

/// A connection to `at` authenticated as `user`.
fn login(at: impl At, user: &str, password: &str) -> redis::RedisResult<redis::Connection> {
    let mut connection = connect(at, None)?;
    redis::cmd("AUTH")
        .arg(user)
        .arg(password)
        .query::<()>(&mut connection)?;
    Ok(connection)
}

fn get(connection: &mut redis::Connection, key: &str) -> redis::RedisResult<Option<String>> {
    redis::cmd("GET").arg(key).query(connection)
}

fn error_code<T>(answer: redis::RedisResult<T>) -> String {
    match answer {
        Ok(_) => "ok".to_string(),
        Err(error) => error.code().unwrap_or("io").to_string(),
    }
}

#[tokio::test]
async fn a_user_group_becomes_the_acl_users_of_every_node() {
    user_group_becomes_the_acl_users_of_every_node("redis").await;
}

/// The same on valkey nodes, which need a valkey built with TLS (./dev builds one).
#[tokio::test]
async fn a_valkey_user_group_becomes_the_acl_users_of_every_valkey_node() {
    if crate::support::valkey_tls_version().is_some() {
        user_group_becomes_the_acl_users_of_every_node("valkey").await;
    }
}

async fn user_group_becomes_the_acl_users_of_every_node(engine: &str) {
    let server = TestServer::start();
    let client = server.sdk();
    let create_user =
        |id, name, access, password| create_user(&client, engine, id, name, access, password);
    create_user("no-default", "default", "off -@all", None).await;
    create_user("writer", "writer", "on ~* +@all", Some(WRITER_PASSWORD)).await;
    create_user(
        "reader",
        "app-reader",
        "on ~app:* -@all +get",
        Some(READER_PASSWORD),
    )
    .await;
    client
        .create_user_group()
        .user_group_id("app-users")
        .engine(engine)
        .user_ids("no-default")
        .user_ids("writer")
        .user_ids("reader")
        .send()
        .await
        .expect("create the user group");
    client
        .create_replication_group()
        .replication_group_id("rbac")
        .replication_group_description("users as ACLs")
        .engine(engine)
        .num_cache_clusters(2)
        .transit_encryption_enabled(true)
        .transit_encryption_mode(aws_sdk_elasticache::types::TransitEncryptionMode::Preferred)
        .user_group_ids("app-users")
        .send()
        .await
        .expect("create a group with the user group");
    let group = wait_available(&client, "rbac").await;
    assert_eq!(group.user_group_ids(), ["app-users"]);
    let (primary, _, members) = endpoints(&group);

    // The default user is the group's: switched off, so a client must log in.
    let mut anonymous = connect(primary, None).unwrap();
    assert_eq!(error_code(get(&mut anonymous, "app:1")), "NOAUTH");
    let mut writer = login(primary, "writer", WRITER_PASSWORD).expect("the writer logs in");
    let info: String = redis::cmd("INFO").arg("server").query(&mut writer).unwrap();
    let runs_valkey = info.contains("server_name:valkey");
    assert_eq!(runs_valkey, engine == "valkey", "{engine} nodes: {info}");
    for key in ["app:1", "other"] {
        redis::cmd("SET")
            .arg(key)
            .arg("v")
            .query::<()>(&mut writer)
            .unwrap();
    }
    // The reader may only GET app:* keys, on the primary and on the replica alike.
    let mut reader = login(primary, "app-reader", READER_PASSWORD).expect("the reader logs in");
    assert_eq!(get(&mut reader, "app:1").unwrap().as_deref(), Some("v"));
    assert_eq!(error_code(get(&mut reader, "other")), "NOPERM");
    let set: redis::RedisResult<()> = redis::cmd("SET").arg("app:1").arg("w").query(&mut reader);
    assert_eq!(error_code(set), "NOPERM");
    let replica = members[1].1;
    wait_until("the replica to serve the reader", DEADLINE, || async move {
        let mut connection = login(replica, "app-reader", READER_PASSWORD).ok()?;
        (get(&mut connection, "app:1").ok()?.as_deref() == Some("v")).then_some(())
    })
    .await;
    // A user with every command still cannot run the restricted ones.
    let config: redis::RedisResult<redis::Value> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("port")
        .query(&mut writer);
    assert!(config.unwrap_err().to_string().contains("unknown command"));

    // A password rotation: the connected reader keeps working, the old password is refused.
    client
        .modify_user()
        .user_id("reader")
        .authentication_mode(
            AuthenticationMode::builder()
                .r#type("password".into())
                .passwords(READER_NEW_PASSWORD)
                .build(),
        )
        .send()
        .await
        .expect("rotate the reader's password");
    assert_eq!(get(&mut reader, "app:1").unwrap().as_deref(), Some("v"));
    assert_eq!(
        error_code(login(primary, "app-reader", READER_PASSWORD)),
        "WRONGPASS"
    );
    login(replica, "app-reader", READER_NEW_PASSWORD).expect("the new password on the replica");

    // Removed from the group, the reader loses its connection and cannot log in again.
    client
        .modify_user_group()
        .user_group_id("app-users")
        .user_ids_to_remove("reader")
        .send()
        .await
        .expect("remove the reader");
    assert!(
        get(&mut reader, "app:1").is_err(),
        "the reader's connection is closed"
    );
    assert_eq!(
        error_code(login(primary, "app-reader", READER_NEW_PASSWORD)),
        "WRONGPASS"
    );
    assert_eq!(get(&mut writer, "app:1").unwrap().as_deref(), Some("v"));

    let described = client
        .describe_users()
        .user_id("writer")
        .send()
        .await
        .unwrap();
    assert_eq!(described.users()[0].user_group_ids(), ["app-users"]);
    let groups = client
        .describe_user_groups()
        .user_group_id("app-users")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.user_groups()[0].replication_groups(), ["rbac"]);
    assert_eq!(groups.user_groups()[0].user_ids(), ["no-default", "writer"]);

    // Without its user group, the group's default user is open again.
    client
        .modify_replication_group()
        .replication_group_id("rbac")
        .remove_user_groups(true)
        .apply_immediately(true)
        .send()
        .await
        .expect("remove the user group");
    let mut anonymous = connect(primary, None).unwrap();
    assert_eq!(get(&mut anonymous, "app:1").unwrap().as_deref(), Some("v"));
    assert_eq!(
        error_code(login(primary, "writer", WRITER_PASSWORD)),
        "WRONGPASS"
    );
}

/// Every user and user group rule through boto3: case -> [code, message] or "ok".
const BOTO3_USER_RULES: &str = r#"
import json, sys, boto3, botocore.exceptions
ec = boto3.client("elasticache", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="AKIDTEST", aws_secret_access_key="secret")
P = "user-password-0123456789"
def outcome(call, **kwargs):
    try:
        call(**kwargs)
        return "ok"
    except botocore.exceptions.ClientError as error:
        return [error.response["Error"]["Code"], error.response["Error"]["Message"]]
def user(id, name=None, access="on ~* +@all", **kwargs):
    return outcome(ec.create_user, UserId=id, UserName=name or id, Engine="redis",
                   AccessString=access, **kwargs)
r = {}
r["ok user"] = user("alice", Passwords=[P])
r["ok default-named"] = user("my-default", name="default", NoPasswordRequired=True)
r["ok second default-named"] = user("other-default", name="default", NoPasswordRequired=True)
r["bad access string"] = user("bob", access="on ~* +@nothing", Passwords=[P])
r["password in access string"] = user("bob", access="on >secret ~* +@all", Passwords=[P])
r["short password"] = user("bob", Passwords=["short"])
r["three passwords"] = user("bob", Passwords=[P, P + "1", P + "2"])
r["no password"] = user("bob")
r["passwords and none"] = user("bob", Passwords=[P], NoPasswordRequired=True)
r["iam name not id"] = user("bob", name="bob-name", AuthenticationMode={"Type": "iam"})
r["iam with passwords"] = user("bob", AuthenticationMode={"Type": "iam", "Passwords": [P]})
r["ok iam"] = user("iam-user", AuthenticationMode={"Type": "iam"})
r["bad engine"] = outcome(ec.create_user, UserId="bob", UserName="bob", Engine="memcached",
                          AccessString="on ~* +@all", NoPasswordRequired=True)
r["bad id"] = user("1bob", Passwords=[P])
r["duplicate id"] = user("alice", Passwords=[P])
r["built-in id"] = user("default", NoPasswordRequired=True)
r["modify unknown"] = outcome(ec.modify_user, UserId="nobody", AccessString="on ~* +@all")
r["modify built-in"] = outcome(ec.modify_user, UserId="default", AccessString="off")
r["modify nothing"] = outcome(ec.modify_user, UserId="alice")
r["modify both access"] = outcome(ec.modify_user, UserId="alice", AccessString="on",
                                  AppendAccessString="-@all")
r["modify append"] = outcome(ec.modify_user, UserId="alice", AppendAccessString="-flushall")
# NoPasswordRequired false alone: a password user keeps its passwords; a user with none is refused.
r["password still required"] = outcome(ec.modify_user, UserId="alice", AccessString="on ~* +@all -flushall",
                                       NoPasswordRequired=False)
r["no password to require"] = outcome(ec.modify_user, UserId="my-default", AccessString="on ~* +@all",
                                      NoPasswordRequired=False)
r["iam password to require"] = outcome(ec.modify_user, UserId="iam-user", AccessString="on ~* +@all",
                                       NoPasswordRequired=False)
r["delete built-in"] = outcome(ec.delete_user, UserId="default")
r["delete unknown"] = outcome(ec.delete_user, UserId="nobody")
def group(id, users):
    return outcome(ec.create_user_group, UserGroupId=id, Engine="redis", UserIds=users)
r["group without default"] = group("g1", ["alice"])
r["group with two defaults"] = group("g1", ["default", "my-default"])
r["group unknown user"] = group("g1", ["default", "nobody"])
r["ok group"] = group("g1", ["my-default", "alice"])
r["ok iam group"] = group("g-iam", ["default", "iam-user"])
r["duplicate group"] = group("g1", ["default"])
r["remove the default"] = outcome(ec.modify_user_group, UserGroupId="g1",
                                  UserIdsToRemove=["my-default"])
r["swap the default"] = outcome(ec.modify_user_group, UserGroupId="g1",
                                UserIdsToRemove=["my-default"], UserIdsToAdd=["other-default"])
r["modify unknown group"] = outcome(ec.modify_user_group, UserGroupId="nope", UserIdsToAdd=["alice"])
r["delete a group's default"] = outcome(ec.delete_user, UserId="other-default")
def rg(id, **kwargs):
    return outcome(ec.create_replication_group, ReplicationGroupId=id,
                   ReplicationGroupDescription="rbac rules", NumCacheClusters=1, **kwargs)
r["rg without TLS"] = rg("rg1", UserGroupIds=["g1"])
r["rg unknown group"] = rg("rg1", UserGroupIds=["nope"], TransitEncryptionEnabled=True)
r["rg with a token"] = rg("rg1", UserGroupIds=["g1"], TransitEncryptionEnabled=True,
                          AuthToken="a-token-of-sixteen-chars")
r["iam rg without TLS"] = rg("rg2", UserGroupIds=["g-iam"])
r["iam rg in cluster mode"] = outcome(ec.create_replication_group, ReplicationGroupId="rg3",
    ReplicationGroupDescription="rbac rules", NumNodeGroups=2, TransitEncryptionEnabled=True,
    CacheParameterGroupName="default.redis7.cluster.on", UserGroupIds=["g-iam"])
r["iam rg on redis 6"] = rg("rg4", EngineVersion="6.2", TransitEncryptionEnabled=True,
                            UserGroupIds=["g-iam"])
r["ok rg"] = rg("rg1", UserGroupIds=["g1"], TransitEncryptionEnabled=True)
r["delete a group in use"] = outcome(ec.delete_user_group, UserGroupId="g1")
r["describe unknown user"] = outcome(ec.describe_users, UserId="nobody")
r["describe unknown group"] = outcome(ec.describe_user_groups, UserGroupId="nope")
users = [u["UserId"] for page in ec.get_paginator("describe_users").paginate(
    PaginationConfig={"PageSize": 20}) for u in page["Users"]]
alice = ec.describe_users(Filters=[{"Name": "user-id", "Values": ["alice"]}])["Users"][0]
r["listed"] = users
r["alice"] = [alice["AccessString"], alice["Authentication"], alice["UserGroupIds"]]
r["ok delete user"] = outcome(ec.delete_user, UserId="alice")
r["g1 after"] = ec.describe_user_groups(UserGroupId="g1")["UserGroups"][0]["UserIds"]
print(json.dumps(r))
"#;

#[tokio::test]
async fn boto3_gets_aws_errors_for_every_user_and_user_group_rule() {
    let server = TestServer::start();
    let out = python3(BOTO3_USER_RULES, &[&server.url], "boto3 user rules");
    let r: Value = serde_json::from_slice(&out).expect("json from the script");
    let expected = [
        ("ok user", "ok"),
        ("ok default-named", "ok"),
        ("ok second default-named", "ok"),
        ("bad access string", "InvalidParameterValue"),
        ("password in access string", "InvalidParameterValue"),
        ("short password", "InvalidParameterValue"),
        ("three passwords", "InvalidParameterValue"),
        ("no password", "InvalidParameterValue"),
        ("passwords and none", "InvalidParameterCombination"),
        ("iam name not id", "InvalidParameterCombination"),
        ("iam with passwords", "InvalidParameterCombination"),
        ("ok iam", "ok"),
        ("bad engine", "InvalidParameterValue"),
        ("bad id", "InvalidParameterValue"),
        ("duplicate id", "UserAlreadyExists"),
        ("built-in id", "UserAlreadyExists"),
        ("modify unknown", "UserNotFound"),
        ("modify built-in", "InvalidParameterValue"),
        ("modify nothing", "InvalidParameterCombination"),
        ("modify both access", "InvalidParameterCombination"),
        ("modify append", "ok"),
        ("password still required", "ok"),
        ("no password to require", "InvalidParameterValue"),
        ("iam password to require", "InvalidParameterValue"),
        ("delete built-in", "InvalidParameterValue"),
        ("delete unknown", "UserNotFound"),
        ("group without default", "DefaultUserRequired"),
        ("group with two defaults", "DuplicateUserName"),
        ("group unknown user", "UserNotFound"),
        ("ok group", "ok"),
        ("ok iam group", "ok"),
        ("duplicate group", "UserGroupAlreadyExists"),
        ("remove the default", "DefaultUserRequired"),
        ("swap the default", "ok"),
        ("modify unknown group", "UserGroupNotFound"),
        (
            "delete a group's default",
            "DefaultUserAssociatedToUserGroup",
        ),
        ("rg without TLS", "InvalidParameterCombination"),
        ("rg unknown group", "UserGroupNotFound"),
        ("rg with a token", "InvalidParameterCombination"),
        ("iam rg without TLS", "InvalidParameterCombination"),
        ("iam rg in cluster mode", "InvalidParameterCombination"),
        ("iam rg on redis 6", "InvalidParameterCombination"),
        ("ok rg", "ok"),
        ("delete a group in use", "InvalidUserGroupState"),
        ("describe unknown user", "UserNotFound"),
        ("describe unknown group", "UserGroupNotFound"),
        ("ok delete user", "ok"),
    ];
    for (case, code) in expected {
        let got = &r[case];
        match code {
            "ok" => assert_eq!(got, "ok", "{case}"),
            code => assert_eq!(got[0], code, "{case}: {got}"),
        }
    }
    assert_eq!(
        r["rg without TLS"][1],
        "User group based access control requires encryption-in-transit to be enabled on the replication group."
    );
    assert_eq!(
        r["iam name not id"][1],
        "User Id and User name must be same for authentication type: iam"
    );
    let on_redis_6 = r["iam rg on redis 6"][1].as_str().unwrap_or_default();
    assert!(on_redis_6.contains("Redis OSS 7.0"), "{on_redis_6}");
    let in_cluster_mode = r["iam rg in cluster mode"][1].as_str().unwrap_or_default();
    assert!(
        in_cluster_mode.contains("cluster-mode-disabled"),
        "{in_cluster_mode}"
    );
    assert_eq!(
        r["iam rg without TLS"][1],
        "User group based access control requires encryption-in-transit to be enabled on the replication group."
    );
    assert_eq!(
        r["listed"],
        serde_json::json!([
            "alice",
            "default",
            "iam-user",
            "my-default",
            "other-default"
        ])
    );
    assert_eq!(
        r["alice"],
        serde_json::json!([
            "on ~* +@all -flushall",
            {"Type": "password", "PasswordCount": 1},
            ["g1"]
        ])
    );
    assert_eq!(r["g1 after"], serde_json::json!(["other-default"]));
}
