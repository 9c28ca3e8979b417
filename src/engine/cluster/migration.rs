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
use std::time::{Duration, Instant};

use redis::Value;
use redis::aio::MultiplexedConnection;
use tokio::task::JoinSet;

use super::slot_map::SlotMove;
use crate::engine::EngineError;
use crate::engine::client::NodeClient;
use crate::engine::restricted::{engine_credentials, engine_name, public_text};

/// Keys moved per `MIGRATE` (redis-cli moves 10 by default; bigger batches cost fewer round
/// trips and still keep each key's blocking short).
const BATCH: usize = 200;
/// Keys moved per pipeline of `MIGRATE`s (see `keys_bounded`).
const KEYS_PER_PIPELINE: usize = 1000;
/// How long one `MIGRATE` may take on the source, and any reply may take.
const MIGRATE_TIMEOUT_MS: u64 = 10_000;
const REPLY_TIMEOUT: Duration = Duration::from_millis(MIGRATE_TIMEOUT_MS + 2_000);
/// How long a target may refuse with `CLUSTERDOWN` before the resharding gives up.
const TRANSIENT_DEADLINE: Duration = Duration::from_secs(30);

/// Connections per primary for the `SETSLOT` steps. Valkey 8 replicates each `SETSLOT` to the
/// primary's replicas and answers only once they acknowledge it, holding back the rest of the
/// connection's pipeline meanwhile; spread over several connections those waits overlap (one
/// replica acknowledgement answers all of them). Redis answers at once either way.
const SETSLOT_CONNECTIONS: usize = 8;

/// One shard primary during a migration: its cluster node id, address and open connections
/// (multiplexed ones: clones share them).
#[derive(Clone)]
pub(super) struct Primary {
    pub id: String,
    pub addr: SocketAddrV4,
    connection: MultiplexedConnection,
    setslot: Vec<MultiplexedConnection>,
}

impl Primary {
    pub async fn open(id: String, client: &NodeClient) -> Result<Self, EngineError> {
        let connection = client.session(REPLY_TIMEOUT).await?;
        let mut setslot = vec![connection.clone()];
        for _ in 1..SETSLOT_CONNECTIONS {
            setslot.push(client.session(REPLY_TIMEOUT).await?);
        }
        Ok(Self {
            id,
            addr: client.addr(),
            connection,
            setslot,
        })
    }

    /// Runs `commands`, spread over the `SETSLOT` connections, one pipeline on each, all at
    /// once; the first error any of them got is the result.
    async fn pipeline(&self, commands: &[Vec<String>]) -> Result<(), EngineError> {
        let per_connection = commands.len().div_ceil(self.setslot.len()).max(1);
        let mut running = JoinSet::new();
        for (chunk, connection) in commands.chunks(per_connection).zip(&self.setslot) {
            let mut pipe = redis::pipe();
            for command in chunk {
                pipe.cmd(engine_name(&command[0]));
                for arg in &command[1..] {
                    pipe.arg(arg);
                }
            }
            let mut connection = connection.clone();
            running.spawn(async move { pipe.query_async::<Vec<Value>>(&mut connection).await });
        }
        let addr = self.addr;
        while let Some(joined) = running.join_next().await {
            let replies = joined
                .map_err(|e| EngineError::Replication(e.to_string()))?
                .map_err(|e| EngineError::Redis {
                    addr,
                    detail: public_text(&e.to_string()),
                })?;
            check_replies(addr, replies)?;
        }
        Ok(())
    }

    /// The keys (at most `BATCH` each) of every slot in `slots`, in one round trip.
    async fn keys_in_slots(&mut self, slots: &[u32]) -> Result<Vec<Vec<Vec<u8>>>, EngineError> {
        let mut pipe = redis::pipe();
        for slot in slots {
            pipe.cmd("CLUSTER")
                .arg("GETKEYSINSLOT")
                .arg(*slot)
                .arg(BATCH);
        }
        let addr = self.addr;
        pipe.query_async(&mut self.connection)
            .await
            .map_err(|e| EngineError::Redis {
                addr,
                detail: format!("CLUSTER GETKEYSINSLOT: {}", public_text(&e.to_string())),
            })
    }

    /// One `MIGRATE` per `(target, keys)`, in one round trip, as the engine's own user.
    /// `REPLACE`: a key still on the source is the current one (clients write there until its
    /// slot moves), so a copy left on the target by an interrupted earlier attempt is replaced.
    async fn migrate(&mut self, moves: &[(SocketAddrV4, Vec<Vec<u8>>)]) -> Result<(), EngineError> {
        let (user, password) = engine_credentials();
        let mut pipe = redis::pipe();
        for (target, keys) in moves {
            pipe.cmd(engine_name("MIGRATE"))
                .arg(target.ip().to_string())
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
                pipe.arg(key.as_slice());
            }
        }
        let addr = self.addr;
        let replies: Vec<Value> =
            pipe.query_async(&mut self.connection)
                .await
                .map_err(|e| EngineError::Redis {
                    addr,
                    detail: format!("MIGRATE: {}", public_text(&e.to_string())),
                })?;
        check_replies(addr, replies)
    }
}

/// The first error reply of a pipeline, if any.
fn check_replies(addr: SocketAddrV4, replies: Vec<Value>) -> Result<(), EngineError> {
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
    let moved = empty_slots(primaries, batch).await?;
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

/// Moves every key of the batch's slots from their sources to their targets: per source, one
/// pipeline asks for the keys of all its slots, one pipeline migrates them, until every slot is
/// empty. While a slot is `MIGRATING` its source only loses keys (a client writing a key it
/// lacks is sent to the target with ASK), so this ends.
async fn empty_slots(primaries: &mut [Primary], batch: &[SlotMove]) -> Result<usize, EngineError> {
    let mut pending: Vec<SlotMove> = batch.to_vec();
    let mut moved = 0;
    while !pending.is_empty() {
        let mut still = Vec::new();
        for source in 0..primaries.len() {
            let mine: Vec<SlotMove> = pending.iter().filter(|m| m.1 == source).copied().collect();
            if mine.is_empty() {
                continue;
            }
            let slots: Vec<u32> = mine.iter().map(|m| m.0).collect();
            let keys = primaries[source].keys_in_slots(&slots).await?;
            let mut moves = Vec::new();
            for (slot_move, keys) in mine.into_iter().zip(keys) {
                if !keys.is_empty() {
                    moved += keys.len();
                    moves.push((primaries[slot_move.2].addr, keys));
                    still.push(slot_move);
                }
            }
            for moves in keys_bounded(moves) {
                migrate_retrying(&mut primaries[source], &moves).await?;
            }
        }
        pending = still;
    }
    Ok(moved)
}

/// `moves` in pipelines of at most `KEYS_PER_PIPELINE` keys: the source runs a pipeline's
/// `MIGRATE`s back to back, and every other client waits meanwhile.
fn keys_bounded(
    moves: Vec<(SocketAddrV4, Vec<Vec<u8>>)>,
) -> Vec<Vec<(SocketAddrV4, Vec<Vec<u8>>)>> {
    let mut pipelines: Vec<Vec<_>> = Vec::new();
    let mut keys = KEYS_PER_PIPELINE;
    for one in moves {
        if keys + one.1.len() > KEYS_PER_PIPELINE {
            pipelines.push(Vec::new());
            keys = 0;
        }
        keys += one.1.len();
        pipelines.last_mut().expect("pushed above").push(one);
    }
    pipelines
}

/// `MIGRATE`, again while the target refuses for a moment: a loaded node that missed the
/// 500 ms node timeout for a peer thinks itself in a minority and answers `CLUSTERDOWN` until it
/// hears from it again (`TRYAGAIN` likewise). `REPLACE` makes a retry safe, and keys that did
/// move answer `NOKEY`.
async fn migrate_retrying(
    source: &mut Primary,
    moves: &[(SocketAddrV4, Vec<Vec<u8>>)],
) -> Result<(), EngineError> {
    let deadline = Instant::now() + TRANSIENT_DEADLINE;
    loop {
        match source.migrate(moves).await {
            Err(error) if is_transient(&error) && Instant::now() < deadline => {
                tracing::debug!(%error, "MIGRATE refused for now; retrying");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            other => return other,
        }
    }
}

fn is_transient(error: &EngineError) -> bool {
    let text = error.to_string();
    text.contains("CLUSTERDOWN") || text.contains("TRYAGAIN")
}

/// Sends each primary the commands `commands_for(its index)` gives, as one pipeline, to all of
/// them at once (each pipeline costs its node an fsync of `nodes.conf`; they overlap).
async fn run_on_each(
    primaries: &mut [Primary],
    commands_for: impl Fn(usize) -> Vec<Vec<String>>,
) -> Result<(), EngineError> {
    let mut running = JoinSet::new();
    for (index, primary) in primaries.iter().enumerate() {
        let commands = commands_for(index);
        if !commands.is_empty() {
            let primary = primary.clone();
            running.spawn(async move { primary.pipeline(&commands).await });
        }
    }
    while let Some(joined) = running.join_next().await {
        joined.map_err(|e| EngineError::Replication(e.to_string()))??;
    }
    Ok(())
}
