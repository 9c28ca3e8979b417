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
//! the public names in anything the engine reports. The same file gives every node the
//! engine's own ACL user ([`engine_credentials`]).

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

/// The file in a node's dir that renames the commands and defines the engine's user (its path
/// is redis-server's first argument, the names stay inside).
const CONFIG_FILE: &str = "private.conf";

/// What this run keeps private: each restricted command's private name (none when they are
/// left to clients), and the engine's own ACL user, which every node knows from its start.
/// The engine authenticates as that user, and replicas to their primary too (`masteruser`), so
/// neither depends on the `default` user that AUTH tokens and user groups change.
struct Private {
    renames: Vec<(&'static str, String)>,
    user: String,
    password: String,
}

impl Private {
    fn new(rename: bool) -> Self {
        let random = || uuid::Uuid::new_v4().simple().to_string();
        let renames = match rename {
            true => RESTRICTED_COMMANDS.iter().map(|&c| (c, random())).collect(),
            false => Vec::new(),
        };
        Self {
            renames,
            user: format!("elasticache-local-{}", &random()[..12]),
            password: random(),
        }
    }
}

static PRIVATE: OnceLock<Private> = OnceLock::new();

fn private() -> &'static Private {
    PRIVATE.get_or_init(|| Private::new(true))
}

/// Leaves every command to clients, as raw Redis does. False when nodes already run with the
/// commands renamed (too late to change this run).
pub fn allow_restricted_commands() -> bool {
    PRIVATE.set(Private::new(false)).is_ok() || private().renames.is_empty()
}

/// The engine's ACL user and its password, for every connection the engine opens to a node.
pub(crate) fn engine_credentials() -> (&'static str, &'static str) {
    let private = private();
    (&private.user, &private.password)
}

/// The name the engine sends for `command`: its private name when it is restricted.
pub(crate) fn engine_name(command: &str) -> &str {
    private()
        .renames
        .iter()
        .find(|(public, _)| public.eq_ignore_ascii_case(command))
        .map_or(command, |(_, private)| private.as_str())
}

/// `text` with every private name replaced by its public one, for errors and logs.
pub(crate) fn public_text(text: &str) -> String {
    let private = private();
    let mut public = text.replace(&private.password, "<engine password>");
    for (command, name) in &private.renames {
        if public.contains(name.as_str()) {
            public = public.replace(name.as_str(), command);
        }
    }
    public
}

/// Writes the node's private config file (mode 0600) in `dir`: the renamed commands and the
/// engine's user. Returns the path to give redis-server as its config file.
pub(crate) fn write_config_file(dir: &Path) -> std::io::Result<PathBuf> {
    let private = private();
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
    for (command, name) in &private.renames {
        writeln!(file, "rename-command {command} {name}")?;
    }
    let (user, password) = (&private.user, &private.password);
    writeln!(
        file,
        "user {user} on >{password} allkeys allchannels allcommands"
    )?;
    writeln!(file, "masteruser {user}\nmasterauth {password}")?;
    Ok(path)
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
        let path = write_config_file(dir.path()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), RESTRICTED_COMMANDS.len() + 3);
        let (user, password) = engine_credentials();
        assert!(text.contains(&format!("user {user} on >{password} ")));
        assert_eq!(public_text(password), "<engine password>");
        assert!(text.contains(&format!("rename-command SAVE {}", engine_name("save"))));
    }
}
