//! `slow_close`: when the source closes, wait `delay` ms before closing the destination.

use super::spec::{SlowCloseAttrs, ToxicKind};
use super::{Item, Toxic, millis};

pub struct SlowClose {
    attrs: SlowCloseAttrs,
}

impl SlowClose {
    pub fn new(attrs: SlowCloseAttrs) -> Self {
        Self { attrs }
    }
}

impl Toxic for SlowClose {
    fn push(&mut self, item: Item, out: &mut Vec<Item>) {
        match item {
            Item::End { at } => out.push(Item::End {
                at: at + millis(self.attrs.delay),
            }),
            other => out.push(other),
        }
    }

    fn reconfigure(&mut self, kind: &ToxicKind) {
        if let ToxicKind::SlowClose(attrs) = kind {
            self.attrs = *attrs;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{data, run};
    use super::*;
    use std::time::Duration;
    use tokio::time::Instant;

    #[test]
    fn delays_only_the_close() {
        let t0 = Instant::now();
        let mut toxic = SlowClose::new(SlowCloseAttrs { delay: 40 });
        let out = run(&mut toxic, vec![data(b"a", t0), Item::End { at: t0 }]);
        assert_eq!(
            out,
            vec![
                data(b"a", t0),
                Item::End {
                    at: t0 + Duration::from_millis(40)
                }
            ]
        );
    }
}
