//! `iam` users: a client AUTHs with an IAM auth token made as the AWS SDK examples make it
//! (botocore's presigner, tests/python/iam_auth_token.py) over TLS verified against the
//! published CA; the server verifies it with `--verify-sigv4`'s credentials and the user's ACL
//! applies. A wrong or expired token gets `WRONGPASS`; the group's password users still log
//! in; boto3-visible errors follow AWS's rules.

use std::net::SocketAddr;

use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::types::AuthenticationMode;

use crate::support::{TestServer, code, code_and_message, endpoints, wait_available};

const SECRET: &str = "secret";
const APP_PASSWORD: &str = "app-password-0123456789";
const TOKEN_SCRIPT: &str = include_str!("../python/iam_auth_token.py");

/// An IAM auth token for `user` of `cache`, signed with `secret`, `minutes_ago` in the past.
fn token(cache: &str, user: &str, secret: &str, minutes_ago: u32) -> String {
    let minutes = minutes_ago.to_string();
    let args = [
        cache,
        user,
        "us-east-1",
        "AKIDTEST",
        secret,
        minutes.as_str(),
    ];
    let out = crate::support::python3(TOKEN_SCRIPT, &args, "botocore for IAM auth tokens");
    String::from_utf8(out).unwrap().trim().to_string()
}

/// A TLS connection to `at` trusting only `ca_pem`, logged in as `user` with `password` (the
/// crate sends AUTH first, as clients do).
async fn login(
    at: SocketAddr,
    ca_pem: &str,
    user: &str,
    password: &str,
) -> redis::RedisResult<redis::aio::MultiplexedConnection> {
    use redis::IntoConnectionInfo;
    let address = redis::ConnectionAddr::TcpTls {
        host: at.ip().to_string(),
        port: at.port(),
        insecure: false,
        tls_params: None,
    };
    let settings = redis::RedisConnectionInfo::default()
        .set_username(user)
        .set_password(password);
    let info = address.into_connection_info()?.set_redis_settings(settings);
    let certificates = redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca_pem.as_bytes().to_vec()),
    };
    let client = redis::Client::build_with_tls(info, certificates)?;
    client.get_multiplexed_async_connection().await
}

/// The first reply line to `command` sent as the first thing on a fresh TLS connection to
/// `at` (verified against `ca_pem`), read raw: what a node answers, code included.
async fn first_reply(at: SocketAddr, ca_pem: &str, command: &[&str]) -> String {
    use rustls::pki_types::pem::PemObject;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(at).await.unwrap();
    let name = rustls::pki_types::ServerName::IpAddress(at.ip().into());
    let mut tls = connector
        .connect(name, tcp)
        .await
        .expect("TLS verified against the CA");
    let mut request = format!("*{}\r\n", command.len());
    for arg in command {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut line = String::new();
    BufReader::new(tls).read_line(&mut line).await.unwrap();
    line.trim_end().to_string()
}

fn error_code<T>(answer: redis::RedisResult<T>) -> String {
    match answer {
        Ok(_) => "ok".into(),
        // The crate reports a refused AUTH at connect as AuthenticationFailed, without the code.
        Err(error) if error.kind() == redis::ErrorKind::AuthenticationFailed => {
            format!("WRONGPASS ({error})")
        }
        Err(error) => error.code().unwrap_or("io").to_string(),
    }
}

async fn create_user(
    client: &Client,
    id: &str,
    name: &str,
    access: &str,
    mode: AuthenticationMode,
) {
    client
        .create_user()
        .user_id(id)
        .user_name(name)
        .engine("redis")
        .access_string(access)
        .authentication_mode(mode)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create user {id}: {e:?}"));
}

fn iam_mode() -> AuthenticationMode {
    AuthenticationMode::builder().r#type("iam".into()).build()
}

async fn create_users(client: &Client) {
    let none = AuthenticationMode::builder()
        .r#type("no-password-required".into())
        .build();
    let password = AuthenticationMode::builder()
        .r#type("password".into())
        .passwords(APP_PASSWORD)
        .build();
    create_user(client, "no-default", "default", "off -@all", none).await;
    create_user(
        client,
        "app-iam",
        "app-iam",
        "on ~app:* -@all +get +set",
        iam_mode(),
    )
    .await;
    create_user(client, "app-writer", "app-writer", "on ~* +@all", password).await;
    client
        .create_user_group()
        .user_group_id("iam-users")
        .engine("redis")
        .user_ids("no-default")
        .user_ids("app-iam")
        .user_ids("app-writer")
        .send()
        .await
        .expect("create the user group");
}

#[tokio::test]
async fn an_iam_user_logs_in_with_an_iam_auth_token_over_tls() {
    let credentials = format!("AKIDTEST:{SECRET}");
    let data_dir = tempfile::tempdir().unwrap();
    let dir = data_dir.path().to_str().unwrap();
    let args = [
        "--data-dir",
        dir,
        "--verify-sigv4",
        "--credentials",
        &credentials,
    ];
    let server = TestServer::start_with(&args);
    let client = server.sdk();
    create_users(&client).await;
    client
        .create_replication_group()
        .replication_group_id("IamGroup")
        .replication_group_description("iam users")
        .engine("redis")
        .num_cache_clusters(2)
        .transit_encryption_enabled(true)
        .user_group_ids("iam-users")
        .send()
        .await
        .expect("create a TLS group with the user group");
    let group = wait_available(&client, "iamgroup").await;
    let (primary, reader, _) = endpoints(&group);
    // The control routes need a signature under --verify-sigv4: the data dir's copy of the CA.
    let ca = std::fs::read_to_string(data_dir.path().join("tls-ca.pem")).unwrap();

    let valid = token("iamgroup", "app-iam", SECRET, 0);
    let mut iam = login(primary, &ca, "app-iam", &valid)
        .await
        .expect("a valid token logs in");
    let set: redis::RedisResult<()> = redis::cmd("SET")
        .arg("app:k")
        .arg("v")
        .query_async(&mut iam)
        .await;
    set.expect("the user's ACL allows SET on app:*");
    let denied: redis::RedisResult<()> = redis::cmd("SET")
        .arg("other")
        .arg("v")
        .query_async(&mut iam)
        .await;
    assert_eq!(error_code(denied), "NOPERM", "the user's ACL applies");

    let mut on_reader = login(reader, &ca, "app-iam", &valid)
        .await
        .expect("the reader endpoint verifies tokens too");
    let read: redis::RedisResult<Option<String>> = redis::cmd("GET")
        .arg("app:k")
        .query_async(&mut on_reader)
        .await;
    read.expect("the user's ACL allows GET on app:*");
    let denied: redis::RedisResult<Option<String>> = redis::cmd("GET")
        .arg("other")
        .query_async(&mut on_reader)
        .await;
    assert_eq!(error_code(denied), "NOPERM");

    let wrong_secret = token("iamgroup", "app-iam", "not-the-secret", 0);
    let expired = token("iamgroup", "app-iam", SECRET, 20);
    let other_group = token("othergroup", "app-iam", SECRET, 0);
    let wrongpass = "-WRONGPASS invalid username-password pair or user is disabled.";
    let hello = first_reply(primary, &ca, &["HELLO", "3", "AUTH", "app-iam", &valid]).await;
    assert!(
        hello.starts_with('%'),
        "HELLO 3 AUTH with a valid token: {hello}"
    );
    for (what, bad) in [
        ("wrong secret", &wrong_secret),
        ("expired", &expired),
        ("other group", &other_group),
    ] {
        let refused = login(primary, &ca, "app-iam", bad).await;
        let seen = error_code(refused);
        assert!(seen.starts_with("WRONGPASS"), "{what}: {seen}");
        let raw = first_reply(primary, &ca, &["AUTH", "app-iam", bad]).await;
        assert_eq!(raw, wrongpass, "{what}");
    }

    let mut writer = login(primary, &ca, "app-writer", APP_PASSWORD)
        .await
        .expect("a password user of the same group still logs in");
    let value: Option<String> = redis::cmd("GET")
        .arg("app:k")
        .query_async(&mut writer)
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("v"));
    // An iam user added to the group in use logs in at once.
    create_user(&client, "late-iam", "late-iam", "on ~* +@all", iam_mode()).await;
    client
        .modify_user_group()
        .user_group_id("iam-users")
        .user_ids_to_add("late-iam")
        .send()
        .await
        .expect("add an iam user to the group in use");
    let late = token("iamgroup", "late-iam", SECRET, 0);
    login(primary, &ca, "late-iam", &late)
        .await
        .expect("an iam user added later logs in");
    let token_as_password = login(primary, &ca, "app-writer", &valid).await;
    assert!(
        error_code(token_as_password).starts_with("WRONGPASS"),
        "a token is no password user's password"
    );
}

#[tokio::test]
async fn iam_users_follow_aws_rules() {
    let server = TestServer::start();
    let client = server.sdk();
    let mismatched = client
        .create_user()
        .user_id("iam-id")
        .user_name("iam-name")
        .engine("redis")
        .access_string("on ~* +@all")
        .authentication_mode(iam_mode())
        .send()
        .await;
    assert_eq!(
        code_and_message(mismatched),
        (
            "InvalidParameterCombination".to_string(),
            "User Id and User name must be same for authentication type: iam".to_string()
        )
    );
    let with_password = client
        .create_user()
        .user_id("iam-pw")
        .user_name("iam-pw")
        .engine("redis")
        .access_string("on ~* +@all")
        .authentication_mode(
            AuthenticationMode::builder()
                .r#type("iam".into())
                .passwords(APP_PASSWORD)
                .build(),
        )
        .send()
        .await;
    assert_eq!(code(with_password), "InvalidParameterCombination");

    create_users(&client).await;
    let described = client
        .describe_users()
        .user_id("app-iam")
        .send()
        .await
        .unwrap();
    let authentication = described.users()[0].authentication().unwrap();
    assert_eq!(authentication.r#type().map(|t| t.as_str()), Some("iam"));
    assert_eq!(authentication.password_count(), Some(0));

    let plaintext = client
        .create_replication_group()
        .replication_group_id("no-tls")
        .replication_group_description("iam without TLS")
        .engine("redis")
        .num_cache_clusters(1)
        .user_group_ids("iam-users")
        .send()
        .await;
    assert_eq!(
        code_and_message(plaintext),
        (
            "InvalidParameterCombination".to_string(),
            "User group based access control requires encryption-in-transit to be enabled on the replication group.".to_string()
        )
    );
    let clustered = client
        .create_replication_group()
        .replication_group_id("iam-cluster")
        .replication_group_description("iam in cluster mode")
        .engine("redis")
        .cache_parameter_group_name("default.redis7.cluster.on")
        .num_node_groups(2)
        .transit_encryption_enabled(true)
        .user_group_ids("iam-users")
        .send()
        .await;
    let (code_seen, message) = code_and_message(clustered);
    assert_eq!(code_seen, "InvalidParameterCombination");
    assert!(message.contains("cluster-mode-disabled"), "{message}");
}

/// A user group already on a cluster-mode-enabled group cannot gain an `iam` user, by
/// ModifyUserGroup or by ModifyUser switching one of its users to `iam`.
#[tokio::test]
async fn a_cluster_mode_groups_users_cannot_become_iam_users() {
    let server = TestServer::start();
    let client = server.sdk();
    let password = || {
        AuthenticationMode::builder()
            .r#type("password".into())
            .passwords(APP_PASSWORD)
            .build()
    };
    create_user(&client, "app-user", "app-user", "on ~* +@all", password()).await;
    create_user(&client, "lone-iam", "lone-iam", "on ~* +@all", iam_mode()).await;
    client
        .create_user_group()
        .user_group_id("cluster-users")
        .engine("redis")
        .user_ids("default")
        .user_ids("app-user")
        .send()
        .await
        .expect("create the user group");
    client
        .create_replication_group()
        .replication_group_id("users-cluster")
        .replication_group_description("cluster mode with users")
        .engine("redis")
        .cache_parameter_group_name("default.redis7.cluster.on")
        .num_node_groups(1)
        .replicas_per_node_group(0)
        .transit_encryption_enabled(true)
        .user_group_ids("cluster-users")
        .send()
        .await
        .expect("a cluster-mode group with password users");
    wait_available(&client, "users-cluster").await;
    let add = client
        .modify_user_group()
        .user_group_id("cluster-users")
        .user_ids_to_add("lone-iam")
        .send()
        .await;
    assert_eq!(code(add), "InvalidParameterCombination");
    let switch = client
        .modify_user()
        .user_id("app-user")
        .authentication_mode(iam_mode())
        .send()
        .await;
    assert_eq!(code(switch), "InvalidParameterCombination");
    let users = client
        .describe_user_groups()
        .user_group_id("cluster-users")
        .send()
        .await
        .unwrap();
    assert_eq!(users.user_groups()[0].user_ids(), ["default", "app-user"]);
}
