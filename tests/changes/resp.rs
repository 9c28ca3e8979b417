//! What these tests need beyond the shared harness: a raw RESP client, a concurrent writer that
//! counts only acknowledged writes, redis-cli with a password, and error messages.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use aws_sdk_elasticache::error::ProvideErrorMetadata;

/// The wire code and message of a failed SDK call (panics if the call succeeded).
pub fn code_and_message<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> (String, String) {
    let error = result.expect_err("the call should have failed");
    (
        error
            .code()
            .unwrap_or_else(|| panic!("no error code in {error:?}"))
            .to_string(),
        error.message().unwrap_or_default().to_string(),
    )
}

/// One RESP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Integer(i64),
    Bulk(Option<String>),
    Array(Vec<Reply>),
}

/// A minimal blocking RESP client on one TCP connection.
pub struct Resp {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Resp {
    pub fn connect(port: u16) -> std::io::Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(15)))?;
        stream.set_nodelay(true)?;
        Ok(Self {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    pub fn command(&mut self, args: &[&str]) -> std::io::Result<Reply> {
        let mut request = format!("*{}\r\n", args.len());
        for arg in args {
            request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
        }
        self.writer.write_all(request.as_bytes())?;
        self.read_reply()
    }

    fn read_line(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        if self.reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        Ok(line.trim_end_matches("\r\n").to_string())
    }

    fn read_reply(&mut self) -> std::io::Result<Reply> {
        let line = self.read_line()?;
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "bad RESP");
        let (kind, rest) = line.split_at_checked(1).ok_or_else(bad)?;
        Ok(match kind {
            "+" => Reply::Simple(rest.to_string()),
            "-" => Reply::Error(rest.to_string()),
            ":" => Reply::Integer(rest.parse().map_err(|_| bad())?),
            "$" => {
                let len: i64 = rest.parse().map_err(|_| bad())?;
                if len < 0 {
                    Reply::Bulk(None)
                } else {
                    let mut data = vec![0; len as usize + 2];
                    self.reader.read_exact(&mut data)?;
                    data.truncate(len as usize);
                    Reply::Bulk(Some(String::from_utf8_lossy(&data).into_owned()))
                }
            }
            "*" => {
                let len: i64 = rest.parse().map_err(|_| bad())?;
                let mut items = Vec::new();
                for _ in 0..len.max(0) {
                    items.push(self.read_reply()?);
                }
                Reply::Array(items)
            }
            _ => return Err(bad()),
        })
    }
}

/// A thread doing `SET <prefix><i> <i>` through `port` in a loop. On any error (connection closed,
/// READONLY, a timeout) it reconnects and retries the same key until it is acknowledged.
pub struct Writer {
    stop: Arc<AtomicBool>,
    acknowledged: Arc<AtomicUsize>,
    errors: Arc<AtomicUsize>,
    thread: JoinHandle<Vec<usize>>,
}

impl Writer {
    pub fn start(port: u16, prefix: &'static str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let errors = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, acknowledged, errors) = (stop.clone(), acknowledged.clone(), errors.clone());
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let mut connection: Option<Resp> = None;
                let mut i = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    if connection.is_none() {
                        connection = Resp::connect(port).ok();
                        if connection.is_none() {
                            errors.fetch_add(1, Ordering::Relaxed);
                            std::thread::yield_now();
                            continue;
                        }
                    }
                    let value = i.to_string();
                    let key = format!("{prefix}{i}");
                    let reply = connection
                        .as_mut()
                        .map(|c| c.command(&["SET", &key, &value]));
                    match reply {
                        Some(Ok(Reply::Simple(ok))) if ok == "OK" => {
                            acked.push(i);
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                            i += 1;
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                            connection = None; // reconnect, retry the same key
                        }
                    }
                }
                acked
            })
        };
        Self {
            stop,
            acknowledged,
            errors,
            thread,
        }
    }

    pub fn acknowledged(&self) -> usize {
        self.acknowledged.load(Ordering::Relaxed)
    }

    pub fn errors(&self) -> usize {
        self.errors.load(Ordering::Relaxed)
    }

    /// Stops the writer; returns every acknowledged index.
    pub fn finish(self) -> Vec<usize> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().expect("writer thread")
    }
}

/// `redis-cli -p PORT [-a TOKEN] ARGS...`: (stdout, stderr), trimmed.
pub fn cli(port: u16, token: Option<&str>, args: &[&str]) -> (String, String) {
    let mut command = Command::new("redis-cli");
    command.args(["-p", &port.to_string()]);
    if let Some(token) = token {
        command.args(["--no-auth-warning", "-a", token]);
    }
    let output = command.args(args).output().expect("redis-cli runs");
    (
        String::from_utf8_lossy(&output.stdout).trim().to_string(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

/// One `INFO replication` field read with a password.
pub fn replication_field_auth(port: u16, token: Option<&str>, field: &str) -> Option<String> {
    cli(port, token, &["INFO", "replication"])
        .0
        .lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix(&format!("{field}:"))
                .map(str::to_string)
        })
}
