//! Out of file descriptors, the server must blame itself, not its nodes: with RLIMIT_NOFILE
//! low (soft = hard, so raising it cannot help) and the primary endpoint flooded with idle
//! connections, every node and all its data survive, and the log says what happened.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::support::{Launch, TestServer, wait_blocking};

pub fn create_group(server: &TestServer, id: &str, extra: &str) {
    let body = format!(
        "Action=CreateReplicationGroup&Version=2015-02-02&ReplicationGroupId={id}&ReplicationGroupDescription=d{extra}"
    );
    let (status, _, reply) = server.post("/", "", &body);
    assert_eq!(status, 200, "{reply}");
}

/// Waits until the group is available; returns its primary endpoint's address.
pub fn primary_port(server: &TestServer, id: &str) -> SocketAddr {
    let body =
        format!("Action=DescribeReplicationGroups&Version=2015-02-02&ReplicationGroupId={id}");
    wait_blocking("the group to be available", Duration::from_secs(60), || {
        let (_, _, reply) = server.post("/", "", &body);
        if !reply.contains("<Status>available</Status>") {
            return None;
        }
        let endpoint = reply.split("<PrimaryEndpoint>").nth(1)?;
        let address = endpoint.split("<Address>").nth(1)?.split('<').next()?;
        let port = endpoint.split("<Port>").nth(1)?.split('<').next()?;
        format!("{address}:{port}").parse().ok()
    })
}

/// A connection with read and write deadlines: one the kernel queued while the server could not
/// accept is never served, and a command over it must fail, not block.
fn redis_at(port: SocketAddr) -> redis::Connection {
    wait_blocking("the endpoint to accept", Duration::from_secs(30), || {
        let connection = redis::Client::open(format!("redis://{port}/"))
            .ok()?
            .get_connection_with_timeout(Duration::from_secs(2))
            .ok()?;
        connection
            .set_read_timeout(Some(Duration::from_secs(5)))
            .ok()?;
        connection
            .set_write_timeout(Some(Duration::from_secs(5)))
            .ok()?;
        Some(connection)
    })
}

/// Opens idle clients (each accepted one costs the server two descriptors) until the server says
/// it cannot accept, or a connect times out (the listen queue is full), or 400 are open. Every
/// connect has a deadline, so this cannot hang whatever the server does.
fn exhaust_descriptors(server: &TestServer, address: SocketAddr) -> Vec<TcpStream> {
    let mut idle = Vec::new();
    while idle.len() < 400 {
        match TcpStream::connect_timeout(&address, Duration::from_secs(2)) {
            Ok(stream) => idle.push(stream),
            Err(_) => break,
        }
        if idle.len() % 8 == 0 && server.log_text().contains(ACCEPT_ERROR) {
            break;
        }
    }
    idle
}

const ACCEPT_ERROR: &str = "endpoint proxy cannot accept a connection";

#[test]
fn nodes_and_their_data_survive_the_server_running_out_of_descriptors() {
    let server = TestServer::launch(Launch {
        nofile: Some(256),
        ..Launch::default()
    });
    create_group(
        &server,
        "fds",
        "&NumCacheClusters=3&AutomaticFailoverEnabled=true",
    );
    let port = primary_port(&server, "fds");
    let mut connection = redis_at(port);
    for i in 0..100 {
        redis::cmd("SET")
            .arg(format!("key{i}"))
            .arg(i)
            .query::<()>(&mut connection)
            .unwrap();
    }
    drop(connection);

    let idle = exhaust_descriptors(&server, port);
    let local_errors = |log: &str| {
        log.matches("health check could not run: the server itself is out of resources")
            .count()
    };
    // Several health-check rounds (250 ms apart) run while out of descriptors, or a node is
    // wrongly declared failed (what the server did before: it then killed all three).
    wait_blocking(
        "health checks to run out of descriptors",
        Duration::from_secs(60),
        || {
            let log = server.log_text();
            (local_errors(&log) >= 12 || log.contains("node failed")).then_some(())
        },
    );
    let log = server.log_text();
    assert!(!log.contains("node failed"), "a node was declared failed");
    assert!(
        log.contains(ACCEPT_ERROR),
        "the proxy's accept errors are logged"
    );
    drop(idle);

    let mut connection = redis_at(port);
    let found = (0..100)
        .filter(|i| {
            redis::cmd("GET")
                .arg(format!("key{i}"))
                .query::<Option<i64>>(&mut connection)
                .expect("GET within the read timeout")
                == Some(*i)
        })
        .count();
    assert_eq!(found, 100, "every key survives");
    assert_eq!(primary_port(&server, "fds"), port);
    let log = server.log_text();
    assert!(!log.contains("node failed"), "no node was declared failed");
    assert!(log.contains("endpoint proxy accepts connections again"));
}
