//! Plain lists of addresses and networks, one per line.
//!
//! Format: one IPv4 or IPv6 address or CIDR network per line. Blank lines and lines starting
//! with `#` or `;` are comments, and so is text after the value (`; SBL123`, `# note`). The
//! content shows only that the file is an address list, so the path decides whose list it is,
//! by the first matching row:
//!
//! | file | source name | provider | claim, threat | weight |
//! |---|---|---|---|---|
//! | a `; Spamhaus DROP` header, a `spamhaus` folder, or a file named `drop`, `drop_v4`, `drop_v6` | `spamhaus-drop` (`-v6` for IPv6) | spamhaus | malicious, hijacked network; the SBL id of a `; SBL…` comment is a label | 0.9 |
//! | in a `c2-tracker` folder, or named like `<Family>_C2_IPs.txt` or `<Family>_RAT_IPs.txt` (C2-Tracker) | `c2-tracker/<file name>` | c2-tracker | see below | |
//! | in a `blocklist-de` or `blocklist.de` folder (blocklist.de exports such as `ssh.txt`) | `blocklist.de/<file stem>` | blocklist.de | malicious; threat by list, see below | 0.6 |
//! | in an `ipsum` folder, or `levels/N.txt` (IPsum levels) | `ipsum-level-N` | ipsum | malicious, abuse, label `blocklists:>=N` | IPsum weight of N |
//! | a file name or its folder with the word `tor`, or a file name with `exit` | `tor-exits` | tor-project | context, anonymizer | 0.9 |
//! | anything else | `ip-list/<file stem>` | the same | malicious, abuse | 0.5 |
//!
//! C2-Tracker (<https://github.com/montysecurity/C2-Tracker>, Shodan and Censys searches
//! refreshed weekly, "free to use" without a licence file) names each file after a family or tool. The family is
//! the file name without `_IPs`, `C2`, `Trojan`, `Botnet` or `Cryptominer`
//! (`Cobalt_Strike_C2_IPs.txt` gives "Cobalt Strike"). Malware C2 files are malicious C2 (0.8),
//! `Botnet` files malicious botnet (0.8), `Cryptominer` files suspicious miner (0.5), and the
//! dual-use red-team and testing tools (BurpSuite, GoPhish, MobSF, Caldera, Hak5 Cloud C2,
//! Metasploit Framework) suspicious offensive tooling (0.5). `all.txt` is the union of the
//! other files, tools included, so it is suspicious C2 (0.5) without a family. Its provider is
//! the same, so it does not reinforce the per-family files.
//!
//! blocklist.de (<https://www.blocklist.de/en/export.html>, addresses its reporting servers saw
//! attacking them) publishes one list per attacked service, named after the service. The threat
//! follows [`BLOCKLIST_DE_LISTS`]: brute force for `ssh`, `ftp`, `imap`, `sip` and
//! `bruteforcelogin`, spam for `mail`, botnet for `ircbot`, and abuse for `all`, `apache`,
//! `bots`, `strongips` and any other list.

use std::path::Path;

use tiq_model::{ClaimKind, Sighting, ThreatType};

use crate::error::FeedError;
use crate::formats::{file_stem, folder_names, ipsum, parent_name, spamhaus_drop};
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{name_words, parse_ip_or_network, slug};

const COMMENT_STARTS: [char; 2] = ['#', ';'];

const C2_TRACKER_HOMEPAGE: &str = "https://github.com/montysecurity/C2-Tracker";
const TOR_HOMEPAGE: &str = "https://check.torproject.org/torbulkexitlist";
const BLOCKLIST_DE_HOMEPAGE: &str = "https://www.blocklist.de/en/export.html";
const BLOCKLIST_DE_WEIGHT: f32 = 0.6;

/// blocklist.de lists by lower-case file stem: the threat and what the list contains.
const BLOCKLIST_DE_LISTS: &[(&str, ThreatType, &str)] = &[
    ("ssh", ThreatType::BruteForce, "SSH attackers"),
    ("ftp", ThreatType::BruteForce, "FTP attackers"),
    ("imap", ThreatType::BruteForce, "IMAP attackers"),
    ("sip", ThreatType::BruteForce, "SIP attackers"),
    (
        "bruteforcelogin",
        ThreatType::BruteForce,
        "web login brute forcers",
    ),
    ("mail", ThreatType::Spam, "mail server attackers"),
    ("ircbot", ThreatType::Botnet, "IRC bots"),
    ("apache", ThreatType::Abuse, "web server attackers"),
    ("bots", ThreatType::Abuse, "attacking bots"),
    ("strongips", ThreatType::Abuse, "long-active attackers"),
    ("all", ThreatType::Abuse, "all reported attackers"),
];

/// Dual-use tools among the C2-Tracker files: lower-case start of the file name, tool name.
const OFFENSIVE_TOOLS: &[(&str, &str)] = &[
    ("burpsuite", "BurpSuite"),
    ("gophish", "GoPhish"),
    ("mobsf", "MobSF"),
    ("caldera", "Caldera"),
    ("hak5", "Hak5 Cloud C2"),
    ("metasploit", "Metasploit Framework"),
];

/// Whose list a file is, decided from its path and header.
#[derive(Debug, PartialEq)]
enum ListKind {
    SpamhausDrop,
    C2Tracker(C2File),
    C2TrackerUnion,
    /// A blocklist.de list, by its lower-case file stem.
    BlocklistDe(String),
    IpsumLevel(Option<u32>),
    TorExits,
    Generic,
}

/// A C2-Tracker file: the name it is stored under and what it lists.
#[derive(Debug, PartialEq)]
struct C2File {
    base_name: String,
    family: String,
    threat: ThreatType,
}

/// The claim every line of a list makes.
struct Claim {
    claim: ClaimKind,
    threat: ThreatType,
    family: Option<String>,
    weight: f32,
    label: Option<String>,
}

pub(crate) fn matches(head: &Head) -> bool {
    let entries: Vec<&str> = head.data_lines(&COMMENT_STARTS).take(200).collect();
    let addresses = entries
        .iter()
        .filter(|line| parse_ip_or_network(entry_value(line).0).is_ok())
        .count();
    // A majority is enough: a list with many bad lines is still an IP list, so the importer's
    // limit on rejected lines keeps the earlier records and reports the bad lines.
    !entries.is_empty() && addresses * 2 > entries.len()
}

pub(crate) fn source(path: &Path, head: &Head) -> SourceInfo {
    match classify(path, head) {
        ListKind::SpamhausDrop => spamhaus_drop::source_for(first_is_ipv6(head)),
        ListKind::C2Tracker(file) => SourceInfo::new(
            format!("c2-tracker/{}", slug(&file.base_name)),
            "c2-tracker",
            format!("C2-Tracker: {}", file.family),
            Some(C2_TRACKER_HOMEPAGE),
        ),
        ListKind::C2TrackerUnion => SourceInfo::new(
            "c2-tracker/all",
            "c2-tracker",
            "C2-Tracker: all families and tools",
            Some(C2_TRACKER_HOMEPAGE),
        ),
        ListKind::BlocklistDe(list) => SourceInfo::new(
            format!("blocklist.de/{}", slug(&list)),
            "blocklist.de",
            format!("blocklist.de: {}", blocklist_de_list(&list).2),
            Some(BLOCKLIST_DE_HOMEPAGE),
        ),
        ListKind::IpsumLevel(level) => ipsum_level_source(level),
        ListKind::TorExits => SourceInfo::new(
            "tor-exits",
            "tor-project",
            "Tor exit nodes",
            Some(TOR_HOMEPAGE),
        ),
        ListKind::Generic => {
            let name = format!("ip-list/{}", slug(file_stem(path)));
            let title = format!("IP list {}", file_stem(path));
            SourceInfo::new(name.clone(), name, title, None)
        }
    }
}

fn ipsum_level_source(level: Option<u32>) -> SourceInfo {
    let (name, title) = match level {
        Some(n) => (
            format!("ipsum-level-{n}"),
            format!("IPsum level {n}: addresses on {n} or more blocklists"),
        ),
        None => ("ipsum-levels".to_string(), "IPsum level list".to_string()),
    };
    SourceInfo::new(name, ipsum::PROVIDER, title, Some(ipsum::HOMEPAGE))
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let head = Head::read(&file.path).map_err(FeedError::io(&file.path))?;
    let claim = claim_for(classify(&file.path, &head));
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() || line.starts_with(COMMENT_STARTS) {
            return Ok(());
        }
        let (value, comment) = entry_value(line);
        let subject = match parse_ip_or_network(value) {
            Ok(subject) => subject,
            Err(error) => {
                out.reject(number, error);
                return Ok(());
            }
        };
        let mut sighting = Sighting::new(subject, claim.claim, claim.threat, claim.weight);
        sighting.family = claim.family.clone();
        sighting.labels.extend(claim.label.clone());
        if claim.threat == ThreatType::HijackedNetwork {
            sighting
                .labels
                .extend(spamhaus_drop::sbl_id(comment).map(str::to_string));
        }
        out.sighting(number, sighting)
    })
}

/// Splits a line into its value and its trailing comment.
fn entry_value(line: &str) -> (&str, &str) {
    let (value, comment) = match line.find(COMMENT_STARTS) {
        Some(start) => (&line[..start], &line[start + 1..]),
        None => (line, ""),
    };
    let value = value.split_whitespace().next().unwrap_or("");
    (value, comment.trim())
}

fn first_is_ipv6(head: &Head) -> bool {
    let first = head.data_lines(&COMMENT_STARTS).next().unwrap_or("");
    entry_value(first).0.contains(':')
}

fn classify(path: &Path, head: &Head) -> ListKind {
    let folders = folder_names(path);
    let stem = file_stem(path);
    let lower_stem = stem.to_ascii_lowercase();
    let in_folder = |words: &[&str]| folders.iter().any(|f| words.iter().any(|w| f.contains(w)));

    if head.has_line_starting(10, "; Spamhaus") {
        return ListKind::SpamhausDrop;
    }
    if in_folder(&["c2-tracker", "c2_tracker", "c2tracker"]) && lower_stem == "all" {
        return ListKind::C2TrackerUnion;
    }
    if in_folder(&["c2-tracker", "c2_tracker", "c2tracker"]) {
        return ListKind::C2Tracker(c2_file(stem));
    }
    if in_folder(&["blocklist-de", "blocklist.de", "blocklist_de"]) {
        return ListKind::BlocklistDe(lower_stem);
    }
    let levels_folder = parent_name(path).eq_ignore_ascii_case("levels");
    if in_folder(&["ipsum"]) || (levels_folder && stem.bytes().all(|b| b.is_ascii_digit())) {
        return ListKind::IpsumLevel(level_number(stem));
    }
    let drop_names = ["drop", "drop_v4", "drop_v6", "drop-v4", "drop-v6"];
    if in_folder(&["spamhaus"]) || drop_names.contains(&lower_stem.as_str()) {
        return ListKind::SpamhausDrop;
    }
    let file_words = name_words(stem);
    let folder_words = name_words(parent_name(path));
    let has = |words: &[String], word: &str| words.iter().any(|w| w == word);
    if has(&file_words, "tor") || has(&folder_words, "tor") || has(&file_words, "exit") {
        return ListKind::TorExits;
    }
    // Outside a C2-Tracker folder only its own naming counts (`Cobalt_Strike_C2_IPs.txt`,
    // `Quasar_RAT_IPs.txt`): a family word before `_IPs`, so `bad_ips.txt` stays generic.
    let c2_named = C2_NAME_WORDS.iter().any(|word| has(&file_words, word));
    if c2_base_name(stem).is_some() && c2_named {
        return ListKind::C2Tracker(c2_file(stem));
    }
    ListKind::Generic
}

/// Words of C2-Tracker file names that name the kind of infrastructure listed.
const C2_NAME_WORDS: [&str; 7] = [
    "c2",
    "c4",
    "rat",
    "trojan",
    "botnet",
    "cryptominer",
    "panel",
];

/// Returns the part before `_IPs` of a C2-Tracker file stem.
fn c2_base_name(stem: &str) -> Option<&str> {
    let lower = stem.to_ascii_lowercase();
    ["_ips", " ips"]
        .iter()
        .find(|suffix| lower.ends_with(*suffix))
        .map(|suffix| &stem[..stem.len() - suffix.len()])
}

fn c2_file(stem: &str) -> C2File {
    let base_name = c2_base_name(stem).unwrap_or(stem).to_string();
    let lower = base_name.to_ascii_lowercase();
    if let Some((_, tool)) = OFFENSIVE_TOOLS
        .iter()
        .find(|(start, _)| lower.starts_with(start))
    {
        return C2File {
            base_name,
            family: (*tool).to_string(),
            threat: ThreatType::OffensiveTool,
        };
    }
    let mut words: Vec<&str> = base_name
        .split(['_', ' '])
        .filter(|w| !w.is_empty())
        .collect();
    let threat = match words.last().map(|w| w.to_ascii_lowercase()).as_deref() {
        Some("botnet") => ThreatType::Botnet,
        Some("cryptominer") => ThreatType::Miner,
        _ => ThreatType::C2,
    };
    while words.len() > 1 {
        let last = words[words.len() - 1].to_ascii_lowercase();
        if !["c2", "trojan", "botnet", "cryptominer"].contains(&last.as_str()) {
            break;
        }
        words.pop();
    }
    C2File {
        family: words.join(" "),
        base_name,
        threat,
    }
}

/// Returns the entry of [`BLOCKLIST_DE_LISTS`] for a list, or abuse for a list it does not name.
fn blocklist_de_list(list: &str) -> (&str, ThreatType, &str) {
    BLOCKLIST_DE_LISTS
        .iter()
        .find(|(name, _, _)| *name == list)
        .copied()
        .unwrap_or((list, ThreatType::Abuse, "reported attackers"))
}

fn level_number(stem: &str) -> Option<u32> {
    let digits: String = stem.chars().filter(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn claim_for(kind: ListKind) -> Claim {
    let claim = |claim, threat, weight| Claim {
        claim,
        threat,
        family: None,
        weight,
        label: None,
    };
    match kind {
        ListKind::SpamhausDrop => claim(
            ClaimKind::Malicious,
            ThreatType::HijackedNetwork,
            spamhaus_drop::WEIGHT,
        ),
        ListKind::C2Tracker(file) => c2_claim(file),
        ListKind::C2TrackerUnion => claim(ClaimKind::Suspicious, ThreatType::C2, 0.5),
        ListKind::BlocklistDe(list) => claim(
            ClaimKind::Malicious,
            blocklist_de_list(&list).1,
            BLOCKLIST_DE_WEIGHT,
        ),
        ListKind::IpsumLevel(level) => Claim {
            label: Some(format!("blocklists:>={}", level.unwrap_or(1))),
            ..claim(
                ClaimKind::Malicious,
                ThreatType::Abuse,
                ipsum::weight(level.unwrap_or(1)),
            )
        },
        ListKind::TorExits => claim(ClaimKind::Context, ThreatType::Anonymizer, 0.9),
        ListKind::Generic => claim(ClaimKind::Malicious, ThreatType::Abuse, 0.5),
    }
}

fn c2_claim(file: C2File) -> Claim {
    let (claim, weight) = match file.threat {
        ThreatType::OffensiveTool | ThreatType::Miner => (ClaimKind::Suspicious, 0.5),
        _ => (ClaimKind::Malicious, 0.8),
    };
    Claim {
        claim,
        threat: file.threat,
        family: Some(file.family),
        weight,
        label: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c2_tracker_names() {
        let cases = [
            ("Cobalt_Strike_C2_IPs", "Cobalt Strike", ThreatType::C2),
            ("Brute_Ratel_C4_IPs", "Brute Ratel C4", ThreatType::C2),
            ("DarkComet_Trojan_IPs", "DarkComet", ThreatType::C2),
            ("Mozi_Botnet_IPs", "Mozi", ThreatType::Botnet),
            (
                "XMRig_Monero_Cryptominer_IPs",
                "XMRig Monero",
                ThreatType::Miner,
            ),
            (
                "Hak5_Cloud_C2_IPs",
                "Hak5 Cloud C2",
                ThreatType::OffensiveTool,
            ),
            (
                "Metasploit_Framework_C2_IPs",
                "Metasploit Framework",
                ThreatType::OffensiveTool,
            ),
            ("GoPhish_IPs", "GoPhish", ThreatType::OffensiveTool),
        ];
        for (stem, family, threat) in cases {
            let file = c2_file(stem);
            assert_eq!(file.family, family, "{stem}");
            assert_eq!(file.threat, threat, "{stem}");
        }
    }

    #[test]
    fn entry_value_strips_comments() {
        assert_eq!(
            entry_value("192.0.2.0/24 ; SBL000001"),
            ("192.0.2.0/24", "SBL000001")
        );
        assert_eq!(entry_value("192.0.2.1 # note"), ("192.0.2.1", "note"));
        assert_eq!(entry_value("192.0.2.1"), ("192.0.2.1", ""));
    }
}
