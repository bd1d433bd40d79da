//! Records that feed parsers produce and the store keeps.
//!
//! A parser turns each line or entry of a feed into one of three records. A [`Sighting`] is a
//! feed's claim about an indicator or a network. An [`AllowEntry`] is a value, suffix, network
//! or pattern on a known-benign list. An [`AsnRange`] is an address range of one autonomous
//! system.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::indicator::HashKind;

/// Indicator or network a sighting is about, in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Subject {
    Ip(IpAddr),
    Network(IpNet),
    /// Lower-case ASCII (punycode) domain without a trailing dot.
    Domain(String),
    /// URL as serialised by the `url` crate.
    Url(String),
    /// Lower-case hexadecimal digest.
    Hash(HashKind, String),
}

impl Subject {
    /// Returns the type name stored with the subject (`ip`, `network`, `domain`, `url`, `md5`, …).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Subject::Ip(_) => "ip",
            Subject::Network(_) => "network",
            Subject::Domain(_) => "domain",
            Subject::Url(_) => "url",
            Subject::Hash(kind, _) => kind.name(),
        }
    }

    /// Returns the canonical text of the subject.
    pub fn value(&self) -> String {
        match self {
            Subject::Ip(ip) => ip.to_string(),
            Subject::Network(net) => net.trunc().to_string(),
            Subject::Domain(domain) => domain.clone(),
            Subject::Url(url) => url.clone(),
            Subject::Hash(_, hex) => hex.clone(),
        }
    }
}

/// The nature of a claim a source makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClaimKind {
    /// The source lists the indicator as malicious.
    Malicious,
    /// The source lists it as suspicious, not necessarily malicious.
    Suspicious,
    /// The source lists it as known-benign.
    Benign,
    /// The source adds context (a Tor exit, a research scanner) without a judgement.
    Context,
}

impl ClaimKind {
    pub fn name(self) -> &'static str {
        match self {
            ClaimKind::Malicious => "malicious",
            ClaimKind::Suspicious => "suspicious",
            ClaimKind::Benign => "benign",
            ClaimKind::Context => "context",
        }
    }

    pub fn from_name(name: &str) -> Option<ClaimKind> {
        Some(match name {
            "malicious" => ClaimKind::Malicious,
            "suspicious" => ClaimKind::Suspicious,
            "benign" => ClaimKind::Benign,
            "context" => ClaimKind::Context,
            _ => return None,
        })
    }
}

/// Threat type of a claim, ordered from the most to the least severe in [`ThreatType::severity`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ThreatType {
    /// Command-and-control server of malware or of an attack framework.
    C2,
    Ransomware,
    Botnet,
    /// Infrastructure attributed to a named actor.
    Apt,
    Malware,
    /// A server that hands out malware (URLhaus-style payload URLs).
    MalwareDownload,
    Phishing,
    /// A network hijacked or run by criminals (Spamhaus DROP).
    HijackedNetwork,
    Exploit,
    /// Red-team or testing framework found exposed (GoPhish, Metasploit, BurpSuite).
    OffensiveTool,
    BruteForce,
    Scanner,
    Spam,
    Miner,
    /// Tor exit, open proxy or anonymising VPN.
    Anonymizer,
    /// Listed by an aggregate blocklist that does not say why.
    Abuse,
    Suspicious,
}

impl ThreatType {
    pub const ALL: [ThreatType; 17] = [
        ThreatType::C2,
        ThreatType::Ransomware,
        ThreatType::Botnet,
        ThreatType::Apt,
        ThreatType::Malware,
        ThreatType::MalwareDownload,
        ThreatType::Phishing,
        ThreatType::HijackedNetwork,
        ThreatType::Exploit,
        ThreatType::OffensiveTool,
        ThreatType::BruteForce,
        ThreatType::Scanner,
        ThreatType::Spam,
        ThreatType::Miner,
        ThreatType::Anonymizer,
        ThreatType::Abuse,
        ThreatType::Suspicious,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ThreatType::C2 => "c2",
            ThreatType::Ransomware => "ransomware",
            ThreatType::Botnet => "botnet",
            ThreatType::Apt => "apt",
            ThreatType::Malware => "malware",
            ThreatType::MalwareDownload => "malware_download",
            ThreatType::Phishing => "phishing",
            ThreatType::HijackedNetwork => "hijacked_network",
            ThreatType::Exploit => "exploit",
            ThreatType::OffensiveTool => "offensive_tool",
            ThreatType::BruteForce => "brute_force",
            ThreatType::Scanner => "scanner",
            ThreatType::Spam => "spam",
            ThreatType::Miner => "miner",
            ThreatType::Anonymizer => "anonymizer",
            ThreatType::Abuse => "abuse",
            ThreatType::Suspicious => "suspicious",
        }
    }

    pub fn from_name(name: &str) -> Option<ThreatType> {
        ThreatType::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Threat level (2 low to 5 critical) a confirmed malicious claim of this type warrants.
    pub fn severity(self) -> u8 {
        match self {
            ThreatType::C2 | ThreatType::Ransomware | ThreatType::Botnet | ThreatType::Apt => 5,
            ThreatType::Malware
            | ThreatType::MalwareDownload
            | ThreatType::Phishing
            | ThreatType::HijackedNetwork
            | ThreatType::Exploit => 4,
            ThreatType::OffensiveTool
            | ThreatType::BruteForce
            | ThreatType::Abuse
            | ThreatType::Miner => 3,
            ThreatType::Scanner
            | ThreatType::Spam
            | ThreatType::Anonymizer
            | ThreatType::Suspicious => 2,
        }
    }

    /// Simplified Chinese name used in summaries.
    pub fn name_zh(self) -> &'static str {
        match self {
            ThreatType::C2 => "C2 控制服务器",
            ThreatType::Ransomware => "勒索软件",
            ThreatType::Botnet => "僵尸网络",
            ThreatType::Apt => "APT 组织基础设施",
            ThreatType::Malware => "恶意软件",
            ThreatType::MalwareDownload => "恶意软件下载",
            ThreatType::Phishing => "钓鱼",
            ThreatType::HijackedNetwork => "被劫持网段",
            ThreatType::Exploit => "漏洞利用",
            ThreatType::OffensiveTool => "攻击测试工具",
            ThreatType::BruteForce => "暴力破解",
            ThreatType::Scanner => "扫描器",
            ThreatType::Spam => "垃圾邮件",
            ThreatType::Miner => "挖矿",
            ThreatType::Anonymizer => "匿名代理 / Tor 出口",
            ThreatType::Abuse => "滥用行为",
            ThreatType::Suspicious => "可疑",
        }
    }

    /// English name used in summaries.
    pub fn name_en(self) -> &'static str {
        match self {
            ThreatType::C2 => "command-and-control server",
            ThreatType::Ransomware => "ransomware",
            ThreatType::Botnet => "botnet",
            ThreatType::Apt => "APT infrastructure",
            ThreatType::Malware => "malware",
            ThreatType::MalwareDownload => "malware download",
            ThreatType::Phishing => "phishing",
            ThreatType::HijackedNetwork => "hijacked network",
            ThreatType::Exploit => "exploitation",
            ThreatType::OffensiveTool => "offensive tooling",
            ThreatType::BruteForce => "brute force",
            ThreatType::Scanner => "scanner",
            ThreatType::Spam => "spam",
            ThreatType::Miner => "cryptomining",
            ThreatType::Anonymizer => "anonymizer (Tor exit or proxy)",
            ThreatType::Abuse => "abuse reported by blocklists",
            ThreatType::Suspicious => "suspicious",
        }
    }
}

impl fmt::Display for ThreatType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One claim a feed makes about one indicator or network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sighting {
    pub subject: Subject,
    pub claim: ClaimKind,
    pub threat: ThreatType,
    /// Free labels the feed attaches (URLhaus tags, a port, a list count).
    pub labels: Vec<String>,
    /// Malware family, actor or tool the feed names, as the feed writes it.
    pub family: Option<String>,
    /// ISO 8601 date or date-time, as precise as the feed gives it.
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// Weight of this record in a verdict, 0 to 1: the source's reliability, adjusted by
    /// the record's own content (for example how many blocklists list an address).
    pub weight: f32,
    /// Link to the feed's page for this record, or to the report the feed cites.
    pub reference: Option<String>,
}

impl Sighting {
    /// Creates a sighting with no labels, family, dates or reference.
    pub fn new(subject: Subject, claim: ClaimKind, threat: ThreatType, weight: f32) -> Sighting {
        Sighting {
            subject,
            claim,
            threat,
            labels: Vec::new(),
            family: None,
            first_seen: None,
            last_seen: None,
            weight,
            reference: None,
        }
    }
}

/// Kind of known-benign list, which decides how much a match counts against a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllowCategory {
    PublicResolver,
    /// Content delivery networks: shared by many customers.
    Cdn,
    /// Cloud and hosting ranges: shared, so they lower confidence without proving innocence.
    Cloud,
    Crawler,
    ResearchScanner,
    TopSite,
    /// Hashes of empty or well-known harmless files.
    KnownFile,
    Reserved,
    Sinkhole,
    UrlShortener,
    /// Free hosting, dynamic DNS and similar shared namespaces.
    SharedNamespace,
    Other,
}

impl AllowCategory {
    pub const ALL: [AllowCategory; 12] = [
        AllowCategory::PublicResolver,
        AllowCategory::Cdn,
        AllowCategory::Cloud,
        AllowCategory::Crawler,
        AllowCategory::ResearchScanner,
        AllowCategory::TopSite,
        AllowCategory::KnownFile,
        AllowCategory::Reserved,
        AllowCategory::Sinkhole,
        AllowCategory::UrlShortener,
        AllowCategory::SharedNamespace,
        AllowCategory::Other,
    ];

    pub fn name(self) -> &'static str {
        match self {
            AllowCategory::PublicResolver => "public_resolver",
            AllowCategory::Cdn => "cdn",
            AllowCategory::Cloud => "cloud",
            AllowCategory::Crawler => "crawler",
            AllowCategory::ResearchScanner => "research_scanner",
            AllowCategory::TopSite => "top_site",
            AllowCategory::KnownFile => "known_file",
            AllowCategory::Reserved => "reserved",
            AllowCategory::Sinkhole => "sinkhole",
            AllowCategory::UrlShortener => "url_shortener",
            AllowCategory::SharedNamespace => "shared_namespace",
            AllowCategory::Other => "other",
        }
    }

    pub fn from_name(name: &str) -> Option<AllowCategory> {
        AllowCategory::ALL.into_iter().find(|c| c.name() == name)
    }
}

/// Matching rule of an allow-list entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllowMatch {
    /// An address inside the network.
    Network(IpNet),
    /// The domain itself or any subdomain of it (lower-case ASCII).
    Hostname(String),
    /// The exact canonical value (an IP, domain, URL or lower-case hash).
    Exact(String),
    /// Any value that contains the text (lower-case).
    Substring(String),
    /// Any value the regular expression matches.
    Regex(String),
}

/// One entry of a known-benign list such as a MISP warninglist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllowEntry {
    pub matcher: AllowMatch,
    pub category: AllowCategory,
    /// Popularity rank where the list is ordered by it (top-site lists), 1 being the first.
    pub rank: Option<u32>,
}

/// An inclusive address range announced by one autonomous system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AsnRange {
    pub start: IpAddr,
    pub end: IpAddr,
    pub asn: u32,
    pub organization: String,
}
