//! ElastiCache's restricted commands: its clients cannot run `bgrewriteaof`, `bgsave`,
//! `config`, `debug`, `migrate`, `replicaof`, `save`, `slaveof`, `shutdown` or `sync` (see
//! `../shared/spec/failure-scenarios.md`). ElastiCache renames them; so does the engine, with
//! `rename-command` to a random name per server run, so a client gets redis-server's own
//! answer to an unknown command (`ERR unknown command 'CONFIG', with args beginning with: ...`)
//! and the engine keeps the commands for itself under the private names.
//!
//! The names are per process (one server run), so they live in one process-wide value, set
//! once: [`allow_restricted_commands`] (the `--allow-restricted-commands` flag) must run before
//! the first node starts. They never reach a log, an error message or a command line: each
//! node reads them from a 0600 file in its own dir, and [`public_text`] turns them back into
//! the public names in anything the engine reports.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The commands ElastiCache refuses to its clients, upper case.
pub const RESTRICTED_COMMANDS: [&str; 10] = [
    "BGREWRITEAOF",
    "BGSAVE",
    "CONFIG",
    "DEBUG",
    "MIGRATE",
    "REPLICAOF",
    "SAVE",
    "SLAVEOF",
    "SHUTDOWN",
    "SYNC",
];

/// The file in a node's dir that renames the commands (its path is redis-server's first
/// argument, the names stay inside).
const CONFIG_FILE: &str = "restricted-commands.conf";

/// Each restricted command and its private name for this run.
struct PrivateNames(Vec<(&'static str, String)>);

impl PrivateNames {
    fn random() -> Self {
        Self(
            RESTRICTED_COMMANDS
                .iter()
                .map(|&command| (command, format!("{}", uuid::Uuid::new_v4().simple())))
                .collect(),
        )
    }
}

/// `None` when the commands are left to clients (`--allow-restricted-commands`).
static NAMES: OnceLock<Option<PrivateNames>> = OnceLock::new();

fn names() -> Option<&'static PrivateNames> {
    NAMES.get_or_init(|| Some(PrivateNames::random())).as_ref()
}

/// Leaves every command to clients, as raw Redis does. False when nodes already run with the
/// commands renamed (too late to change this run).
pub fn allow_restricted_commands() -> bool {
    NAMES.set(None).is_ok() || NAMES.get().is_some_and(Option::is_none)
}

/// The name the engine sends for `command`: its private name when it is restricted.
pub(crate) fn engine_name(command: &str) -> &str {
    names()
        .and_then(|names| {
            names
                .0
                .iter()
                .find(|(public, _)| public.eq_ignore_ascii_case(command))
        })
        .map_or(command, |(_, private)| private.as_str())
}

/// `text` with every private name replaced by its public one, for errors and logs.
pub(crate) fn public_text(text: &str) -> String {
    let mut public = text.to_string();
    for (command, private) in names().map(|n| n.0.as_slice()).unwrap_or_default() {
        if public.contains(private.as_str()) {
            public = public.replace(private.as_str(), command);
        }
    }
    public
}

/// Writes the node's renaming file (mode 0600) in `dir`: the path to give redis-server as its
/// config file, or `None` when nothing is renamed.
pub(crate) fn write_config_file(dir: &Path) -> std::io::Result<Option<PathBuf>> {
    let Some(names) = names() else {
        return Ok(None);
    };
    let path = dir.join(CONFIG_FILE);
    // A file left by an earlier run may be readable by others: start from a new one.
    match std::fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    for (command, private) in &names.0 {
        writeln!(file, "rename-command {command} {private}")?;
    }
    Ok(Some(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_sends_private_names_and_reports_public_ones() {
        let private = engine_name("config");
        assert_ne!(private, "config");
        assert_eq!(engine_name("CONFIG"), private);
        assert_eq!(engine_name("GET"), "GET");
        let error = format!("ERR unknown subcommand 'X'. Try {private} HELP.");
        assert_eq!(
            public_text(&error),
            "ERR unknown subcommand 'X'. Try CONFIG HELP."
        );
    }

    #[test]
    fn the_config_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = write_config_file(dir.path()).unwrap().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), RESTRICTED_COMMANDS.len());
        assert!(text.contains(&format!("rename-command SAVE {}", engine_name("save"))));
    }
}
