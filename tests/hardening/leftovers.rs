//! A SIGKILLed server cannot remove its temp dir; the next server start removes it (its owner
//! lock is free), never the dir of a server still running.

use std::path::PathBuf;
use std::time::Duration;

use crate::support::{Launch, TestServer, is_alive, wait_blocking};

fn server_dirs(root: &std::path::Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("elasticache-local-"))
        })
        .collect();
    dirs.sort();
    dirs
}

fn start_in(root: &std::path::Path) -> TestServer {
    let tmpdir = root.to_str().unwrap();
    TestServer::launch(Launch {
        env: &[("TMPDIR", tmpdir)],
        ..Launch::default()
    })
}

#[test]
fn the_next_start_removes_a_killed_servers_temp_dir_and_keeps_a_live_ones() {
    // A temp root of the test's own, so no other server on the machine is looked at.
    let root = tempfile::tempdir().unwrap();
    let live = start_in(root.path());
    let live_dir = server_dirs(root.path());
    assert_eq!(live_dir.len(), 1, "one dir per server");

    let mut killed = start_in(root.path());
    let killed_dir: Vec<PathBuf> = server_dirs(root.path())
        .into_iter()
        .filter(|d| !live_dir.contains(d))
        .collect();
    assert_eq!(killed_dir.len(), 1);
    let killed_pid = killed.pid();
    killed.kill_hard();
    wait_blocking(
        "the killed server to be gone",
        Duration::from_secs(10),
        || (!is_alive(killed_pid)).then_some(()),
    );
    assert!(killed_dir[0].exists(), "SIGKILL leaves the dir behind");

    let next = start_in(root.path());
    assert!(
        !killed_dir[0].exists(),
        "the next start removes the dead server's dir; log:\n{}",
        next.log_text()
    );
    assert!(live_dir[0].exists(), "a live server's dir is never removed");
    assert!(
        next.log_text()
            .contains("removed the temp dir of a server that died")
    );
    assert_eq!(
        server_dirs(root.path()).len(),
        2,
        "the live one's and the new one's"
    );
    drop(live);
    drop(next);
}
