//! Slow and idle clients are cut off by the configured timeouts, and connections past
//! `--max-connections` get a clear 503.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::{TestServer, assert_botocore_error, wait_blocking};

/// Reads until the server closes the connection (or 15 s pass); returns what it sent and
/// how long the close took.
fn read_until_closed(stream: &mut TcpStream, what: &str) -> (String, Duration) {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "the server kept the {what} connection open ({e}) after {:?}; so far {:?}",
                started.elapsed(),
                String::from_utf8_lossy(&reply)
            ),
        }
    }
    (
        String::from_utf8_lossy(&reply).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn half_sent_headers_half_sent_bodies_and_idle_connections_are_closed() {
    let server = TestServer::start_with(&[
        "--header-read-timeout-ms",
        "600",
        "--body-read-timeout-ms",
        "600",
        "--idle-timeout-ms",
        "900",
    ]);

    let mut half_header = TcpStream::connect(server.address()).unwrap();
    half_header
        .write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
        .unwrap();
    let (reply, took) = read_until_closed(&mut half_header, "half-header");
    assert!(reply.is_empty(), "{reply}");
    assert!(
        took >= Duration::from_millis(400),
        "closed only after the timeout: {took:?}"
    );

    let mut half_body = TcpStream::connect(server.address()).unwrap();
    half_body.write_all(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nAction=Desc").unwrap();
    let (reply, took) = read_until_closed(&mut half_body, "half-body");
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(reply.starts_with("HTTP/1.1 408"), "{reply}");
    let body = reply.split_once("\r\n\r\n").unwrap().1;
    assert_botocore_error(body, 408, "RequestTimeout");

    // A keep-alive connection: one request answered, then nothing more is sent.
    let mut idle = TcpStream::connect(server.address()).unwrap();
    idle.write_all(b"GET /_health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let (reply, took) = read_until_closed(&mut idle, "idle");
    assert!(
        reply.starts_with("HTTP/1.1 200") && reply.contains("\"status\":\"ok\""),
        "{reply}"
    );
    assert!(
        took >= Duration::from_millis(700),
        "idle for the idle timeout: {took:?}"
    );

    // A client that keeps sending requests is not cut off by the idle timeout.
    let mut busy = TcpStream::connect(server.address()).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(1500) {
        busy.write_all(b"GET /_health HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 2048];
        let n = busy.read(&mut buf).unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        std::thread::sleep(Duration::from_millis(200)); // a client's think time, not a wait for state
    }
}

#[test]
fn connections_past_the_cap_get_a_503_and_the_cap_frees_up() {
    let server = TestServer::start_with(&["--max-connections", "3"]);
    let held: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(server.address()).unwrap())
        .collect();
    // Each held connection has been accepted once the next one is refused.
    let (status, _, body) = wait_blocking(
        "a connection past the cap to be refused",
        Duration::from_secs(10),
        || {
            let answer = server.get("/_health", "");
            (answer.0 == 503).then_some(answer)
        },
    );
    assert_eq!(status, 503);
    assert_botocore_error(&body, 503, "ServiceUnavailable");
    assert!(server.log_text().contains("too many open connections"));
    drop(held);
    wait_blocking("the cap to free up", Duration::from_secs(10), || {
        (server.get("/_health", "").0 == 200).then_some(())
    });
}
