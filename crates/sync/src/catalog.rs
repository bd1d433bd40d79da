//! The built-in catalog: every open feed tiq can fetch.
//!
//! A feed is a unit of download: one or more files, or one archive, from one publisher. Its
//! files are imported like any other files, so one feed may fill several store sources (the
//! maltrail archive gives one source per malware family). Every value here is a default that
//! `tiq.toml` or a `TIQ_SOURCE_*` variable can override.

use std::time::Duration;

const HOUR: u64 = 3600;
const DAY: u64 = 24 * HOUR;

/// Kind of data a feed publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Ip,
    DomainUrl,
    Hash,
    Benign,
    Knowledge,
    Vulnerability,
    GeoAsn,
}

impl Category {
    pub fn name(self) -> &'static str {
        match self {
            Category::Ip => "ip",
            Category::DomainUrl => "domain_url",
            Category::Hash => "hash",
            Category::Benign => "benign",
            Category::Knowledge => "knowledge",
            Category::Vulnerability => "vulnerability",
            Category::GeoAsn => "geo_asn",
        }
    }
}

/// One file to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Download {
    pub url: &'static str,
    /// Name the file is stored under, and its path below the feed's folder on a mirror.
    pub file: &'static str,
    /// For a zip archive: the folders inside it (after the archive's top folder) whose files
    /// are kept. Empty keeps every file.
    pub keep: &'static [&'static str],
}

/// A catalog entry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feed {
    pub name: &'static str,
    pub title: &'static str,
    pub category: Category,
    pub downloads: &'static [Download],
    /// Formats (`tiq_feeds::Format::name`) the files may have; anything else is an error.
    pub formats: &'static [&'static str],
    pub licence: &'static str,
    pub homepage: &'static str,
    pub cadence: Duration,
    /// Reliability weight every sighting of the feed is multiplied by.
    pub weight: f64,
    pub enabled: bool,
    /// Reason the feed is off by default, when it is.
    pub note: Option<&'static str>,
}

impl Feed {
    /// Returns whether the feed's downloads are archives, whose unsupported members are ignored.
    pub fn is_archive(&self) -> bool {
        self.downloads.iter().any(|d| d.file.ends_with(".zip"))
    }
}

const fn file(url: &'static str, file: &'static str) -> Download {
    Download {
        url,
        file,
        keep: &[],
    }
}

const fn hours(n: u64) -> Duration {
    Duration::from_secs(n * HOUR)
}

const fn days(n: u64) -> Duration {
    Duration::from_secs(n * DAY)
}

/// Every feed in the catalog, in a stable order.
pub const CATALOG: &[Feed] = &[
    // IPs and networks.
    Feed {
        name: "ipsum",
        title: "IPsum: addresses on many public blocklists",
        category: Category::Ip,
        downloads: &[file(
            "https://raw.githubusercontent.com/stamparm/ipsum/master/ipsum.txt",
            "ipsum.txt",
        )],
        formats: &["ipsum"],
        licence: "Unlicense",
        homepage: "https://github.com/stamparm/ipsum",
        cadence: days(1),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "spamhaus-drop",
        title: "Spamhaus DROP (IPv4 and IPv6)",
        category: Category::Ip,
        downloads: &[
            file("https://www.spamhaus.org/drop/drop_v4.json", "drop_v4.json"),
            file("https://www.spamhaus.org/drop/drop_v6.json", "drop_v6.json"),
        ],
        formats: &["spamhaus-drop-json"],
        licence: "Spamhaus DROP terms (free use, attribution)",
        homepage: "https://www.spamhaus.org/blocklists/do-not-route-or-peer/",
        cadence: days(1),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "feodotracker",
        title: "abuse.ch Feodo Tracker botnet C2 IPs",
        category: Category::Ip,
        downloads: &[file(
            "https://feodotracker.abuse.ch/downloads/ipblocklist.csv",
            "ipblocklist.csv",
        )],
        formats: &["feodo-csv"],
        licence: "abuse.ch terms (CC0)",
        homepage: "https://feodotracker.abuse.ch/",
        cadence: hours(6),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "sslbl",
        title: "abuse.ch SSLBL botnet C2 IPs",
        category: Category::Ip,
        downloads: &[file(
            "https://sslbl.abuse.ch/blacklist/sslipblacklist.csv",
            "sslipblacklist.csv",
        )],
        formats: &["sslbl-csv"],
        licence: "abuse.ch terms (CC0)",
        homepage: "https://sslbl.abuse.ch/",
        cadence: hours(6),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "tor-exits",
        title: "Tor Project exit relays",
        category: Category::Ip,
        downloads: &[file(
            "https://check.torproject.org/torbulkexitlist",
            "tor/tor-exit-nodes.lst",
        )],
        formats: &["ip-list"],
        licence: "public (Tor Project)",
        homepage: "https://check.torproject.org/",
        cadence: hours(6),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "blocklist-de",
        title: "blocklist.de attackers (all lists)",
        category: Category::Ip,
        downloads: &[file(
            "https://lists.blocklist.de/lists/all.txt",
            "blocklist-de/all.txt",
        )],
        formats: &["ip-list"],
        licence: "blocklist.de terms (free use)",
        homepage: "https://www.blocklist.de/",
        cadence: hours(12),
        weight: 0.8,
        enabled: true,
        note: None,
    },
    Feed {
        name: "maltrail-mass-scanner",
        title: "maltrail known mass scanners",
        category: Category::Ip,
        downloads: &[
            file(
                "https://raw.githubusercontent.com/stamparm/maltrail/master/trails/static/mass_scanner.txt",
                "mass_scanner.txt",
            ),
            file(
                "https://raw.githubusercontent.com/stamparm/maltrail/master/trails/static/mass_scanner_cidr.txt",
                "mass_scanner_cidr.txt",
            ),
        ],
        formats: &["maltrail"],
        licence: "MIT",
        homepage: "https://github.com/stamparm/maltrail",
        cadence: days(1),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "c2-tracker",
        title: "C2-Tracker: C2 servers per family, found with Shodan",
        category: Category::Ip,
        downloads: &[Download {
            url: "https://github.com/montysecurity/C2-Tracker/archive/refs/heads/main.zip",
            file: "c2-tracker.zip",
            keep: &["data"],
        }],
        formats: &["ip-list"],
        licence: "free to use (no licence file)",
        homepage: "https://github.com/montysecurity/C2-Tracker",
        cadence: days(1),
        weight: 0.9,
        enabled: true,
        note: None,
    },
    // Domains and URLs.
    Feed {
        name: "maltrail",
        title: "maltrail static trails: malware, malicious and suspicious infrastructure",
        category: Category::DomainUrl,
        downloads: &[Download {
            url: "https://github.com/stamparm/maltrail/archive/refs/heads/master.zip",
            file: "maltrail.zip",
            keep: &[
                "trails/static/malware",
                "trails/static/malicious",
                "trails/static/suspicious",
            ],
        }],
        formats: &["maltrail"],
        licence: "MIT",
        homepage: "https://github.com/stamparm/maltrail",
        cadence: days(1),
        weight: 0.9,
        enabled: true,
        note: None,
    },
    Feed {
        name: "urlhaus",
        title: "abuse.ch URLhaus recent malware URLs",
        category: Category::DomainUrl,
        downloads: &[file(
            "https://urlhaus.abuse.ch/downloads/csv_recent/",
            "urlhaus_recent.csv",
        )],
        formats: &["urlhaus-csv"],
        licence: "CC0",
        homepage: "https://urlhaus.abuse.ch/",
        cadence: hours(6),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "urlhaus-domains",
        title: "URLhaus malicious domains (urlhaus-filter)",
        category: Category::DomainUrl,
        downloads: &[file(
            "https://malware-filter.gitlab.io/malware-filter/urlhaus-filter-domains.txt",
            "urlhaus-filter-domains.txt",
        )],
        formats: &["urlhaus-domains"],
        licence: "CC0",
        homepage: "https://gitlab.com/malware-filter/urlhaus-filter",
        cadence: hours(12),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "threatfox",
        title: "abuse.ch ThreatFox recent IOCs (IPs, domains, URLs, hashes with family)",
        category: Category::DomainUrl,
        downloads: &[file(
            "https://threatfox.abuse.ch/export/csv/recent/",
            "threatfox_recent.csv",
        )],
        formats: &["threatfox-csv", "threatfox-json"],
        licence: "CC0",
        homepage: "https://threatfox.abuse.ch/",
        cadence: hours(6),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "openphish",
        title: "OpenPhish community phishing URLs",
        category: Category::DomainUrl,
        downloads: &[file("https://openphish.com/feed.txt", "openphish/feed.txt")],
        formats: &["url-list"],
        licence: "OpenPhish community feed terms (non-commercial)",
        homepage: "https://openphish.com/",
        cadence: hours(12),
        weight: 0.9,
        enabled: true,
        note: None,
    },
    Feed {
        name: "phishtank",
        title: "PhishTank verified online phishing URLs",
        category: Category::DomainUrl,
        downloads: &[file(
            "https://data.phishtank.com/data/online-valid.csv",
            "online-valid.csv",
        )],
        formats: &["phishtank-csv"],
        licence: "PhishTank terms (attribution)",
        homepage: "https://phishtank.org/",
        cadence: hours(12),
        weight: 0.9,
        enabled: false,
        note: Some(
            "PhishTank asks for a registered application key: set the URL with your key to enable it",
        ),
    },
    // File hashes.
    Feed {
        name: "malwarebazaar",
        title: "abuse.ch MalwareBazaar recent samples",
        category: Category::Hash,
        downloads: &[file(
            "https://bazaar.abuse.ch/export/csv/recent/",
            "malwarebazaar_recent.csv",
        )],
        formats: &["malwarebazaar-csv"],
        licence: "CC0",
        homepage: "https://bazaar.abuse.ch/",
        cadence: hours(6),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "eset-malware-ioc",
        title: "ESET malware-ioc sample hashes and MISP events",
        category: Category::Hash,
        downloads: &[Download {
            url: "https://github.com/eset/malware-ioc/archive/refs/heads/master.zip",
            file: "eset-malware-ioc.zip",
            keep: &[],
        }],
        formats: &["hash-list", "misp-event"],
        licence: "BSD-2-Clause",
        homepage: "https://github.com/eset/malware-ioc",
        cadence: days(7),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "misp-event",
        title: "A MISP event export of your choice",
        category: Category::Hash,
        downloads: &[file(
            "https://misp.example.org/events/view/1.json",
            "event.json",
        )],
        formats: &["misp-event"],
        licence: "as published",
        homepage: "https://www.misp-project.org/",
        cadence: days(1),
        weight: 1.0,
        enabled: false,
        note: Some("set the URL of a MISP event JSON export to enable it"),
    },
    // Benign and context.
    Feed {
        name: "misp-warninglists",
        title: "MISP warninglists: known-benign resolvers, CDNs, clouds, crawlers, top sites",
        category: Category::Benign,
        downloads: &[Download {
            url: "https://github.com/MISP/misp-warninglists/archive/refs/heads/main.zip",
            file: "misp-warninglists.zip",
            keep: &["lists"],
        }],
        formats: &["misp-warninglist"],
        licence: "CC0",
        homepage: "https://github.com/MISP/misp-warninglists",
        cadence: days(7),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "mitre-attack",
        title: "MITRE ATT&CK Enterprise (STIX 2.1)",
        category: Category::Knowledge,
        downloads: &[file(
            "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/enterprise-attack/enterprise-attack.json",
            "enterprise-attack.json",
        )],
        formats: &["stix-bundle"],
        licence: "MITRE ATT&CK terms of use (keep the copyright notice)",
        homepage: "https://attack.mitre.org/",
        cadence: days(7),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "misp-galaxy",
        title: "MISP galaxy clusters: threat actors, malware families, tools",
        category: Category::Knowledge,
        downloads: &[Download {
            url: "https://github.com/MISP/misp-galaxy/archive/refs/heads/main.zip",
            file: "misp-galaxy.zip",
            keep: &["clusters"],
        }],
        formats: &["misp-galaxy-cluster"],
        licence: "CC0 or BSD-2-Clause",
        homepage: "https://github.com/MISP/misp-galaxy",
        cadence: days(7),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    // Vulnerabilities.
    Feed {
        name: "cisa-kev",
        title: "CISA Known Exploited Vulnerabilities",
        category: Category::Vulnerability,
        downloads: &[file(
            "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
            "known_exploited_vulnerabilities.json",
        )],
        formats: &["cisa-kev-json", "cisa-kev-csv"],
        licence: "CC0",
        homepage: "https://www.cisa.gov/known-exploited-vulnerabilities-catalog",
        cadence: days(1),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "epss",
        title: "FIRST EPSS exploit prediction scores",
        category: Category::Vulnerability,
        downloads: &[file(
            "https://epss.empiricalsecurity.com/epss_scores-current.csv.gz",
            "epss_scores-current.csv.gz",
        )],
        formats: &["epss-csv"],
        licence: "FIRST EPSS terms (free use, cite FIRST)",
        homepage: "https://www.first.org/epss/",
        cadence: days(1),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "exploitdb",
        title: "Exploit-DB exploits with their CVE ids",
        category: Category::Vulnerability,
        downloads: &[file(
            "https://gitlab.com/exploit-database/exploitdb/-/raw/main/files_exploits.csv",
            "files_exploits.csv",
        )],
        formats: &["exploitdb-csv", "exploitdb-cve-map"],
        licence: "GPL-2.0 (Exploit-DB)",
        homepage: "https://www.exploit-db.com/",
        cadence: days(1),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "cve",
        title: "CVE List V5 records (the CVE Program's JSON 5 format)",
        category: Category::Vulnerability,
        downloads: &[Download {
            url: "https://github.com/CVEProject/cvelistV5/archive/refs/heads/main.zip",
            file: "cvelistV5.zip",
            keep: &["cves"],
        }],
        formats: &["cve-json5"],
        licence: "CVE terms of use",
        homepage: "https://github.com/CVEProject/cvelistV5",
        cadence: days(1),
        weight: 1.0,
        enabled: false,
        note: Some("about 500 MB to download: enable it, or point it at a mirror, when needed"),
    },
    Feed {
        name: "vulnrichment",
        title: "CISA Vulnrichment: CVE records with CISA's CVSS, CWE and SSVC",
        category: Category::Vulnerability,
        downloads: &[Download {
            url: "https://github.com/cisagov/vulnrichment/archive/refs/heads/develop.zip",
            file: "vulnrichment.zip",
            keep: &[],
        }],
        formats: &["cve-json5"],
        licence: "CC0",
        homepage: "https://github.com/cisagov/vulnrichment",
        cadence: days(1),
        weight: 1.0,
        enabled: false,
        note: Some("a large download: enable it, or point it at a mirror, when needed"),
    },
    // Geolocation and ASN.
    Feed {
        name: "geo-country",
        title: "ip-location-db geo-whois-asn-country (IPv4 and IPv6 country)",
        category: Category::GeoAsn,
        downloads: &[file(
            "https://cdn.jsdelivr.net/npm/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb",
            "geo-whois-asn-country.mmdb",
        )],
        formats: &["maxmind-db"],
        licence: "CC0",
        homepage: "https://github.com/sapics/ip-location-db",
        cadence: days(7),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "asn",
        title: "ip-location-db IP-to-ASN ranges (IPv4 and IPv6)",
        category: Category::GeoAsn,
        downloads: &[
            file(
                "https://cdn.jsdelivr.net/npm/@ip-location-db/asn/asn-ipv4.csv",
                "asn-ipv4.csv",
            ),
            file(
                "https://cdn.jsdelivr.net/npm/@ip-location-db/asn/asn-ipv6.csv",
                "asn-ipv6.csv",
            ),
        ],
        formats: &["asn-csv"],
        licence: "CC BY 4.0 (DB-IP, RouteViews, NRO)",
        homepage: "https://github.com/sapics/ip-location-db",
        cadence: days(7),
        weight: 1.0,
        enabled: true,
        note: None,
    },
    Feed {
        name: "geolite2-city",
        title: "MaxMind GeoLite2 City",
        category: Category::GeoAsn,
        downloads: &[file(
            "https://mirror.example.org/GeoLite2-City.mmdb",
            "GeoLite2-City.mmdb",
        )],
        formats: &["maxmind-db"],
        licence: "GeoLite2 EULA",
        homepage: "https://dev.maxmind.com/geoip/geolite2-free-geolocation-data",
        cadence: days(7),
        weight: 1.0,
        enabled: false,
        note: Some(
            "needs a MaxMind account: set the URL of a GeoLite2-City.mmdb you may fetch (a mirror or a local file)",
        ),
    },
];

/// Returns the catalog entry named `name`.
pub fn find(name: &str) -> Option<&'static Feed> {
    CATALOG.iter().find(|feed| feed.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_usable_in_environment_variables() {
        let mut seen = std::collections::HashSet::new();
        for feed in CATALOG {
            assert!(seen.insert(feed.name), "{} is listed twice", feed.name);
            assert!(
                feed.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} must be lower case letters, digits and hyphens",
                feed.name
            );
        }
    }

    #[test]
    fn every_feed_has_files_with_distinct_names() {
        for feed in CATALOG {
            assert!(!feed.downloads.is_empty(), "{} has no download", feed.name);
            let mut files = std::collections::HashSet::new();
            for download in feed.downloads {
                assert!(download.url.starts_with("https://"), "{}", download.url);
                assert!(files.insert(download.file), "{}", download.file);
                assert!(!download.file.starts_with('/'), "{}", download.file);
                assert!(!download.file.contains(".."), "{}", download.file);
            }
        }
    }

    #[test]
    fn every_format_is_one_the_importer_reads() {
        let known: Vec<&str> = tiq_feeds::Format::ALL.iter().map(|f| f.name()).collect();
        for feed in CATALOG {
            assert!(!feed.formats.is_empty(), "{} names no format", feed.name);
            for format in feed.formats {
                assert!(
                    known.contains(format),
                    "{}: unknown format {format}",
                    feed.name
                );
            }
        }
    }

    #[test]
    fn disabled_feeds_say_why() {
        for feed in CATALOG.iter().filter(|f| !f.enabled) {
            assert!(feed.note.is_some(), "{} is off without a note", feed.name);
        }
    }
}
