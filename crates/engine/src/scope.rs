//! Address scope: whether public threat intelligence applies to an address at all.

use std::net::IpAddr;
use std::sync::LazyLock;

use ipnet::IpNet;

/// Scope of an address, from the IANA special-purpose address registries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressScope {
    Public,
    /// RFC 1918 IPv4 and RFC 4193 unique-local IPv6.
    Private,
    /// RFC 6598 carrier-grade NAT space.
    SharedNat,
    Loopback,
    LinkLocal,
    Multicast,
    Unspecified,
    Broadcast,
    /// RFC 5737 and RFC 3849 documentation ranges.
    Documentation,
    /// RFC 2544 benchmarking range.
    Benchmarking,
    /// Other reserved ranges (240.0.0.0/4, 0.0.0.0/8, IETF protocol assignments).
    Reserved,
}

impl AddressScope {
    pub fn name(self) -> &'static str {
        match self {
            AddressScope::Public => "public",
            AddressScope::Private => "private",
            AddressScope::SharedNat => "shared_nat",
            AddressScope::Loopback => "loopback",
            AddressScope::LinkLocal => "link_local",
            AddressScope::Multicast => "multicast",
            AddressScope::Unspecified => "unspecified",
            AddressScope::Broadcast => "broadcast",
            AddressScope::Documentation => "documentation",
            AddressScope::Benchmarking => "benchmarking",
            AddressScope::Reserved => "reserved",
        }
    }

    /// Checks whether the address is only meaningful inside one network, so no public feed can
    /// describe it. Documentation and reserved ranges are looked up as usual:
    /// the lookup is local and some feeds do list them.
    pub fn is_internal(self) -> bool {
        matches!(
            self,
            AddressScope::Private
                | AddressScope::SharedNat
                | AddressScope::Loopback
                | AddressScope::LinkLocal
                | AddressScope::Multicast
                | AddressScope::Unspecified
                | AddressScope::Broadcast
        )
    }

    /// Standard that defines the range, for summaries.
    pub fn standard(self) -> Option<&'static str> {
        match self {
            AddressScope::Private => Some("RFC 1918 / RFC 4193"),
            AddressScope::SharedNat => Some("RFC 6598"),
            AddressScope::Loopback => Some("RFC 1122 / RFC 4291"),
            AddressScope::LinkLocal => Some("RFC 3927 / RFC 4291"),
            AddressScope::Multicast => Some("RFC 5771 / RFC 4291"),
            AddressScope::Documentation => Some("RFC 5737 / RFC 3849"),
            AddressScope::Benchmarking => Some("RFC 2544"),
            AddressScope::Reserved => Some("RFC 6890"),
            _ => None,
        }
    }
}

const RANGES: &[(&str, AddressScope)] = &[
    ("0.0.0.0/32", AddressScope::Unspecified),
    ("0.0.0.0/8", AddressScope::Reserved),
    ("10.0.0.0/8", AddressScope::Private),
    ("100.64.0.0/10", AddressScope::SharedNat),
    ("127.0.0.0/8", AddressScope::Loopback),
    ("169.254.0.0/16", AddressScope::LinkLocal),
    ("172.16.0.0/12", AddressScope::Private),
    ("192.0.0.0/24", AddressScope::Reserved),
    ("192.0.2.0/24", AddressScope::Documentation),
    ("192.168.0.0/16", AddressScope::Private),
    ("198.18.0.0/15", AddressScope::Benchmarking),
    ("198.51.100.0/24", AddressScope::Documentation),
    ("203.0.113.0/24", AddressScope::Documentation),
    ("224.0.0.0/4", AddressScope::Multicast),
    ("255.255.255.255/32", AddressScope::Broadcast),
    ("240.0.0.0/4", AddressScope::Reserved),
    ("::/128", AddressScope::Unspecified),
    ("::1/128", AddressScope::Loopback),
    ("64:ff9b:1::/48", AddressScope::Private),
    ("100::/64", AddressScope::Reserved),
    ("2001:db8::/32", AddressScope::Documentation),
    ("2001:2::/48", AddressScope::Benchmarking),
    ("fc00::/7", AddressScope::Private),
    ("fe80::/10", AddressScope::LinkLocal),
    ("ff00::/8", AddressScope::Multicast),
];

/// Returns the scope of an address; the most specific registered range wins. An IPv6
/// address that embeds an IPv4 one (NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) takes the
/// embedded address's scope when that one is internal.
pub fn address_scope(ip: IpAddr) -> AddressScope {
    if let Some(embedded) = embedded_ipv4(ip) {
        let scope = table_scope(IpAddr::V4(embedded));
        if scope.is_internal() {
            return scope;
        }
    }
    table_scope(ip)
}

fn embedded_ipv4(ip: IpAddr) -> Option<std::net::Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    let segments = v6.segments();
    let bits = u128::from(v6);
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(std::net::Ipv4Addr::from(bits as u32));
    }
    if segments[0] == 0x2002 {
        return Some(std::net::Ipv4Addr::from((bits >> 80) as u32));
    }
    None
}

/// The range table parsed once, on first use.
static PARSED_RANGES: LazyLock<Vec<(IpNet, AddressScope)>> = LazyLock::new(|| {
    RANGES
        .iter()
        .map(|(net, scope)| {
            (
                net.parse()
                    .expect("the range table contains valid networks"),
                *scope,
            )
        })
        .collect()
});

fn table_scope(ip: IpAddr) -> AddressScope {
    PARSED_RANGES
        .iter()
        .filter(|(net, _)| net.contains(&ip))
        .max_by_key(|(net, _)| net.prefix_len())
        .map(|(_, scope)| *scope)
        .unwrap_or(AddressScope::Public)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(text: &str) -> AddressScope {
        address_scope(text.parse().unwrap())
    }

    #[test]
    fn private_and_public_addresses() {
        assert_eq!(scope("10.1.2.3"), AddressScope::Private);
        assert_eq!(scope("172.31.255.1"), AddressScope::Private);
        assert_eq!(scope("172.32.0.1"), AddressScope::Public);
        assert_eq!(scope("192.168.1.1"), AddressScope::Private);
        assert_eq!(scope("8.8.8.8"), AddressScope::Public);
        assert_eq!(scope("fd00::1"), AddressScope::Private);
        assert_eq!(scope("2606:4700::1111"), AddressScope::Public);
    }

    #[test]
    fn special_ranges() {
        assert_eq!(scope("127.0.0.1"), AddressScope::Loopback);
        assert_eq!(scope("::1"), AddressScope::Loopback);
        assert_eq!(scope("169.254.1.1"), AddressScope::LinkLocal);
        assert_eq!(scope("fe80::1"), AddressScope::LinkLocal);
        assert_eq!(scope("100.64.0.1"), AddressScope::SharedNat);
        assert_eq!(scope("0.0.0.0"), AddressScope::Unspecified);
        assert_eq!(scope("0.1.2.3"), AddressScope::Reserved);
        assert_eq!(scope("255.255.255.255"), AddressScope::Broadcast);
        assert_eq!(scope("250.1.1.1"), AddressScope::Reserved);
        assert_eq!(scope("239.1.1.1"), AddressScope::Multicast);
        assert_eq!(scope("192.0.2.1"), AddressScope::Documentation);
        assert_eq!(scope("2001:db8::1"), AddressScope::Documentation);
        assert!(scope("10.0.0.1").is_internal());
        assert_eq!(scope("64:ff9b::a00:1"), AddressScope::Private);
        assert_eq!(scope("2002:a00:1::"), AddressScope::Private);
        assert_eq!(scope("64:ff9b::808:808"), AddressScope::Public);
        assert!(!scope("192.0.2.1").is_internal());
    }
}
