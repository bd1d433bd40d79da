//! Parses every file of the shared real-data folder, and validates the kept files (vulnerability
//! and knowledge files, MaxMind DB files). The tests are ignored by default because the folder
//! lives outside the repository; CI runs them with `cargo test -- --ignored`.
//!
//! The folder is `$TIQ_SHARED_DATA`, or else `shared/data` beside the workspace. All tests share
//! one pass over the folder, which prints a per-file summary table.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tiq_feeds::{
    FeedError, Format, ParseStats, Sink, SinkError, UnsupportedReason, inspect, mmdb_info, parse,
    validate, walk,
};
use tiq_model::{AllowEntry, AllowMatch, AsnRange, Sighting};

/// Files whose rejected lines may reach 1 %, with the reason.
const REJECTION_EXCEPTIONS: &[(&str, &str)] = &[
    (
        "maltrail/suspicious/onion.txt",
        "1 of 56 trails is the bare suffix `.onion`, which is not a domain name",
    ),
    (
        "eset-malware-ioc/modiloader/samples.sha1",
        "1 of 13 lines is a SHA-1 with a stray 's' in the upstream file",
    ),
    (
        "misp-events/nukesped_lazarus__lazarus_3cx.json",
        "1 of 21 indicators is a tcp:// URL, and only http and https URLs are stored",
    ),
];

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

/// Counts records by kind and keeps what the assertions need.
#[derive(Default)]
struct CountingSink {
    sightings: u64,
    allows: u64,
    ranges: u64,
    allowed_networks: Vec<ipnet::IpNet>,
    first_rejections: Vec<(u64, String)>,
}

impl Sink for CountingSink {
    fn sighting(&mut self, _: Sighting) -> Result<(), SinkError> {
        self.sightings += 1;
        Ok(())
    }

    fn allow(&mut self, entry: AllowEntry) -> Result<(), SinkError> {
        self.allows += 1;
        if let AllowMatch::Network(net) = entry.matcher {
            self.allowed_networks.push(net);
        }
        Ok(())
    }

    fn asn_range(&mut self, _: AsnRange) -> Result<(), SinkError> {
        self.ranges += 1;
        Ok(())
    }

    fn reject(&mut self, line: u64, reason: String) {
        if self.first_rejections.len() < 3 {
            self.first_rejections.push((line, reason));
        }
    }
}

/// The outcome for one file.
enum Outcome {
    Parsed {
        format: Format,
        source: String,
        stats: ParseStats,
        sightings: u64,
        allows: u64,
        allowed_networks: Vec<ipnet::IpNet>,
        first_rejections: Vec<(u64, String)>,
    },
    Kept {
        format: Format,
        source: String,
        stats: ParseStats,
        first_rejections: Vec<(u64, String)>,
    },
    Unsupported(UnsupportedReason),
    Failed(FeedError),
}

struct Run {
    root: PathBuf,
    outcomes: BTreeMap<String, Outcome>,
}

impl Run {
    fn outcome(&self, relative: &str) -> &Outcome {
        self.outcomes.get(relative).unwrap_or_else(|| {
            panic!(
                "{relative} is not in the real-data folder {}",
                self.root.display()
            )
        })
    }

    fn stats(&self, relative: &str) -> ParseStats {
        match self.outcome(relative) {
            Outcome::Parsed { stats, .. } | Outcome::Kept { stats, .. } => *stats,
            _ => panic!("{relative} was neither parsed nor validated"),
        }
    }

    fn source(&self, relative: &str) -> String {
        match self.outcome(relative) {
            Outcome::Parsed { source, .. } | Outcome::Kept { source, .. } => source.clone(),
            _ => panic!("{relative} was neither parsed nor validated"),
        }
    }
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let root = data_dir();
        let files = walk(std::slice::from_ref(&root)).expect("the real-data folder can be walked");
        let mut outcomes = BTreeMap::new();
        for file in files {
            let relative = file
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            outcomes.insert(relative, process(&file));
        }
        let run = Run { root, outcomes };
        print_summary(&run);
        run
    })
}

fn process(path: &Path) -> Outcome {
    let feed = match inspect(path) {
        Ok(feed) => feed,
        Err(unsupported) => return Outcome::Unsupported(unsupported.reason),
    };
    if feed.format.is_kept_file() {
        return validate_kept(feed);
    }
    let mut sink = CountingSink::default();
    match parse(&feed, &mut sink) {
        Ok(stats) => Outcome::Parsed {
            format: feed.format,
            source: feed.source.name,
            stats,
            sightings: sink.sightings,
            allows: sink.allows,
            allowed_networks: sink.allowed_networks,
            first_rejections: sink.first_rejections,
        },
        Err(error) => Outcome::Failed(error),
    }
}

fn validate_kept(feed: tiq_feeds::FeedFile) -> Outcome {
    let mut first_rejections = Vec::new();
    let mut keep_first = |line, reason| {
        if first_rejections.len() < 3 {
            first_rejections.push((line, reason));
        }
    };
    match validate(&feed, &mut keep_first) {
        Ok(stats) => Outcome::Kept {
            format: feed.format,
            source: feed.source.name,
            stats,
            first_rejections,
        },
        Err(error) => Outcome::Failed(error),
    }
}

/// Files, records, rejected and skipped entries of one format.
#[derive(Default)]
struct Totals {
    files: usize,
    records: u64,
    rejected: u64,
    skipped: u64,
}

fn print_summary(run: &Run) {
    println!(
        "{:<78} {:<18} {:>9} {:>8} {:>7} {:>8}",
        "file", "format", "records", "rejected", "%", "skipped"
    );
    let mut unsupported: BTreeMap<String, usize> = BTreeMap::new();
    let mut per_format: BTreeMap<&str, Totals> = BTreeMap::new();
    for (relative, outcome) in &run.outcomes {
        match outcome {
            Outcome::Parsed { format, stats, .. } | Outcome::Kept { format, stats, .. } => {
                let share = rejected_share(stats) * 100.0;
                println!(
                    "{relative:<78} {:<18} {:>9} {:>8} {share:>6.2}% {:>8}",
                    format.name(),
                    stats.records,
                    stats.rejected,
                    stats.skipped
                );
                let totals = per_format.entry(format.name()).or_default();
                totals.files += 1;
                totals.records += stats.records;
                totals.rejected += stats.rejected;
                totals.skipped += stats.skipped;
            }
            Outcome::Unsupported(reason) => {
                *unsupported.entry(reason.to_string()).or_default() += 1;
            }
            Outcome::Failed(error) => println!("{relative:<78} FAILED: {error}"),
        }
    }

    println!("\nper format: files, records, rejected, skipped");
    for (format, totals) in per_format {
        println!(
            "  {format:<20} {:>5} {:>10} {:>8} {:>8}",
            totals.files, totals.records, totals.rejected, totals.skipped
        );
    }
    println!("\nunsupported files by reason:");
    for (reason, count) in unsupported {
        println!("  {count:>5}  {reason}");
    }
}

fn rejected_share(stats: &ParseStats) -> f64 {
    let seen = stats.records + stats.rejected;
    if seen == 0 {
        0.0
    } else {
        stats.rejected as f64 / seen as f64
    }
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn every_file_parses_or_is_unsupported() {
    let failures: Vec<String> = run()
        .outcomes
        .iter()
        .filter_map(|(relative, outcome)| match outcome {
            Outcome::Failed(error) => Some(format!("{relative}: {error}")),
            _ => None,
        })
        .collect();
    assert!(
        failures.is_empty(),
        "files that failed to parse:\n{}",
        failures.join("\n")
    );
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn rejections_stay_under_one_percent() {
    let mut too_many = Vec::new();
    for (relative, outcome) in &run().outcomes {
        let (Outcome::Parsed {
            stats,
            first_rejections,
            ..
        }
        | Outcome::Kept {
            stats,
            first_rejections,
            ..
        }) = outcome
        else {
            continue;
        };
        let excepted = REJECTION_EXCEPTIONS
            .iter()
            .any(|(part, _)| relative.contains(part));
        if !excepted && rejected_share(stats) >= 0.01 {
            too_many.push(format!(
                "{relative}: {} of {} rejected, first: {first_rejections:?}",
                stats.rejected,
                stats.records + stats.rejected
            ));
        }
    }
    assert!(
        too_many.is_empty(),
        "files with 1 % or more rejected lines:\n{}",
        too_many.join("\n")
    );
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn record_counts_match_manifests() {
    let run = run();
    // (file, records, rejected lines) as the manifests count them.
    let expected = [
        ("01-malicious-ip/ipsum/ipsum.txt", 120_430, 0),
        ("01-malicious-ip/ipsum/levels-5.txt", 1_413, 0),
        ("01-malicious-ip/spamhaus/drop_v4.json", 1_406, 0),
        ("01-malicious-ip/spamhaus/drop.txt", 1_406, 0),
        ("01-malicious-ip/tor/tor-exit-nodes.lst", 1_746, 0),
        ("01-malicious-ip/feodotracker/ipblocklist.csv", 28, 0),
        ("01-malicious-ip/c2-tracker/all.txt", 2_347, 0),
        (
            "01-malicious-ip/c2-tracker/Cobalt_Strike_C2_IPs.txt",
            160,
            0,
        ),
        ("01-malicious-ip/maltrail/mass_scanner_cidr.txt", 1_106, 0),
        (
            "02-malicious-domain-url/urlhaus/urlhaus-filter-domains.txt",
            25_768,
            0,
        ),
        (
            "02-malicious-domain-url/urlhaus/urlhaus-filter-online.txt",
            6_363,
            0,
        ),
        // 9 more rows are ftp:// or tftp:// URLs, skipped: only http and https URLs are stored.
        (
            "02-malicious-domain-url/urlhaus/urlhaus_recent.csv",
            16_301,
            0,
        ),
        (
            "02-malicious-domain-url/phishtank/verified_online_subset.csv",
            1_067,
            0,
        ),
        (
            "03-malicious-hash/eset-malware-ioc/eset_hashes.tsv",
            16_134,
            0,
        ),
        (
            "03-malicious-hash/threatfox/threatfox_md5_family.tsv",
            9_139,
            0,
        ),
        ("07-geo-asn/asn-ipv4.csv.gz", 411_961, 0),
        ("07-geo-asn/asn-ipv6.csv.gz", 103_197, 0),
        ("07-geo-asn/asn-ipv4.first5000.csv", 5_000, 0),
    ];
    for (relative, records, rejected) in expected {
        let stats = run.stats(relative);
        assert_eq!(stats.records, records, "records of {relative}");
        assert_eq!(stats.rejected, rejected, "rejected lines of {relative}");
    }
    let urlhaus = run.stats("02-malicious-domain-url/urlhaus/urlhaus_recent.csv");
    assert_eq!(urlhaus.skipped, 9, "ftp and tftp URLs of URLhaus");
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn sources_of_slices_and_mirrors() {
    let run = run();
    let source = |relative: &str| run.source(relative);
    assert_eq!(source("07-geo-asn/asn-ipv4.first5000.csv"), "asn-ipv4");
    assert_eq!(source("07-geo-asn/asn-ipv4.csv.gz"), "asn-ipv4");
    assert_eq!(source("07-geo-asn/asn-ipv6.csv.gz"), "asn-ipv6");
    assert_eq!(source("01-malicious-ip/spamhaus/drop.txt"), "spamhaus-drop");
    assert_eq!(
        source("01-malicious-ip/c2-tracker/Sliver_C2_IPs.txt"),
        "c2-tracker/sliver-c2"
    );
    assert_eq!(
        source("03-malicious-hash/eset-malware-ioc/stantinko/cryptominer/samples.sha1"),
        "eset/stantinko"
    );
    assert_eq!(
        source("07-geo-asn/geo-whois-asn-country.mmdb"),
        "geo/geo-whois-asn-country"
    );
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn public_dns_allows_google_resolver() {
    let relative = "04-benign-allowlists/misp-warninglists/lists/public-dns-v4/list.json";
    let Outcome::Parsed {
        allows,
        allowed_networks,
        ..
    } = run().outcome(relative)
    else {
        panic!("{relative} was not parsed");
    };
    assert!(*allows > 60_000, "{allows} entries");
    let google: IpAddr = "8.8.8.8".parse().unwrap();
    assert!(allowed_networks.iter().any(|net| net.contains(&google)));
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn eset_family_lists_sum_to_the_table() {
    let total: u64 = run()
        .outcomes
        .iter()
        .filter(|(relative, _)| {
            relative.contains("eset-malware-ioc/") && relative.contains("/samples.")
        })
        .map(|(_, outcome)| match outcome {
            Outcome::Parsed { sightings, .. } => *sightings,
            _ => 0,
        })
        .sum();
    // The table contains unique rows, and the per-folder lists repeat a few hashes.
    assert!(
        (16_134..=16_150).contains(&total),
        "{total} hashes in the per-folder lists"
    );
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn only_documentation_stays_unsupported() {
    let leftovers: Vec<String> = run()
        .outcomes
        .iter()
        .filter_map(|(relative, outcome)| match outcome {
            Outcome::Unsupported(
                UnsupportedReason::Documentation
                | UnsupportedReason::Schema
                | UnsupportedReason::WarninglistOutOfScope { .. },
            ) => None,
            Outcome::Unsupported(reason) => Some(format!("{relative}: {reason}")),
            _ => None,
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "files unsupported for a reason other than documentation, licence, schema or an \
         out-of-scope warninglist:\n{}",
        leftovers.join("\n")
    );
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn unsupported_files_name_their_reason() {
    let run = run();
    let reason = |relative: &str| match run.outcome(relative) {
        Outcome::Unsupported(reason) => reason.to_string(),
        _ => panic!("{relative} was expected to be unsupported"),
    };
    let expected = [
        ("MANIFEST.md", "documentation"),
        ("07-geo-asn/asn.DBIP-LICENSE", "documentation"),
        (
            "06-vulnerabilities/cisa-kev/known_exploited_vulnerabilities_schema.json",
            "JSON schema",
        ),
        (
            "04-benign-allowlists/misp-warninglists/lists/phone_numbers/list.json",
            "phone-number",
        ),
    ];
    for (relative, part) in expected {
        let text = reason(relative);
        assert!(text.contains(part), "{relative}: {text}");
    }
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn kept_files_validate_with_manifest_counts() {
    let run = run();
    // (file, format, source, valid entries, rejected entries); the manifests count all entries.
    let expected = [
        (
            "06-vulnerabilities/cisa-kev/known_exploited_vulnerabilities.json",
            Format::CisaKevJson,
            "cisa-kev",
            1_404,
            0,
        ),
        (
            "06-vulnerabilities/cisa-kev/known_exploited_vulnerabilities.csv",
            Format::CisaKevCsv,
            "cisa-kev",
            1_404,
            0,
        ),
        (
            "06-vulnerabilities/epss/epss_kev_nvd.csv",
            Format::EpssCsv,
            "epss-kev",
            1_556,
            0,
        ),
        (
            "06-vulnerabilities/exploitdb/exploitdb_mapping_cve.json",
            Format::ExploitDbCveMap,
            "exploitdb-cve-map",
            // 6 of the 24,242 keys are broken upstream, such as "CVE-CVE 2014" and "CVE-2015-".
            24_236,
            6,
        ),
        (
            "06-vulnerabilities/cve-json5-vulnrichment/vulnrichment-2024-1000-9999.jsonl.gz",
            Format::CveJson5,
            "cve-json5/vulnrichment-2024-1000-9999",
            7_187,
            0,
        ),
        (
            "06-vulnerabilities/cve-json5-vulnrichment/records/2024/3xxx/CVE-2024-3400.json",
            Format::CveJson5,
            "cve-json5/records",
            1,
            0,
        ),
        (
            "06-vulnerabilities/cve-json5-vulnrichment/kev_cves_in_vulnrichment.txt",
            Format::CveList,
            "cve-list/kev-cves-in-vulnrichment",
            251,
            0,
        ),
        (
            "05-context/misp-galaxy/clusters/threat-actor.json",
            Format::MispGalaxyCluster,
            "misp-galaxy/threat-actor",
            1_041,
            0,
        ),
        (
            "05-context/misp-galaxy/clusters/malpedia.json",
            Format::MispGalaxyCluster,
            "misp-galaxy/malpedia",
            3_683,
            0,
        ),
        (
            "05-context/misp-galaxy/galaxies/tool.json",
            Format::MispGalaxyDefinition,
            "misp-galaxy-definition/tool",
            1,
            0,
        ),
        (
            "02-malicious-domain-url/maltrail/maltrail_static_aliases.tsv",
            Format::MaltrailAliases,
            "maltrail/aliases",
            1_061,
            0,
        ),
    ];
    for (relative, format, source, records, rejected) in expected {
        let Outcome::Kept {
            format: found,
            source: found_source,
            stats,
            first_rejections,
        } = run.outcome(relative)
        else {
            panic!("{relative} was not validated as a kept file");
        };
        assert_eq!(*found, format, "format of {relative}");
        assert_eq!(found_source, source, "source of {relative}");
        assert_eq!(stats.records, records, "entries of {relative}");
        assert_eq!(
            stats.rejected, rejected,
            "{relative}: first rejections {first_rejections:?}"
        );
    }
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn attack_bundle_counts_its_objects() {
    let relative = "05-context/mitre-attack/enterprise-attack-v18.1.full.json.gz";
    let run = run();
    assert_eq!(run.source(relative), "mitre-attack/enterprise");
    let stats = run.stats(relative);
    assert!(stats.records > 10_000, "{} STIX objects", stats.records);
    assert_eq!(stats.rejected, 0);
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn every_cve_record_file_validates() {
    let records: Vec<&Outcome> = run()
        .outcomes
        .iter()
        .filter(|(relative, _)| relative.contains("cve-json5-vulnrichment/records/"))
        .map(|(_, outcome)| outcome)
        .collect();
    // The manifest counts 1,156 record files.
    assert_eq!(records.len(), 1_156);
    for outcome in records {
        let Outcome::Kept { stats, source, .. } = outcome else {
            panic!("a CVE record file was not validated");
        };
        assert_eq!(source, "cve-json5/records");
        assert_eq!((stats.records, stats.rejected), (1, 0));
    }
}

#[test]
#[ignore = "needs the shared real-data folder"]
fn maxmind_metadata_reads() {
    let root = &run().root;
    let whois = mmdb_info(&root.join("07-geo-asn/geo-whois-asn-country.mmdb")).unwrap();
    assert!(
        whois.database_type.starts_with("country"),
        "{}",
        whois.database_type
    );
    assert_eq!(whois.ip_version, 6);
    let iptoasn = mmdb_info(&root.join("07-geo-asn/iptoasn-country-ipv4.mmdb")).unwrap();
    assert_eq!(iptoasn.ip_version, 4);
    assert!(iptoasn.node_count > 0);
}
