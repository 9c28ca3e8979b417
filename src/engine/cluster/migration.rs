//! Moving one hash slot, with its keys, from one primary to another by Redis Cluster's own
//! protocol, in the order `redis-cli --cluster reshard` uses: `CLUSTER SETSLOT <slot>
//! IMPORTING` on the target, `MIGRATING` on the source, `CLUSTER GETKEYSINSLOT` and
//! `MIGRATE ... KEYS` in batches until the slot is empty, then `SETSLOT <slot> NODE <target>`
//! on the target, the source and every other primary, a batch of slots at a time. Meanwhile the source answers `-ASK` for
//! keys it no longer has and the target accepts them after `ASKING`, so a client that follows
//! MOVED and ASK never sees an error or a missing key.
//!
//! A migration sends several commands per slot, thousands per resharding: each primary gets
//! one connection kept for the whole move instead of one per command.

use std::net::SocketAddrV4;
use std::time::Duration;

use redis::Value;
use redis::aio::MultiplexedConnection;

use super::slot_map::SlotMove;
use crate::engine::EngineError;
use crate::engine::client::NodeClient;
use crate::engine::restricted::{engine_credentials, engine_name, public_text};

/// Keys moved per `MIGRATE` (redis-cli moves 10 by default; bigger batches cost fewer round
/// trips and still keep each key's blocking short).
const BATCH: usize = 200;
/// How long one `MIGRATE` may take on the source, and any reply may take.
const MIGRATE_TIMEOUT_MS: u64 = 10_000;
const REPLY_TIMEOUT: Duration = Duration::from_millis(MIGRATE_TIMEOUT_MS + 2_000);

/// One shard primary during a migration: its cluster node id, address and open connection.
pub(super) struct Primary {
    pub id: String,
    pub addr: SocketAddrV4,
    connection: MultiplexedConnection,
}

impl Primary {
    pub async fn open(id: String, client: &NodeClient) -> Result<Self, EngineError> {
        let connection = client.session(REPLY_TIMEOUT).await?;
        Ok(Self {
            id,
            addr: client.addr(),
            connection,
        })
    }

    async fn run(&mut self, args: &[&str]) -> Result<Value, EngineError> {
        let mut cmd = redis::cmd(engine_name(args[0]));
        for arg in &args[1..] {
            cmd.arg(*arg);
        }
        let addr = self.addr;
        cmd.query_async::<Value>(&mut self.connection)
            .await
            .map_err(|e| EngineError::Redis {
                addr,
                detail: public_text(&e.to_string()),
            })
    }

    /// Runs `commands` in one round trip; the first error any of them got is the result.
    async fn pipeline(&mut self, commands: &[Vec<String>]) -> Result<(), EngineError> {
        let mut pipe = redis::pipe();
        for command in commands {
            pipe.cmd(engine_name(&command[0]));
            for arg in &command[1..] {
                pipe.arg(arg);
            }
        }
        let addr = self.addr;
        let replies: Vec<Value> =
            pipe.query_async(&mut self.connection)
                .await
                .map_err(|e| EngineError::Redis {
                    addr,
                    detail: public_text(&e.to_string()),
                })?;
        match replies.into_iter().find_map(|reply| match reply {
            Value::ServerError(error) => Some(error),
            _ => None,
        }) {
            Some(error) => Err(EngineError::Redis {
                addr,
                detail: public_text(&format!("{error:?}")),
            }),
            None => Ok(()),
        }
    }

    async fn keys_in_slot(&mut self, slot: &str) -> Result<Vec<Vec<u8>>, EngineError> {
        let count = BATCH.to_string();
        match self
            .run(&["CLUSTER", "GETKEYSINSLOT", slot, &count])
            .await?
        {
            Value::Array(keys) => Ok(keys
                .into_iter()
                .filter_map(|key| match key {
                    Value::BulkString(bytes) => Some(bytes),
                    _ => None,
                })
                .collect()),
            other => Err(EngineError::Redis {
                addr: self.addr,
                detail: format!("unexpected reply to CLUSTER GETKEYSINSLOT: {other:?}"),
            }),
        }
    }

    /// `MIGRATE` of `keys` to `target` as the engine's own user. `REPLACE`: a key still on
    /// the source is the current one (clients write there until the slot moves), so a copy
    /// left on the target by an interrupted earlier attempt is overwritten.
    async fn migrate(&mut self, target: SocketAddrV4, keys: &[Vec<u8>]) -> Result<(), EngineError> {
        let (user, password) = engine_credentials();
        let mut cmd = redis::cmd(engine_name("MIGRATE"));
        cmd.arg(target.ip().to_string())
            .arg(target.port())
            .arg("")
            .arg(0)
            .arg(MIGRATE_TIMEOUT_MS)
            .arg("REPLACE")
            .arg("AUTH2")
            .arg(user)
            .arg(password)
            .arg("KEYS");
        for key in keys {
            cmd.arg(key.as_slice());
        }
        let addr = self.addr;
        cmd.query_async::<Value>(&mut self.connection)
            .await
            .map(|_| ())
            .map_err(|e| EngineError::Redis {
                addr,
                detail: format!("MIGRATE to {target}: {}", public_text(&e.to_string())),
            })
    }
}

/// Moves a batch of slots and tells every primary; the number of keys moved. Each step is one
/// pipeline per node for the whole batch: a `SETSLOT` makes the node rewrite and fsync its
/// `nodes.conf`, once per event-loop turn, so a pipeline pays for that once, not per slot.
pub(super) async fn move_batch(
    primaries: &mut [Primary],
    batch: &[SlotMove],
) -> Result<usize, EngineError> {
    let ids: Vec<String> = primaries.iter().map(|p| p.id.clone()).collect();
    let setslot = |slot: u32, state: &str, node: &str| {
        vec![
            "CLUSTER".to_string(),
            "SETSLOT".into(),
            slot.to_string(),
            state.into(),
            node.into(),
        ]
    };
    // The target imports before the source migrates (redis-cli's order): once the source
    // answers ASK, the target must accept the asking client.
    let importing = |node: usize| {
        let mine = batch.iter().filter(move |m| m.2 == node);
        mine.map(|&(slot, from, _)| setslot(slot, "IMPORTING", &ids[from]))
            .collect()
    };
    run_on_each(primaries, importing).await?;
    let migrating = |node: usize| {
        let mine = batch.iter().filter(move |m| m.1 == node);
        mine.map(|&(slot, _, to)| setslot(slot, "MIGRATING", &ids[to]))
            .collect()
    };
    run_on_each(primaries, migrating).await?;
    let mut moved = 0;
    for &(slot, from, to) in batch {
        moved += empty_slot(primaries, slot, from, to).await?;
    }
    // The target first: once it owns the slot (and has bumped its config epoch), the source
    // redirects with MOVED; then everyone else learns it at once instead of by gossip.
    let owner = |node: usize, role: fn(&SlotMove, usize) -> bool| -> Vec<Vec<String>> {
        batch
            .iter()
            .filter(|m| role(m, node))
            .map(|&(slot, _, to)| setslot(slot, "NODE", &ids[to]))
            .collect()
    };
    run_on_each(primaries, |node| owner(node, |m, n| m.2 == n)).await?;
    run_on_each(primaries, |node| owner(node, |m, n| m.1 == n)).await?;
    run_on_each(primaries, |node| owner(node, |m, n| m.1 != n && m.2 != n)).await?;
    Ok(moved)
}

/// Moves every key of `slot` from its source to its target, a batch per `MIGRATE`.
async fn empty_slot(
    primaries: &mut [Primary],
    slot: u32,
    from: usize,
    to: usize,
) -> Result<usize, EngineError> {
    let slot_text = slot.to_string();
    let target = primaries[to].addr;
    let mut moved = 0;
    loop {
        let keys = primaries[from].keys_in_slot(&slot_text).await?;
        if keys.is_empty() {
            return Ok(moved);
        }
        primaries[from].migrate(target, &keys).await?;
        moved += keys.len();
    }
}

/// Sends each primary the commands `commands_for(its index)` gives, as one pipeline.
async fn run_on_each(
    primaries: &mut [Primary],
    commands_for: impl Fn(usize) -> Vec<Vec<String>>,
) -> Result<(), EngineError> {
    for (index, primary) in primaries.iter_mut().enumerate() {
        let commands = commands_for(index);
        if !commands.is_empty() {
            primary.pipeline(&commands).await?;
        }
    }
    Ok(())
}
