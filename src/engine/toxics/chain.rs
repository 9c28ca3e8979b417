//! One connection's toxics in one direction, in the order they were added, kept in step with
//! the proxy's list: a new toxic joins live connections, an updated one keeps its state, a
//! removed one is dropped.

use tokio::time::Instant;

use super::spec::ToxicSpec;
use super::{Item, Rng, Toxic, build};

struct Stage {
    id: u64,
    revision: u64,
    /// Whether this toxic acts on this connection: drawn once against its toxicity.
    active: bool,
    toxic: Box<dyn Toxic>,
}

pub struct Chain {
    stages: Vec<Stage>,
    /// This connection's and direction's generator; each toxic derives its own from it.
    rng: Rng,
}

impl Chain {
    pub fn new(rng: Rng) -> Self {
        Self {
            stages: Vec::new(),
            rng,
        }
    }

    /// True when no toxic acts: bytes can go straight through.
    pub fn is_idle(&self) -> bool {
        self.stages.iter().all(|s| !s.active)
    }

    /// Follows `specs` (this direction's toxics, in order). What a removed toxic lets go of
    /// (a timeout's close) flows on through the toxics after it.
    pub fn reconcile(&mut self, specs: &[ToxicSpec], now: Instant, out: &mut Vec<Item>) {
        let mut index = 0;
        while index < self.stages.len() {
            if specs.iter().any(|s| s.id == self.stages[index].id) {
                index += 1;
                continue;
            }
            let mut stage = self.stages.remove(index);
            if stage.active {
                let mut released = Vec::new();
                stage.toxic.removed(now, &mut released);
                self.feed(index, released, out);
            }
        }
        let mut old = std::mem::take(&mut self.stages);
        for spec in specs {
            let stage = match old.iter().position(|s| s.id == spec.id) {
                Some(found) => {
                    let mut stage = old.remove(found);
                    if stage.revision != spec.revision {
                        stage.toxic.reconfigure(&spec.kind);
                        stage.revision = spec.revision;
                        // Toxiproxy re-runs an updated toxic, drawing its toxicity again.
                        stage.active = self.roll(spec);
                    }
                    stage
                }
                None => self.stage(spec, now),
            };
            self.stages.push(stage);
        }
    }

    fn roll(&self, spec: &ToxicSpec) -> bool {
        let revision = spec.revision.to_le_bytes();
        let mut rng = self
            .rng
            .derive(&[b"toxicity", spec.name.as_bytes(), &revision]);
        rng.next_f32() < spec.toxicity
    }

    fn stage(&self, spec: &ToxicSpec, now: Instant) -> Stage {
        let rng = self.rng.derive(&[b"toxic", spec.name.as_bytes()]);
        Stage {
            id: spec.id,
            revision: spec.revision,
            active: self.roll(spec),
            toxic: build(&spec.kind, now, rng),
        }
    }

    /// Runs `item` through every toxic.
    pub fn push(&mut self, item: Item, out: &mut Vec<Item>) {
        self.feed(0, vec![item], out);
    }

    /// Runs `items` through the toxics from `from` on.
    fn feed(&mut self, from: usize, mut items: Vec<Item>, out: &mut Vec<Item>) {
        for stage in self.stages.iter_mut().skip(from) {
            if !stage.active {
                continue;
            }
            let mut next = Vec::with_capacity(items.len());
            for item in items {
                stage.toxic.push(item, &mut next);
            }
            items = next;
        }
        out.extend(items);
    }

    /// The earliest instant a toxic wants to act on its own.
    pub fn wake_at(&self) -> Option<Instant> {
        self.stages
            .iter()
            .filter(|s| s.active)
            .filter_map(|s| s.toxic.wake_at())
            .min()
    }

    /// Lets every toxic whose instant has come act; what it emits flows through the rest.
    pub fn wake(&mut self, now: Instant, out: &mut Vec<Item>) {
        for index in 0..self.stages.len() {
            let stage = &mut self.stages[index];
            if !stage.active || stage.toxic.wake_at().is_none_or(|at| at > now) {
                continue;
            }
            let mut emitted = Vec::new();
            stage.toxic.wake(now, &mut emitted);
            self.feed(index + 1, emitted, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::spec::{LatencyAttrs, LimitDataAttrs, Stream, TimeoutAttrs, ToxicKind};
    use super::super::test_support::data;
    use super::*;
    use std::time::Duration;

    fn spec(id: u64, name: &str, kind: ToxicKind, toxicity: f32) -> ToxicSpec {
        ToxicSpec {
            id,
            revision: 0,
            name: name.into(),
            kind,
            stream: Stream::Downstream,
            toxicity,
        }
    }

    fn latency(ms: i64) -> ToxicKind {
        ToxicKind::Latency(LatencyAttrs {
            latency: ms,
            jitter: 0,
        })
    }

    #[test]
    fn toxics_compose_in_order_and_removal_restores() {
        let t0 = Instant::now();
        let mut chain = Chain::new(Rng::new(1));
        let specs = vec![
            spec(1, "a", latency(10), 1.0),
            spec(2, "b", latency(20), 1.0),
        ];
        let mut out = Vec::new();
        chain.reconcile(&specs, t0, &mut out);
        chain.push(data(b"x", t0), &mut out);
        assert_eq!(out[0].at(), t0 + Duration::from_millis(30));
        chain.reconcile(&specs[..1], t0, &mut out);
        chain.push(data(b"y", t0), &mut out);
        assert_eq!(out[1].at(), t0 + Duration::from_millis(10));
        chain.reconcile(&[], t0, &mut out);
        assert!(chain.is_idle());
    }

    #[test]
    fn toxicity_zero_never_acts_and_one_always_does() {
        let t0 = Instant::now();
        for seed in 0..50 {
            let mut chain = Chain::new(Rng::new(seed));
            let mut out = Vec::new();
            chain.reconcile(&[spec(1, "a", latency(10), 0.0)], t0, &mut out);
            assert!(chain.is_idle());
            chain.reconcile(&[spec(2, "b", latency(10), 1.0)], t0, &mut out);
            assert!(!chain.is_idle());
        }
    }

    #[test]
    fn removing_an_active_timeout_closes_and_limit_counts_survive_updates() {
        let t0 = Instant::now();
        let mut chain = Chain::new(Rng::new(1));
        let mut out = Vec::new();
        let timeout = ToxicKind::Timeout(TimeoutAttrs { timeout: 0 });
        chain.reconcile(&[spec(1, "t", timeout, 1.0)], t0, &mut out);
        chain.push(data(b"x", t0), &mut out);
        assert!(out.is_empty());
        chain.reconcile(&[], t0, &mut out);
        assert_eq!(out, vec![Item::Close { at: t0 }]);

        let mut chain = Chain::new(Rng::new(1));
        let mut out = Vec::new();
        let mut limit = spec(
            3,
            "l",
            ToxicKind::LimitData(LimitDataAttrs { bytes: 4 }),
            1.0,
        );
        chain.reconcile(std::slice::from_ref(&limit), t0, &mut out);
        chain.push(data(b"abc", t0), &mut out);
        limit.revision = 1;
        limit.kind = ToxicKind::LimitData(LimitDataAttrs { bytes: 5 });
        chain.reconcile(std::slice::from_ref(&limit), t0, &mut out);
        chain.push(data(b"defg", t0), &mut out);
        assert_eq!(
            out,
            vec![data(b"abc", t0), data(b"de", t0), Item::Close { at: t0 }]
        );
    }
}
