use std::net::IpAddr;

use tiq_model::{
    AllowCategory, AllowEntry, AllowMatch, AsnRange, ClaimKind, Sighting, Subject, ThreatType,
};
use tiq_store::{ScanScope, SourceMeta, Store};

use super::IpIndex;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn meta(name: &str) -> SourceMeta {
    SourceMeta {
        name: name.to_string(),
        provider: format!("{name} provider"),
        title: "Test feed".to_string(),
        format: "ip-list".to_string(),
        reference: None,
        origin: format!("/feeds/{name}.txt"),
        file: None,
        feed: None,
    }
}

fn sighting(subject: Subject) -> Sighting {
    let mut sighting = Sighting::new(subject, ClaimKind::Malicious, ThreatType::C2, 0.5);
    sighting.labels = vec!["port:443".to_string()];
    sighting.first_seen = Some("2026-01-02".to_string());
    sighting
}

fn network(text: &str) -> Subject {
    Subject::Network(text.parse().unwrap())
}

/// Creates a store with one source per `(name, subjects)` pair, each subject listed once.
fn store_with(sources: &[(&str, Vec<Subject>)]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    for (name, subjects) in sources {
        let mut writer = store.begin_replace(&meta(name)).unwrap();
        for subject in subjects {
            writer.sighting(&sighting(subject.clone())).unwrap();
        }
        writer.commit(0).unwrap();
    }
    (dir, store)
}

/// Runs `check` on the whole index and on the index of `address` alone, which must agree.
fn check_both(store: &Store, address: &str, check: impl Fn(&IpIndex, IpAddr)) {
    let address = ip(address);
    let whole = IpIndex::build(store, ScanScope::All).unwrap();
    check(&whole, address);
    let scoped = IpIndex::build(store, ScanScope::Address(address)).unwrap();
    check(&scoped, address);
}

fn values(sightings: &[tiq_store::StoredSighting]) -> Vec<(String, String)> {
    sightings
        .iter()
        .map(|s| (s.source.clone(), s.value.clone()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn exact_address_hit_by_source_name() {
    let listed = Subject::Ip(ip("192.0.2.1"));
    let (_dir, store) = store_with(&[
        ("b-feed", vec![listed.clone()]),
        ("a-feed", vec![listed, Subject::Ip(ip("192.0.2.3"))]),
    ]);
    check_both(&store, "192.0.2.1", |index, address| {
        let found = index.at(address).sightings();
        assert_eq!(
            values(&found),
            pairs(&[("a-feed", "192.0.2.1"), ("b-feed", "192.0.2.1")])
        );
        assert_eq!(found[0].kind, "ip");
        assert_eq!(found[0].provider, "a-feed provider");
        assert_eq!(found[0].labels, ["port:443"]);
        assert_eq!(found[0].first_seen.as_deref(), Some("2026-01-02"));
        assert_eq!(found[0].last_seen, None);
        assert_eq!(found[0].weight, 0.5);
        assert!(index.sightings_in_networks(address).is_empty());
    });
    check_both(&store, "192.0.2.2", |index, address| {
        assert!(index.at(address).sightings().is_empty());
    });
}

#[test]
fn nested_networks_by_source_then_network() {
    let (_dir, store) = store_with(&[
        ("b-feed", vec![network("198.51.100.0/25")]),
        (
            "a-feed",
            vec![network("198.51.100.0/24"), network("198.51.0.0/16")],
        ),
    ]);
    check_both(&store, "198.51.100.7", |index, address| {
        assert_eq!(
            values(&index.sightings_in_networks(address)),
            pairs(&[
                ("a-feed", "198.51.0.0/16"),
                ("a-feed", "198.51.100.0/24"),
                ("b-feed", "198.51.100.0/25"),
            ])
        );
        assert_eq!(index.sightings_in_networks(address)[0].kind, "network");
    });
    check_both(&store, "198.51.100.200", |index, address| {
        assert_eq!(
            values(&index.sightings_in_networks(address)),
            pairs(&[("a-feed", "198.51.0.0/16"), ("a-feed", "198.51.100.0/24")])
        );
    });
    check_both(&store, "198.51.255.255", |index, address| {
        assert_eq!(
            values(&index.sightings_in_networks(address)),
            pairs(&[("a-feed", "198.51.0.0/16")])
        );
    });
    check_both(&store, "198.52.0.0", |index, address| {
        assert!(index.sightings_in_networks(address).is_empty());
    });
}

#[test]
fn ipv6_address_and_network() {
    let (_dir, store) = store_with(&[(
        "feed",
        vec![Subject::Ip(ip("2001:db8::1")), network("2001:db8:1::/48")],
    )]);
    check_both(&store, "2001:db8::1", |index, address| {
        assert_eq!(
            values(&index.at(address).sightings()),
            pairs(&[("feed", "2001:db8::1")])
        );
        assert!(index.sightings_in_networks(address).is_empty());
    });
    check_both(&store, "2001:db8:1:ffff::9", |index, address| {
        assert_eq!(
            values(&index.sightings_in_networks(address)),
            pairs(&[("feed", "2001:db8:1::/48")])
        );
    });
    check_both(&store, "2001:db8:2::1", |index, address| {
        assert!(index.sightings_in_networks(address).is_empty());
    });
}

#[test]
fn allow_entries_by_address_and_network() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let entries = [
        (
            AllowMatch::Network("203.0.113.0/24".parse().unwrap()),
            AllowCategory::Cloud,
        ),
        (
            AllowMatch::Network("203.0.113.53/32".parse().unwrap()),
            AllowCategory::PublicResolver,
        ),
        (
            AllowMatch::Exact("203.0.113.9".into()),
            AllowCategory::Sinkhole,
        ),
        (
            AllowMatch::Hostname("example.com".into()),
            AllowCategory::TopSite,
        ),
    ];
    let mut writer = store.begin_replace(&meta("warninglist")).unwrap();
    for (matcher, category) in entries {
        let entry = AllowEntry {
            matcher,
            category,
            rank: None,
        };
        writer.allow(&entry).unwrap();
    }
    writer.commit(0).unwrap();

    check_both(&store, "203.0.113.53", |index, address| {
        let found = index.allows_in_networks(address);
        let found: Vec<(&str, &str)> = found
            .iter()
            .map(|e| (e.value.as_str(), e.match_kind.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("203.0.113.0/24", "network"),
                ("203.0.113.53/32", "network")
            ]
        );
        assert!(index.at(address).allows().is_empty());
    });
    check_both(&store, "203.0.113.9", |index, address| {
        let exact = index.at(address).allows();
        assert_eq!(exact.len(), 1);
        assert_eq!(exact[0].value, "203.0.113.9");
        assert_eq!(exact[0].category, AllowCategory::Sinkhole);
        assert_eq!(exact[0].source, "warninglist");
        assert_eq!(index.allows_in_networks(address).len(), 1);
    });
    check_both(&store, "203.0.114.1", |index, address| {
        assert!(index.allows_in_networks(address).is_empty());
    });
}

#[test]
fn asn_range_bounds_and_families() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let ranges = [
        ("192.0.2.0", "192.0.2.127", 64500),
        ("192.0.2.192", "192.0.2.255", 64502),
        ("2001:db8::", "2001:db8::ffff", 64501),
    ];
    let mut writer = store.begin_replace(&meta("asn")).unwrap();
    for (start, end, asn) in ranges {
        let range = AsnRange {
            start: ip(start),
            end: ip(end),
            asn,
            organization: format!("Org {asn}"),
        };
        writer.asn_range(&range).unwrap();
    }
    writer.commit(0).unwrap();

    let expected = [
        ("192.0.2.0", Some(64500)),
        ("192.0.2.127", Some(64500)),
        ("192.0.2.128", None),
        ("192.0.2.191", None),
        ("192.0.2.192", Some(64502)),
        ("192.0.2.255", Some(64502)),
        ("192.0.1.255", None),
        ("192.0.3.0", None),
        ("2001:db8::", Some(64501)),
        ("2001:db8::ffff", Some(64501)),
        ("2001:db8::1:0", None),
        // The range that starts last before it is an IPv4 one.
        ("2000::1", None),
    ];
    for (address, asn) in expected {
        check_both(&store, address, |index, address| {
            let found = index.asn_for(address);
            assert_eq!(found.as_ref().map(|m| m.asn), asn, "{address}");
            if let Some(found) = found {
                assert_eq!(found.organization, format!("Org {}", found.asn));
                assert_eq!(&*found.source, "asn");
                assert!(found.start <= address, "{address}");
                assert!(address <= found.end, "{address}");
            }
        });
    }
}

#[test]
fn urls_hosted_on_address_by_url() {
    let urls = [
        "http://192.0.2.8/b.sh",
        "http://192.0.2.8:8080/a.sh",
        "http://192.0.2.80/c.sh",
    ];
    let subjects = urls.iter().map(|u| Subject::Url(u.to_string())).collect();
    let (_dir, store) = store_with(&[("urls", subjects)]);
    check_both(&store, "192.0.2.8", |index, address| {
        let found: Vec<&str> = index
            .at(address)
            .hosted_urls()
            .iter()
            .map(|u| &*u.value)
            .collect();
        assert_eq!(
            found,
            ["http://192.0.2.8/b.sh", "http://192.0.2.8:8080/a.sh"]
        );
        assert!(index.at(address).sightings().is_empty());
    });
}
