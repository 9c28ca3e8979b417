//! Snapshots on the engine's side: a node's RDB taken with BGSAVE (under its private name, see
//! `restricted`) and copied out of its dir; the files a snapshot keeps; and restoring RDBs into
//! a running Redis Cluster, each key to the shard owning its slot (a scratch node loads the RDB
//! and MIGRATEs its keys).

use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use redis::Value;

use super::address::{AddressPool, Addressing, unassigned};
use super::client::NodeClient;
use super::node::{node_spec, start_on_free_address};
use super::tls::NodeTls;
use super::{Engine, EngineError};

/// Where a scope keeps its snapshots' RDBs, under its data dir (the dot keeps it apart from the
/// groups' dirs: ids have no dots).
const SNAPSHOTS_DIR: &str = "snapshots.d";
/// The directory standing in for S3: bucket `B` is `<data dir>/s3.d/B/`.
const BUCKETS_DIR: &str = "s3.d";
const SAVE_DEADLINE: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(5);
/// Keys per MIGRATE while restoring into a cluster.
const MIGRATE_BATCH: usize = 100;

/// The node a shard's part of a snapshot is taken from.
#[derive(Debug, Clone)]
pub struct SnapshotSource {
    pub node_group_id: String,
    pub member: String,
    pub(crate) client: NodeClient,
    /// The node's working dir, where its `dump.rdb` is written.
    pub(crate) dir: PathBuf,
}

impl Engine {
    /// The RDB of `node_group_id`'s part of snapshot `name`.
    pub fn snapshot_file(&self, name: &str, node_group_id: &str) -> PathBuf {
        self.data_dir
            .join(SNAPSHOTS_DIR)
            .join(name)
            .join(format!("{node_group_id}.rdb"))
    }

    /// The directory bucket `bucket` maps to (created on first use).
    pub fn bucket_dir(&self, bucket: &str) -> PathBuf {
        self.data_dir.join(BUCKETS_DIR).join(bucket)
    }

    /// Removes every file of snapshot `name`.
    pub fn delete_snapshot_files(&self, name: &str) {
        let _ = std::fs::remove_dir_all(self.data_dir.join(SNAPSHOTS_DIR).join(name));
    }

    /// Copies a snapshot's RDB to `target` (another snapshot's file or a bucket's object).
    pub async fn copy_rdb(&self, source: PathBuf, target: PathBuf) -> Result<u64, EngineError> {
        tokio::task::spawn_blocking(move || copy_atomically(&source, &target))
            .await
            .map_err(|e| EngineError::Replication(e.to_string()))?
    }
}

/// BGSAVE on the source node, waits until it has finished, then copies its RDB to `target`;
/// the file's size.
pub(crate) async fn save_rdb(source: &SnapshotSource, target: PathBuf) -> Result<u64, EngineError> {
    let deadline = Instant::now() + SAVE_DEADLINE;
    loop {
        match source.client.command(&["BGSAVE"]).await {
            Ok(_) => break,
            // A replica's full sync or another save holds the child process: wait for it.
            Err(error) if Instant::now() < deadline && is_busy(&error) => {
                tokio::time::sleep(POLL).await
            }
            Err(error) => return Err(error),
        }
    }
    loop {
        let info = source.client.text(&["INFO", "persistence"]).await?;
        if info.contains("rdb_bgsave_in_progress:0") {
            if !info.contains("rdb_last_bgsave_status:ok") {
                return Err(EngineError::Replication(format!(
                    "BGSAVE failed on {}",
                    source.member
                )));
            }
            break;
        }
        if Instant::now() > deadline {
            return Err(EngineError::Replication(format!(
                "BGSAVE on {} did not finish within {SAVE_DEADLINE:?}",
                source.member
            )));
        }
        tokio::time::sleep(POLL).await;
    }
    let rdb = source.dir.join("dump.rdb");
    tokio::task::spawn_blocking(move || copy_atomically(&rdb, &target))
        .await
        .map_err(|e| EngineError::Replication(e.to_string()))?
}

fn is_busy(error: &EngineError) -> bool {
    let text = error.to_string();
    text.contains("in progress") || text.contains("child process")
}

/// Copies through a temporary file and a rename, so a half-written RDB is never seen.
fn copy_atomically(source: &Path, target: &Path) -> Result<u64, EngineError> {
    let failed = |e: std::io::Error| {
        EngineError::Replication(format!(
            "cannot copy {} to {}: {e}",
            source.display(),
            target.display()
        ))
    };
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    let partial = target.with_extension("partial");
    let size = std::fs::copy(source, &partial).map_err(failed)?;
    std::fs::rename(&partial, target).map_err(failed)?;
    Ok(size)
}

/// Where restored keys go: each shard's slot ranges and its primary's address.
pub(crate) type SlotOwners = Vec<(Vec<(u32, u32)>, SocketAddrV4)>;

/// Loads each RDB into a scratch node and MIGRATEs every key to the primary owning its slot.
/// Into a TLS cluster (`tls`) the scratch node speaks TLS too, and MIGRATEs over TLS
/// (`tls-cluster`, which is what Redis's MIGRATE follows): a `required` node has no plaintext
/// port to take them.
pub(crate) async fn import_into_cluster(
    rdbs: &[PathBuf],
    owners: &SlotOwners,
    binary: &Path,
    scratch_dir: &Path,
    tls: Option<&NodeTls>,
) -> Result<(), EngineError> {
    // A scratch node needs no address of its own: any free port on 127.0.0.1.
    let pool = AddressPool::new(Addressing::Shared);
    for (index, rdb) in rdbs.iter().enumerate() {
        let mut spec = node_spec(
            &format!("restore-{index}"),
            binary,
            scratch_dir,
            None,
            unassigned(0),
            None,
        );
        spec.seed_rdb = Some(rdb.clone());
        if let Some(tls) = tls {
            spec.tls = Some(NodeTls {
                mode: super::TlsMode::Required,
                endpoint_ips: Vec::new(),
                ..tls.clone()
            });
            spec.startup_config = vec![("tls-cluster".into(), "yes".into())];
        }
        let process = start_on_free_address(spec, &pool).await?;
        let moved = migrate_all(&process.client(), owners).await;
        let dir = process.spec().dir.clone();
        process.stop().await;
        let _ = std::fs::remove_dir_all(dir);
        let count = moved?;
        tracing::info!(rdb = %rdb.display(), keys = count, "restored an RDB into the cluster");
    }
    Ok(())
}

async fn migrate_all(scratch: &NodeClient, owners: &SlotOwners) -> Result<usize, EngineError> {
    let mut cursor = "0".to_string();
    let mut count = 0;
    loop {
        let reply = scratch.command(&["SCAN", &cursor, "COUNT", "1000"]).await?;
        let (next, keys) = scan_reply(reply)?;
        for (owner, keys) in by_owner(&keys, owners) {
            for batch in keys.chunks(MIGRATE_BATCH) {
                migrate(scratch, owner, batch).await?;
                count += batch.len();
            }
        }
        if next == "0" {
            return Ok(count);
        }
        cursor = next;
    }
}

fn scan_reply(reply: Value) -> Result<(String, Vec<String>), EngineError> {
    let bad = |detail: String| EngineError::Replication(format!("restore: {detail}"));
    let Value::Array(parts) = reply else {
        return Err(bad(format!("unexpected SCAN reply {reply:?}")));
    };
    let text = |value: &Value| match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone())
            .map_err(|_| bad("keys must be UTF-8 to be restored into cluster mode".into())),
        other => Err(bad(format!("unexpected SCAN element {other:?}"))),
    };
    match parts.as_slice() {
        [cursor, Value::Array(keys)] => Ok((
            text(cursor)?,
            keys.iter().map(text).collect::<Result<_, _>>()?,
        )),
        _ => Err(bad("unexpected SCAN reply".into())),
    }
}

fn by_owner(keys: &[String], owners: &SlotOwners) -> Vec<(SocketAddrV4, Vec<String>)> {
    let mut grouped: Vec<(SocketAddrV4, Vec<String>)> = Vec::new();
    for key in keys {
        let slot = key_slot(key.as_bytes());
        let Some((_, owner)) = owners
            .iter()
            .find(|(ranges, _)| ranges.iter().any(|(a, b)| (*a..=*b).contains(&slot)))
        else {
            continue;
        };
        match grouped.iter_mut().find(|(addr, _)| addr == owner) {
            Some((_, keys)) => keys.push(key.clone()),
            None => grouped.push((*owner, vec![key.clone()])),
        }
    }
    grouped
}

async fn migrate(
    scratch: &NodeClient,
    to: SocketAddrV4,
    keys: &[String],
) -> Result<(), EngineError> {
    let (user, password) = super::restricted::engine_credentials();
    let (ip, port) = (to.ip().to_string(), to.port().to_string());
    let mut args = vec![
        "MIGRATE", &ip, &port, "", "0", "5000", "COPY", "REPLACE", "AUTH2", user, password, "KEYS",
    ];
    args.extend(keys.iter().map(String::as_str));
    scratch.command(&args).await.map(|_| ())
}

/// Redis Cluster's hash slot of a key: CRC16 (XMODEM) of the key, or of its `{hash tag}`.
pub(crate) fn key_slot(key: &[u8]) -> u32 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(0) | None => key,
            Some(len) => &key[open + 1..open + 1 + len],
        },
        None => key,
    };
    u32::from(crc16(hashed)) % super::SLOT_COUNT
}

fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in bytes {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_redis_cluster() {
        // CLUSTER KEYSLOT answers: foo 12182, bar 5061, {user1000}.following 3443.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"{}x"), key_slot(b"{}x"));
    }
}
