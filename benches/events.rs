//! `cargo bench --bench events`: DescribeEvents latency with 100,000 events in the log against
//! 10: through the real router in-process (decoding, the model query, XML encoding), and over
//! HTTP on loopback with one keep-alive connection (what a client sees). Prints p50/p99 per
//! case and their ratio; the goal is a p99 within 1.5x.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use elasticache_local::engine::Engine;
use elasticache_local::model::events::EventKind;
use elasticache_local::model::{Model, SystemClock};
use elasticache_local::state::{AppState, FailoverTiming, Settings};
use tower::ServiceExt;

const REQUESTS: usize = 3000;

fn app_with_events(count: usize) -> axum::Router {
    let settings = Settings {
        region: "us-east-1".into(),
        account_id: "123456789012".into(),
        failover_timing: FailoverTiming::default(),
        health_check_interval: Duration::from_millis(250),
        verifier: None,
        snapshot_day: std::time::Duration::from_secs(86_400),
    };
    let engine = Engine::new("redis-server".into(), std::env::temp_dir());
    let state = Arc::new(AppState::new(
        Model::new(15, chrono::Duration::hours(24)),
        engine,
        settings,
        Arc::new(SystemClock),
    ));
    let now = chrono::Utc::now();
    {
        let mut model = state.model();
        for i in 0..count {
            let kind = EventKind::CacheClusterCreated {
                cluster_id: format!("group{}-{:03}", i / 3, i % 3 + 1),
            };
            model.record(
                kind,
                now - chrono::Duration::milliseconds((count - i) as i64),
            );
        }
    }
    elasticache_local::server::app(state)
}

fn measure(runtime: &tokio::runtime::Runtime, app: &axum::Router, body: &str) -> (f64, f64) {
    let mut samples = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let request = Request::post("/")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body.to_string()))
            .unwrap();
        let started = Instant::now();
        let response = runtime.block_on(app.clone().oneshot(request)).unwrap();
        let bytes = runtime
            .block_on(axum::body::to_bytes(response.into_body(), 1 << 24))
            .unwrap();
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        assert!(bytes.starts_with(b"<DescribeEventsResponse"));
    }
    percentiles(samples)
}

/// Serves `app` on a free loopback port from its own thread and runtime, on the last CPU.
fn serve(app: axum::Router) -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        pin_to_cpu(cpu_count() - 1);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    address
}

fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Over HTTP the client and the servers each keep one CPU: a wake-up on the same CPU and one
/// across CPUs differ by ~40 µs here, and where the scheduler put each thread decided a run.
fn pin_to_cpu(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is an empty set; CPU_SET and sched_setaffinity only touch it
    // and the calling thread.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

/// Latencies in µs of `count` POSTs of `body` over `connection`.
fn time_http(connection: &mut HttpConnection, body: &str, count: usize) -> Vec<f64> {
    let request = format!(
        "POST / HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut samples = Vec::with_capacity(count);
    let mut line = String::new();
    for _ in 0..count {
        let started = Instant::now();
        connection.stream.write_all(request.as_bytes()).unwrap();
        let mut length = 0;
        loop {
            line.clear();
            connection.reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
        }
        let mut response = vec![0; length];
        connection.reader.read_exact(&mut response).unwrap();
        samples.push(started.elapsed().as_secs_f64() * 1e6);
        assert!(response.starts_with(b"<DescribeEventsResponse"));
    }
    samples
}

struct HttpConnection {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl HttpConnection {
    fn open(address: std::net::SocketAddr) -> Self {
        let stream = TcpStream::connect(address).unwrap();
        stream.set_nodelay(true).unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Self { stream, reader }
    }
}

/// p50/p99 in µs over one keep-alive connection to each of `small` and `large`, measured in
/// alternating slices so that whatever else the machine does falls on both alike.
fn measure_http_pair(
    small: std::net::SocketAddr,
    large: std::net::SocketAddr,
    body: &str,
) -> ((f64, f64), (f64, f64)) {
    const SLICES: usize = 10;
    let (mut to_small, mut to_large) = (HttpConnection::open(small), HttpConnection::open(large));
    let (mut small_samples, mut large_samples) = (Vec::new(), Vec::new());
    for _ in 0..SLICES {
        small_samples.extend(time_http(&mut to_small, body, REQUESTS / SLICES));
        large_samples.extend(time_http(&mut to_large, body, REQUESTS / SLICES));
    }
    (percentiles(small_samples), percentiles(large_samples))
}

/// (p50, p99) of `samples`.
fn percentiles(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |fraction: f64| {
        samples[((samples.len() as f64 * fraction) as usize).min(samples.len() - 1)]
    };
    (at(0.50), at(0.99))
}

fn main() {
    pin_to_cpu(0);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cases = [
        (
            "newest page (MaxRecords 100)",
            "Action=DescribeEvents&Version=2015-02-02&MaxRecords=100",
        ),
        (
            "newest page (MaxRecords 20)",
            "Action=DescribeEvents&Version=2015-02-02&MaxRecords=20",
        ),
        (
            "one source (SourceIdentifier)",
            "Action=DescribeEvents&Version=2015-02-02&SourceIdentifier=group5-001",
        ),
    ];
    println!(
        "{:44} {:>10} {:>12} {:>12} {:>10}",
        "DescribeEvents", "events", "p50 us", "p99 us", "p99 ratio"
    );
    for (label, body) in cases {
        let small = app_with_events(10);
        let large = app_with_events(100_000);
        let in_process = (
            measure(&runtime, &small, body),
            measure(&runtime, &large, body),
        );
        let over_http = measure_http_pair(serve(small), serve(large), body);
        for (how, ((p50_small, p99_small), (p50_large, p99_large))) in [
            ("in-process", in_process),
            ("HTTP, 1 connection", over_http),
        ] {
            let label = format!("{label}, {how}");
            println!("{label:44} {:>10} {p50_small:>12.1} {p99_small:>12.1}", 10);
            println!(
                "{label:44} {:>10} {p50_large:>12.1} {p99_large:>12.1} {:>9.2}x",
                100_000,
                p99_large / p99_small
            );
        }
    }
    // A window in the past: its 10 events are the log's oldest, behind 99,990 newer ones.
    let now = chrono::Utc::now();
    let large = app_with_events(100_000);
    let iso = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let body = format!(
        "Action=DescribeEvents&Version=2015-02-02&StartTime={}&EndTime={}",
        iso(now - chrono::Duration::seconds(200)),
        iso(now - chrono::Duration::milliseconds(99_990)),
    );
    let (p50, p99) = measure(&runtime, &large, &body);
    let label = "a past window (the 10 oldest), in-process";
    println!("{label:44} {:>10} {p50:>12.1} {p99:>12.1}", 100_000);
}
