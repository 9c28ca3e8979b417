//! The temp data dir's owner lock: a SIGKILLed server cannot remove its own dir, so each
//! server holds an exclusive `flock` on `owner.lock` (its pid written inside) for its whole
//! life, and every start removes the `elasticache-local-*` dirs in the same temp dir whose lock
//! nobody holds. The kernel drops a lock when its holder dies, so a live server's dir (its lock
//! held) is never touched, and a reused pid cannot make a dead server's dir look alive.

use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The prefix of every temp data dir (`tempfile` appends random characters).
pub const TEMP_DIR_PREFIX: &str = "elasticache-local-";

/// The lock file inside a temp data dir.
pub const LOCK_FILE: &str = "owner.lock";

/// Held for the server's life: dropping it (or dying) releases the lock.
pub struct OwnerLock {
    _file: File,
}

/// Takes the lock of `dir` (a fresh temp dir) and writes this process's pid into it.
pub fn lock(dir: &Path) -> Result<OwnerLock, String> {
    let path = dir.join(LOCK_FILE);
    let mut file =
        File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    if !try_lock(&file) {
        return Err(format!("{} is locked by another process", path.display()));
    }
    writeln!(file, "{}", std::process::id())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(OwnerLock { _file: file })
}

/// Removes every stale temp data dir under `temp_root` (not `own`): those whose lock file
/// exists and is held by no process. A dir without a lock file is left alone: it may be a
/// server's that has created its dir but not yet its lock. Returns the dirs removed.
pub fn remove_stale(temp_root: &Path, own: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(temp_root) else {
        return vec![];
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let named = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with(TEMP_DIR_PREFIX));
        if !named || path == own || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(file) = File::open(path.join(LOCK_FILE)) else {
            continue;
        };
        if !try_lock(&file) {
            continue; // its owner is alive
        }
        let owner = std::fs::read_to_string(path.join(LOCK_FILE)).unwrap_or_default();
        match std::fs::remove_dir_all(&path) {
            Ok(()) => {
                tracing::info!(dir = %path.display(), owner_pid = owner.trim(), "removed the temp dir of a server that died without cleaning up");
                removed.push(path);
            }
            Err(error) => {
                tracing::warn!(dir = %path.display(), %error, "cannot remove a dead server's temp dir")
            }
        }
    }
    removed
}

/// A non-blocking exclusive flock; true when taken (released when `file` is closed).
fn try_lock(file: &File) -> bool {
    // SAFETY: flock(2) on a descriptor this function's caller owns.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_protects_its_dir_and_a_released_one_does_not() {
        let root = tempfile::tempdir().unwrap();
        let live = root.path().join(format!("{TEMP_DIR_PREFIX}live"));
        let dead = root.path().join(format!("{TEMP_DIR_PREFIX}dead"));
        let unlocked = root.path().join(format!("{TEMP_DIR_PREFIX}nolock"));
        for dir in [&live, &dead, &unlocked] {
            std::fs::create_dir(dir).unwrap();
        }
        let _held = lock(&live).unwrap();
        drop(lock(&dead).unwrap());
        let own = root.path().join("own");
        assert_eq!(remove_stale(root.path(), &own), vec![dead.clone()]);
        assert!(live.exists() && unlocked.exists() && !dead.exists());
    }
}
