//! `slicer`: splits each chunk into pieces of about `average_size` bytes (± `size_variation`),
//! `delay` microseconds apart, by Toxiproxy's halving.

use std::time::Duration;

use tokio::time::Instant;

use super::spec::{SlicerAttrs, ToxicKind};
use super::{Chunk, Item, Rng, Toxic};

pub struct Slicer {
    attrs: SlicerAttrs,
    rng: Rng,
    /// When the previous chunk's last piece went on: pieces never overtake each other.
    free_at: Option<Instant>,
}

impl Slicer {
    pub fn new(attrs: SlicerAttrs, rng: Rng) -> Self {
        Self {
            attrs,
            rng,
            free_at: None,
        }
    }

    /// Piece boundaries of `start..end`. Unlike Toxiproxy's, never splits at an edge (an
    /// `average_size` of 0 would recurse forever there), so every piece has a byte.
    fn cut(&mut self, start: usize, end: usize, bounds: &mut Vec<(usize, usize)>) {
        let average = self.attrs.average_size.max(1);
        let variation = self.attrs.size_variation.max(0);
        if (end - start) as i64 - average <= variation || end - start < 2 {
            bounds.push((start, end));
            return;
        }
        let mut mid = (start + (end - start) / 2) as i64;
        if variation > 0 {
            mid += self.rng.below(2 * variation as u64) as i64 - variation;
        }
        let mid = (mid.max(start as i64 + 1) as usize).min(end - 1);
        self.cut(start, mid, bounds);
        self.cut(mid, end, bounds);
    }
}

impl Toxic for Slicer {
    fn push(&mut self, item: Item, out: &mut Vec<Item>) {
        let Item::Data(chunk) = item else {
            out.push(item);
            return;
        };
        let mut bounds = Vec::new();
        self.cut(0, chunk.data.len(), &mut bounds);
        let gap = Duration::from_micros(self.attrs.delay.clamp(0, 1_000_000_000) as u64);
        let mut at = self.free_at.map_or(chunk.at, |free| free.max(chunk.at));
        for (start, end) in bounds {
            out.push(Item::Data(Chunk {
                data: chunk.data[start..end].to_vec(),
                at,
            }));
            at += gap;
        }
        self.free_at = Some(at);
    }

    fn reconfigure(&mut self, kind: &ToxicKind) {
        if let ToxicKind::Slicer(attrs) = kind {
            self.attrs = *attrs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{data, run};
    use super::*;

    fn pieces(out: &[Item]) -> Vec<Vec<u8>> {
        out.iter()
            .filter_map(|i| match i {
                Item::Data(c) => Some(c.data.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn slices_keep_every_byte_in_order_with_delays() {
        let t0 = Instant::now();
        let payload: Vec<u8> = (0..=255).collect();
        let attrs = SlicerAttrs {
            average_size: 10,
            size_variation: 4,
            delay: 1000,
        };
        let mut toxic = Slicer::new(attrs, Rng::new(3));
        let out = run(&mut toxic, vec![data(&payload, t0)]);
        let parts = pieces(&out);
        assert!(parts.len() >= 16, "{} pieces", parts.len());
        assert!(parts.iter().all(|p| !p.is_empty() && p.len() <= 14));
        assert_eq!(parts.concat(), payload);
        assert_eq!(out[1].at() - out[0].at(), Duration::from_millis(1));
    }

    #[test]
    fn zero_average_size_slices_to_single_bytes() {
        let t0 = Instant::now();
        let mut toxic = Slicer::new(SlicerAttrs::default(), Rng::new(3));
        let out = run(&mut toxic, vec![data(b"abcd", t0)]);
        assert_eq!(
            pieces(&out),
            vec![b"a".to_vec(), b"b".into(), b"c".into(), b"d".into()]
        );
    }
}
