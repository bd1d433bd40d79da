//! Byte keys that make address order and network containment SQL comparisons.
//!
//! Every address is stored as 16 big-endian bytes: IPv6 as is, IPv4 as its IPv4-mapped
//! IPv6 form (`::ffff:a.b.c.d`). A network is its first address plus a prefix length in the
//! same 128-bit space (an IPv4 /24 is stored with prefix 120). BLOBs compare with memcmp, so
//! `start <= key` orders addresses correctly.

use std::net::IpAddr;

use ipnet::IpNet;

/// Number of bits an IPv4 prefix is shifted by in the 128-bit space.
const V4_OFFSET: u8 = 96;

pub fn address_key(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// Returns the network's first address key and its prefix in the 128-bit space.
pub fn network_key(net: IpNet) -> ([u8; 16], u8) {
    match net.trunc() {
        IpNet::V4(v4) => (
            address_key(IpAddr::V4(v4.network())),
            v4.prefix_len() + V4_OFFSET,
        ),
        IpNet::V6(v6) => (address_key(IpAddr::V6(v6.network())), v6.prefix_len()),
    }
}

/// Masks an address key to `prefix` bits.
pub fn mask(key: [u8; 16], prefix: u8) -> [u8; 16] {
    let bits = u128::from_be_bytes(key);
    let masked = match prefix {
        0 => 0,
        128.. => bits,
        p => bits & (u128::MAX << (128 - u32::from(p))),
    };
    masked.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_network_key_and_mask() {
        let net: IpNet = "192.0.2.0/24".parse().unwrap();
        let (key, prefix) = network_key(net);
        assert_eq!(prefix, 120);
        let host = address_key("192.0.2.77".parse().unwrap());
        assert_eq!(mask(host, prefix), key);
        let outside = address_key("192.0.3.1".parse().unwrap());
        assert_ne!(mask(outside, prefix), key);
    }

    #[test]
    fn ipv6_key_order_and_masks() {
        let low = address_key("2001:db8::1".parse().unwrap());
        let high = address_key("2001:db8::2".parse().unwrap());
        assert!(low < high);
        assert_eq!(mask(low, 0), [0; 16]);
        assert_eq!(mask(low, 128), low);
    }
}
