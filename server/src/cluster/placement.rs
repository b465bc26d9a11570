//! Which live node should own an account: rendezvous (highest random
//! weight) hashing.
//!
//! Every node scores every (account, node) pair with the same hash and the
//! highest score wins. Each node decides alone, from the list of live nodes
//! it read from Postgres, and all agree. Accounts spread evenly, and when a
//! node joins or leaves only the accounts it wins (or held) move: about
//! 1/n of them, never a reshuffle of the rest.

use sha2::{Digest, Sha256};

/// The node among `nodes` that should own `account_id`; `None` when no
/// node is alive.
pub(crate) fn preferred(account_id: i64, nodes: &[String]) -> Option<&str> {
    nodes
        .iter()
        .max_by_key(|node| (score(account_id, node), node.as_str()))
        .map(String::as_str)
}

/// A stable 64-bit score of the pair: the first eight bytes of SHA-256 of
/// the account id and the node's name. Stable across processes, versions
/// and machines (unlike std's randomly seeded hasher), which every node's
/// agreement rests on.
fn score(account_id: i64, node: &str) -> u64 {
    let mut hash = Sha256::new();
    hash.update(account_id.to_be_bytes());
    hash.update(node.as_bytes());
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_node_agrees_whatever_the_order() {
        let a = nodes(&["a", "b", "c"]);
        let b = nodes(&["c", "a", "b"]);
        for account in 1..500 {
            assert_eq!(preferred(account, &a), preferred(account, &b));
        }
        assert_eq!(preferred(1, &[]), None);
    }

    #[test]
    fn accounts_spread_evenly() {
        let three = nodes(&["a", "b", "c"]);
        let mut counts = std::collections::HashMap::new();
        for account in 1..=3000 {
            *counts.entry(preferred(account, &three)).or_insert(0) += 1;
        }
        for (node, count) in counts {
            assert!(
                (850..=1150).contains(&count),
                "{node:?} got {count} of 3000"
            );
        }
    }

    #[test]
    fn a_joining_node_takes_only_what_it_wins() {
        let before = nodes(&["a", "b", "c"]);
        let after = nodes(&["a", "b", "c", "d"]);
        let mut moved = 0;
        for account in 1..=4000 {
            let (old, new) = (preferred(account, &before), preferred(account, &after));
            if old != new {
                assert_eq!(new, Some("d"), "an account moved between old nodes");
                moved += 1;
            }
        }
        // About a quarter moves to the new node.
        assert!((800..=1200).contains(&moved), "{moved} of 4000 moved");
    }
}
