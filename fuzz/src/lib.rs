//! Property checks for the indicator parsers of `tiq-model`, shared by the fuzz targets.
//!
//! Each `check_*` function runs one parser on the input and panics when the result breaks a
//! property of the canonical form, so libFuzzer records the input as a crash.

use std::net::IpAddr;

use tiq_extract::{Extraction, Extractor, Kind, Options};
use tiq_model::indicator::{
    self, Domain, HashKind, Indicator, IndicatorKind, ParseError, UrlHost, UrlIndicator,
};
use tiq_model::{Lang, refang};

/// The bracketed spellings that `refang` rewrites.
const BRACKET_FORMS: [&str; 5] = ["[.]", "(.)", "{.}", "[://]", "[:]"];

const ALL_KINDS: [IndicatorKind; 5] = [
    IndicatorKind::Ip,
    IndicatorKind::Domain,
    IndicatorKind::Url,
    IndicatorKind::Hash,
    IndicatorKind::Cve,
];

/// Checks `parse_ip`, and that it accepts every address the standard library parses.
pub fn check_ip(input: &str) {
    let result = indicator::parse_ip(input);
    if let Ok(expected) = input.trim().parse::<IpAddr>() {
        let expected = unmap_ipv4(expected);
        assert_eq!(
            result.as_ref().ok(),
            Some(&expected),
            "{input:?} is an address for the standard library"
        );
    }
    match result {
        Ok(address) => check_ip_value(input, address),
        Err(error) => check_error(input, &error),
    }
}

/// Checks `parse_domain`.
pub fn check_domain(input: &str) {
    match indicator::parse_domain(input) {
        Ok(domain) => check_domain_value(input, &domain),
        Err(error) => check_error(input, &error),
    }
}

/// Checks `parse_url`.
pub fn check_url(input: &str) {
    match indicator::parse_url(input) {
        Ok(url) => check_url_value(input, &url),
        Err(error) => check_error(input, &error),
    }
}

/// Checks `parse_hash`, and that it accepts every trimmed value of 32, 40 or 64 hex digits.
pub fn check_hash(input: &str) {
    let result = indicator::parse_hash(input);
    let trimmed = input.trim();
    let hex_digits = trimmed.bytes().all(|b| b.is_ascii_hexdigit());
    if hex_digits && [32, 40, 64].contains(&trimmed.len()) {
        assert!(result.is_ok(), "{input:?} is a hash but got {result:?}");
    }
    match result {
        Ok((kind, hex)) => check_hash_value(input, kind, &hex),
        Err(error) => check_error(input, &error),
    }
}

/// Checks `parse_cve`, and that it accepts every trimmed value of the form
/// `CVE-YYYY-NNNN` in any case, with 4 to 19 digits in the number.
pub fn check_cve(input: &str) {
    let result = indicator::parse_cve(input);
    let trimmed = input.trim().to_ascii_uppercase();
    if is_cve_id(&trimmed) && trimmed.len() <= "CVE-YYYY-".len() + 19 {
        assert!(result.is_ok(), "{input:?} is a CVE id but got {result:?}");
    }
    match result {
        Ok(id) => check_cve_value(input, &id),
        Err(error) => check_error(input, &error),
    }
}

/// Checks `refang` and `Indicator::parse_any`, and that `parse_any` agrees with `parse_as`.
pub fn check_any(input: &str) {
    check_refang(input);
    match Indicator::parse_any(input) {
        Ok(found) => {
            assert_eq!(
                Indicator::parse_as(found.kind(), input).as_ref(),
                Ok(&found),
                "{input:?}: parse_as({}) disagrees with parse_any",
                found.kind()
            );
            check_value(input, &found);
        }
        Err(error) => {
            check_error(input, &error);
            for kind in ALL_KINDS {
                let parsed = Indicator::parse_as(kind, input);
                assert!(
                    parsed.is_err(),
                    "{input:?}: parse_any rejects it but parse_as({kind}) returns {parsed:?}"
                );
            }
        }
    }
}

/// Checks that `refang` only trims a value with no defanged spelling, and never grows it.
pub fn check_refang(input: &str) {
    let refanged = refang(input);
    let trimmed = input.trim();
    assert!(
        refanged.len() <= trimmed.len(),
        "{input:?}: refang made it longer: {refanged:?}"
    );
    let has_defanged_scheme = ["hxxp://", "hxxps://"]
        .iter()
        .any(|scheme| starts_with_ignore_ascii_case(trimmed, scheme));
    let has_bracket_form = BRACKET_FORMS.iter().any(|form| trimmed.contains(form));
    if !has_defanged_scheme && !has_bracket_form {
        assert_eq!(refanged, trimmed, "{input:?} has nothing to refang");
    }
    for scheme in ["hxxp://", "hxxps://"] {
        assert!(
            !starts_with_ignore_ascii_case(&refanged, scheme),
            "{input:?}: refang left the scheme of {refanged:?}"
        );
    }
}

fn check_value(input: &str, found: &Indicator) {
    match found {
        Indicator::Ip(address) => check_ip_value(input, *address),
        Indicator::Domain(domain) => check_domain_value(input, domain),
        Indicator::Url(url) => check_url_value(input, url),
        Indicator::Hash { kind, hex } => check_hash_value(input, *kind, hex),
        Indicator::Cve(id) => check_cve_value(input, id),
    }
}

fn check_ip_value(input: &str, address: IpAddr) {
    assert_eq!(
        unmap_ipv4(address),
        address,
        "{input:?}: an IPv4-mapped address must come back as IPv4"
    );
    let text = address.to_string();
    assert_eq!(
        indicator::parse_ip(&text),
        Ok(address),
        "{input:?}: the canonical text {text:?} does not parse to the same address"
    );
    check_fixed_point(input, &Indicator::Ip(address));
}

fn check_domain_value(input: &str, domain: &Domain) {
    let name = &domain.name;
    let labels: Vec<&str> = name.split('.').collect();
    assert!(
        name.len() <= 253,
        "{input:?}: {name:?} is over 253 characters"
    );
    assert!(labels.len() >= 2, "{input:?}: {name:?} has one label");
    assert!(
        labels.iter().all(|label| (1..=63).contains(&label.len())),
        "{input:?}: {name:?} has an empty label or one over 63 characters"
    );
    assert!(
        name.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b)),
        "{input:?}: {name:?} is not lower-case ASCII"
    );
    assert!(
        is_label_suffix(name, &domain.suffix),
        "{input:?}: suffix {:?} is not a suffix of {name:?}",
        domain.suffix
    );
    if let Some(registered) = &domain.registered {
        assert!(
            is_label_suffix(name, registered) && is_label_suffix(registered, &domain.suffix),
            "{input:?}: registered domain {registered:?} is not between {name:?} and {:?}",
            domain.suffix
        );
    }

    // A punycode name and its Unicode spelling are one domain, so they must parse the same.
    if labels.iter().any(|label| label.starts_with("xn--")) {
        let (unicode, result) = idna::domain_to_unicode(name);
        assert!(result.is_ok(), "{input:?}: {name:?} has invalid punycode");
        assert_eq!(
            indicator::parse_domain(&unicode).as_ref(),
            Ok(domain),
            "{input:?}: the Unicode spelling {unicode:?} of {name:?} parses differently"
        );
    }

    // Every accepted domain can be the host of a URL, except one whose top-level label is a
    // hexadecimal number such as `0xc0`: parse_url rejects such a host as an IPv4 form.
    let tld = labels[labels.len() - 1];
    if !is_hex_number(tld) {
        let text = format!("http://{name}/");
        let expected = UrlIndicator {
            url: text.clone(),
            host: UrlHost::Domain(domain.clone()),
        };
        assert_eq!(
            indicator::parse_url(&text),
            Ok(expected),
            "{input:?}: {text:?} does not parse to a URL on the same domain"
        );
    }
    check_fixed_point(input, &Indicator::Domain(domain.clone()));
}

fn check_url_value(input: &str, parsed: &UrlIndicator) {
    let text = &parsed.url;
    let url = url::Url::parse(text)
        .unwrap_or_else(|e| panic!("{input:?}: the canonical URL {text:?} is invalid: {e}"));
    assert!(
        matches!(url.scheme(), "http" | "https"),
        "{input:?}: {text:?} is not http or https"
    );
    assert_eq!(
        url.fragment(),
        None,
        "{input:?}: {text:?} kept its fragment"
    );
    assert_ne!(
        url.query(),
        Some(""),
        "{input:?}: {text:?} kept an empty query"
    );
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{input:?}: {text:?} kept its user info"
    );
    assert_ne!(url.port(), Some(0), "{input:?}: {text:?} has port 0");

    match &parsed.host {
        UrlHost::Ip(address) => {
            let url_address = match url.host() {
                Some(url::Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
                Some(url::Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
                _ => None,
            };
            assert_eq!(
                url_address,
                Some(*address),
                "{input:?}: host {address} is not the host of {text:?}"
            );
            assert_eq!(
                unmap_ipv4(*address),
                *address,
                "{input:?}: {text:?} has an IPv4-mapped host"
            );
            if let IpAddr::V4(v4) = address {
                check_numeric_url_host(input, *v4);
            }
        }
        UrlHost::Domain(domain) => {
            // The URL keeps a trailing dot on its host, and the domain drops it.
            let url_host = url.host_str().unwrap_or("");
            let url_host = url_host.strip_suffix('.').unwrap_or(url_host);
            assert_eq!(
                url_host, domain.name,
                "{input:?}: domain {:?} is not the host of {text:?}",
                domain.name
            );
            assert_eq!(
                indicator::parse_domain(&domain.name).as_ref(),
                Ok(domain),
                "{input:?}: the host of {text:?} parses to another domain"
            );
        }
    }

    let refanged_again = refang(text);
    assert_eq!(
        &refanged_again, text,
        "{input:?}: the canonical URL {text:?} still contains a defanged spelling"
    );
    check_fixed_point(input, &Indicator::Url(parsed.clone()));
}

/// Checks that an IPv4 URL host was written as `parse_ip` reads addresses: four decimal octets
/// with leading zeros read as decimal, never the octal, hexadecimal or shortened forms of the
/// URL Standard.
///
/// The host text is taken from the input the way the URL Standard splits an http URL. Control
/// characters and spaces are trimmed, tabs and newlines dropped, and any run of `/` or `\`
/// after the scheme skipped. The authority ends at the first `/`, `\`, `?` or `#`, the host
/// follows the last `@`, and it is then percent-decoded and mapped with IDNA.
fn check_numeric_url_host(input: &str, address: std::net::Ipv4Addr) {
    let cleaned: String = input
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let cleaned = refang(&cleaned);
    let after_scheme = ["http:", "https:"]
        .iter()
        .find(|scheme| starts_with_ignore_ascii_case(&cleaned, scheme))
        .map_or(cleaned.as_str(), |scheme| &cleaned[scheme.len()..]);
    let rest = after_scheme.trim_start_matches(['/', '\\']);
    let authority = rest.split(['/', '\\', '?', '#']).next().unwrap_or("");
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    if host_port.starts_with('[') {
        // An IPv6 literal, such as an IPv4-mapped address.
        return;
    }
    let host = host_port
        .split_once(':')
        .map_or(host_port, |(host, _)| host);

    let decoded: Vec<u8> = percent_encoding::percent_decode_str(host).collect();
    let Ok(mapped) = idna::domain_to_ascii_cow(&decoded, idna::AsciiDenyList::URL) else {
        panic!("{input:?}: the URL parser accepted host {host:?}, which IDNA rejects");
    };
    let dotted = mapped.trim_end_matches('.');
    assert_eq!(
        indicator::parse_ip(dotted),
        Ok(IpAddr::V4(address)),
        "{input:?}: URL host {host:?} became {address}, but as an IP address it is {dotted:?}"
    );
}

fn check_hash_value(input: &str, kind: HashKind, hex: &str) {
    let expected_len = match kind {
        HashKind::Md5 => 32,
        HashKind::Sha1 => 40,
        HashKind::Sha256 => 64,
    };
    assert_eq!(
        hex.len(),
        expected_len,
        "{input:?}: {hex:?} is not a {kind:?} length"
    );
    assert!(
        hex.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{input:?}: {hex:?} is not lower-case hex"
    );
    assert_eq!(
        hex,
        input.trim().to_ascii_lowercase(),
        "{input:?}: the hash is not the trimmed input in lower case"
    );
    check_fixed_point(
        input,
        &Indicator::Hash {
            kind,
            hex: hex.to_string(),
        },
    );
}

fn check_cve_value(input: &str, id: &str) {
    assert!(is_cve_id(id), "{input:?}: {id:?} is not CVE-YYYY-NNNN");
    assert_eq!(
        id,
        input.trim().to_ascii_uppercase(),
        "{input:?}: the id is not the trimmed input in upper case"
    );
    check_fixed_point(input, &Indicator::Cve(id.to_string()));
}

/// Checks that the canonical text of a parsed indicator parses back to the same indicator,
/// both as its own kind and through `parse_any`.
fn check_fixed_point(input: &str, found: &Indicator) {
    let value = found.value();
    assert_eq!(
        Indicator::parse_as(found.kind(), &value).as_ref(),
        Ok(found),
        "{input:?}: the canonical {} {value:?} parses to another value",
        found.kind()
    );
    assert_eq!(
        Indicator::parse_any(&value).as_ref(),
        Ok(found),
        "{input:?}: parse_any reads the canonical {} {value:?} differently",
        found.kind()
    );
}

fn check_error(input: &str, error: &ParseError) {
    assert!(
        error.input.chars().count() <= 200,
        "{input:?}: the error keeps over 200 characters of the input"
    );
    for lang in [Lang::En, Lang::ZhCn] {
        assert!(
            !error.message(lang).is_empty(),
            "{input:?}: empty {lang:?} message"
        );
    }
}

/// Returns true for `CVE-` followed by a 4-digit year, `-` and at least 4 digits.
fn is_cve_id(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("CVE-") else {
        return false;
    };
    let Some((year, number)) = rest.split_once('-') else {
        return false;
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    year.len() == 4 && all_digits(year) && number.len() >= 4 && all_digits(number)
}

fn is_label_suffix(name: &str, suffix: &str) -> bool {
    name == suffix || name.ends_with(&format!(".{suffix}"))
}

/// Tells whether a label is a hexadecimal number in the URL Standard's IPv4 spelling.
fn is_hex_number(label: &str) -> bool {
    label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"))
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn starts_with_ignore_ascii_case(value: &str, prefix: &str) -> bool {
    value
        .as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn unmap_ipv4(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// Checks the streaming extractor on any bytes. The result must not depend on where the input
/// is cut into chunks, and every value must be in the canonical form of its parser. The counts
/// and times must agree with each other, and small limits must be kept.
pub fn check_extract(data: &[u8]) {
    let whole = extract_in_chunks(data, &[data.len()], Options::default());
    assert_eq!(whole.bytes, data.len() as u64, "{data:?}: bytes read");
    // The first byte picks a cut, so libFuzzer can steer it.
    let cut = data
        .first()
        .map_or(0, |b| usize::from(*b) % (data.len() + 1));
    let split = extract_in_chunks(data, &[cut, data.len() - cut], Options::default());
    assert_eq!(
        whole, split,
        "{data:?}: cutting at byte {cut} changed the result"
    );
    let bytewise = extract_in_chunks(data, &vec![1; data.len()], Options::default());
    assert_eq!(
        whole, bytewise,
        "{data:?}: reading byte by byte changed the result"
    );

    let mut seen = std::collections::HashSet::new();
    for found in &whole.indicators {
        assert!(
            seen.insert((found.kind, found.value.as_str())),
            "{data:?}: {:?} {:?} is listed twice",
            found.kind,
            found.value
        );
        assert!(found.count >= 1, "{data:?}: {found:?} has no occurrence");
        assert!(
            (1..=whole.lines.max(1)).contains(&found.first_line),
            "{data:?}: {found:?} is on a line past the {} read",
            whole.lines
        );
        if let (Some(first), Some(last)) = (&found.first_seen, &found.last_seen) {
            assert!(
                first <= last,
                "{data:?}: {found:?} was last seen before it was first"
            );
        }
        check_extracted_value(data, found.kind, &found.value);
    }

    let limited = Options {
        max_line: 16,
        max_indicators: 2,
        ..Options::default()
    };
    let small = extract_in_chunks(data, &[cut, data.len() - cut], limited);
    assert!(
        small.indicators.len() <= 2,
        "{data:?}: {} indicators kept with a limit of 2",
        small.indicators.len()
    );
}

fn extract_in_chunks(data: &[u8], sizes: &[usize], options: Options) -> Extraction {
    let mut extractor = Extractor::new(options);
    let mut rest = data;
    for size in sizes {
        let (chunk, tail) = rest.split_at((*size).min(rest.len()));
        extractor.feed(chunk);
        rest = tail;
    }
    extractor.feed(rest);
    extractor.finish()
}

fn check_extracted_value(data: &[u8], kind: Kind, value: &str) {
    let canonical = match kind {
        Kind::Ipv4 | Kind::Ipv6 => indicator::parse_ip(value).map(|address| address.to_string()),
        Kind::Domain => indicator::parse_domain(value).map(|domain| domain.name),
        Kind::Url => {
            // The extractor keeps a URL as written, user info and fragment included, so only
            // its being a URL is checked.
            let parsed = indicator::parse_url(value);
            assert!(
                parsed.is_ok(),
                "{data:?}: extracted URL {value:?}: {parsed:?}"
            );
            return;
        }
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 => indicator::parse_hash(value).map(|(_, hex)| hex),
        Kind::Cve => indicator::parse_cve(value),
        Kind::Cidr => {
            let network = value.parse::<ipnet::IpNet>();
            assert!(network.is_ok(), "{data:?}: range {value:?} does not parse");
            return;
        }
        Kind::Email => {
            let domain = value.rsplit_once('@').map(|(_, domain)| domain);
            let parsed = domain.map(indicator::parse_domain);
            assert!(
                matches!(&parsed, Some(Ok(d)) if Some(d.name.as_str()) == domain),
                "{data:?}: the domain of e-mail address {value:?} is not canonical"
            );
            return;
        }
        Kind::Sha512 => {
            assert!(
                value.len() == 128
                    && value
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "{data:?}: {value:?} is not a SHA-512 digest in lower-case hex"
            );
            return;
        }
    };
    assert_eq!(
        canonical.as_deref(),
        Ok(value),
        "{data:?}: extracted {kind:?} {value:?} is not in canonical form"
    );
}
