//! Networks that contain an address, found by one binary search and a walk to the root.
//!
//! CIDR networks are nested or disjoint. Sorted by first address, with the shorter prefix
//! first where two share it, every network that contains an address encloses the last
//! network that starts at or before the address. So a lookup finds that network by binary
//! search and follows parent links (each network's nearest enclosing network) upward,
//! keeping those that contain the address.

use super::keys::{KeyDirectory, mask};

/// Position of no network, for the parent of a top-level network.
const NO_PARENT: u32 = u32::MAX;

/// One distinct network and the range of its records.
#[derive(Debug, Clone)]
struct Network {
    /// First address in the 128-bit key space.
    key: u128,
    /// Prefix length in the 128-bit key space.
    prefix: u8,
    parent: u32,
    records: std::ops::Range<u32>,
}

impl Network {
    fn contains(&self, key: u128) -> bool {
        mask(key, self.prefix) == self.key
    }
}

/// A record stored with the order the lookups return it in.
#[derive(Debug, Clone)]
pub struct Ordered<R> {
    /// Rank of the record's source by name.
    pub source_rank: u32,
    /// Row id in the store.
    pub row: i64,
    pub record: R,
}

/// Records attached to networks, looked up by an address they contain.
#[derive(Debug, Clone)]
pub struct NetworkTable<R> {
    networks: Vec<Network>,
    directory: KeyDirectory,
    records: Vec<Ordered<R>>,
}

impl<R> Default for NetworkTable<R> {
    fn default() -> Self {
        NetworkTable {
            networks: Vec::new(),
            directory: KeyDirectory::default(),
            records: Vec::new(),
        }
    }
}

/// Records of one network before [`NetworkTable::build`] groups them.
#[derive(Debug)]
pub struct NetworkRecord<R> {
    pub key: u128,
    pub prefix: u8,
    pub ordered: Ordered<R>,
}

impl<R> NetworkTable<R> {
    /// Builds the table. A key with bits set past its prefix is masked, as the store's
    /// network keys already are.
    pub fn build(mut entries: Vec<NetworkRecord<R>>) -> NetworkTable<R> {
        for entry in &mut entries {
            entry.key = mask(entry.key, entry.prefix);
        }
        entries.sort_unstable_by_key(|e| (e.key, e.prefix, e.ordered.source_rank, e.ordered.row));
        let mut networks: Vec<Network> = Vec::new();
        let mut records = Vec::with_capacity(entries.len());
        for entry in entries {
            let position = records.len() as u32;
            match networks.last_mut() {
                Some(last) if last.key == entry.key && last.prefix == entry.prefix => {
                    last.records.end = position + 1;
                }
                _ => networks.push(Network {
                    key: entry.key,
                    prefix: entry.prefix,
                    parent: NO_PARENT,
                    records: position..position + 1,
                }),
            }
            records.push(entry.ordered);
        }
        link_parents(&mut networks);
        let directory = KeyDirectory::new(|i| networks[i].key, networks.len());
        NetworkTable {
            networks,
            directory,
            records,
        }
    }

    /// Number of distinct networks.
    pub fn len(&self) -> usize {
        self.networks.len()
    }

    /// Appends the records of every network with a prefix of at least `min_prefix` that
    /// contains `key`, each with its network's key, in no particular order.
    pub fn containing<'a>(
        &'a self,
        key: u128,
        min_prefix: u8,
        found: &mut Vec<(u128, &'a Ordered<R>)>,
    ) {
        let networks = &self.networks;
        let after = self
            .directory
            .count_at_or_below(key, |i| networks[i].key, networks.len());
        let mut current = after.checked_sub(1);
        while let Some(position) = current {
            let network = &self.networks[position];
            if network.prefix >= min_prefix && network.contains(key) {
                let range = network.records.start as usize..network.records.end as usize;
                found.extend(self.records[range].iter().map(|r| (network.key, r)));
            }
            current = (network.parent != NO_PARENT).then_some(network.parent as usize);
        }
    }
}

/// Sets each network's parent to its nearest enclosing network. The networks are sorted by
/// key and then prefix, so the stack contains the chain of networks enclosing the current one.
fn link_parents(networks: &mut [Network]) {
    let mut chain: Vec<usize> = Vec::new();
    for position in 0..networks.len() {
        let key = networks[position].key;
        while let Some(&top) = chain.last() {
            if networks[top].contains(key) {
                break;
            }
            chain.pop();
        }
        if let Some(&top) = chain.last() {
            networks[position].parent = top as u32;
        }
        chain.push(position);
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    /// Key and prefix of a network in the 128-bit key space.
    fn network(text: &str) -> (u128, u8) {
        let net: ipnet::IpNet = text.parse().unwrap();
        match net {
            ipnet::IpNet::V4(v4) => (
                u128::from(v4.network().to_ipv6_mapped()),
                v4.prefix_len() + 96,
            ),
            ipnet::IpNet::V6(v6) => (u128::from(v6.network()), v6.prefix_len()),
        }
    }

    fn key(text: &str) -> u128 {
        match text.parse::<IpAddr>().unwrap() {
            IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) => u128::from(v6),
        }
    }

    fn table(networks: &[&'static str]) -> NetworkTable<&'static str> {
        let entries = networks
            .iter()
            .enumerate()
            .map(|(row, text)| {
                let (key, prefix) = network(text);
                NetworkRecord {
                    key,
                    prefix,
                    ordered: Ordered {
                        source_rank: 0,
                        row: row as i64,
                        record: *text,
                    },
                }
            })
            .collect();
        NetworkTable::build(entries)
    }

    fn matches(table: &NetworkTable<&'static str>, address: &str) -> Vec<&'static str> {
        let min_prefix = if address.contains(':') { 0 } else { 96 };
        let mut found = Vec::new();
        table.containing(key(address), min_prefix, &mut found);
        let mut names: Vec<&str> = found.iter().map(|(_, r)| r.record).collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn nested_networks_all_match() {
        let table = table(&["198.51.0.0/16", "198.51.100.0/24", "198.51.100.128/25"]);
        assert_eq!(
            matches(&table, "198.51.100.200"),
            ["198.51.0.0/16", "198.51.100.0/24", "198.51.100.128/25"]
        );
        assert_eq!(
            matches(&table, "198.51.100.1"),
            ["198.51.0.0/16", "198.51.100.0/24"]
        );
        assert_eq!(matches(&table, "198.51.7.1"), ["198.51.0.0/16"]);
        assert!(matches(&table, "198.52.0.0").is_empty());
    }

    #[test]
    fn sibling_before_address_is_skipped() {
        // The last network starting before 192.0.2.200 is the /26, which ends at .127; its
        // parent, the /24, contains the address.
        let table = table(&["192.0.2.0/24", "192.0.2.0/25", "192.0.2.64/26"]);
        assert_eq!(matches(&table, "192.0.2.200"), ["192.0.2.0/24"]);
        assert_eq!(
            matches(&table, "192.0.2.100"),
            ["192.0.2.0/24", "192.0.2.0/25", "192.0.2.64/26"]
        );
    }

    #[test]
    fn first_and_last_address_match() {
        let table = table(&["203.0.113.0/24"]);
        assert_eq!(matches(&table, "203.0.113.0"), ["203.0.113.0/24"]);
        assert_eq!(matches(&table, "203.0.113.255"), ["203.0.113.0/24"]);
        assert!(matches(&table, "203.0.112.255").is_empty());
        assert!(matches(&table, "203.0.114.0").is_empty());
    }

    #[test]
    fn duplicate_networks_keep_every_record() {
        let table = table(&["192.0.2.0/24", "192.0.2.0/24"]);
        assert_eq!(table.len(), 1);
        assert_eq!(
            matches(&table, "192.0.2.9"),
            ["192.0.2.0/24", "192.0.2.0/24"]
        );
    }

    #[test]
    fn ipv6_networks_and_ipv4_prefix_floor() {
        let table = table(&["2001:db8::/32", "2001:db8:1::/48", "::/0"]);
        assert_eq!(
            matches(&table, "2001:db8:1::5"),
            ["2001:db8:1::/48", "2001:db8::/32", "::/0"]
        );
        assert_eq!(matches(&table, "2001:db8:2::5"), ["2001:db8::/32", "::/0"]);
        // `::/0` contains every key, IPv4-mapped ones too, but an IPv4 lookup only takes
        // networks of IPv4 prefix lengths.
        assert!(matches(&table, "192.0.2.1").is_empty());
    }

    #[test]
    fn host_network_matches_only_its_address() {
        let table = table(&["192.0.2.7/32", "2001:db8::7/128"]);
        assert_eq!(matches(&table, "192.0.2.7"), ["192.0.2.7/32"]);
        assert!(matches(&table, "192.0.2.8").is_empty());
        assert_eq!(matches(&table, "2001:db8::7"), ["2001:db8::7/128"]);
    }
}
