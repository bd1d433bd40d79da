//! Addresses as 128-bit keys, the store's key space, and a search over sorted keys.
//!
//! IPv6 addresses are keys as they are, IPv4 addresses in their IPv4-mapped form
//! (`::ffff:a.b.c.d`), so one order sorts both and IPv4 keys sit in one contiguous block.

use std::net::{IpAddr, Ipv6Addr};

/// Key of the first IPv4 address, `::ffff:0.0.0.0`.
const V4_FIRST: u128 = 0xffff << 32;

/// Number of IPv4 buckets in a [`KeyDirectory`], one per /16.
const V4_BUCKETS: usize = 1 << 16;

pub fn address_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// Turns a key back into an address, IPv4 where it is IPv4-mapped.
pub fn key_address(key: u128) -> IpAddr {
    let v6 = Ipv6Addr::from(key);
    v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
}

pub fn is_v4_key(key: u128) -> bool {
    key >> 32 == 0xffff
}

/// Clears every bit of `key` past the first `prefix` bits.
pub fn mask(key: u128, prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        128.. => key,
        p => key & (u128::MAX << (128 - u32::from(p))),
    }
}

/// Positions in a sorted list of keys where each IPv4 /16 begins, so that a search for an
/// IPv4 key looks at the keys of its /16 only. A binary search over the whole list would
/// touch about twenty cache lines spread over megabytes.
#[derive(Debug, Clone, Default)]
pub struct KeyDirectory {
    /// Entry `i` is the number of keys below the first address of the `i`-th /16; the last
    /// entry counts the keys up to the last IPv4 address. Empty for an empty list.
    v4_bounds: Vec<u32>,
}

impl KeyDirectory {
    /// Builds the directory of `keys`, which must be sorted.
    pub fn new(keys: impl Fn(usize) -> u128, len: usize) -> KeyDirectory {
        if len == 0 {
            return KeyDirectory::default();
        }
        let mut v4_bounds = Vec::with_capacity(V4_BUCKETS + 1);
        let mut position = 0;
        for bucket in 0..=V4_BUCKETS as u128 {
            let first = V4_FIRST + (bucket << 16);
            while position < len && keys(position) < first {
                position += 1;
            }
            v4_bounds.push(position as u32);
        }
        KeyDirectory { v4_bounds }
    }

    /// Returns how many of the sorted keys are at or below `key`, like `partition_point`.
    pub fn count_at_or_below(&self, key: u128, keys: impl Fn(usize) -> u128, len: usize) -> usize {
        let (mut low, mut high) = (0, len);
        if is_v4_key(key) && !self.v4_bounds.is_empty() {
            let bucket = ((key - V4_FIRST) >> 16) as usize;
            low = self.v4_bounds[bucket] as usize;
            high = self.v4_bounds[bucket + 1] as usize;
        }
        // Every key before `low` is below `key`, and every key from `high` on is above it.
        while low < high {
            let middle = low + (high - low) / 2;
            if keys(middle) <= key {
                low = middle + 1;
            } else {
                high = middle;
            }
        }
        low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> u128 {
        address_key(text.parse().unwrap())
    }

    #[test]
    fn directory_counts_like_a_binary_search() {
        let mut keys: Vec<u128> = [
            "::1",
            "0.0.0.0",
            "1.2.3.4",
            "1.2.255.255",
            "1.3.0.0",
            "198.51.100.7",
            "255.255.255.255",
            "2001:db8::",
            "ffff::1",
        ]
        .iter()
        .map(|text| key(text))
        .collect();
        keys.sort_unstable();
        let directory = KeyDirectory::new(|i| keys[i], keys.len());
        let probes = [
            "::",
            "::1",
            "::2",
            "0.0.0.0",
            "0.0.0.1",
            "1.2.3.3",
            "1.2.3.4",
            "1.2.200.1",
            "1.3.0.0",
            "100.1.1.1",
            "255.255.255.255",
            "2000::",
            "2001:db8::",
            "ffff::1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ];
        for probe in probes {
            let expected = keys.partition_point(|k| *k <= key(probe));
            let found = directory.count_at_or_below(key(probe), |i| keys[i], keys.len());
            assert_eq!(found, expected, "{probe}");
        }
    }

    #[test]
    fn empty_directory_finds_nothing() {
        let directory = KeyDirectory::new(|_| 0, 0);
        assert_eq!(directory.count_at_or_below(key("1.2.3.4"), |_| 0, 0), 0);
    }

    #[test]
    fn keys_round_trip() {
        for text in ["192.0.2.1", "2001:db8::1", "::ffff:0:1"] {
            let address: IpAddr = text.parse().unwrap();
            let round = key_address(address_key(address));
            assert_eq!(address_key(round), address_key(address), "{text}");
        }
        assert_eq!(key_address(key("192.0.2.1")).to_string(), "192.0.2.1");
        assert!(is_v4_key(key("0.0.0.0")));
        assert!(is_v4_key(key("255.255.255.255")));
        assert!(!is_v4_key(key("2001:db8::1")));
        assert_eq!(mask(key("2001:db8::1"), 0), 0);
        assert_eq!(mask(key("2001:db8::1"), 128), key("2001:db8::1"));
        assert_eq!(mask(key("192.0.2.77"), 120), key("192.0.2.0"));
    }
}
