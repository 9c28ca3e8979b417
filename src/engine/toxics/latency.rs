//! `latency`: every chunk waits `latency` ms (± `jitter`) from when it arrived, in order.

use tokio::time::Instant;

use super::spec::{LatencyAttrs, ToxicKind};
use super::{Item, Rng, Toxic, millis};

pub struct Latency {
    attrs: LatencyAttrs,
    rng: Rng,
    /// When the previous chunk goes on: a shorter jitter never reorders the stream.
    last: Option<Instant>,
}

impl Latency {
    pub fn new(attrs: LatencyAttrs, rng: Rng) -> Self {
        Self {
            attrs,
            rng,
            last: None,
        }
    }

    /// Toxiproxy's draw: `latency + rand.Int63n(2 * jitter) - jitter` (in i128: no client
    /// value can overflow it).
    fn delay_ms(&mut self) -> i64 {
        let jitter = i128::from(self.attrs.jitter);
        let offset = if jitter > 0 {
            i128::from(self.rng.below(2 * self.attrs.jitter as u64)) - jitter
        } else {
            0
        };
        (i128::from(self.attrs.latency) + offset).clamp(0, i128::from(i64::MAX)) as i64
    }
}

impl Toxic for Latency {
    fn push(&mut self, item: Item, out: &mut Vec<Item>) {
        match item {
            Item::Data(mut chunk) => {
                let due = chunk.at + millis(self.delay_ms());
                chunk.at = self.last.map_or(due, |last| due.max(last));
                self.last = Some(chunk.at);
                out.push(Item::Data(chunk));
            }
            other => out.push(other),
        }
    }

    fn reconfigure(&mut self, kind: &ToxicKind) {
        if let ToxicKind::Latency(attrs) = kind {
            self.attrs = *attrs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{data, run};
    use super::*;
    use std::time::Duration;

    #[test]
    fn delays_each_chunk_from_its_arrival() {
        let t0 = Instant::now();
        let mut toxic = Latency::new(
            LatencyAttrs {
                latency: 100,
                jitter: 0,
            },
            Rng::new(1),
        );
        let out = run(
            &mut toxic,
            vec![
                data(b"a", t0),
                data(b"b", t0 + Duration::from_millis(30)),
                Item::End { at: t0 },
            ],
        );
        assert_eq!(out[0].at(), t0 + Duration::from_millis(100));
        assert_eq!(out[1].at(), t0 + Duration::from_millis(130));
        assert_eq!(out[2], Item::End { at: t0 });
    }

    #[test]
    fn absurd_attributes_do_not_overflow() {
        let t0 = Instant::now();
        let attrs = LatencyAttrs {
            latency: i64::MAX,
            jitter: i64::MAX,
        };
        let mut toxic = Latency::new(attrs, Rng::new(2));
        let out = run(&mut toxic, vec![data(b"x", t0)]);
        assert!(out[0].at() > t0);
    }

    #[test]
    fn jitter_stays_within_bounds_and_keeps_order() {
        let t0 = Instant::now();
        let mut toxic = Latency::new(
            LatencyAttrs {
                latency: 100,
                jitter: 20,
            },
            Rng::new(9),
        );
        let items = (0..200).map(|_| data(b"x", t0)).collect();
        let out = run(&mut toxic, items);
        let delays: Vec<Duration> = out.iter().map(|i| i.at() - t0).collect();
        assert!(delays.windows(2).all(|w| w[0] <= w[1]), "order kept");
        assert!(delays[0] >= Duration::from_millis(80) && delays[0] < Duration::from_millis(120));
        assert!(*delays.last().unwrap() < Duration::from_millis(120));
    }
}
