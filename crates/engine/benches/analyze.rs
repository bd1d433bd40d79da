//! In-process latency of one analysis (parse, lookups, scoring, text) per indicator type,
//! and the throughput of IP analyses over a mix of addresses.
//!
//! Uses the fixture feeds by default; set `TIQ_BENCH_FEEDS` to a feed folder (for example
//! the real samples) to measure against a realistic store.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::IpNet;
use tiq_engine::{AddressScope, Engine, ImportOptions, address_scope, import};
use tiq_model::{IndicatorKind, Lang};
use tiq_store::Store;

/// Addresses of each kind drawn from the store for the mix; fewer when the store has fewer.
const DRAWN_PER_KIND: usize = 1000;
/// Unlisted public and private addresses added to the mix.
const GENERATED_PER_KIND: usize = 500;

fn bench_analyze(c: &mut Criterion) {
    let feeds = std::env::var_os("TIQ_BENCH_FEEDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds"));
    let data = tempfile::tempdir().expect("temporary directory");
    import::import(data.path(), &[feeds], &ImportOptions::default()).expect("fixture import");
    let started = Instant::now();
    let engine = Engine::open(data.path()).expect("engine");
    engine.wait_for_ip_index();
    eprintln!(
        "engine open with the IP index: {} ms",
        started.elapsed().as_millis()
    );

    let cases = [
        ("ip_listed", IndicatorKind::Ip, "198.51.100.10"),
        ("ip_unlisted", IndicatorKind::Ip, "8.8.4.4"),
        ("domain", IndicatorKind::Domain, "www.example.org"),
        (
            "url",
            IndicatorKind::Url,
            "http://198.51.100.20:50140/bin.sh",
        ),
        (
            "hash",
            IndicatorKind::Hash,
            "0a4479f7ab080e8504c4f00b29a67068aa4479f7ab080e8504c4f00b29a67068",
        ),
    ];
    let mut group = c.benchmark_group("analyze");
    for (name, kind, value) in cases {
        group.bench_function(name, |b| {
            b.iter(|| engine.analyze(kind, value, Lang::En).expect("report"))
        });
    }
    group.finish();

    let store = Store::open(data.path()).expect("store");
    let mix = address_mix(&store);
    drop(store);
    eprintln!("IP mix: {} addresses", mix.len());
    let mut group = c.benchmark_group("analyze_ip_mix");
    group.throughput(Throughput::Elements(mix.len() as u64));
    group.sample_size(10);
    group.bench_function("mix", |b| {
        b.iter(|| {
            for address in &mix {
                engine
                    .analyze(IndicatorKind::Ip, address, Lang::En)
                    .expect("report");
            }
        })
    });
    group.finish();
}

/// Builds a repeatable mix of listed addresses, addresses inside listed and known-benign
/// networks, and unlisted public and private addresses, in an interleaved order.
fn address_mix(store: &Store) -> Vec<String> {
    let mut kinds = vec![
        listed_addresses(store),
        listed_network_addresses(store),
        allow_network_addresses(store),
        unlisted_addresses(),
        private_addresses(),
    ];
    let mut mix = Vec::new();
    while kinds.iter().any(|k| !k.is_empty()) {
        for kind in &mut kinds {
            mix.extend(kind.pop());
        }
    }
    mix
}

fn listed_addresses(store: &Store) -> Vec<String> {
    let mut addresses = Vec::new();
    for claim in ["malicious", "suspicious", "context"] {
        let sightings = store
            .sample_sightings(claim, DRAWN_PER_KIND * 3, 1)
            .expect("sample");
        let ips = sightings.into_iter().filter(|s| s.kind == "ip");
        addresses.extend(ips.map(|s| s.value).take(DRAWN_PER_KIND / 3));
    }
    addresses
}

fn listed_network_addresses(store: &Store) -> Vec<String> {
    let mut networks = Vec::new();
    for source in store.sources().expect("sources") {
        let sightings = store
            .sightings_by_source(&source.name, DRAWN_PER_KIND)
            .expect("sightings");
        networks.extend(
            sightings
                .into_iter()
                .filter(|s| s.kind == "network")
                .map(|s| s.value),
        );
    }
    inside(networks)
}

fn allow_network_addresses(store: &Store) -> Vec<String> {
    let mut networks = Vec::new();
    for category in ["public_resolver", "cloud", "cdn", "research_scanner"] {
        let entries = store
            .sample_allow(category, None, DRAWN_PER_KIND, 1)
            .expect("sample");
        let in_networks = entries.into_iter().filter(|e| e.match_kind == "network");
        networks.extend(in_networks.map(|e| e.value).take(DRAWN_PER_KIND / 4));
    }
    inside(networks)
}

/// Returns an address in the middle of each network.
fn inside(networks: Vec<String>) -> Vec<String> {
    networks
        .iter()
        .filter_map(|text| text.parse::<IpNet>().ok())
        .map(|net| match net {
            IpNet::V4(v4) => {
                let first = u32::from(v4.network());
                let last = u32::from(v4.broadcast());
                IpAddr::V4(Ipv4Addr::from(first + (last - first) / 2)).to_string()
            }
            IpNet::V6(v6) => {
                let first = u128::from(v6.network());
                let last = u128::from(v6.broadcast());
                IpAddr::V6(Ipv6Addr::from(first + (last - first) / 2)).to_string()
            }
        })
        .take(DRAWN_PER_KIND)
        .collect()
}

/// Public addresses from a fixed pseudo-random sequence, one in ten of them IPv6. Some may
/// happen to be listed.
fn unlisted_addresses() -> Vec<String> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut addresses = Vec::new();
    while addresses.len() < GENERATED_PER_KIND {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let address = if addresses.len() % 10 == 9 {
            let bits = (0x2a00_u128 << 112) | u128::from(state);
            IpAddr::V6(Ipv6Addr::from(bits))
        } else {
            IpAddr::V4(Ipv4Addr::from((state >> 32) as u32))
        };
        if address_scope(address) == AddressScope::Public {
            addresses.push(address.to_string());
        }
    }
    addresses
}

fn private_addresses() -> Vec<String> {
    (0..GENERATED_PER_KIND)
        .map(|i| {
            let low = (i % 250) as u8 + 1;
            match i % 4 {
                0 => format!("10.{}.0.{low}", i / 250),
                1 => format!("192.168.{}.{low}", i / 250),
                2 => format!("172.16.{}.{low}", i / 250),
                _ => format!("fd00::{i:x}"),
            }
        })
        .collect()
}

criterion_group!(benches, bench_analyze);
criterion_main!(benches);
