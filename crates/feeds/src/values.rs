//! Canonical values from the shapes feeds write them in: addresses, networks, hosts with
//! ports, blocklist trails, hashes and dates. Every value goes through the parsers of
//! `tiq_model::indicator`, so a feed value and a looked-up value have one spelling.

use ipnet::IpNet;
use tiq_model::Subject;
use tiq_model::indicator::{ParseError, parse_domain, parse_hash, parse_ip, parse_url};

/// Reason a value or a line cannot be used. Its text becomes the reason of a rejected line.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ValueError {
    #[error(transparent)]
    Indicator(#[from] ParseError),

    #[error("invalid prefix length {prefix:?} in network {input:?}: expected 0 to {max}")]
    Prefix {
        input: String,
        prefix: String,
        max: u8,
    },

    #[error("invalid port {port:?} in {input:?}: expected 1 to 65535")]
    Port { input: String, port: String },

    #[error("{0:?} is a URL path without a host, so it cannot be stored as an indicator")]
    PathWithoutHost(String),

    #[error("URLs with the scheme {0:?} are not looked up; only http and https URLs are")]
    OtherScheme(String),

    #[error("invalid regular expression {pattern:?}: {message}")]
    Regex { pattern: String, message: String },

    #[error("expected {expected} fields, found {found}")]
    FieldCount { expected: usize, found: usize },

    #[error("invalid {field} {value:?}: expected {expected}")]
    Field {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
}

impl ValueError {
    pub(crate) fn field(field: &'static str, value: &str, expected: &'static str) -> ValueError {
        ValueError::Field {
            field,
            value: value.chars().take(200).collect(),
            expected,
        }
    }
}

/// Returns the subject for a network, using the address itself for a /32 or /128.
pub(crate) fn network_subject(net: IpNet) -> Subject {
    if net.prefix_len() == net.max_prefix_len() {
        Subject::Ip(net.addr())
    } else {
        Subject::Network(net)
    }
}

/// Parses `address` or `address/prefix` into a network with its host bits cleared; a bare
/// address becomes a /32 or /128.
pub(crate) fn parse_network(input: &str) -> Result<IpNet, ValueError> {
    let Some((address, prefix)) = input.trim().split_once('/') else {
        return Ok(IpNet::from(parse_ip(input)?));
    };
    let ip = parse_ip(address)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let invalid = || ValueError::Prefix {
        input: input.to_string(),
        prefix: prefix.to_string(),
        max,
    };
    let mut length: u8 = prefix.trim().parse().map_err(|_| invalid())?;
    // parse_ip returns an IPv4-mapped IPv6 address as IPv4, so its prefix loses the 96 bits
    // of the mapping.
    if ip.is_ipv4() && address.contains(':') {
        length = length.checked_sub(96).ok_or_else(invalid)?;
    }
    let net = IpNet::new(ip, length).map_err(|_| invalid())?;
    Ok(net.trunc())
}

/// Parses an address or a network into a subject.
pub(crate) fn parse_ip_or_network(input: &str) -> Result<Subject, ValueError> {
    if input.contains('/') {
        return parse_network(input).map(network_subject);
    }
    Ok(Subject::Ip(parse_ip(input)?))
}

/// A host, URL or network named by a blocklist line, with the port the line gives.
#[derive(Debug)]
pub(crate) struct Trail {
    pub subject: Subject,
    pub port: Option<u16>,
}

/// Parses an IP address or a domain name, with an optional `:port` (`[v6]:port` for IPv6).
pub(crate) fn parse_host(input: &str) -> Result<Trail, ValueError> {
    let (host, port) = split_port(input)?;
    let looks_numeric = host.contains(':') || host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let subject = match parse_ip(host) {
        Ok(ip) => Subject::Ip(ip),
        Err(error) if looks_numeric => return Err(error.into()),
        Err(_) => Subject::Domain(parse_domain(host)?.name),
    };
    Ok(Trail { subject, port })
}

/// Splits `host:port` or `[v6]:port`. An IPv6 address without brackets has no port.
fn split_port(input: &str) -> Result<(&str, Option<u16>), ValueError> {
    let input = input.trim();
    let (host, port) = if let Some(rest) = input.strip_prefix('[') {
        match rest.split_once("]:") {
            Some((host, port)) => (host, Some(port)),
            None => (rest.strip_suffix(']').unwrap_or(rest), None),
        }
    } else {
        match input.split_once(':') {
            Some((host, port)) if !port.contains(':') => (host, Some(port)),
            _ => (input, None),
        }
    };
    let Some(port) = port else {
        return Ok((host, None));
    };
    match port.parse::<u16>() {
        Ok(number) if number > 0 => Ok((host, Some(number))),
        _ => Err(ValueError::Port {
            input: input.to_string(),
            port: port.to_string(),
        }),
    }
}

/// Parses a blocklist trail: `host`, `host:port`, `address/prefix`, or `host/path`, which is
/// read as an `http://` URL. An `http://` or `https://` prefix without a path leaves the host.
pub(crate) fn parse_trail(input: &str) -> Result<Trail, ValueError> {
    let input = input.trim();
    let (scheme, rest) = split_http_scheme(input);
    let other_scheme = rest
        .find("://")
        .is_some_and(|end| !rest[..end].contains('/'));
    if scheme.is_none() && other_scheme {
        // Another scheme (ftp://, tcp://): a bare host is kept as the host, anything with a
        // path is a URL tiq has no lookup for.
        let (name, address) = rest.split_once("://").unwrap_or((rest, ""));
        let address = address.strip_suffix('/').unwrap_or(address);
        if address.is_empty() || address.contains('/') {
            return Err(ValueError::OtherScheme(name.to_string()));
        }
        return parse_host(address);
    }
    let Some(slash) = rest.find('/') else {
        return parse_host(rest);
    };
    let (host, path) = rest.split_at(slash);
    if host.is_empty() {
        return Err(ValueError::PathWithoutHost(input.to_string()));
    }
    if scheme.is_none() && is_prefix_length(path) && parse_ip(host).is_ok() {
        let net = parse_network(rest)?;
        return Ok(Trail {
            subject: network_subject(net),
            port: None,
        });
    }
    let url = parse_url(&format!("{}{rest}", scheme.unwrap_or("http://")))?;
    Ok(Trail {
        subject: Subject::Url(url.url),
        port: None,
    })
}

fn split_http_scheme(input: &str) -> (Option<&'static str>, &str) {
    for scheme in ["http://", "https://"] {
        let prefix = input.get(..scheme.len());
        if prefix.is_some_and(|prefix| prefix.eq_ignore_ascii_case(scheme)) {
            return (Some(scheme), &input[scheme.len()..]);
        }
    }
    (None, input)
}

fn is_prefix_length(path: &str) -> bool {
    let digits = &path[1..];
    (1..=3).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Parses a URL into a subject.
pub(crate) fn url_subject(input: &str) -> Result<Subject, ValueError> {
    Ok(Subject::Url(parse_url(input)?.url))
}

/// Parses an MD5, SHA-1 or SHA-256 digest into a subject.
pub(crate) fn hash_subject(input: &str) -> Result<Subject, ValueError> {
    let (kind, hex) = parse_hash(input.trim())?;
    Ok(Subject::Hash(kind, hex))
}

/// Normalises a feed date to ISO 8601: `YYYY-MM-DD` stays, `YYYY-MM-DD HH:MM:SS` (UTC, as the
/// abuse.ch feeds document) becomes `YYYY-MM-DDTHH:MM:SSZ`, and an ISO date-time with `Z` or an
/// offset stays. Returns `None` for any other shape.
pub(crate) fn iso_date(input: &str) -> Option<String> {
    let input = input.trim();
    let bytes = input.as_bytes();
    if bytes.len() < 10 || !is_date(&bytes[..10]) {
        return None;
    }
    if bytes.len() == 10 {
        return Some(input.to_string());
    }
    let separator = bytes[10];
    if bytes.len() < 19 || !(separator == b' ' || separator == b'T') || !is_time(&bytes[11..19]) {
        return None;
    }
    let zone = &input[19..];
    let zone = zone.strip_prefix('.').map_or(zone, |rest| {
        rest.trim_start_matches(|c: char| c.is_ascii_digit())
    });
    let valid_zone = zone.is_empty() || zone == "Z" || is_offset(zone.as_bytes());
    if !valid_zone {
        return None;
    }
    let suffix = if zone.is_empty() { "Z" } else { "" };
    Some(format!("{}T{}{suffix}", &input[..10], &input[11..]))
}

fn is_date(bytes: &[u8]) -> bool {
    digits_at(bytes, &[0, 1, 2, 3, 5, 6, 8, 9]) && bytes[4] == b'-' && bytes[7] == b'-'
}

fn is_time(bytes: &[u8]) -> bool {
    digits_at(bytes, &[0, 1, 3, 4, 6, 7]) && bytes[2] == b':' && bytes[5] == b':'
}

fn is_offset(bytes: &[u8]) -> bool {
    bytes.len() == 6
        && (bytes[0] == b'+' || bytes[0] == b'-')
        && digits_at(&bytes[1..], &[0, 1, 3, 4])
        && bytes[3] == b':'
}

fn digits_at(bytes: &[u8], positions: &[usize]) -> bool {
    positions.iter().all(|&i| bytes[i].is_ascii_digit())
}

/// Parses an optional date field: empty stays `None`, any other text must be a date.
pub(crate) fn optional_date(
    field: &'static str,
    input: &str,
) -> Result<Option<String>, ValueError> {
    if input.trim().is_empty() {
        return Ok(None);
    }
    iso_date(input)
        .map(Some)
        .ok_or_else(|| ValueError::field(field, input, "an ISO 8601 date or date-time"))
}

/// Returns whether `input` is a file hash of a supported length (32, 40 or 64 hex digits).
pub(crate) fn is_hash_line(input: &str) -> bool {
    let input = input.trim();
    matches!(input.len(), 32 | 40 | 64) && input.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Splits a file name into lower-case alphanumeric words.
pub(crate) fn name_words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Turns a file or folder name into a source-name segment: lower-case, `-` between words.
pub(crate) fn slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    slug.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_shapes() {
        let ip = parse_trail("192.0.2.7:8080").unwrap();
        assert_eq!(ip.subject, Subject::Ip("192.0.2.7".parse().unwrap()));
        assert_eq!(ip.port, Some(8080));

        let url = parse_trail("Example.com/a/B.php").unwrap();
        assert_eq!(
            url.subject,
            Subject::Url("http://example.com/a/B.php".into())
        );

        let net = parse_trail("198.51.100.0/24").unwrap();
        assert_eq!(
            net.subject,
            Subject::Network("198.51.100.0/24".parse().unwrap())
        );

        let host = parse_trail("http://203.0.113.9").unwrap();
        assert_eq!(host.subject, Subject::Ip("203.0.113.9".parse().unwrap()));

        let ip_url = parse_trail("203.0.113.9/0x22/x.php").unwrap();
        assert_eq!(
            ip_url.subject,
            Subject::Url("http://203.0.113.9/0x22/x.php".into())
        );

        let archived = parse_trail("example.org/web/2024/http://example.com/a.sh").unwrap();
        let expected = "http://example.org/web/2024/http://example.com/a.sh";
        assert_eq!(archived.subject, Subject::Url(expected.into()));
    }

    #[test]
    fn trail_with_other_scheme_keeps_bare_host() {
        let ip = parse_trail("tcp://192.0.2.1").unwrap();
        assert!(matches!(ip.subject, Subject::Ip(_)), "{:?}", ip.subject);
        let host = parse_trail("ftp://ftp.example.com/").unwrap();
        assert!(
            matches!(host.subject, Subject::Domain(_)),
            "{:?}",
            host.subject
        );
    }

    #[test]
    fn trail_rejections() {
        assert!(matches!(
            parse_trail("/gate.php"),
            Err(ValueError::PathWithoutHost(_))
        ));
        assert!(matches!(
            parse_trail("ftp://example.com/payload.sh"),
            Err(ValueError::OtherScheme(scheme)) if scheme == "ftp"
        ));
        assert!(matches!(
            parse_trail("example.com:0"),
            Err(ValueError::Port { .. })
        ));
        assert!(parse_trail("300.1.1.1").is_err());
    }

    #[test]
    fn network_canonical_forms() {
        assert_eq!(
            parse_network("192.0.2.77/24").unwrap().to_string(),
            "192.0.2.0/24"
        );
        assert_eq!(
            parse_network("::ffff:c000:0201/120").unwrap().to_string(),
            "192.0.2.0/24"
        );
        assert_eq!(
            parse_network("2001:DB8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert!(matches!(
            parse_network("192.0.2.0/33"),
            Err(ValueError::Prefix { .. })
        ));
        assert_eq!(
            parse_ip_or_network("192.0.2.1/32").unwrap(),
            Subject::Ip("192.0.2.1".parse().unwrap())
        );
    }

    #[test]
    fn date_shapes() {
        assert_eq!(iso_date("2024-03-04").as_deref(), Some("2024-03-04"));
        assert_eq!(
            iso_date("2024-03-04 05:06:07").as_deref(),
            Some("2024-03-04T05:06:07Z")
        );
        assert_eq!(
            iso_date("2024-03-22T20:40:23+00:00").as_deref(),
            Some("2024-03-22T20:40:23+00:00")
        );
        assert_eq!(iso_date("22/03/2024"), None);
        assert_eq!(iso_date("2024-03-04 05:06"), None);
    }

    #[test]
    fn slug_of_names() {
        assert_eq!(slug("Cobalt_Strike_C2"), "cobalt-strike-c2");
        assert_eq!(slug("public-dns-v4"), "public-dns-v4");
        assert_eq!(slug("eicar.com"), "eicar.com");
    }
}
