//! `timeout`: a blackhole. Data is dropped; with `timeout` > 0 the connection is closed that
//! many ms after the toxic took hold of it; removing the toxic closes it too (Toxiproxy's
//! `Cleanup`), since the dropped data cannot be given back.

use tokio::time::Instant;

use super::spec::{TimeoutAttrs, ToxicKind};
use super::{Item, Toxic, millis};

pub struct Timeout {
    attrs: TimeoutAttrs,
    started: Instant,
    closed: bool,
}

impl Timeout {
    pub fn new(attrs: TimeoutAttrs, started: Instant) -> Self {
        Self {
            attrs,
            started,
            closed: false,
        }
    }
}

impl Toxic for Timeout {
    fn push(&mut self, item: Item, out: &mut Vec<Item>) {
        if !matches!(item, Item::Data(_)) {
            out.push(item);
        }
    }

    fn wake_at(&self) -> Option<Instant> {
        (self.attrs.timeout > 0 && !self.closed).then(|| self.started + millis(self.attrs.timeout))
    }

    fn wake(&mut self, now: Instant, out: &mut Vec<Item>) {
        self.closed = true;
        out.push(Item::Close { at: now });
    }

    fn removed(&mut self, now: Instant, out: &mut Vec<Item>) {
        out.push(Item::Close { at: now });
    }

    fn reconfigure(&mut self, kind: &ToxicKind) {
        if let ToxicKind::Timeout(attrs) = kind {
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
    fn drops_data_and_closes_after_the_timeout() {
        let t0 = Instant::now();
        let mut toxic = Timeout::new(TimeoutAttrs { timeout: 50 }, t0);
        assert!(run(&mut toxic, vec![data(b"ping", t0)]).is_empty());
        assert_eq!(toxic.wake_at(), Some(t0 + Duration::from_millis(50)));
        let mut out = Vec::new();
        toxic.wake(t0 + Duration::from_millis(50), &mut out);
        assert_eq!(
            out,
            vec![Item::Close {
                at: t0 + Duration::from_millis(50)
            }]
        );
        assert_eq!(toxic.wake_at(), None);
    }

    #[test]
    fn zero_timeout_holds_forever() {
        let t0 = Instant::now();
        let mut toxic = Timeout::new(TimeoutAttrs { timeout: 0 }, t0);
        assert!(run(&mut toxic, vec![data(b"x", t0)]).is_empty());
        assert_eq!(toxic.wake_at(), None);
    }
}
