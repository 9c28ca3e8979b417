//! The server under test: the real binary on port 0, its log, its clients, and the scripts and
//! programs (python3, aws) that drive it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_elasticache::config::{BehaviorVersion, Credentials, Region};

use super::process::signal;
use super::wait::poll_blocking;

pub const BINARY: &str = env!("CARGO_BIN_EXE_elasticache-local");

/// How to start a server beyond its arguments.
#[derive(Default)]
pub struct Launch<'a> {
    pub args: &'a [&'a str],
    pub env: &'a [(&'a str, &'a str)],
    /// Variables of the test's own environment the server must not inherit.
    pub env_remove: &'a [&'a str],
    /// Soft and hard RLIMIT_NOFILE of the server (and so of its redis-servers).
    pub nofile: Option<u64>,
}

/// Sets the child's soft and hard RLIMIT_NOFILE to `limit` before it execs.
fn limit_descriptors(command: &mut Command, limit: u64) {
    use std::os::unix::process::CommandExt;
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

/// A running server, stopped with SIGTERM (then SIGKILL) when dropped.
pub struct TestServer {
    child: Child,
    pub url: String,
    pub log: tempfile::NamedTempFile,
}

impl TestServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Starts the binary with `--listen 127.0.0.1:0` and `args`; waits for the ready line.
    pub fn start_with(args: &[&str]) -> Self {
        Self::launch(Launch {
            args,
            ..Launch::default()
        })
    }

    /// Starts the binary as [`TestServer::start_with`] does, with extra environment and a
    /// descriptor limit when `launch` asks for them.
    pub fn launch(launch: Launch) -> Self {
        let log = tempfile::NamedTempFile::new().expect("temp log");
        let mut command = Command::new(BINARY);
        command
            .args(["--listen", "127.0.0.1:0"])
            .args(launch.args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log.reopen().expect("log handle"));
        for key in launch.env_remove {
            command.env_remove(key);
        }
        for (key, value) in launch.env {
            command.env(key, value);
        }
        if let Some(limit) = launch.nofile {
            limit_descriptors(&mut command, limit);
        }
        let mut child = command.spawn().expect("start elasticache-local");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = sender.send(line);
            }
        });
        let line = match receiver.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "no ready line; log:\n{}",
                    std::fs::read_to_string(log.path()).unwrap_or_default()
                );
            }
        };
        let url = line
            .strip_prefix("elasticache-local listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Self { child, url, log }
    }

    /// `127.0.0.1:PORT`, for raw sockets.
    pub fn address(&self) -> &str {
        self.url.trim_start_matches("http://")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// An aws-sdk-elasticache client for this server with test credentials.
    pub fn sdk(&self) -> aws_sdk_elasticache::Client {
        self.sdk_with_key("AKIDTEST")
    }

    /// A client signing with another access key: a different account for the quota.
    pub fn sdk_with_key(&self, access_key: &str) -> aws_sdk_elasticache::Client {
        self.sdk_with_credentials(access_key, "secret")
    }

    pub fn sdk_with_credentials(
        &self,
        access_key: &str,
        secret: &str,
    ) -> aws_sdk_elasticache::Client {
        self.sdk_in_region(access_key, secret, "us-east-1")
    }

    /// A client of `access_key`'s account in `region` (a scope of its own).
    pub fn sdk_in_region(
        &self,
        access_key: &str,
        secret: &str,
        region: &str,
    ) -> aws_sdk_elasticache::Client {
        let config = aws_sdk_elasticache::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
            .endpoint_url(&self.url)
            .build();
        aws_sdk_elasticache::Client::from_conf(config)
    }

    /// SIGTERM and wait (bounded); returns the exit status success.
    pub fn stop(&mut self) -> bool {
        signal(self.child.id(), libc::SIGTERM);
        let exited = poll_blocking(Duration::from_secs(15), || {
            self.child.try_wait().ok().flatten()
        });
        match exited {
            Some(status) => status.success(),
            None => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                false
            }
        }
    }

    /// SIGKILL, as a crash or a CI runner's timeout would.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // Polling describes (groups, events, clusters) would drown the lines that explain
            // the failure.
            let log = self.log_text();
            let telling: Vec<&str> = log
                .lines()
                .filter(|l| !l.contains("api call action=Describe"))
                .collect();
            eprintln!(
                "--- server log ({}), describes left out ---\n{}",
                self.url,
                tail(&telling.join("\n"), 80)
            );
        }
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// Runs a client script (python3, aws) with the server's URL and test credentials; panics with
/// its output if it fails.
pub fn run_client_script(server: &TestServer, program: &str, args: &[&str]) -> Output {
    run_client_script_with(server, program, args, &[])
}

/// [`run_client_script`] with extra environment (e.g. `ELASTICACHE_TEST_ENGINE=valkey`).
pub fn run_client_script_with(
    server: &TestServer,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let output = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .env("ELASTICACHE_ENDPOINT", &server.url)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed ({}):\nstdout:\n{}\nstderr:\n{}\nserver log tail:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        tail(&server.log_text(), 40)
    );
    output
}

/// `python3 -c SCRIPT ARGS...`: its stdout; panics with `need` and python's stderr if it fails.
pub fn python3(script: &str, args: &[&str], need: &str) -> Vec<u8> {
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run python3 ({need}): {e}"));
    assert!(
        output.status.success(),
        "python3 failed ({need}):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}
