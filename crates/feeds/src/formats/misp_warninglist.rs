//! MISP warninglists: known-benign values that should not raise an alert on their own.
//!
//! Feed: <https://github.com/MISP/misp-warninglists> (CC0).
//! Format: one JSON document per list, stored as `lists/<list>/list.json`:
//! `{"name", "type", "list": [values], "matching_attributes": [MISP attribute types], …}`.
//! The file is read whole (the largest upstream lists are a few tens of megabytes).
//!
//! Each list value becomes one [`AllowEntry`], with a matcher chosen by the list `type`:
//! - `cidr`: a network, where a bare address is a /32 or /128 network;
//! - `hostname`: the domain and its subdomains;
//! - `string`: the exact canonical value, except that a value starting with `.` is a domain
//!   suffix and is matched as a hostname;
//! - `substring`: a lower-case substring;
//! - `regex`: a regular expression converted from MISP's `/pattern/flags` form.
//!
//! The category comes from the list name through [`CATEGORIES`]. Source
//! `misp-warninglist/<list folder>`, provider `misp-warninglists`.
//!
//! A list whose `matching_attributes` include no address, domain, URL or file-hash type (phone
//! numbers, e-mail addresses, Azure application ids) is reported as unsupported by `inspect`.
//! For the same reason, a value of a hash type tiq does not look up (SHA-224, SHA-384,
//! SHA-512, ssdeep) in a list that names such a type is counted as skipped, not rejected. A
//! single-label name (the `tlds` list, intranet host names) is skipped too, because no
//! canonical domain can match it.

use std::path::Path;

use serde::Deserialize;
use tiq_model::indicator::{Reason, parse_domain, parse_ip, parse_url};
use tiq_model::{AllowCategory, AllowEntry, AllowMatch};

use crate::error::{FeedError, UnsupportedReason};
use crate::formats::{file_stem, parent_name};
use crate::input::{LineLocator, count_lines, read_all};
use crate::json_shape::JsonShape;
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::{ValueError, hash_subject, parse_network};

const PROVIDER: &str = "misp-warninglists";
const HOMEPAGE: &str = "https://github.com/MISP/misp-warninglists";

/// MISP attribute types whose values tiq looks up; a composite type such as `filename|sha256`
/// counts when one of its parts is here.
const LOOKUP_ATTRIBUTES: [&str; 10] = [
    "ip-src", "ip-dst", "ip", "domain", "hostname", "url", "uri", "md5", "sha1", "sha256",
];

/// Comparison of a list name with a rule of [`CATEGORIES`].
enum NameRule {
    Exact(&'static str),
    Prefix(&'static str),
    Suffix(&'static str),
}

impl NameRule {
    fn matches(&self, name: &str) -> bool {
        match self {
            NameRule::Exact(exact) => name == *exact,
            NameRule::Prefix(prefix) => name.starts_with(prefix),
            NameRule::Suffix(suffix) => name.ends_with(suffix),
        }
    }
}

/// Category of a list by its lower-case folder name; the first matching rule wins, and a list
/// that no rule names is [`AllowCategory::Other`].
const CATEGORIES: &[(NameRule, AllowCategory)] = {
    use AllowCategory::*;
    use NameRule::*;
    &[
        (Prefix("public-dns"), PublicResolver),
        (Prefix("cloudflare-top"), TopSite),
        (Prefix("tranco"), TopSite),
        (Prefix("cisco_top"), TopSite),
        (Prefix("google-chrome-crux"), TopSite),
        (Exact("alexa"), TopSite),
        (Exact("majestic_million"), TopSite),
        (Exact("moz-top500"), TopSite),
        (Exact("akamai"), Cdn),
        (Exact("cloudflare"), Cdn),
        (Exact("fastly"), Cdn),
        (Exact("bunny-net"), Cdn),
        (Exact("stackpath"), Cdn),
        (Exact("amazon-aws"), Cloud),
        (Exact("google-gcp"), Cloud),
        (Prefix("microsoft-azure"), Cloud),
        (Exact("microsoft-office365-ip"), Cloud),
        (Exact("microsoft-office365-cn"), Cloud),
        (Exact("oracle-oci"), Cloud),
        (Exact("ovh-cluster"), Cloud),
        (Exact("github"), Cloud),
        (Exact("palo-alto-networks-cortex-cloud"), Cloud),
        (Exact("zscaler"), Cloud),
        (Exact("icloud-private-relay"), Cloud),
        (Prefix("vpn-ipv"), Cloud),
        (Exact("googlebot"), Crawler),
        (Exact("openai-gptbot"), Crawler),
        (Suffix("-scanning"), ResearchScanner),
        (Suffix("-scanner"), ResearchScanner),
        (Exact("shodan"), ResearchScanner),
        (Exact("censys"), ResearchScanner),
        (Exact("shadowserver"), ResearchScanner),
        (Prefix("tenable-cloud"), ResearchScanner),
        (Exact("palo-alto-networks-cortex-xpanse"), ResearchScanner),
        (Exact("umich-cse-connection-attempts"), ResearchScanner),
        (Exact("empty-hashes"), KnownFile),
        (Exact("eicar.com"), KnownFile),
        (Exact("ti-falsepositives"), KnownFile),
        (Exact("common-ioc-false-positive"), KnownFile),
        (Prefix("mozilla-"), KnownFile),
        (Exact("rfc1918"), Reserved),
        (Exact("rfc3849"), Reserved),
        (Exact("rfc5735"), Reserved),
        (Exact("rfc6598"), Reserved),
        (Exact("rfc6761"), Reserved),
        (Exact("multicast"), Reserved),
        (Exact("ipv6-linklocal"), Reserved),
        (Exact("sinkholes"), Sinkhole),
        (Exact("url-shortener"), UrlShortener),
        (Exact("dynamic-dns"), SharedNamespace),
        (Exact("link-in-bio"), SharedNamespace),
        (Exact("public-ipfs-gateways"), SharedNamespace),
        (Prefix("parking-domain"), SharedNamespace),
        (Exact("lots-project"), SharedNamespace),
        // Free mail providers: a domain on it is shared by anyone, so it vouches for nothing.
        (Exact("disposable-email"), SharedNamespace),
    ]
};

/// Returns the category of a list from its folder name.
pub(crate) fn category(list: &str) -> AllowCategory {
    let name = list.to_ascii_lowercase();
    CATEGORIES
        .iter()
        .find(|(rule, _)| rule.matches(&name))
        .map_or(AllowCategory::Other, |(_, category)| *category)
}

/// Returns the list's folder name, or the file stem when the file is not named `list.json`.
fn list_key(path: &Path) -> &str {
    match path.file_name().and_then(|name| name.to_str()) {
        Some("list.json") if !parent_name(path).is_empty() => parent_name(path),
        _ => file_stem(path),
    }
}

pub(crate) fn source(
    path: &Path,
    json: Option<&JsonShape>,
) -> Result<SourceInfo, UnsupportedReason> {
    let key = list_key(path);
    let attributes = json.map_or(&[][..], |shape| shape.list("matching_attributes"));
    if !attributes.is_empty()
        && !attributes
            .iter()
            .any(|attribute| is_lookup_attribute(attribute))
    {
        return Err(UnsupportedReason::WarninglistOutOfScope {
            list: key.to_string(),
            attributes: attributes.join(", "),
        });
    }
    let title = json.and_then(|shape| shape.string("name")).unwrap_or(key);
    Ok(SourceInfo::new(
        format!("misp-warninglist/{key}"),
        PROVIDER,
        format!("MISP warninglist: {title}"),
        Some(HOMEPAGE),
    ))
}

fn is_lookup_attribute(attribute: &str) -> bool {
    attribute
        .split('|')
        .any(|part| LOOKUP_ATTRIBUTES.contains(&part))
}

/// MISP hash attribute types that tiq does not look up.
const OTHER_HASH_ATTRIBUTES: [&str; 7] = [
    "sha224",
    "sha384",
    "sha512",
    "sha512/224",
    "sha512/256",
    "ssdeep",
    "tlsh",
];

/// Returns whether a value has the shape of a SHA-224, SHA-384 or SHA-512 digest (56, 96 or 128
/// hex digits) or of an ssdeep hash (`blocksize:hash:hash`).
fn is_other_hash(value: &str) -> bool {
    let hex = value.bytes().all(|b| b.is_ascii_hexdigit());
    if hex && matches!(value.len(), 56 | 96 | 128) {
        return true;
    }
    let parts: Vec<&str> = value.splitn(3, ':').collect();
    let [block_size, first, second] = parts[..] else {
        return false;
    };
    let base64 = |part: &str| {
        part.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    };
    let numeric = !block_size.is_empty() && block_size.bytes().all(|b| b.is_ascii_digit());
    numeric && base64(first) && base64(second)
}

/// The parts of a warninglist this parser reads.
#[derive(Deserialize)]
struct Warninglist {
    #[serde(rename = "type")]
    kind: String,
    list: Vec<serde_json::Value>,
    #[serde(default)]
    matching_attributes: Vec<String>,
}

/// The kinds of value a `string` list may hold, from its `matching_attributes`: a list of file
/// hashes is not read as addresses (the ssdeep hash `3::` is also a valid IPv6 address).
#[derive(Clone, Copy)]
struct ValueKinds {
    ip: bool,
    domain: bool,
    url: bool,
    hash: bool,
    /// The list names hash types that tiq does not look up.
    other_hashes: bool,
}

impl ValueKinds {
    fn of(attributes: &[String]) -> ValueKinds {
        if attributes.is_empty() {
            return ValueKinds {
                ip: true,
                domain: true,
                url: true,
                hash: true,
                other_hashes: false,
            };
        }
        let has = |names: &[&str]| {
            attributes
                .iter()
                .any(|attribute| attribute.split('|').any(|part| names.contains(&part)))
        };
        ValueKinds {
            ip: has(&["ip-src", "ip-dst", "ip"]),
            domain: has(&["domain", "hostname"]),
            url: has(&["url", "uri", "link"]),
            hash: has(&["md5", "sha1", "sha256"]),
            other_hashes: has(&OTHER_HASH_ATTRIBUTES),
        }
    }
}

/// Matcher type of a list.
#[derive(Clone, Copy)]
enum ListType {
    Cidr,
    Hostname,
    String,
    Substring,
    Regex,
}

impl ListType {
    fn from_name(name: &str) -> Option<ListType> {
        Some(match name {
            "cidr" => ListType::Cidr,
            "hostname" => ListType::Hostname,
            "string" => ListType::String,
            "substring" => ListType::Substring,
            "regex" => ListType::Regex,
            _ => return None,
        })
    }
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    let path = &file.path;
    let content = read_all(path).map_err(FeedError::io(path))?;
    out.set_lines(count_lines(&content));
    let text = std::str::from_utf8(&content).map_err(|error| {
        FeedError::malformed(path, None, format!("the file is not UTF-8: {error}"))
    })?;
    let list: Warninglist = serde_json::from_str(text)
        .map_err(|error| FeedError::malformed(path, Some(error.line() as u64), error))?;
    let Some(list_type) = ListType::from_name(&list.kind) else {
        let reason = format!(
            "unknown list type {:?}: expected cidr, hostname, string, substring or regex",
            list.kind
        );
        return Err(FeedError::malformed(path, None, reason));
    };
    let category = category(list_key(path));
    let kinds = ValueKinds::of(&list.matching_attributes);

    let mut locator = LineLocator::new(text);
    let list_line = locator.find("\"list\"").unwrap_or(1);
    for item in &list.list {
        let line = locator.find(&item.to_string()).unwrap_or(list_line);
        let Some(value) = item.as_str() else {
            out.reject(line, format!("list item {item} is not a string"));
            continue;
        };
        if kinds.other_hashes && is_other_hash(value.trim()) {
            out.skip();
            continue;
        }
        match matcher(list_type, kinds, value) {
            Ok(matcher) => {
                let entry = AllowEntry {
                    matcher,
                    category,
                    // NOTE: the top-site lists in misp-warninglists are sorted alphabetically,
                    // not by popularity, so no rank can be read from the position.
                    rank: None,
                };
                out.allow(line, entry)?;
            }
            Err(error) if is_single_label(&error) => out.skip(),
            Err(error) => out.reject(line, error),
        }
    }
    Ok(())
}

fn matcher(list_type: ListType, kinds: ValueKinds, value: &str) -> Result<AllowMatch, ValueError> {
    let value = value.trim();
    match list_type {
        ListType::Cidr => Ok(AllowMatch::Network(parse_network(value)?)),
        ListType::Hostname => hostname(value),
        ListType::String if value.starts_with('.') => hostname(value),
        ListType::String => exact(value, kinds).map(AllowMatch::Exact),
        ListType::Substring if value.is_empty() => {
            Err(ValueError::field("substring", value, "a non-empty text"))
        }
        ListType::Substring => Ok(AllowMatch::Substring(value.to_lowercase())),
        ListType::Regex => misp_regex(value).map(AllowMatch::Regex),
    }
}

/// Returns a matcher for a domain and its subdomains. A leading `.` or `*.` is the suffix form
/// of the same rule.
fn hostname(value: &str) -> Result<AllowMatch, ValueError> {
    let name = value.trim_start_matches('*').trim_start_matches('.');
    if let Ok(ip) = parse_ip(name) {
        return Ok(AllowMatch::Exact(ip.to_string()));
    }
    Ok(AllowMatch::Hostname(parse_domain(name)?.name))
}

/// Returns the canonical text of a hash, URL, address or domain, trying only the kinds the list
/// applies to.
fn exact(value: &str, kinds: ValueKinds) -> Result<String, ValueError> {
    let hex = value.len() >= 32 && value.bytes().all(|b| b.is_ascii_hexdigit());
    if kinds.hash && (hex || !(kinds.ip || kinds.domain || kinds.url)) {
        return hash_subject(value).map(|subject| subject.value());
    }
    if kinds.url && value.contains("://") {
        return Ok(parse_url(value)?.url);
    }
    if kinds.ip
        && let Ok(ip) = parse_ip(value)
    {
        return Ok(ip.to_string());
    }
    if !kinds.domain && kinds.ip {
        return Ok(parse_ip(value)?.to_string());
    }
    match parse_domain(value) {
        Ok(domain) => Ok(domain.name),
        Err(_) if kinds.url && value.contains('/') => Ok(parse_url(value)?.url),
        Err(error) => Err(error.into()),
    }
}

/// Returns whether a value failed only for being a single label (a top-level domain such as
/// `com` or an intranet name). A canonical domain has at least two labels, so such an entry
/// could never match and is skipped rather than rejected.
fn is_single_label(error: &ValueError) -> bool {
    matches!(error, ValueError::Indicator(parse) if parse.reason == Reason::SingleLabel)
}

/// Converts MISP's `/pattern/flags` into the `regex` crate's syntax (`i`, `m`, `s` and `x`
/// become inline flags, `g` has no meaning for a match) and checks that it compiles.
fn misp_regex(value: &str) -> Result<String, ValueError> {
    let (pattern, flags) = match value
        .strip_prefix('/')
        .and_then(|rest| rest.rsplit_once('/'))
    {
        Some((pattern, flags)) if flags.chars().all(|c| c.is_ascii_alphabetic()) => {
            (pattern, flags)
        }
        _ => (value, ""),
    };
    let inline: String = flags
        .chars()
        .filter(|flag| "imsx".contains(*flag))
        .collect();
    let converted = match inline.is_empty() {
        true => pattern.to_string(),
        false => format!("(?{inline}){pattern}"),
    };
    regex::Regex::new(&converted).map_err(|error| ValueError::Regex {
        pattern: value.to_string(),
        message: error
            .to_string()
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .to_string(),
    })?;
    Ok(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_by_list_name() {
        let cases = [
            ("public-dns-v4", AllowCategory::PublicResolver),
            ("cloudflare-top10k", AllowCategory::TopSite),
            ("cloudflare", AllowCategory::Cdn),
            ("microsoft-azure-china", AllowCategory::Cloud),
            ("shodan-nt-scanning", AllowCategory::ResearchScanner),
            ("onyphe-scanner", AllowCategory::ResearchScanner),
            ("empty-hashes", AllowCategory::KnownFile),
            ("rfc1918", AllowCategory::Reserved),
            ("parking-domain-ns", AllowCategory::SharedNamespace),
            ("disposable-email", AllowCategory::SharedNamespace),
            ("bank-website", AllowCategory::Other),
        ];
        for (name, expected) in cases {
            assert_eq!(category(name), expected, "{name}");
        }
    }

    #[test]
    fn regex_conversion() {
        let converted = misp_regex(r"/^(security|noc)\@.*\..*$/i").unwrap();
        assert_eq!(converted, r"(?i)^(security|noc)\@.*\..*$");
        assert_eq!(misp_regex("/a+/g").unwrap(), "a+");
        assert!(matches!(
            misp_regex("/(?<=x)y/"),
            Err(ValueError::Regex { .. })
        ));
    }

    #[test]
    fn exact_values_are_canonical() {
        let any = ValueKinds::of(&[]);
        assert_eq!(exact("Example.COM", any).unwrap(), "example.com");
        assert_eq!(exact("192.0.2.001", any).unwrap(), "192.0.2.1");
        assert_eq!(exact(&"D".repeat(32), any).unwrap(), "d".repeat(32));
        let long = exact(&"a".repeat(128), any);
        assert!(matches!(long, Err(ValueError::Indicator(_))));
    }

    #[test]
    fn other_hash_shapes() {
        assert!(is_other_hash(&"a".repeat(56)));
        assert!(is_other_hash(&"b".repeat(128)));
        assert!(is_other_hash("3::"));
        assert!(is_other_hash("96:abc+/:def"));
        assert!(!is_other_hash(&"c".repeat(64)));
        assert!(!is_other_hash("example.com"));
        assert!(!is_other_hash("2001:db8::1"));
    }

    #[test]
    fn hash_lists_read_only_hashes() {
        let hashes = ValueKinds::of(&["md5".to_string(), "filename|sha256".to_string()]);
        assert!(exact("3::", hashes).is_err());
        assert_eq!(exact(&"e".repeat(40), hashes).unwrap(), "e".repeat(40));
    }
}
