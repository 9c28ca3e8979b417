//! What a Redis Cluster node says about the cluster (`CLUSTER NODES`, `CLUSTER INFO`), and
//! whether that matches the topology the engine expects. Pure text handling, unit-tested.

use std::collections::HashMap;
use std::net::SocketAddrV4;

/// Every hash slot of a Redis Cluster.
pub const SLOT_COUNT: u32 = 16384;

/// One node as the engine expects every other node to see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedNode {
    pub node_id: String,
    pub addr: SocketAddrV4,
    /// `None` for a shard primary; its primary's node id for a replica.
    pub replica_of: Option<String>,
}

/// One line of `CLUSTER NODES`:
/// `<id> <ip:port@cport[,hostname]> <flags> <master> <ping> <pong> <epoch> <link> <slot>...`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SeenNode<'a> {
    addr: Option<SocketAddrV4>,
    flags: Vec<&'a str>,
    master: &'a str,
}

fn parse_nodes(text: &str) -> HashMap<&str, SeenNode<'_>> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [id, address, flags, master, ..] = fields.as_slice() else {
                return None;
            };
            let addr = address
                .split(['@', ','])
                .next()
                .and_then(|host_port| host_port.parse().ok());
            let node = SeenNode {
                addr,
                flags: flags.split(',').collect(),
                master,
            };
            Some((*id, node))
        })
        .collect()
}

/// Why one node's view differs from `expected`, or `None` when it agrees: every expected node
/// known at its address, healthy (not `fail`, `fail?`, `handshake` or `noaddr`), with its role and
/// its primary.
pub fn disagreement(cluster_nodes: &str, expected: &[ExpectedNode]) -> Option<String> {
    let seen = parse_nodes(cluster_nodes);
    for node in expected {
        let Some(view) = seen.get(node.node_id.as_str()) else {
            return Some(format!("{} is unknown", node.node_id));
        };
        if view.addr != Some(node.addr) {
            return Some(format!(
                "{} is at {:?}, not {}",
                node.node_id, view.addr, node.addr
            ));
        }
        let unhealthy = ["fail", "fail?", "handshake", "noaddr"];
        if let Some(flag) = view.flags.iter().find(|f| unhealthy.contains(f)) {
            return Some(format!("{} is flagged {flag}", node.node_id));
        }
        let agrees = match &node.replica_of {
            None => view.flags.contains(&"master"),
            Some(primary) => view.flags.contains(&"slave") && view.master == primary,
        };
        if !agrees {
            return Some(format!(
                "{} is seen as {} of {}, expected a {}",
                node.node_id,
                view.flags.join(","),
                view.master,
                node.replica_of
                    .as_ref()
                    .map_or("primary".to_string(), |p| format!("replica of {p}"))
            ));
        }
    }
    None
}

/// True when `CLUSTER INFO` says the cluster is serving and every slot is assigned to a healthy
/// node, among `known_nodes` nodes.
pub fn is_serving(cluster_info: &str, known_nodes: usize) -> bool {
    let fields: HashMap<&str, &str> = cluster_info
        .lines()
        .filter_map(|line| line.trim().split_once(':'))
        .collect();
    let slots = SLOT_COUNT.to_string();
    let known = known_nodes.to_string();
    fields.get("cluster_state") == Some(&"ok")
        && fields.get("cluster_slots_ok") == Some(&slots.as_str())
        && fields.get("cluster_known_nodes") == Some(&known.as_str())
}

/// Slot ranges split evenly over `shards` the way `redis-cli --cluster create` (and AWS) do:
/// 3 shards get `0-5460`, `5461-10922`, `10923-16383`.
pub fn even_slot_ranges(shards: usize) -> Vec<(u32, u32)> {
    let per_shard = f64::from(SLOT_COUNT) / shards as f64;
    let mut first = 0u32;
    (0..shards)
        .map(|index| {
            let last = if index + 1 == shards {
                SLOT_COUNT - 1
            } else {
                ((index + 1) as f64 * per_shard - 1.0).round() as u32
            };
            let range = (first, last);
            first = last + 1;
            range
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIEW: &str = "\
a1 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:7002@17002 master - 0 1700000000000 2 connected 5461-16383
c3 127.0.0.1:7003@17003,host slave a1 0 1700000000000 1 connected
";

    fn expected(id: &str, port: u16, replica_of: Option<&str>) -> ExpectedNode {
        ExpectedNode {
            node_id: id.into(),
            addr: SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, port),
            replica_of: replica_of.map(str::to_string),
        }
    }

    #[test]
    fn a_view_that_matches_agrees() {
        let all = [
            expected("a1", 7001, None),
            expected("b2", 7002, None),
            expected("c3", 7003, Some("a1")),
        ];
        assert_eq!(disagreement(VIEW, &all), None);
    }

    #[test]
    fn wrong_roles_ports_failures_and_unknown_nodes_disagree() {
        let replica_of_b2 = [expected("c3", 7003, Some("b2"))];
        assert!(
            disagreement(VIEW, &replica_of_b2)
                .unwrap()
                .contains("expected a replica of b2")
        );
        let primary = [expected("c3", 7003, None)];
        assert!(disagreement(VIEW, &primary).is_some());
        let moved = [expected("b2", 7999, None)];
        assert!(
            disagreement(VIEW, &moved)
                .unwrap()
                .contains("not 127.0.0.1:7999")
        );
        let unknown = [expected("zz", 7004, None)];
        assert!(disagreement(VIEW, &unknown).unwrap().contains("unknown"));
        let failed = VIEW.replace(
            "b2 127.0.0.1:7002@17002 master",
            "b2 127.0.0.1:7002@17002 master,fail?",
        );
        let b2 = [expected("b2", 7002, None)];
        assert!(disagreement(&failed, &b2).unwrap().contains("fail?"));
    }

    #[test]
    fn serving_needs_ok_every_slot_and_every_node() {
        let info = "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\ncluster_known_nodes:6\r\n";
        assert!(is_serving(info, 6));
        assert!(!is_serving(info, 7));
        assert!(!is_serving(&info.replace("state:ok", "state:fail"), 6));
        assert!(!is_serving(
            &info.replace("slots_ok:16384", "slots_ok:10000"),
            6
        ));
    }

    #[test]
    fn slots_split_like_redis_cli() {
        assert_eq!(
            even_slot_ranges(3),
            vec![(0, 5460), (5461, 10922), (10923, 16383)]
        );
        assert_eq!(even_slot_ranges(1), vec![(0, 16383)]);
        let fifteen = even_slot_ranges(15);
        assert_eq!(fifteen.len(), 15);
        assert_eq!(fifteen[0].0, 0);
        assert_eq!(fifteen[14].1, 16383);
        assert!(fifteen.windows(2).all(|w| w[0].1 + 1 == w[1].0));
    }
}
