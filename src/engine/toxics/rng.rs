//! A small seeded generator (SplitMix64): the toxics' randomness must repeat for a seed, and
//! one stream is derived per connection and toxic so the draws do not depend on timing.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator for `parts` under this one's seed (FNV-1a over the parts, then mixed).
    pub fn derive(&self, parts: &[&[u8]]) -> Self {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ self.0;
        for part in parts {
            for byte in part.iter().chain(&[0xff]) {
                hash ^= u64::from(*byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        let mut derived = Self(hash);
        derived.next_u64();
        derived
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in [0, n) for n > 0, as Go's `rand.Int63n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws_and_parts_separate_streams() {
        let a: Vec<u64> = (0..5)
            .scan(Rng::new(7).derive(&[b"p", b"1"]), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..5)
            .scan(Rng::new(7).derive(&[b"p", b"1"]), |r, _| Some(r.next_u64()))
            .collect();
        let c: Vec<u64> = (0..5)
            .scan(Rng::new(7).derive(&[b"p", b"2"]), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut r = Rng::new(1);
        assert!((0..1000).all(|_| (0.0..1.0).contains(&r.next_f32())));
    }
}
