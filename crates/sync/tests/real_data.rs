//! Sync of the real open feeds in `TIQ_SHARED_DATA`, published on 127.0.0.1 with ETag
//! support. Run with `cargo test --release -p tiq-sync -- --ignored`.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use common::{Publisher, zip};
use tiq_store::Store;
use tiq_sync::{FeedOverride, Fetcher, Silent, SyncOptions, SyncSettings, SyncStatus, sync_feed};

fn shared_data() -> PathBuf {
    let dir = std::env::var_os("TIQ_SHARED_DATA")
        .map(PathBuf::from)
        .expect("set TIQ_SHARED_DATA to the folder of real feed data");
    assert!(
        dir.is_dir(),
        "TIQ_SHARED_DATA={} is not a folder",
        dir.display()
    );
    dir
}

/// Reads every regular file under `dir`, as (path relative to `dir`, content).
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(next) = stack.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Builds a repository-style archive of the files under `dir`, at `prefix` inside a top folder.
fn archive_of(dir: &Path, top: &str, prefix: &str) -> Vec<u8> {
    let files = files_under(dir);
    let names: Vec<String> = files
        .iter()
        .map(|(path, _)| format!("{top}/{prefix}{path}"))
        .collect();
    let members: Vec<(&str, &[u8])> = names
        .iter()
        .zip(&files)
        .map(|(name, (_, body))| (name.as_str(), body.as_slice()))
        .collect();
    zip(&members)
}

/// Publishes the shared data the way each catalog feed's publisher lays it out, and
/// returns the feeds with their loopback locations.
fn publish(publisher: &Publisher, data: &Path) -> Vec<(&'static str, Vec<String>)> {
    let file = |path: &str| {
        let url = format!("files/{path}");
        publisher.put(&url, std::fs::read(data.join(path)).unwrap());
        publisher.url(&url)
    };
    let archive = |name: &str, body: Vec<u8>| {
        let url = format!("archives/{name}");
        publisher.put(&url, body);
        publisher.url(&url)
    };
    // The DROP feed comes as IPv4 and IPv6 files. The sample data has no IPv6 file, so the
    // publisher serves a small one in the same layout.
    publisher.put(
        "files/drop_v6.json",
        "{\"cidr\":\"2001:db8:dead::/48\",\"sblid\":\"SBL000001\",\"rir\":\"ripencc\"}\n\
         {\"type\":\"metadata\",\"timestamp\":1764576000,\"size\":1,\"records\":1,\"copyright\":\"test\",\"terms\":\"test\"}\n",
    );
    let ip = "01-malicious-ip";
    let web = "02-malicious-domain-url";
    let vul = "06-vulnerabilities";
    vec![
        ("ipsum", vec![file(&format!("{ip}/ipsum/ipsum.txt"))]),
        (
            "spamhaus-drop",
            vec![
                file(&format!("{ip}/spamhaus/drop_v4.json")),
                publisher.url("files/drop_v6.json"),
            ],
        ),
        (
            "feodotracker",
            vec![file(&format!("{ip}/feodotracker/ipblocklist.csv"))],
        ),
        (
            "tor-exits",
            vec![file(&format!("{ip}/tor/tor-exit-nodes.lst"))],
        ),
        (
            "maltrail-mass-scanner",
            vec![
                file(&format!("{ip}/maltrail/mass_scanner.txt")),
                file(&format!("{ip}/maltrail/mass_scanner_cidr.txt")),
            ],
        ),
        (
            "c2-tracker",
            vec![archive(
                "c2-tracker.zip",
                archive_of(
                    &data.join(ip).join("c2-tracker"),
                    "C2-Tracker-main",
                    "data/",
                ),
            )],
        ),
        (
            "maltrail",
            vec![archive(
                "maltrail.zip",
                archive_of(
                    &data.join(web).join("maltrail"),
                    "maltrail-master",
                    "trails/static/",
                ),
            )],
        ),
        (
            "urlhaus",
            vec![file(&format!("{web}/urlhaus/urlhaus_recent.csv"))],
        ),
        (
            "urlhaus-domains",
            vec![file(&format!("{web}/urlhaus/urlhaus-filter-domains.txt"))],
        ),
        (
            "phishtank",
            vec![file(&format!("{web}/phishtank/verified_online_subset.csv"))],
        ),
        (
            "eset-malware-ioc",
            vec![archive(
                "eset.zip",
                archive_of(
                    &data.join("03-malicious-hash/eset-malware-ioc"),
                    "malware-ioc-master",
                    "",
                ),
            )],
        ),
        (
            "misp-warninglists",
            vec![archive(
                "warninglists.zip",
                archive_of(
                    &data.join("04-benign-allowlists/misp-warninglists/lists"),
                    "misp-warninglists-main",
                    "lists/",
                ),
            )],
        ),
        (
            "mitre-attack",
            vec![file(
                "05-context/mitre-attack/enterprise-attack-v18.1.full.json.gz",
            )],
        ),
        (
            "misp-galaxy",
            vec![archive(
                "galaxy.zip",
                archive_of(
                    &data.join("05-context/misp-galaxy/clusters"),
                    "misp-galaxy-main",
                    "clusters/",
                ),
            )],
        ),
        (
            "cisa-kev",
            vec![file(&format!(
                "{vul}/cisa-kev/known_exploited_vulnerabilities.json"
            ))],
        ),
        ("epss", vec![file(&format!("{vul}/epss/epss_kev_nvd.csv"))]),
        (
            "exploitdb",
            vec![file(&format!("{vul}/exploitdb/exploitdb_mapping_cve.json"))],
        ),
        (
            "vulnrichment",
            vec![archive(
                "vulnrichment.zip",
                archive_of(
                    &data.join(vul).join("cve-json5-vulnrichment/records"),
                    "vulnrichment-develop",
                    "",
                ),
            )],
        ),
        (
            "geo-country",
            vec![file("07-geo-asn/geo-whois-asn-country.mmdb")],
        ),
        (
            "asn",
            vec![
                file("07-geo-asn/asn-ipv4.csv.gz"),
                file("07-geo-asn/asn-ipv6.csv.gz"),
            ],
        ),
    ]
}

#[test]
#[ignore = "needs TIQ_SHARED_DATA"]
fn published_feeds_sync_then_stay_unchanged() {
    let data = shared_data();
    let publisher = Publisher::start();
    let feeds = publish(&publisher, &data);
    let overrides: Vec<(String, FeedOverride)> = feeds
        .iter()
        .map(|(name, locations)| {
            (
                name.to_string(),
                FeedOverride {
                    enabled: Some(true),
                    locations: Some(locations.clone()),
                    ..FeedOverride::default()
                },
            )
        })
        .collect();
    let settings = SyncSettings::resolve(None, |name| {
        overrides.iter().find(|(n, _)| n == name).map(|(_, o)| o)
    });
    let fetcher = Fetcher::new(&settings).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let mut total = 0;
    let mut failures = Vec::new();
    for (name, _) in &feeds {
        let feed = settings.feed(name).unwrap();
        let outcome = sync_feed(dir.path(), &fetcher, feed, &SyncOptions::default(), &Silent);
        match outcome.status {
            SyncStatus::Updated { records, .. } => total += records,
            other => failures.push(format!("{name}: {other:?}")),
        }
    }
    let first = started.elapsed();
    assert!(
        failures.is_empty(),
        "feeds that did not sync: {failures:#?}"
    );
    assert!(total > 1_000_000, "only {total} records");

    let started = Instant::now();
    for (name, locations) in &feeds {
        let feed = settings.feed(name).unwrap();
        let outcome = sync_feed(dir.path(), &fetcher, feed, &SyncOptions::default(), &Silent);
        assert_eq!(outcome.status, SyncStatus::Unchanged, "{name}");
        for location in locations {
            let path = location
                .split_once("/files/")
                .or(location.split_once("/archives/"));
            let path = path.map(|(_, rest)| rest).unwrap();
            let prefix = if location.contains("/files/") {
                "files/"
            } else {
                "archives/"
            };
            assert!(
                publisher.not_modified(&format!("{prefix}{path}")) >= 1,
                "{location}"
            );
        }
    }
    let second = started.elapsed();
    eprintln!(
        "real-data sync: {total} records from {} feeds in {:.1} s; unchanged sync in {:.2} s",
        feeds.len(),
        first.as_secs_f64(),
        second.as_secs_f64()
    );

    // Lookups use the synced data: the first address of the IPsum file is listed.
    let first_ip = std::fs::read_to_string(data.join("01-malicious-ip/ipsum/ipsum.txt"))
        .unwrap()
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .and_then(|l| l.split_whitespace().next())
        .unwrap()
        .to_string();
    let store = Store::open(dir.path()).unwrap();
    let found = store
        .sightings_by_values(std::slice::from_ref(&first_ip))
        .unwrap();
    assert!(
        found.iter().any(|s| s.source == "ipsum"),
        "{first_ip}: {found:?}"
    );
}
