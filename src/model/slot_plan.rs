//! Where the hash slots go when a cluster-mode group changes its number of shards
//! (ModifyReplicationGroupShardConfiguration): an even distribution, as AWS makes by default,
//! reached by moving as few slots as possible. Each kept shard keeps its lowest slots up to its
//! new share; its surplus, and every slot of a removed shard, goes to the shards short of
//! theirs, new ones included. Going from 2 to 3 shards moves exactly a third of the slots.

/// Every hash slot of a Redis Cluster (the engine's `SLOT_COUNT`; the model knows no engine).
const SLOTS: usize = 16384;

/// One shard's slots as ranges, by node group id.
pub type ShardSlots = (String, Vec<(u32, u32)>);

/// The slot ranges in AWS's text form (`0-5460,10923-16383`; a single slot alone).
pub fn ranges_text(ranges: &[(u32, u32)]) -> String {
    ranges
        .iter()
        .map(|&(first, last)| match first == last {
            true => first.to_string(),
            false => format!("{first}-{last}"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The ranges of a `Slots` text the model stored (always well formed); junk is skipped.
pub fn parse_ranges(text: &str) -> Vec<(u32, u32)> {
    text.split(',')
        .filter_map(|part| {
            let (first, last) = part.trim().split_once('-').unwrap_or((part, part));
            Some((first.trim().parse().ok()?, last.trim().parse().ok()?))
        })
        .collect()
}

/// Consecutive slots joined into ranges.
pub fn to_ranges(slots: &[u32]) -> Vec<(u32, u32)> {
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for &slot in slots {
        match ranges.last_mut() {
            Some((_, last)) if *last + 1 == slot => *last = slot,
            _ => ranges.push((slot, slot)),
        }
    }
    ranges
}

/// The even share of each of `shards` shards: the first ones get one slot more when the
/// slots do not divide evenly.
fn shares(shards: usize) -> Vec<usize> {
    (0..shards)
        .map(|i| SLOTS / shards + usize::from(i < SLOTS % shards))
        .collect()
}

/// The layout after the change: `kept` shards (in their current order, with their current
/// slots) and then the `added` ones, every shard with an even share. Slots of shards in
/// `current` but not in `kept` are handed out too.
pub fn even_layout(current: &[ShardSlots], kept: &[String], added: &[String]) -> Vec<ShardSlots> {
    let order: Vec<&String> = kept.iter().chain(added).collect();
    let shares = shares(order.len());
    let mut owned: Vec<Vec<u32>> = order
        .iter()
        .map(|id| {
            let ranges = current.iter().find(|(c, _)| c == *id).map(|(_, r)| r);
            let mut slots: Vec<u32> = ranges
                .into_iter()
                .flatten()
                .flat_map(|&(a, b)| a..=b)
                .collect();
            slots.sort_unstable();
            slots
        })
        .collect();
    let mut spare: Vec<u32> = current
        .iter()
        .filter(|(id, _)| !kept.contains(id))
        .flat_map(|(_, ranges)| ranges.iter().flat_map(|&(a, b)| a..=b))
        .collect();
    for (slots, &share) in owned.iter_mut().zip(&shares) {
        if slots.len() > share {
            spare.extend(slots.drain(share..));
        }
    }
    spare.sort_unstable();
    let mut spare = spare.into_iter();
    for (slots, &share) in owned.iter_mut().zip(&shares) {
        while slots.len() < share {
            match spare.next() {
                Some(slot) => slots.push(slot),
                None => break,
            }
        }
        slots.sort_unstable();
    }
    order
        .into_iter()
        .zip(owned)
        .map(|(id, slots)| (id.clone(), to_ranges(&slots)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn count(ranges: &[(u32, u32)]) -> u32 {
        ranges.iter().map(|(a, b)| b - a + 1).sum()
    }

    #[test]
    fn two_to_three_moves_a_third_and_evens_out() {
        let current = vec![
            ("0001".to_string(), vec![(0, 8191)]),
            ("0002".to_string(), vec![(8192, 16383)]),
        ];
        let layout = even_layout(&current, &ids(&["0001", "0002"]), &ids(&["0003"]));
        assert_eq!(layout[0], ("0001".into(), vec![(0, 5461)]));
        assert_eq!(layout[1], ("0002".into(), vec![(8192, 13652)]));
        assert_eq!(layout[2].1, vec![(5462, 8191), (13653, 16383)]);
        let counts: Vec<u32> = layout.iter().map(|(_, r)| count(r)).collect();
        assert_eq!(counts, [5462, 5461, 5461]);
        assert_eq!(ranges_text(&layout[2].1), "5462-8191,13653-16383");
    }

    #[test]
    fn removing_a_shard_hands_its_slots_to_the_others() {
        let current = vec![
            ("0001".to_string(), vec![(0, 5461)]),
            ("0002".to_string(), vec![(8192, 13652)]),
            ("0003".to_string(), vec![(5462, 8191), (13653, 16383)]),
        ];
        let layout = even_layout(&current, &ids(&["0001", "0002"]), &[]);
        assert_eq!(layout[0], ("0001".into(), vec![(0, 8191)]));
        assert_eq!(layout[1], ("0002".into(), vec![(8192, 16383)]));
    }

    #[test]
    fn the_same_count_rebalances_and_every_slot_has_one_owner() {
        let current = vec![
            ("0001".to_string(), vec![(0, 99)]),
            ("0002".to_string(), vec![(100, 16383)]),
        ];
        let layout = even_layout(&current, &ids(&["0001", "0002"]), &[]);
        let mut all: Vec<u32> = layout
            .iter()
            .flat_map(|(_, r)| r.iter().flat_map(|&(a, b)| a..=b))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (0..16384).collect::<Vec<u32>>());
        assert_eq!(count(&layout[0].1), 8192);
        assert_eq!(parse_ranges("0-5,7,9-10"), vec![(0, 5), (7, 7), (9, 10)]);
    }
}
