//! A small harness of its own (the shared one is being rewritten): start the real binary on
//! port 0 with chosen flags, environment and descriptor limit, read its log, poll real state.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BINARY: &str = env!("CARGO_BIN_EXE_elasticache-local");

pub struct Server {
    pub child: Child,
    /// `127.0.0.1:PORT`
    pub address: String,
    pub log: tempfile::NamedTempFile,
}

#[derive(Default)]
pub struct Launch<'a> {
    pub args: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
    /// Soft and hard RLIMIT_NOFILE of the server (and so of its redis-servers).
    pub nofile: Option<u64>,
}

impl Server {
    pub fn start(args: &[&str]) -> Self {
        Self::launch(Launch {
            args,
            ..Launch::default()
        })
    }

    pub fn launch(launch: Launch) -> Self {
        let log = tempfile::NamedTempFile::new().expect("temp log");
        let mut command = Command::new(BINARY);
        command
            .args(["--listen", "127.0.0.1:0"])
            .args(launch.args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("log handle"));
        for (key, value) in launch.env {
            command.env(key, value);
        }
        if let Some(limit) = launch.nofile {
            // SAFETY: setrlimit is async-signal-safe; it runs in the child before exec.
            unsafe {
                command.pre_exec(move || {
                    let rlimit = libc::rlimit {
                        rlim_cur: limit,
                        rlim_max: limit,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let mut child = command.spawn().expect("start elasticache-local");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let Ok(line) = receiver.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "no ready line; log:\n{}",
                std::fs::read_to_string(log.path()).unwrap_or_default()
            );
        };
        let address = line
            .strip_prefix("elasticache-local listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Self {
            child,
            address,
            log,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// One raw HTTP/1.1 exchange (`request` is sent as is); returns (status, headers, body).
    pub fn raw(&self, request: &[u8]) -> (u16, String, String) {
        raw_exchange(&self.address, request)
    }

    /// A form POST of `body` to `/` with extra header lines (each ending in `\r\n`).
    pub fn post(&self, path: &str, extra_headers: &str, body: &str) -> (u16, String, String) {
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n{body}",
            self.address,
            body.len()
        );
        self.raw(request.as_bytes())
    }

    pub fn get(&self, path: &str, extra_headers: &str) -> (u16, String, String) {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra_headers}\r\n",
            self.address
        );
        self.raw(request.as_bytes())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log_text();
            let lines: Vec<&str> = log.lines().collect();
            let start = lines.len().saturating_sub(60);
            eprintln!("--- server log tail ---\n{}", lines[start..].join("\n"));
        }
        if let Ok(None) = self.child.try_wait() {
            // SAFETY: kill(2) on the pid this harness started.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            self.kill_hard();
        }
    }
}

pub fn raw_exchange(address: &str, request: &[u8]) -> (u16, String, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(request).expect("send");
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    (status, head.to_string(), decode_chunked(head, body))
}

fn decode_chunked(head: &str, body: &str) -> String {
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || tail.len() < size {
            break;
        }
        out.push_str(&tail[..size]);
        rest = tail[size..].trim_start_matches("\r\n");
    }
    out
}

/// Polls `probe` until it returns `Some`, or panics with `what` after `deadline`.
pub fn wait_until<T>(what: &str, deadline: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + deadline;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub fn is_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    unsafe { libc::kill(pid as i32, 0) == 0 }
}

/// What `../shared/tools/botocore-parse.py` (botocore's real query parser and the real
/// ElastiCache model) makes of an error body: its printed response dict.
pub fn botocore_parse(operation: &str, body: &str, status: u16) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), body).unwrap();
    let tool = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/tools/botocore-parse.py"
    );
    let output = Command::new("python3")
        .arg(tool)
        .arg(operation)
        .arg(file.path())
        .arg(status.to_string())
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "botocore could not parse {body:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts botocore reads a ClientError with `code` and `status` from `body`.
pub fn assert_botocore_error(body: &str, status: u16, code: &str) {
    let parsed = botocore_parse("DescribeReplicationGroups", body, status);
    assert!(
        parsed.contains(&format!("'Code': '{code}'"))
            && parsed.contains(&format!("'HTTPStatusCode': {status}")),
        "botocore parsed {parsed} from {body:?}, not {code} {status}"
    );
}
