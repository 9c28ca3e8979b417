//! `limit_data`: let `bytes` bytes through, then close the connection.

use super::spec::{LimitDataAttrs, ToxicKind};
use super::{Chunk, Item, Toxic};

pub struct LimitData {
    attrs: LimitDataAttrs,
    /// Kept across updates, as Toxiproxy's `LimitDataToxicState`.
    transmitted: i64,
    closed: bool,
}

impl LimitData {
    pub fn new(attrs: LimitDataAttrs) -> Self {
        Self {
            attrs,
            transmitted: 0,
            closed: false,
        }
    }
}

impl Toxic for LimitData {
    fn push(&mut self, item: Item, out: &mut Vec<Item>) {
        if self.closed {
            return;
        }
        let Item::Data(chunk) = item else {
            out.push(item);
            return;
        };
        let remaining = (self.attrs.bytes - self.transmitted).max(0) as usize;
        let at = chunk.at;
        let mut data = chunk.data;
        data.truncate(remaining);
        if !data.is_empty() {
            self.transmitted += data.len() as i64;
            out.push(Item::Data(Chunk { data, at }));
        }
        if self.attrs.bytes - self.transmitted <= 0 {
            self.closed = true;
            out.push(Item::Close { at });
        }
    }

    fn reconfigure(&mut self, kind: &ToxicKind) {
        if let ToxicKind::LimitData(attrs) = kind {
            self.attrs = *attrs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{data, run};
    use super::*;
    use tokio::time::Instant;

    #[test]
    fn passes_the_limit_then_closes() {
        let t0 = Instant::now();
        let mut toxic = LimitData::new(LimitDataAttrs { bytes: 5 });
        let out = run(
            &mut toxic,
            vec![data(b"abc", t0), data(b"defg", t0), data(b"h", t0)],
        );
        assert_eq!(
            out,
            vec![data(b"abc", t0), data(b"de", t0), Item::Close { at: t0 }]
        );
    }

    #[test]
    fn zero_bytes_closes_on_the_first_data() {
        let t0 = Instant::now();
        let mut toxic = LimitData::new(LimitDataAttrs { bytes: 0 });
        let out = run(&mut toxic, vec![data(b"abc", t0)]);
        assert_eq!(out, vec![Item::Close { at: t0 }]);
    }
}
