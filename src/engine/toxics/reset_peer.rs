//! `reset_peer`: on the first data (or the source closing), wait `timeout` ms, then reset the
//! connection with a TCP RST. The data is not passed on.

use super::spec::{ResetPeerAttrs, ToxicKind};
use super::{Item, Toxic, millis};

pub struct ResetPeer {
    attrs: ResetPeerAttrs,
    fired: bool,
}

impl ResetPeer {
    pub fn new(attrs: ResetPeerAttrs) -> Self {
        Self {
            attrs,
            fired: false,
        }
    }
}

impl Toxic for ResetPeer {
    fn push(&mut self, item: Item, out: &mut Vec<Item>) {
        if !self.fired {
            self.fired = true;
            out.push(Item::Reset {
                at: item.at() + millis(self.attrs.timeout),
            });
        }
    }

    fn reconfigure(&mut self, kind: &ToxicKind) {
        if let ToxicKind::ResetPeer(attrs) = kind {
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
    fn resets_after_the_timeout_from_the_first_data() {
        let t0 = Instant::now();
        let mut toxic = ResetPeer::new(ResetPeerAttrs { timeout: 20 });
        let out = run(&mut toxic, vec![data(b"a", t0), data(b"b", t0)]);
        assert_eq!(
            out,
            vec![Item::Reset {
                at: t0 + Duration::from_millis(20)
            }]
        );
    }
}
