//! Maltrail static trails.
//!
//! Feed: <https://github.com/stamparm/maltrail> (MIT), the files under `trails/static/`. Format: a `#` copyright header naming the Maltrail developers, then one trail per line:
//! a domain, an address, `address:port`, a network, or a `host/path` URL fragment, with an
//! optional `# comment`. A `# Aliases: a, b` header lists other names of the family, and the
//! link of each `# Reference: <url>` line is the reference of the trails below it.
//!
//! The folder that contains the file gives the category, and the file name gives the family:
//!
//! | file | claim | threat | weight |
//! |---|---|---|---|
//! | `mass_scanner*.txt`, in any folder | context | scanner, with the trailing comment (the operator) as label | 0.8 |
//! | `malware/apt_*.txt` | malicious | APT, family without `apt_` | 0.8 |
//! | `malware/` lockbit, conti, ryuk, wannacry | malicious | ransomware | 0.8 |
//! | `malware/` cobaltstrike, sliver, havoc, mythic, brc4, covenant, c2_panel, metasploit | malicious | C2 | 0.8 |
//! | `malware/ek_*.txt` | malicious | exploit | 0.8 |
//! | `malware/` evilginx, gophish | malicious | phishing | 0.8 |
//! | other `malware/` files | malicious | malware | 0.8 |
//! | `malicious/` files | malicious | as for `malware/` | 0.75 |
//! | `suspicious/` anonymous_web_proxy, onion, i2p | suspicious | anonymizer | 0.4 |
//! | `suspicious/` crypto_mining | suspicious | miner | 0.4 |
//! | other `suspicious/` files, or a trail file in any other folder | suspicious | suspicious, the file name as label | 0.4 |
//!
//! An `address:port` trail is an address with a `port:N` label, and a `host/path` trail an
//! `http://` URL. A trail that is only a path (`/gate.php`) matches that path on any host, which
//! no subject of the model can express, so it is counted in [`ParseStats::skipped`] rather
//! than rejected. Aliases and trailing comments become labels.
//!
//! [`ParseStats::skipped`]: crate::ParseStats::skipped

use std::path::Path;

use tiq_model::{ClaimKind, Sighting, ThreatType};

use crate::error::FeedError;
use crate::formats::{file_stem, parent_name};
use crate::input::{Head, for_each_line};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, parse_trail};

const HOMEPAGE: &str = "https://github.com/stamparm/maltrail";

const RANSOMWARE: [&str; 4] = ["lockbit", "conti", "ryuk", "wannacry"];
const C2_FRAMEWORKS: [&str; 8] = [
    "cobaltstrike",
    "sliver",
    "havoc",
    "mythic",
    "brc4",
    "covenant",
    "c2_panel",
    "metasploit",
];
const PHISHING_KITS: [&str; 2] = ["evilginx", "gophish"];
const ANONYMIZERS: [&str; 3] = ["anonymous_web_proxy", "onion", "i2p"];

/// Maltrail's category of a trail file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Category {
    Malware,
    Malicious,
    Suspicious,
    MassScanner,
    /// A trail file outside the malware, malicious and suspicious folders.
    Unknown,
}

impl Category {
    fn of(path: &Path) -> Category {
        if file_stem(path)
            .to_ascii_lowercase()
            .starts_with("mass_scanner")
        {
            return Category::MassScanner;
        }
        match parent_name(path).to_ascii_lowercase().as_str() {
            "malware" => Category::Malware,
            "malicious" => Category::Malicious,
            "suspicious" => Category::Suspicious,
            _ => Category::Unknown,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Category::Malware => "malware",
            Category::Malicious => "malicious infrastructure",
            Category::Suspicious | Category::Unknown => "suspicious",
            Category::MassScanner => "mass scanners",
        }
    }
}

/// Claim that every trail of one file makes.
struct Profile {
    claim: ClaimKind,
    threat: ThreatType,
    family: Option<String>,
    weight: f32,
    label: Option<String>,
}

impl Profile {
    fn of(path: &Path) -> Profile {
        let stem = file_stem(path).to_ascii_lowercase();
        let profile = |claim, threat, family, weight, label| Profile {
            claim,
            threat,
            family,
            weight,
            label,
        };
        let family = || Some(stem.strip_prefix("apt_").unwrap_or(&stem).to_string());
        match Category::of(path) {
            Category::MassScanner => {
                profile(ClaimKind::Context, ThreatType::Scanner, None, 0.8, None)
            }
            Category::Malware => profile(
                ClaimKind::Malicious,
                malware_threat(&stem),
                family(),
                0.8,
                None,
            ),
            Category::Malicious => profile(
                ClaimKind::Malicious,
                malware_threat(&stem),
                family(),
                0.75,
                None,
            ),
            Category::Suspicious | Category::Unknown => {
                let label = Some(stem.clone());
                profile(
                    ClaimKind::Suspicious,
                    suspicious_threat(&stem),
                    None,
                    0.4,
                    label,
                )
            }
        }
    }
}

fn malware_threat(stem: &str) -> ThreatType {
    if stem.starts_with("apt_") {
        ThreatType::Apt
    } else if RANSOMWARE.contains(&stem) || stem.contains("ransom") {
        ThreatType::Ransomware
    } else if C2_FRAMEWORKS.contains(&stem) {
        ThreatType::C2
    } else if stem.starts_with("ek_") {
        ThreatType::Exploit
    } else if PHISHING_KITS.contains(&stem) {
        ThreatType::Phishing
    } else {
        ThreatType::Malware
    }
}

fn suspicious_threat(stem: &str) -> ThreatType {
    if ANONYMIZERS.contains(&stem) {
        ThreatType::Anonymizer
    } else if stem == "crypto_mining" {
        ThreatType::Miner
    } else {
        ThreatType::Suspicious
    }
}

pub(crate) fn matches(head: &Head) -> bool {
    head.lines()
        .take(5)
        .any(|line| line.starts_with('#') && line.contains("Maltrail developers"))
}

pub(crate) fn source(path: &Path) -> SourceInfo {
    let stem = file_stem(path).to_ascii_lowercase();
    let title = format!("Maltrail {}: {stem}", Category::of(path).name());
    SourceInfo::new(
        format!("maltrail/{stem}"),
        "maltrail",
        title,
        Some(HOMEPAGE),
    )
}

/// Header values that apply to the trails below them.
#[derive(Default)]
struct Context {
    aliases: Vec<String>,
    reference: Option<String>,
}

impl Context {
    /// Reads an `# Aliases:` or `# Reference:` comment; other comments change nothing.
    fn read_comment(&mut self, comment: &str) {
        let comment = comment.trim_start_matches('#').trim();
        if let Some(aliases) = comment.strip_prefix("Aliases:") {
            self.aliases.clear();
            for alias in aliases.split(',').map(str::trim).filter(|a| !a.is_empty()) {
                if !self.aliases.iter().any(|known| known == alias) {
                    self.aliases.push(alias.to_string());
                }
            }
        } else if let Some(reference) = comment.strip_prefix("Reference:") {
            self.reference = reference_link(reference).map(str::to_string);
        }
    }
}

/// Returns the link of a `# Reference:` comment, which may carry a note after the link
/// (`https://… (# 2023-08-01)`) or leave out the scheme (`virustotal.com/gui/…`).
fn reference_link(text: &str) -> Option<&str> {
    let mut words = text.split_whitespace();
    let with_scheme = text.split_whitespace().find(|word| word.contains("://"));
    with_scheme.or_else(|| {
        words
            .next()
            .filter(|word| word.contains('.') && word.contains('/'))
    })
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let profile = Profile::of(&file.path);
    let mut context = Context::default();
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() {
            return Ok(());
        }
        if line.starts_with('#') {
            context.read_comment(line);
            return Ok(());
        }
        let (value, comment) = line.split_once('#').unwrap_or((line, ""));
        let trail = match parse_trail(value) {
            Ok(trail) => trail,
            Err(ValueError::PathWithoutHost(_) | ValueError::OtherScheme(_)) => {
                out.skip();
                return Ok(());
            }
            Err(error) => {
                out.reject(number, error);
                return Ok(());
            }
        };
        let mut sighting =
            Sighting::new(trail.subject, profile.claim, profile.threat, profile.weight);
        sighting.family = profile.family.clone();
        sighting.reference = context.reference.clone();
        sighting.labels.extend(profile.label.clone());
        sighting.labels.extend(context.aliases.iter().cloned());
        sighting
            .labels
            .extend(trail.port.map(|port| format!("port:{port}")));
        let comment = comment.trim();
        if !comment.is_empty() {
            sighting.labels.push(comment.to_string());
        }
        out.sighting(number, sighting)
    })
}

#[cfg(test)]
mod tests {
    use super::reference_link;

    #[test]
    fn reference_link_forms() {
        let dated = reference_link(" https://example.com/report (# 2023-08-01)");
        assert_eq!(dated, Some("https://example.com/report"));
        let repeated = reference_link(" # Reference: https://example.org/a");
        assert_eq!(repeated, Some("https://example.org/a"));
        assert_eq!(reference_link("example.net/x/y"), Some("example.net/x/y"));
        assert_eq!(reference_link("CERT_FINGERPRINT-HOST: 2a06"), None);
        assert_eq!(reference_link(""), None);
    }
}
