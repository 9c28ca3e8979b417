//! Network toxics on the endpoint proxies, after Toxiproxy's `toxics/`: each toxic is one stage
//! of a per-connection, per-direction chain that transforms a stream of chunks. Time is data:
//! a stage never sleeps, it says when each item may go on (`at`), so every toxic is a pure,
//! unit-testable transform and [`pipe`] is the only place that waits.
//!
//! Toxicity (the probability a toxic acts on a connection) and the random parts (latency
//! jitter, slicer sizes) draw from a [`Rng`] derived from the server's seed, the proxy, the
//! connection's number and the toxic's name, so a seeded run repeats whatever the timing.

pub mod bandwidth;
pub mod chain;
pub mod latency;
pub mod limit_data;
pub mod pipe;
pub mod registry;
pub mod reset_peer;
pub mod rng;
pub mod slicer;
pub mod slow_close;
pub mod spec;
pub mod timeout;

use tokio::time::Instant;

pub use pipe::{pipe, pipe_to};
pub use registry::{ToxicRegistry, ToxicsError};
pub use rng::Rng;
pub use spec::{Stream, ToxicKind};

/// Bytes read from one side, and when they may be written to the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub data: Vec<u8>,
    pub at: Instant,
}

/// What flows through a chain: data, or how the stream ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Data(Chunk),
    /// The source closed: half-close the destination (FIN), as a plain proxy does.
    End {
        at: Instant,
    },
    /// A toxic ends the connection (FIN both ways): timeout, limit_data.
    Close {
        at: Instant,
    },
    /// A toxic resets the connection (RST both ways, SO_LINGER 0): reset_peer.
    Reset {
        at: Instant,
    },
}

impl Item {
    pub fn at(&self) -> Instant {
        match self {
            Item::Data(chunk) => chunk.at,
            Item::End { at } | Item::Close { at } | Item::Reset { at } => *at,
        }
    }
}

/// One toxic's transform. `push` gets every item in order and appends what goes on to `out`;
/// a toxic that acts on its own (timeout's close) names the instant in `wake_at`.
pub trait Toxic: Send {
    fn push(&mut self, item: Item, out: &mut Vec<Item>);

    fn wake_at(&self) -> Option<Instant> {
        None
    }

    fn wake(&mut self, _now: Instant, _out: &mut Vec<Item>) {}

    /// The toxic is removed from a live connection. A timeout closes the connection it was
    /// holding, as Toxiproxy's `Cleanup` does.
    fn removed(&mut self, _now: Instant, _out: &mut Vec<Item>) {}

    /// New attributes for the same toxic (an update); its per-connection state is kept.
    fn reconfigure(&mut self, kind: &ToxicKind);
}

/// Builds the transform for `kind`, started at `now`, drawing from `rng`.
pub fn build(kind: &ToxicKind, now: Instant, rng: Rng) -> Box<dyn Toxic> {
    match kind {
        ToxicKind::Latency(attrs) => Box::new(latency::Latency::new(*attrs, rng)),
        ToxicKind::Bandwidth(attrs) => Box::new(bandwidth::Bandwidth::new(*attrs)),
        ToxicKind::Timeout(attrs) => Box::new(timeout::Timeout::new(*attrs, now)),
        ToxicKind::ResetPeer(attrs) => Box::new(reset_peer::ResetPeer::new(*attrs)),
        ToxicKind::Slicer(attrs) => Box::new(slicer::Slicer::new(*attrs, rng)),
        ToxicKind::LimitData(attrs) => Box::new(limit_data::LimitData::new(*attrs)),
        ToxicKind::SlowClose(attrs) => Box::new(slow_close::SlowClose::new(*attrs)),
    }
}

/// The longest wait a toxic asks for: ten years, so that adding it to an instant cannot
/// overflow whatever number a client sends.
const LONGEST_WAIT_MS: i64 = 10 * 365 * 86_400 * 1000;

/// `ms` milliseconds as a duration, negative values as zero (Toxiproxy sleeps for nothing).
pub(crate) fn millis(ms: i64) -> std::time::Duration {
    std::time::Duration::from_millis(ms.clamp(0, LONGEST_WAIT_MS) as u64)
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::*;

    pub fn data(bytes: &[u8], at: Instant) -> Item {
        Item::Data(Chunk {
            data: bytes.to_vec(),
            at,
        })
    }

    pub fn run(toxic: &mut dyn Toxic, items: Vec<Item>) -> Vec<Item> {
        let mut out = Vec::new();
        for item in items {
            toxic.push(item, &mut out);
        }
        out
    }
}
