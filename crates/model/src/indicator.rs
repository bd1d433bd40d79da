//! Canonical parsing of indicators typed or pasted by a person.
//!
//! Every surface (MCP, REST, CLI) and every feed parser goes through these functions, so one
//! value always has one spelling in the store and in reports. The accepted forms and the
//! canonical output are listed in `docs/indicators.md`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::lang::Lang;

/// Maximum length of an input value, in bytes, before any parsing is tried.
pub const MAX_INPUT_LEN: usize = 8192;

/// Type of an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    Ip,
    Domain,
    Url,
    Hash,
    Cve,
}

impl IndicatorKind {
    pub fn name(self) -> &'static str {
        match self {
            IndicatorKind::Ip => "ip",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::Hash => "hash",
            IndicatorKind::Cve => "cve",
        }
    }

    /// Describes the accepted input forms, for error messages.
    pub fn accepted_forms(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (IndicatorKind::Ip, Lang::En) => {
                "an IPv4 address such as 192.0.2.1 or an IPv6 address such as 2001:db8::1 \
                 (brackets, a port, a zone and defanged dots such as 192.0.2[.]1 are accepted)"
            }
            (IndicatorKind::Ip, Lang::ZhCn) => {
                "IPv4 地址（如 192.0.2.1）或 IPv6 地址（如 2001:db8::1），\
                 可带方括号、端口、区域标识或去武器化写法（如 192.0.2[.]1）"
            }
            (IndicatorKind::Domain, Lang::En) => {
                "a domain name such as example.com (Unicode, punycode, a trailing dot and \
                 defanged dots such as example[.]com are accepted)"
            }
            (IndicatorKind::Domain, Lang::ZhCn) => {
                "域名，如 example.com（支持中文等 Unicode 域名、punycode、结尾的点，\
                 以及 example[.]com 这样的去武器化写法）"
            }
            (IndicatorKind::Url, Lang::En) => {
                "an http or https URL such as https://example.com/login \
                 (hxxp://, hxxps:// and [.] are accepted)"
            }
            (IndicatorKind::Url, Lang::ZhCn) => {
                "http 或 https 网址，如 https://example.com/login（支持 hxxp://、hxxps:// 和 [.]）"
            }
            (IndicatorKind::Hash, Lang::En) => {
                "an MD5 (32 hex digits), SHA-1 (40) or SHA-256 (64) file hash, in any case"
            }
            (IndicatorKind::Hash, Lang::ZhCn) => {
                "文件哈希：MD5（32 位十六进制）、SHA-1（40 位）或 SHA-256（64 位），大小写均可"
            }
            (IndicatorKind::Cve, Lang::En) => "a CVE id such as CVE-2021-44228, in any case",
            (IndicatorKind::Cve, Lang::ZhCn) => "CVE 编号，如 CVE-2021-44228，大小写均可",
        }
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Digest algorithm of a file hash, known from its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum HashKind {
    Md5,
    Sha1,
    Sha256,
}

impl HashKind {
    pub fn name(self) -> &'static str {
        match self {
            HashKind::Md5 => "md5",
            HashKind::Sha1 => "sha1",
            HashKind::Sha256 => "sha256",
        }
    }

    pub fn from_name(name: &str) -> Option<HashKind> {
        match name.to_ascii_lowercase().replace('-', "").as_str() {
            "md5" => Some(HashKind::Md5),
            "sha1" => Some(HashKind::Sha1),
            "sha256" => Some(HashKind::Sha256),
            _ => None,
        }
    }

    fn from_len(len: usize) -> Option<HashKind> {
        match len {
            32 => Some(HashKind::Md5),
            40 => Some(HashKind::Sha1),
            64 => Some(HashKind::Sha256),
            _ => None,
        }
    }
}

/// A parsed indicator in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Indicator {
    /// An address; IPv4-mapped IPv6 addresses are stored as their IPv4 address.
    Ip(IpAddr),
    Domain(Domain),
    Url(UrlIndicator),
    Hash {
        kind: HashKind,
        hex: String,
    },
    /// Upper-case `CVE-YYYY-NNNN…`.
    Cve(String),
}

/// A domain name in canonical form, with its public-suffix split.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Domain {
    /// Lower-case ASCII, punycode for IDN labels, no trailing dot.
    pub name: String,
    /// Registered domain per the public suffix list (`example.co.uk` for `a.example.co.uk`).
    pub registered: Option<String>,
    /// Public suffix (`co.uk`), or the last label when the list does not know the name.
    pub suffix: String,
}

/// An http(s) URL in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UrlIndicator {
    /// The URL as serialised by the `url` crate (lower-case host, punycode, no default port).
    pub url: String,
    pub host: UrlHost,
}

/// Host part of a URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UrlHost {
    Ip(IpAddr),
    Domain(Domain),
}

impl Indicator {
    pub fn kind(&self) -> IndicatorKind {
        match self {
            Indicator::Ip(_) => IndicatorKind::Ip,
            Indicator::Domain(_) => IndicatorKind::Domain,
            Indicator::Url(_) => IndicatorKind::Url,
            Indicator::Hash { .. } => IndicatorKind::Hash,
            Indicator::Cve(_) => IndicatorKind::Cve,
        }
    }

    /// Returns the canonical text of the indicator.
    pub fn value(&self) -> String {
        match self {
            Indicator::Ip(ip) => ip.to_string(),
            Indicator::Domain(domain) => domain.name.clone(),
            Indicator::Url(url) => url.url.clone(),
            Indicator::Hash { hex, .. } => hex.clone(),
            Indicator::Cve(id) => id.clone(),
        }
    }

    /// Parses a value of the given type.
    pub fn parse_as(kind: IndicatorKind, input: &str) -> Result<Indicator, ParseError> {
        match kind {
            IndicatorKind::Ip => parse_ip(input).map(Indicator::Ip),
            IndicatorKind::Domain => parse_domain(input).map(Indicator::Domain),
            IndicatorKind::Url => parse_url(input).map(Indicator::Url),
            IndicatorKind::Hash => {
                parse_hash(input).map(|(kind, hex)| Indicator::Hash { kind, hex })
            }
            IndicatorKind::Cve => parse_cve(input).map(Indicator::Cve),
        }
    }

    /// Parses a value of any type, trying the unambiguous forms first.
    pub fn parse_any(input: &str) -> Result<Indicator, ParseError> {
        let cleaned = refang(check_input(input, None)?);
        let order = if looks_like_url(&cleaned) {
            [
                IndicatorKind::Url,
                IndicatorKind::Ip,
                IndicatorKind::Hash,
                IndicatorKind::Cve,
                IndicatorKind::Domain,
            ]
        } else {
            [
                IndicatorKind::Ip,
                IndicatorKind::Hash,
                IndicatorKind::Cve,
                IndicatorKind::Domain,
                IndicatorKind::Url,
            ]
        };
        order
            .into_iter()
            .find_map(|kind| Indicator::parse_as(kind, input).ok())
            .ok_or_else(|| ParseError::new(input, None, Reason::Unrecognised))
    }
}

/// Error for a value that is not a valid indicator of the requested type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {}: {input:?}: {reason}; expected {}", kind_label(*.expected), expected_forms(*.expected, Lang::En))]
pub struct ParseError {
    /// The value as the caller gave it, cut to 200 characters.
    pub input: String,
    /// The requested type, or `None` when any type was accepted.
    pub expected: Option<IndicatorKind>,
    pub reason: Reason,
}

/// Why a value was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Reason {
    #[error("the value is empty")]
    Empty,
    #[error("the value is {0} bytes long, over the limit of {MAX_INPUT_LEN}")]
    TooLong(usize),
    #[error("octet {0} is over 255")]
    OctetOverflow(String),
    #[error("it is not an IPv4 or IPv6 address")]
    NotAnAddress,
    #[error("character {0:?} is not allowed in a domain name")]
    BadDomainChar(char),
    #[error("label {0:?} is empty or longer than 63 characters")]
    BadLabel(String),
    #[error("a domain name needs at least two labels, such as example.com")]
    SingleLabel,
    #[error("the name is longer than 253 characters")]
    DomainTooLong,
    #[error("the top-level label {0:?} is numeric")]
    NumericTld(String),
    #[error("the international name cannot be converted to punycode")]
    BadIdn,
    #[error("the URL scheme {0:?} is not http or https")]
    BadScheme(String),
    #[error("the URL cannot be parsed ({0})")]
    BadUrl(String),
    #[error("the URL has no host")]
    NoHost,
    #[error("{0} characters is not the length of an MD5 (32), SHA-1 (40) or SHA-256 (64) hash")]
    HashLength(usize),
    #[error("character {0:?} is not a hexadecimal digit")]
    NotHex(char),
    #[error("it does not have the form CVE-YYYY-NNNN")]
    BadCve,
    #[error("it is not an IP address, domain, URL, file hash or CVE id")]
    Unrecognised,
}

impl ParseError {
    fn new(input: &str, expected: Option<IndicatorKind>, reason: Reason) -> ParseError {
        let input: String = input.chars().take(200).collect();
        ParseError {
            input,
            expected,
            reason,
        }
    }

    /// Renders the error in the requested language.
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => format!(
                "无效的{}：{:?}（{}）；应为{}",
                kind_label_zh(self.expected),
                self.input,
                self.reason,
                expected_forms(self.expected, Lang::ZhCn)
            ),
        }
    }
}

fn kind_label(kind: Option<IndicatorKind>) -> &'static str {
    match kind {
        Some(IndicatorKind::Ip) => "IP address",
        Some(IndicatorKind::Domain) => "domain",
        Some(IndicatorKind::Url) => "URL",
        Some(IndicatorKind::Hash) => "file hash",
        Some(IndicatorKind::Cve) => "CVE id",
        None => "indicator",
    }
}

fn kind_label_zh(kind: Option<IndicatorKind>) -> &'static str {
    match kind {
        Some(IndicatorKind::Ip) => " IP 地址",
        Some(IndicatorKind::Domain) => "域名",
        Some(IndicatorKind::Url) => "网址",
        Some(IndicatorKind::Hash) => "文件哈希",
        Some(IndicatorKind::Cve) => " CVE 编号",
        None => "指标",
    }
}

fn expected_forms(kind: Option<IndicatorKind>, lang: Lang) -> String {
    match kind {
        Some(kind) => kind.accepted_forms(lang).to_string(),
        None => lang
            .pick(
                "an IP address, domain, http(s) URL, MD5/SHA-1/SHA-256 hash or CVE id",
                "IP 地址、域名、http(s) 网址、MD5/SHA-1/SHA-256 哈希或 CVE 编号",
            )
            .to_string(),
    }
}

/// Undoes the common defanging spellings: `hxxp`, `hxxps`, `[.]`, `(.)`, `{.}`, `[:]`, `[://]`.
///
/// Only bracketed forms and the `hxxp` scheme are rewritten, so a value that was not
/// defanged comes back unchanged.
pub fn refang(input: &str) -> String {
    let mut out = input.trim().to_string();
    for (from, to) in [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[://]", "://"),
        ("[:]", ":"),
    ] {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    let lower = out.to_ascii_lowercase();
    for (from, to) in [("hxxps://", "https://"), ("hxxp://", "http://")] {
        if lower.starts_with(from) {
            out = format!("{to}{}", &out[from.len()..]);
            break;
        }
    }
    out
}

fn check_input(input: &str, kind: Option<IndicatorKind>) -> Result<&str, ParseError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ParseError::new(input, kind, Reason::Empty));
    }
    if trimmed.len() > MAX_INPUT_LEN {
        return Err(ParseError::new(input, kind, Reason::TooLong(trimmed.len())));
    }
    Ok(trimmed)
}

fn looks_like_url(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://") || lower.contains("://")
}

/// Parses an IPv4 or IPv6 address in any common textual form.
///
/// Accepted: dotted-quad IPv4, with octets of up to three decimal digits where leading zeros
/// are read as decimal (`010.001.002.003` is `10.1.2.3`, never octal); IPv6 compressed or
/// expanded; brackets (`[2001:db8::1]`); a port (`192.0.2.1:443`, `[2001:db8::1]:443`);
/// a zone (`fe80::1%eth0`, dropped). An IPv4-mapped IPv6 address is returned as IPv4.
pub fn parse_ip(input: &str) -> Result<IpAddr, ParseError> {
    let value = refang(check_input(input, Some(IndicatorKind::Ip))?);
    let fail = |reason| ParseError::new(input, Some(IndicatorKind::Ip), reason);
    let host = strip_port_and_brackets(&value);
    let host = host.split('%').next().unwrap_or(host);

    if host.contains(':') {
        let v6: Ipv6Addr = host.parse().map_err(|_| fail(Reason::NotAnAddress))?;
        return Ok(match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        });
    }
    parse_ipv4_decimal(host).map(IpAddr::V4).map_err(fail)
}

fn strip_port_and_brackets(value: &str) -> &str {
    if let Some(rest) = value.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    // One colon means IPv4 with a port; IPv6 has at least two.
    match value.split_once(':') {
        Some((host, port)) if !port.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            host
        }
        _ => value,
    }
}

fn parse_ipv4_decimal(value: &str) -> Result<Ipv4Addr, Reason> {
    let parts: Vec<&str> = value.split('.').collect();
    if parts.len() != 4 {
        return Err(Reason::NotAnAddress);
    }
    let mut octets = [0u8; 4];
    for (slot, part) in octets.iter_mut().zip(&parts) {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Reason::NotAnAddress);
        }
        let number: u16 = part.parse().map_err(|_| Reason::NotAnAddress)?;
        *slot = u8::try_from(number).map_err(|_| Reason::OctetOverflow(part.to_string()))?;
    }
    Ok(Ipv4Addr::from(octets))
}

/// Parses a domain name: lower-case, trailing dot removed, IDN converted to punycode.
pub fn parse_domain(input: &str) -> Result<Domain, ParseError> {
    let value = refang(check_input(input, Some(IndicatorKind::Domain))?);
    let fail = |reason| ParseError::new(input, Some(IndicatorKind::Domain), reason);
    let value = value.strip_suffix('.').unwrap_or(&value);
    if value.contains("://") || value.contains('/') {
        return Err(fail(Reason::BadDomainChar('/')));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| c.is_whitespace() || "@:[]()<>\"',;\\".contains(*c))
    {
        return Err(fail(Reason::BadDomainChar(bad)));
    }

    let ascii = if value.is_ascii() {
        value.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(value).map_err(|_| fail(Reason::BadIdn))?
    };
    check_domain_shape(&ascii).map_err(fail)?;
    if ascii.parse::<Ipv4Addr>().is_ok() {
        return Err(fail(Reason::NumericTld(
            ascii.rsplit('.').next().unwrap_or("").to_string(),
        )));
    }

    let suffix = psl::suffix_str(&ascii)
        .map(str::to_string)
        .unwrap_or_else(|| ascii.rsplit('.').next().unwrap_or(&ascii).to_string());
    let registered = psl::domain_str(&ascii).map(str::to_string);
    Ok(Domain {
        name: ascii,
        registered,
        suffix,
    })
}

fn check_domain_shape(name: &str) -> Result<(), Reason> {
    if name.len() > 253 {
        return Err(Reason::DomainTooLong);
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err(Reason::SingleLabel);
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err(Reason::BadLabel((*label).to_string()));
        }
        // Underscores are not valid in host names but are common in real DNS records and
        // in malware infrastructure, so they are accepted.
        if let Some(bad) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
        {
            return Err(Reason::BadDomainChar(bad));
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Reason::NumericTld(tld.to_string()));
    }
    Ok(())
}

/// Parses an http or https URL; a value without a scheme but with a path gets `http://`.
pub fn parse_url(input: &str) -> Result<UrlIndicator, ParseError> {
    let value = refang(check_input(input, Some(IndicatorKind::Url))?);
    let fail = |reason| ParseError::new(input, Some(IndicatorKind::Url), reason);
    let with_scheme = if value.contains("://") {
        value.clone()
    } else {
        format!("http://{value}")
    };

    let parsed = url::Url::parse(&with_scheme).map_err(|e| fail(Reason::BadUrl(e.to_string())))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(fail(Reason::BadScheme(parsed.scheme().to_string())));
    }
    let host = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => UrlHost::Ip(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => UrlHost::Ip(IpAddr::V6(v6)),
        Some(url::Host::Domain(name)) => {
            let domain = parse_domain(name).map_err(|e| fail(e.reason))?;
            UrlHost::Domain(domain)
        }
        None => return Err(fail(Reason::NoHost)),
    };
    Ok(UrlIndicator {
        url: parsed.to_string(),
        host,
    })
}

/// Parses an MD5, SHA-1 or SHA-256 digest in any case into lower-case hex.
pub fn parse_hash(input: &str) -> Result<(HashKind, String), ParseError> {
    let value = check_input(input, Some(IndicatorKind::Hash))?;
    let fail = |reason| ParseError::new(input, Some(IndicatorKind::Hash), reason);
    if let Some(bad) = value.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(fail(Reason::NotHex(bad)));
    }
    let kind =
        HashKind::from_len(value.len()).ok_or_else(|| fail(Reason::HashLength(value.len())))?;
    Ok((kind, value.to_ascii_lowercase()))
}

/// Parses a CVE id in any case into `CVE-YYYY-NNNN…`.
pub fn parse_cve(input: &str) -> Result<String, ParseError> {
    let value = check_input(input, Some(IndicatorKind::Cve))?.to_ascii_uppercase();
    let fail = || ParseError::new(input, Some(IndicatorKind::Cve), Reason::BadCve);
    let rest = value.strip_prefix("CVE-").ok_or_else(fail)?;
    let (year, number) = rest.split_once('-').ok_or_else(fail)?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if year.len() != 4 || !digits(year) || number.len() < 4 || number.len() > 19 || !digits(number)
    {
        return Err(fail());
    }
    Ok(value)
}

#[cfg(test)]
mod tests;
