//! `bandwidth`: at most `rate` KB/s; a chunk larger than 100 ms' worth goes on in 100 ms pieces.

use std::time::Duration;

use tokio::time::Instant;

use super::spec::{BandwidthAttrs, ToxicKind};
use super::{Chunk, Item, Toxic};

pub struct Bandwidth {
    attrs: BandwidthAttrs,
    /// When the link is free again: the end of the previous piece's transmission.
    free_at: Option<Instant>,
}

impl Bandwidth {
    pub fn new(attrs: BandwidthAttrs) -> Self {
        Self {
            attrs,
            free_at: None,
        }
    }

    /// Sends `piece`, available at `at`, once the link has carried it.
    fn send(&mut self, data: Vec<u8>, at: Instant, out: &mut Vec<Item>) {
        let start = self.free_at.map_or(at, |free| free.max(at));
        // rate is bytes per millisecond (KB/s): len / rate ms.
        let cost = Duration::from_micros(data.len() as u64 * 1000 / self.attrs.rate as u64);
        let done = start + cost;
        self.free_at = Some(done);
        out.push(Item::Data(Chunk { data, at: done }));
    }
}

impl Toxic for Bandwidth {
    fn push(&mut self, item: Item, out: &mut Vec<Item>) {
        let Item::Data(chunk) = item else {
            out.push(item);
            return;
        };
        if self.attrs.rate <= 0 {
            out.push(Item::Data(chunk));
            return;
        }
        let piece = (self.attrs.rate as usize).saturating_mul(100).max(1);
        for part in chunk.data.chunks(piece) {
            self.send(part.to_vec(), chunk.at, out);
        }
    }

    fn reconfigure(&mut self, kind: &ToxicKind) {
        if let ToxicKind::Bandwidth(attrs) = kind {
            self.attrs = *attrs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{data, run};
    use super::*;

    #[test]
    fn paces_bytes_at_the_rate_in_100_ms_pieces() {
        let t0 = Instant::now();
        // 10 KB/s: 2500 bytes take 250 ms, in pieces of 1000 bytes (100 ms each).
        let mut toxic = Bandwidth::new(BandwidthAttrs { rate: 10 });
        let out = run(&mut toxic, vec![data(&[7u8; 2500], t0)]);
        let sizes: Vec<usize> = out
            .iter()
            .map(|i| match i {
                Item::Data(c) => c.data.len(),
                _ => 0,
            })
            .collect();
        assert_eq!(sizes, vec![1000, 1000, 500]);
        assert_eq!(out[2].at(), t0 + Duration::from_millis(250));
        // The next chunk waits for the link.
        let more = run(&mut toxic, vec![data(&[1u8; 100], t0)]);
        assert_eq!(more[0].at(), t0 + Duration::from_millis(260));
    }

    #[test]
    fn zero_rate_is_unlimited() {
        let t0 = Instant::now();
        let mut toxic = Bandwidth::new(BandwidthAttrs { rate: 0 });
        let out = run(&mut toxic, vec![data(b"abc", t0)]);
        assert_eq!(out, vec![data(b"abc", t0)]);
    }
}
