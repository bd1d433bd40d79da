//! Sync against a publisher on 127.0.0.1: conditional requests, retries, bad downloads,
//! archives, mirrors, and atomic replacement under concurrent lookups.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{Entry, Publisher, gzip, zip};
use tiq_store::Store;
use tiq_sync::{
    FeedOverride, Fetcher, Mirror, Silent, SyncOptions, SyncSettings, SyncStatus, sync_feed,
};

/// Builds an IPsum file with `n` documentation addresses.
fn ipsum(n: u32) -> String {
    let mut text = String::from("# IPsum Threat Intelligence Feed\n# (tests)\n");
    for i in 0..n {
        let net = ["192.0.2", "198.51.100", "203.0.113"][(i / 250) as usize % 3];
        text.push_str(&format!("{net}.{}\t{}\n", i % 250 + 1, i % 7 + 1));
    }
    text
}

/// Settings where the feeds named in `overrides` come from the given locations, with quick
/// retries.
fn settings(overrides: &[(&str, Vec<String>)]) -> SyncSettings {
    let custom: Vec<(String, FeedOverride)> = overrides
        .iter()
        .map(|(name, locations)| {
            (
                name.to_string(),
                FeedOverride {
                    locations: Some(locations.clone()),
                    ..FeedOverride::default()
                },
            )
        })
        .collect();
    let mut settings = SyncSettings::resolve(None, |name| {
        custom.iter().find(|(n, _)| n == name).map(|(_, o)| o)
    });
    settings.retry_delay = Duration::from_millis(10);
    settings.retries = 2;
    settings.timeout = Duration::from_secs(5);
    settings
}

fn sync(dir: &Path, settings: &SyncSettings, feed: &str) -> SyncStatus {
    sync_with(dir, settings, feed, &SyncOptions::default())
}

fn sync_with(dir: &Path, settings: &SyncSettings, feed: &str, options: &SyncOptions) -> SyncStatus {
    let fetcher = Fetcher::new(settings).unwrap();
    sync_feed(
        dir,
        &fetcher,
        settings.feed(feed).unwrap(),
        options,
        &Silent,
    )
    .status
}

fn records(dir: &Path, source: &str) -> usize {
    Store::open(dir)
        .unwrap()
        .sightings_by_source(source, 100_000)
        .unwrap()
        .len()
}

fn updated(status: &SyncStatus) -> u64 {
    match status {
        SyncStatus::Updated { records, .. } => *records,
        other => panic!("expected an update, got {other:?}"),
    }
}

fn failed(status: &SyncStatus) -> &str {
    match status {
        SyncStatus::Failed { error } => error,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn unchanged_feed_costs_one_request() {
    let publisher = Publisher::start();
    publisher.put("ipsum.txt", ipsum(40));
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("ipsum", vec![publisher.url("ipsum.txt")])]);

    assert_eq!(updated(&sync(dir.path(), &settings, "ipsum")), 40);
    let imported_at = Store::open(dir.path()).unwrap().sources().unwrap()[0]
        .imported_at
        .clone();
    std::thread::sleep(Duration::from_millis(1100));

    let second = sync(dir.path(), &settings, "ipsum");
    assert_eq!(second, SyncStatus::Unchanged);
    assert_eq!(publisher.requests("ipsum.txt"), 2);
    assert_eq!(publisher.not_modified("ipsum.txt"), 1);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(
        store.sources().unwrap()[0].imported_at,
        imported_at,
        "nothing was re-imported"
    );
    let state = store.sync_state("ipsum").unwrap().unwrap();
    assert!(state.last_success.is_some());
    assert!(state.last_error.is_none());
    assert_eq!(state.data_as_of.as_deref(), Some("2026-12-01T08:00:00Z"));

    // A changed file is fetched and imported; --force ignores the validators.
    publisher.put("ipsum.txt", ipsum(50));
    assert_eq!(updated(&sync(dir.path(), &settings, "ipsum")), 50);
    let force = SyncOptions {
        force: true,
        ..SyncOptions::default()
    };
    assert_eq!(
        updated(&sync_with(dir.path(), &settings, "ipsum", &force)),
        50
    );
    assert_eq!(records(dir.path(), "ipsum"), 50);
}

#[test]
fn failing_server_keeps_old_data() {
    let publisher = Publisher::start();
    publisher.put("ipsum.txt", ipsum(30));
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("ipsum", vec![publisher.url("ipsum.txt")])]);
    updated(&sync(dir.path(), &settings, "ipsum"));

    publisher.put("ipsum.txt", ipsum(35));
    publisher.fail("ipsum.txt", 503, 10);
    let error = failed(&sync(dir.path(), &settings, "ipsum")).to_string();
    assert!(error.contains("503"), "{error}");
    // One request and two retries.
    assert_eq!(publisher.requests("ipsum.txt"), 1 + 3);
    assert_eq!(records(dir.path(), "ipsum"), 30);
    let state = Store::open(dir.path())
        .unwrap()
        .sync_state("ipsum")
        .unwrap()
        .unwrap();
    assert_eq!(state.failures, 1);
    assert!(state.last_error.unwrap().contains("503"));

    // A server that recovers within the retries costs no failure.
    publisher.fail("ipsum.txt", 502, 1);
    assert_eq!(updated(&sync(dir.path(), &settings, "ipsum")), 35);
    let state = Store::open(dir.path())
        .unwrap()
        .sync_state("ipsum")
        .unwrap()
        .unwrap();
    assert_eq!((state.failures, state.last_error), (0, None));
}

#[test]
fn client_errors_are_not_retried() {
    let publisher = Publisher::start();
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("ipsum", vec![publisher.url("missing.txt")])]);
    let error = failed(&sync(dir.path(), &settings, "ipsum")).to_string();
    assert!(
        error.contains("404") && error.contains("missing.txt"),
        "{error}"
    );
    assert_eq!(publisher.requests("missing.txt"), 1);
}

#[test]
fn redirect_loop_is_not_retried() {
    let publisher = Publisher::start();
    publisher.set(
        "loop.txt",
        Entry {
            redirect_loop: true,
            ..Entry::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("ipsum", vec![publisher.url("loop.txt")])]);
    let error = failed(&sync(dir.path(), &settings, "ipsum")).to_string();
    assert!(error.contains("redirect"), "{error}");
    // One request and the redirects reqwest follows (10 by default), with no retry.
    assert_eq!(publisher.requests("loop.txt"), 11);
}

#[test]
fn timeout_is_retried_then_reported() {
    let publisher = Publisher::start();
    publisher.set(
        "slow.txt",
        Entry {
            body: ipsum(5).into_bytes(),
            delay: Some(Duration::from_secs(3)),
            ..Entry::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(&[("ipsum", vec![publisher.url("slow.txt")])]);
    settings.timeout = Duration::from_millis(300);
    settings.retries = 1;
    let error = failed(&sync(dir.path(), &settings, "ipsum")).to_string();
    assert!(error.contains("timed out"), "{error}");
    assert_eq!(publisher.requests("slow.txt"), 2);

    // A body that stalls half way is a timeout too, not a corrupt download.
    publisher.set(
        "slow.txt",
        Entry {
            body: ipsum(500).into_bytes(),
            delay: Some(Duration::from_secs(3)),
            stall_after: Some(1000),
            ..Entry::default()
        },
    );
    let error = failed(&sync(dir.path(), &settings, "ipsum")).to_string();
    assert!(error.contains("timed out after 1000 bytes"), "{error}");
    assert!(error.contains("sync.timeout"), "{error}");
}

#[test]
fn bad_downloads_keep_earlier_records() {
    let publisher = Publisher::start();
    publisher.put("ipsum.txt", ipsum(20));
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("ipsum", vec![publisher.url("ipsum.txt")])]);
    updated(&sync(dir.path(), &settings, "ipsum"));

    let mut truncated = gzip(ipsum(5000).as_bytes());
    truncated.truncate(truncated.len() / 2);
    let mut junk = vec![0u8; 4096];
    for (i, byte) in junk.iter_mut().enumerate() {
        *byte = (i * 7919 % 251) as u8;
    }
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "an HTML error page",
            b"<!DOCTYPE html>\n<html><head><title>Error</title></head><body>Service unavailable</body></html>\n"
                .to_vec(),
            "expected ipsum",
        ),
        ("a truncated gzip stream", truncated, "ipsum"),
        ("binary junk", junk, "expected ipsum"),
        ("an empty file", Vec::new(), "expected ipsum"),
    ];
    for (what, body, expected) in cases {
        publisher.put("ipsum.txt", body);
        let error = failed(&sync(dir.path(), &settings, "ipsum")).to_string();
        assert!(error.contains(expected), "{what}: {error}");
        assert_eq!(records(dir.path(), "ipsum"), 20, "{what} lost data");
    }
    publisher.put("ipsum.txt", ipsum(21));
    assert_eq!(updated(&sync(dir.path(), &settings, "ipsum")), 21);
}

#[test]
fn mixed_lines_keep_good_ones() {
    let publisher = Publisher::start();
    let mut text = ipsum(40);
    text.push_str("not-an-address\t3\n");
    text.push_str(&"9".repeat(10 * 1024 * 1024));
    text.push('\n');
    text.push_str(&ipsum(40)); // every record twice
    publisher.put("ipsum.txt", text);
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("ipsum", vec![publisher.url("ipsum.txt")])]);
    let fetcher = Fetcher::new(&settings).unwrap();
    let feed = settings.feed("ipsum").unwrap();
    let outcome = sync_feed(dir.path(), &fetcher, feed, &SyncOptions::default(), &Silent);
    match outcome.status {
        SyncStatus::Updated {
            records, rejected, ..
        } => assert_eq!((records, rejected), (40, 2)),
        other => panic!("{other:?}"),
    }
    // Two comment lines and 40 records come before the bad line, then a 10 MiB line.
    assert_eq!(outcome.rejected_lines.len(), 2);
    assert_eq!(outcome.rejected_lines[0].line, 43);
    assert_eq!(outcome.rejected_lines[1].line, 44);
    assert!(outcome.rejected_lines[1].reason.contains("longer than"));
    assert_eq!(outcome.rejected_lines[0].file, "ipsum.txt");
    assert!(outcome.rejected_lines[0].reason.contains("not-an-address"));
}

#[test]
fn large_shrink_needs_consent() {
    let publisher = Publisher::start();
    publisher.put("ipsum.txt", ipsum(200));
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("ipsum", vec![publisher.url("ipsum.txt")])]);
    updated(&sync(dir.path(), &settings, "ipsum"));

    publisher.put("ipsum.txt", ipsum(10));
    let error = failed(&sync(dir.path(), &settings, "ipsum")).to_string();
    assert!(
        error.contains("shrink") && error.contains("--accept-shrink"),
        "{error}"
    );
    assert_eq!(records(dir.path(), "ipsum"), 200);

    let accept = SyncOptions {
        accept_shrink: true,
        ..SyncOptions::default()
    };
    assert_eq!(
        updated(&sync_with(dir.path(), &settings, "ipsum", &accept)),
        10
    );
}

#[test]
fn oversized_download_is_rejected() {
    let publisher = Publisher::start();
    publisher.put("ipsum.txt", ipsum(500));
    let dir = tempfile::tempdir().unwrap();
    let mut settings = settings(&[("ipsum", vec![publisher.url("ipsum.txt")])]);
    settings.max_bytes = 1000;
    let error = failed(&sync(dir.path(), &settings, "ipsum")).to_string();
    assert!(error.contains("limit of 1000 bytes"), "{error}");
}

#[test]
fn zip_archive_keeps_named_folders() {
    let publisher = Publisher::start();
    let archive = zip(&[
        ("C2-Tracker-main/README.md", b"# C2 Tracker\n".as_slice()),
        (
            "C2-Tracker-main/data/Cobalt Strike C2 IPs.txt",
            b"192.0.2.10\n192.0.2.11\n",
        ),
        ("C2-Tracker-main/data/Sliver C2 IPs.txt", b"198.51.100.20\n"),
        ("C2-Tracker-main/tools/list.txt", b"203.0.113.99\n"),
    ]);
    publisher.put("c2.zip", archive);
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("c2-tracker", vec![publisher.url("c2.zip")])]);
    match sync(dir.path(), &settings, "c2-tracker") {
        SyncStatus::Updated {
            records, sources, ..
        } => assert_eq!((records, sources), (3, 2)),
        other => panic!("{other:?}"),
    }
    let store = Store::open(dir.path()).unwrap();
    let names: Vec<String> = store
        .sources()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("c2-tracker/")),
        "{names:?}"
    );
    assert!(
        dir.path()
            .join("feeds/c2-tracker/c2-tracker/data/Sliver C2 IPs.txt")
            .exists()
    );
    assert!(
        !dir.path()
            .join("feeds/c2-tracker/c2-tracker/tools")
            .exists()
    );

    // A family dropped upstream goes from the store with the next change.
    publisher.put(
        "c2.zip",
        zip(&[(
            "C2-Tracker-main/data/Cobalt Strike C2 IPs.txt",
            b"192.0.2.10\n192.0.2.11\n192.0.2.12\n",
        )]),
    );
    let accept = SyncOptions {
        accept_shrink: true,
        ..SyncOptions::default()
    };
    updated(&sync_with(dir.path(), &settings, "c2-tracker", &accept));
    let names: Vec<String> = Store::open(dir.path())
        .unwrap()
        .sources()
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");

    // A member whose path climbs out of the folder refuses the whole archive.
    publisher.put(
        "c2.zip",
        zip(&[
            ("C2-Tracker-main/data/Sliver C2 IPs.txt", b"198.51.100.20\n"),
            ("C2-Tracker-main/../../escape.txt", b"192.0.2.66\n"),
        ]),
    );
    let error = failed(&sync(dir.path(), &settings, "c2-tracker")).to_string();
    assert!(error.starts_with("c2-tracker.zip: "), "{error}");
    assert!(error.contains("escape.txt"), "{error}");
    assert!(error.contains("unsafe path"), "{error}");
    assert!(!dir.path().join("escape.txt").exists());
    assert_eq!(
        Store::open(dir.path()).unwrap().sources().unwrap()[0].records,
        3,
        "earlier records kept"
    );
}

#[test]
fn mirror_directory_serves_offline_site() {
    let mirror = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(mirror.path().join("ipsum")).unwrap();
    std::fs::write(mirror.path().join("ipsum/ipsum.txt"), ipsum(12)).unwrap();
    let mut settings =
        SyncSettings::resolve(Some(&Mirror::Dir(mirror.path().to_path_buf())), |_| None);
    settings.retries = 0;
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(updated(&sync(dir.path(), &settings, "ipsum")), 12);
    assert_eq!(sync(dir.path(), &settings, "ipsum"), SyncStatus::Unchanged);

    // A feed missing from the mirror is an error naming the file.
    let error = failed(&sync(dir.path(), &settings, "tor-exits")).to_string();
    assert!(error.contains("tor-exit-nodes.lst"), "{error}");
}

#[test]
fn feed_weight_scales_sightings() {
    let publisher = Publisher::start();
    publisher.put("ipsum.txt", ipsum(3));
    let dir = tempfile::tempdir().unwrap();
    let custom = FeedOverride {
        locations: Some(vec![publisher.url("ipsum.txt")]),
        weight: Some(0.5),
        ..FeedOverride::default()
    };
    let settings = SyncSettings::resolve(None, |name| (name == "ipsum").then_some(&custom));
    updated(&sync(dir.path(), &settings, "ipsum"));
    let store = Store::open(dir.path()).unwrap();
    let source = &store.sources().unwrap()[0];
    assert_eq!(
        (source.feed.as_deref(), source.weight),
        (Some("ipsum"), 0.5)
    );
    assert!(source.origin.contains("/ipsum.txt"), "{}", source.origin);
}

#[test]
fn lookups_during_sync_never_see_a_mix() {
    let publisher = Publisher::start();
    publisher.put("ipsum.txt", ipsum(600));
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("ipsum", vec![publisher.url("ipsum.txt")])]);
    updated(&sync(dir.path(), &settings, "ipsum"));

    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let done = done.clone();
        let dir = dir.path().to_path_buf();
        std::thread::spawn(move || {
            let store = Store::open_read_only(&dir).unwrap();
            let mut seen = std::collections::BTreeSet::new();
            while !done.load(Ordering::Relaxed) {
                seen.insert(store.sightings_by_source("ipsum", 100_000).unwrap().len());
            }
            seen
        })
    };
    for round in 0..6 {
        let n = if round % 2 == 0 { 700 } else { 600 };
        publisher.put("ipsum.txt", ipsum(n));
        updated(&sync(dir.path(), &settings, "ipsum"));
    }
    done.store(true, Ordering::Relaxed);
    let seen = reader.join().unwrap();
    assert!(
        seen.iter().all(|n| *n == 600 || *n == 700),
        "a reader saw a half-loaded source: {seen:?}"
    );
}

/// Builds a Spamhaus DROP JSON file listing `networks`, with its closing metadata line.
fn drop_json(networks: &[&str]) -> String {
    let mut text = String::new();
    for (i, network) in networks.iter().enumerate() {
        text.push_str(&format!(
            "{{\"cidr\":\"{network}\",\"sblid\":\"SBL{i:06}\",\"rir\":\"ripencc\"}}\n"
        ));
    }
    text.push_str(&format!(
        "{{\"type\":\"metadata\",\"timestamp\":1764576000,\"size\":1,\"records\":{},\"copyright\":\"test\",\"terms\":\"test\"}}\n",
        networks.len()
    ));
    text
}

#[test]
fn partly_applied_feed_says_so() {
    let publisher = Publisher::start();
    publisher.put(
        "drop_v4.json",
        drop_json(&["192.0.2.0/25", "198.51.100.0/24"]),
    );
    publisher.put("drop_v6.json", drop_json(&["2001:db8:1::/48"]));
    let dir = tempfile::tempdir().unwrap();
    let locations = vec![publisher.url("drop_v4.json"), publisher.url("drop_v6.json")];
    let settings = settings(&[("spamhaus-drop", locations)]);
    assert_eq!(updated(&sync(dir.path(), &settings, "spamhaus-drop")), 3);

    publisher.put(
        "drop_v4.json",
        drop_json(&["192.0.2.0/25", "198.51.100.0/24", "203.0.113.0/24"]),
    );
    // The metadata counts two networks where the file lists one: a cut-short download.
    let short = drop_json(&["2001:db8:1::/48"]).replace("\"records\":1", "\"records\":2");
    publisher.put("drop_v6.json", short);
    let error = failed(&sync(dir.path(), &settings, "spamhaus-drop")).to_string();
    assert!(
        error.starts_with("partly applied: 1 updated (spamhaus-drop)"),
        "{error}"
    );
    assert!(error.contains("drop_v6.json"), "{error}");
    assert!(!error.contains(".partial"), "{error}");
    assert_eq!(records(dir.path(), "spamhaus-drop"), 3);
    assert_eq!(records(dir.path(), "spamhaus-drop-v6"), 1);
}

#[test]
fn sources_missing_from_an_archive_need_consent() {
    let publisher = Publisher::start();
    let big: String = (1..=40).map(|i| format!("198.51.100.{i}\n")).collect();
    publisher.put(
        "c2.zip",
        zip(&[
            ("C2-Tracker-main/data/Big C2 IPs.txt", big.as_bytes()),
            ("C2-Tracker-main/data/Small C2 IPs.txt", b"192.0.2.1\n"),
        ]),
    );
    let dir = tempfile::tempdir().unwrap();
    let settings = settings(&[("c2-tracker", vec![publisher.url("c2.zip")])]);
    assert_eq!(updated(&sync(dir.path(), &settings, "c2-tracker")), 41);

    // The larger family's file disappears: 1 record of 41 would be left.
    publisher.put(
        "c2.zip",
        zip(&[("C2-Tracker-main/data/Small C2 IPs.txt", b"192.0.2.1\n")]),
    );
    let error = failed(&sync(dir.path(), &settings, "c2-tracker")).to_string();
    assert!(error.contains("shrink from 41 to 1"), "{error}");
    assert!(error.contains("--accept-shrink"), "{error}");
    let count = || Store::open(dir.path()).unwrap().sources().unwrap().len();
    assert_eq!(count(), 2, "the missing family is kept");

    let accept = SyncOptions {
        accept_shrink: true,
        ..SyncOptions::default()
    };
    assert_eq!(
        updated(&sync_with(dir.path(), &settings, "c2-tracker", &accept)),
        1
    );
    assert_eq!(count(), 1, "retired once accepted");
}
