//! Checks the in-memory IP index against per-address scans of the store built from the
//! shared real-data folder. Ignored by default because the folder lives outside the
//! repository; CI runs it with `cargo test -- --ignored`.
//!
//! The folder is `$TIQ_SHARED_DATA`, or else `shared/data` beside the workspace.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use tiq_engine::{Engine, ImportOptions, IpIndexing, import};
use tiq_model::{IndicatorKind, Lang};
use tiq_store::Store;

fn data_dir() -> PathBuf {
    let dir = match std::env::var_os("TIQ_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    assert!(
        dir.is_dir(),
        "real-data folder {} not found: set TIQ_SHARED_DATA to the folder that holds the shared \
         feed samples (01-malicious-ip, 02-malicious-domain-url, …)",
        dir.display()
    );
    dir
}

/// Listed addresses, the first, middle and last address of listed and known-benign
/// networks, and private and unlisted addresses.
fn addresses(store: &Store) -> Vec<String> {
    let mut addresses: Vec<String> = Vec::new();
    for claim in ["malicious", "suspicious", "context", "benign"] {
        let sightings = store.sample_sightings(claim, 600, 3).unwrap();
        let ips = sightings.into_iter().filter(|s| s.kind == "ip");
        addresses.extend(ips.map(|s| s.value).take(150));
    }
    let mut networks = Vec::new();
    for source in ["spamhaus-drop", "maltrail/mass_scanner_cidr"] {
        let sightings = store.sightings_by_source(source, 100).unwrap();
        networks.extend(sightings.into_iter().map(|s| s.value));
    }
    for category in [
        "public_resolver",
        "cloud",
        "cdn",
        "research_scanner",
        "crawler",
    ] {
        let entries = store.sample_allow(category, None, 300, 3).unwrap();
        let in_networks = entries.into_iter().filter(|e| e.match_kind == "network");
        networks.extend(in_networks.map(|e| e.value).take(60));
    }
    for network in networks.iter().filter_map(|n| n.parse::<IpNet>().ok()) {
        let hosts = [network.network(), network.broadcast(), middle(network)];
        addresses.extend(hosts.iter().map(IpAddr::to_string));
    }
    addresses.extend(
        [
            "10.1.2.3",
            "192.168.0.1",
            "fd00::1",
            "8.8.8.8",
            "1.1.1.1",
            "9.9.9.9",
            "2001:4860:4860::8888",
            "5.6.7.8",
            "2a00:1450::1",
        ]
        .map(str::to_string),
    );
    addresses.sort();
    addresses.dedup();
    addresses
}

fn middle(network: IpNet) -> IpAddr {
    match network {
        IpNet::V4(v4) => {
            let first = u32::from(v4.network());
            let last = u32::from(v4.broadcast());
            IpAddr::V4((first + (last - first) / 2).into())
        }
        IpNet::V6(v6) => {
            let first = u128::from(v6.network());
            let last = u128::from(v6.broadcast());
            IpAddr::V6((first + (last - first) / 2).into())
        }
    }
}

/// Returns the first and last address of the ASN range in a report's profile, written as
/// `start - end` or as a network.
fn range_bounds(network: &str) -> Vec<String> {
    match network.split_once(" - ") {
        Some((start, end)) => vec![start.to_string(), end.to_string()],
        None => network
            .parse::<IpNet>()
            .map(|n| vec![n.network().to_string(), n.broadcast().to_string()])
            .unwrap_or_default(),
    }
}

#[test]
#[ignore = "needs the shared real-data folder (TIQ_SHARED_DATA)"]
fn ip_index_matches_address_scans() {
    let data = tempfile::tempdir().unwrap();
    import::import(data.path(), &[data_dir()], &ImportOptions::default()).unwrap();
    let indexed = Engine::open(data.path()).unwrap();
    let scanned = Engine::open_with(data.path(), IpIndexing::Off).unwrap();
    assert!(indexed.wait_for_ip_index(), "the IP index failed to build");

    let mut addresses = addresses(&Store::open(data.path()).unwrap());
    let mut bounds = Vec::new();
    let mut compared = 0;
    for round in 0..2 {
        for address in &addresses {
            let whole = indexed
                .analyze(IndicatorKind::Ip, address, Lang::En)
                .unwrap();
            let scan = scanned
                .analyze(IndicatorKind::Ip, address, Lang::En)
                .unwrap();
            assert_eq!(whole, scan, "{address}");
            compared += 1;
            if round == 0
                && let Some(network) = &whole.profile.network
            {
                bounds.extend(range_bounds(network));
            }
        }
        // The second round looks up the bounds of the ASN ranges the first one found.
        bounds.sort();
        bounds.dedup();
        addresses = std::mem::take(&mut bounds);
    }
    assert!(compared > 1000, "only {compared} addresses compared");
}
