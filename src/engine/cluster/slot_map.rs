//! Which node owns each hash slot, as one node's `CLUSTER NODES` says, and which slots a
//! resharding must move. Pure text handling, unit-tested.

use std::collections::HashMap;

use super::topology::SLOT_COUNT;

/// The owner (node id) of every slot in a `CLUSTER NODES` text; `None` for an unassigned one.
/// Importing and migrating markers (`[93->-id]`, `[93-<-id]`) are not ownership and are
/// skipped.
pub fn slot_owners(cluster_nodes: &str) -> Vec<Option<String>> {
    let mut owners = vec![None; SLOT_COUNT as usize];
    for line in cluster_nodes.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 9 || !fields[2].contains("master") {
            continue;
        }
        for range in &fields[8..] {
            if range.starts_with('[') {
                continue;
            }
            let (first, last) = range.split_once('-').unwrap_or((range, range));
            let (Ok(first), Ok(last)) = (first.parse::<u32>(), last.parse::<u32>()) else {
                continue;
            };
            for slot in first..=last.min(SLOT_COUNT - 1) {
                owners[slot as usize] = Some(fields[0].to_string());
            }
        }
    }
    owners
}

/// The owner by shard index of every slot in `target` (ranges per shard, in shard order).
pub fn target_owners(target: &[Vec<(u32, u32)>]) -> Vec<Option<usize>> {
    let mut owners = vec![None; SLOT_COUNT as usize];
    for (shard, ranges) in target.iter().enumerate() {
        for &(first, last) in ranges {
            for slot in first..=last.min(SLOT_COUNT - 1) {
                owners[slot as usize] = Some(shard);
            }
        }
    }
    owners
}

/// One slot to move: `(slot, from shard, to shard)`, in slot order.
pub type SlotMove = (u32, usize, usize);

/// The moves that turn `current` (owner node id per slot) into `target` (owner shard per
/// slot), given each shard's primary node id by `shard_of`. A slot with no current owner or
/// no target owner is left alone: there is nothing to move it from or to.
pub fn moves(
    current: &[Option<String>],
    target: &[Option<usize>],
    shard_of: &HashMap<String, usize>,
) -> Vec<SlotMove> {
    current
        .iter()
        .zip(target)
        .enumerate()
        .filter_map(|(slot, (owner, wanted))| {
            let from = *shard_of.get(owner.as_ref()?)?;
            let to = (*wanted)?;
            (from != to).then_some((slot as u32, from, to))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIEW: &str = "\
a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5 7 [8->-b2]
b2 127.0.0.1:7002@17002 master - 0 1700000000000 2 connected 6 8-16383 [8-<-a1]
c3 127.0.0.1:7003@17003 slave a1 0 1700000000000 1 connected
";

    #[test]
    fn owners_come_from_primaries_and_skip_migration_markers() {
        let owners = slot_owners(VIEW);
        assert_eq!(owners[0].as_deref(), Some("a1"));
        assert_eq!(owners[6].as_deref(), Some("b2"));
        assert_eq!(owners[7].as_deref(), Some("a1"));
        assert_eq!(owners[8].as_deref(), Some("b2"));
        assert_eq!(owners[16383].as_deref(), Some("b2"));
    }

    #[test]
    fn only_slots_whose_owner_changes_move() {
        let owners = slot_owners(VIEW);
        let target = target_owners(&[vec![(0, 8191)], vec![(8192, 16383)]]);
        let shards = HashMap::from([("a1".to_string(), 0), ("b2".to_string(), 1)]);
        let planned = moves(&owners, &target, &shards);
        assert_eq!(planned[0], (6, 1, 0));
        assert_eq!(planned[1], (8, 1, 0));
        assert_eq!(planned.len(), 8191 - 8 + 2);
        assert!(planned.iter().all(|&(_, from, to)| from == 1 && to == 0));
    }
}
