//! Canonical parsing of indicators typed or pasted by a person.
//!
//! Every surface (MCP, REST, CLI) and every feed parser goes through these functions, so one
//! value always has one spelling in the store and in reports. The accepted forms and the
//! canonical output are listed in `docs/indicators.md`.

use std::borrow::Cow;
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
    /// Returns the name of the MCP tool that analyses this kind, as audit entries name it.
    pub fn tool(self) -> &'static str {
        match self {
            IndicatorKind::Ip => "analyze_ip",
            IndicatorKind::Domain => "analyze_domain",
            IndicatorKind::Url => "analyze_url",
            IndicatorKind::Hash => "analyze_file_hash",
            IndicatorKind::Cve => "search_vul",
        }
    }

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
        let cleaned = refanged(check_input(input, None)?);
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

/// Reason a value was rejected.
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
    #[error("port {0:?} is not a number from 1 to 65535")]
    BadPort(String),
    #[error("the zone after % must be an interface name such as eth0, on an IPv6 address only")]
    BadZone,
    #[error(
        "the host {0:?} is not a dotted-quad IPv4 address (octal, hexadecimal and shortened forms are not accepted)"
    )]
    BadUrlAddress(String),
    #[error("label {0:?} starts or ends with a hyphen")]
    HyphenEdge(String),
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
    #[error("the international name cannot be converted to punycode, or its punycode is invalid")]
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
                "无效的{}：{:?}（{}）；应为：{}",
                kind_label_zh(self.expected),
                self.input,
                self.reason.message_zh(),
                expected_forms(self.expected, Lang::ZhCn)
            ),
        }
    }
}

impl Reason {
    /// Describes the reason in Simplified Chinese.
    pub fn message_zh(&self) -> String {
        match self {
            Reason::Empty => "值为空".to_string(),
            Reason::TooLong(len) => format!("长度为 {len} 字节，超过上限 {MAX_INPUT_LEN}"),
            Reason::OctetOverflow(octet) => format!("{octet} 超过 255"),
            Reason::NotAnAddress => "不是 IPv4 或 IPv6 地址".to_string(),
            Reason::BadPort(port) => format!("端口 {port:?} 不是 1 到 65535 之间的数字"),
            Reason::BadZone => {
                "% 之后的区域标识必须是网卡名（如 eth0），且只能用于 IPv6 地址".to_string()
            }
            Reason::BadUrlAddress(host) => format!(
                "主机 {host:?} 不是点分十进制的 IPv4 地址（不接受八进制、十六进制和缩写形式）"
            ),
            Reason::HyphenEdge(label) => format!("标签 {label:?} 以连字符开头或结尾"),
            Reason::BadDomainChar(c) => format!("域名中不允许出现字符 {c:?}"),
            Reason::BadLabel(label) => format!("标签 {label:?} 为空或超过 63 个字符"),
            Reason::SingleLabel => "域名至少需要两级，例如 example.com".to_string(),
            Reason::DomainTooLong => "域名超过 253 个字符".to_string(),
            Reason::NumericTld(tld) => format!("顶级标签 {tld:?} 是纯数字"),
            Reason::BadIdn => "国际化域名无法转换为 punycode，或 punycode 无效".to_string(),
            Reason::BadScheme(scheme) => format!("网址协议 {scheme:?} 不是 http 或 https"),
            Reason::BadUrl(detail) => format!("网址无法解析（{detail}）"),
            Reason::NoHost => "网址中没有主机".to_string(),
            Reason::HashLength(len) => {
                format!("{len} 个字符不是 MD5（32）、SHA-1（40）或 SHA-256（64）哈希的长度")
            }
            Reason::NotHex(c) => format!("字符 {c:?} 不是十六进制数字"),
            Reason::BadCve => "格式不是 CVE-YYYY-NNNN".to_string(),
            Reason::Unrecognised => "不是 IP 地址、域名、网址、文件哈希或 CVE 编号".to_string(),
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
    refanged(input).into_owned()
}

/// Refangs like [`refang`], borrowing the input when there is nothing to rewrite.
fn refanged(input: &str) -> Cow<'_, str> {
    let trimmed = input.trim();
    let maybe_scheme = trimmed
        .as_bytes()
        .first()
        .is_some_and(|b| b.eq_ignore_ascii_case(&b'h'));
    if !maybe_scheme && !trimmed.contains(['[', '(', '{']) {
        return Cow::Borrowed(trimmed);
    }
    let mut out = trimmed.to_string();
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
    Cow::Owned(out)
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
    let value = refanged(check_input(input, Some(IndicatorKind::Ip))?);
    let fail = |reason| ParseError::new(input, Some(IndicatorKind::Ip), reason);
    let host = strip_port_and_brackets(&value).map_err(fail)?;
    let (host, zone) = match host.split_once('%') {
        Some((address, zone)) => (address, Some(zone)),
        None => (host, None),
    };

    if host.contains(':') {
        if let Some(zone) = zone {
            check_zone(zone).map_err(fail)?;
        }
        let v6: Ipv6Addr = host.parse().map_err(|_| fail(Reason::NotAnAddress))?;
        return Ok(match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        });
    }
    if zone.is_some() {
        return Err(fail(Reason::BadZone));
    }
    parse_ipv4_decimal(host).map(IpAddr::V4).map_err(fail)
}

/// Removes `[…]` around an IPv6 address and a `:port` suffix, checking both.
fn strip_port_and_brackets(value: &str) -> Result<&str, Reason> {
    if let Some(rest) = value.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or(Reason::NotAnAddress)?;
        if !after.is_empty() {
            let port = after.strip_prefix(':').ok_or(Reason::NotAnAddress)?;
            check_port(port)?;
        }
        return Ok(host);
    }
    if value.contains(']') {
        return Err(Reason::NotAnAddress);
    }
    // One colon means IPv4 with a port; IPv6 has at least two.
    match value.split_once(':') {
        Some((host, port)) if !port.contains(':') => {
            check_port(port)?;
            Ok(host)
        }
        _ => Ok(value),
    }
}

fn check_port(port: &str) -> Result<(), Reason> {
    match port.parse::<u16>() {
        Ok(number) if number > 0 && port.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(Reason::BadPort(port.chars().take(20).collect())),
    }
}

/// Accepts an interface name or number as an IPv6 zone (`eth0`, `3`), as RFC 6874 allows.
fn check_zone(zone: &str) -> Result<(), Reason> {
    let valid = !zone.is_empty()
        && zone.len() <= 64
        && zone
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if valid { Ok(()) } else { Err(Reason::BadZone) }
}

fn parse_ipv4_decimal(value: &str) -> Result<Ipv4Addr, Reason> {
    if value.split('.').count() != 4 {
        return Err(Reason::NotAnAddress);
    }
    let mut octets = [0u8; 4];
    for (slot, part) in octets.iter_mut().zip(value.split('.')) {
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
    let value = refanged(check_input(input, Some(IndicatorKind::Domain))?);
    domain_from_text(&value)
        .map_err(|reason| ParseError::new(input, Some(IndicatorKind::Domain), reason))
}

/// Checks a refanged domain name and returns its canonical form.
fn domain_from_text(value: &str) -> Result<Domain, Reason> {
    let value = value.strip_suffix('.').unwrap_or(value);
    if value.contains("://") || value.contains('/') {
        return Err(Reason::BadDomainChar('/'));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| c.is_whitespace() || "@:[]()<>\"',;\\".contains(*c))
    {
        return Err(Reason::BadDomainChar(bad));
    }

    let ascii = if value.is_ascii() {
        value.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(value).map_err(|_| Reason::BadIdn)?
    };
    check_domain_shape(&ascii)?;
    if ascii.split('.').any(|label| label.starts_with("xn--")) {
        // A label that decodes to another `xn--` label would give the name a second
        // spelling, so it is rejected like any other broken punycode.
        let (unicode, result) = idna::domain_to_unicode(&ascii);
        if result.is_err() || unicode.split('.').any(|label| label.starts_with("xn--")) {
            return Err(Reason::BadIdn);
        }
    }
    if ascii.parse::<Ipv4Addr>().is_ok() {
        return Err(Reason::NumericTld(
            ascii.rsplit('.').next().unwrap_or("").to_string(),
        ));
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
        if label.starts_with('-') || label.ends_with('-') {
            return Err(Reason::HyphenEdge((*label).to_string()));
        }
    }
    let tld = labels[labels.len() - 1];
    if tld.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Reason::NumericTld(tld.to_string()));
    }
    Ok(())
}

/// Parses an http or https URL; a value without a scheme gets `http://`.
///
/// A numeric host follows the IPv4 rules of [`parse_ip`] rather than the WHATWG URL
/// Standard, so `http://010.1.1.1/` is `10.1.1.1` and `http://0x7f.1/` is rejected. The rule
/// applies to the host as the URL Standard reads it: after control characters, tabs and
/// newlines are dropped, `\` and runs of slashes are read as `/`, and the host is
/// percent-decoded and mapped with IDNA.
pub fn parse_url(input: &str) -> Result<UrlIndicator, ParseError> {
    let checked = check_input(input, Some(IndicatorKind::Url))?;
    let fail = |reason| ParseError::new(input, Some(IndicatorKind::Url), reason);
    // The URL parser drops these too. Dropping them first lets refanging see a `[.]` split
    // by a line break.
    let cleaned: String = checked
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let value = refanged(&cleaned);
    let lower = value.to_ascii_lowercase();
    let http_without_slashes = lower.starts_with("http:") || lower.starts_with("https:");
    let mut with_scheme = if value.contains("://") || http_without_slashes {
        value.into_owned()
    } else {
        if let Some(scheme) = scheme_without_slashes(&value) {
            return Err(fail(Reason::BadScheme(scheme.to_string())));
        }
        format!("http://{value}")
    };
    if let Some(range) = http_host_range(&with_scheme) {
        let host = &with_scheme[range.clone()];
        if let Some(address) = decimal_url_host(host).map_err(fail)? {
            with_scheme.replace_range(range, &address.to_string());
        }
    }

    let mut parsed =
        url::Url::parse(&with_scheme).map_err(|e| fail(Reason::BadUrl(e.to_string())))?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        return Err(fail(Reason::BadScheme(parsed.scheme().to_string())));
    }
    if parsed.port() == Some(0) {
        return Err(fail(Reason::BadPort("0".to_string())));
    }
    canonicalise_url(&mut parsed);
    let host = match parsed.host() {
        Some(url::Host::Ipv4(v4)) => UrlHost::Ip(IpAddr::V4(v4)),
        Some(url::Host::Ipv6(v6)) => UrlHost::Ip(IpAddr::V6(v6)),
        Some(url::Host::Domain(name)) => UrlHost::Domain(domain_from_text(name).map_err(fail)?),
        None => return Err(fail(Reason::NoHost)),
    };
    Ok(UrlIndicator {
        url: escape_defanged_spellings(parsed.as_str()),
        host,
    })
}

/// Drops what never reaches the server or only disguises the host: the fragment, an empty
/// query, and user info (`https://bank.example@evil.example/` is a page on `evil.example`).
/// An IPv4-mapped IPv6 host becomes its IPv4 address, as in [`parse_ip`].
fn canonicalise_url(url: &mut url::Url) {
    url.set_fragment(None);
    if url.query() == Some("") {
        url.set_query(None);
    }
    // Both setters fail only for URLs that cannot carry credentials, and http(s) URLs can.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    if let Some(url::Host::Ipv6(v6)) = url.host()
        && let Some(v4) = v6.to_ipv4_mapped()
    {
        let _ = url.set_ip_host(IpAddr::V4(v4));
    }
}

/// Returns the scheme of values such as `mailto:a@example.com` or `javascript:alert(1)`,
/// which have a scheme but no `//`. In `example.com:8080/x` the number is a port.
fn scheme_without_slashes(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(':')?;
    if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") {
        // `http:\\example.com` and `http:example.com` are http URLs the parser repairs.
        return None;
    }
    let is_scheme = scheme
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-".contains(c));
    let port_digits = rest.split(['/', '?', '#']).next().unwrap_or("");
    let is_port = !port_digits.is_empty() && port_digits.bytes().all(|b| b.is_ascii_digit());
    (is_scheme && !is_port).then_some(scheme)
}

/// Finds the host of an http or https URL the way the URL Standard splits it. A run of `/` or
/// `\` follows the scheme, the authority ends at the first `/`, `\`, `?` or `#`, and the host
/// follows the last `@` and ends at a port. The URL must contain no tabs, newlines or
/// surrounding control characters. IPv6 literals and other schemes give `None`.
fn http_host_range(url: &str) -> Option<std::ops::Range<usize>> {
    let (scheme, _) = url.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let after_scheme = scheme.len() + 1;
    let start = url[after_scheme..]
        .find(|c| c != '/' && c != '\\')
        .map_or(url.len(), |offset| after_scheme + offset);
    let end = url[start..]
        .find(['/', '\\', '?', '#'])
        .map_or(url.len(), |offset| start + offset);
    let host_start = url[start..end]
        .rfind('@')
        .map_or(start, |at| start + at + 1);
    if url[host_start..end].starts_with('[') {
        return None;
    }
    let host_end = url[host_start..end]
        .find(':')
        .map_or(end, |colon| host_start + colon);
    Some(host_start..host_end)
}

/// Reads a URL host that the URL Standard takes for an IPv4 address, after percent-decoding
/// and IDNA mapping, with the decimal rules of [`parse_ip`]. A host that is not numeric gives
/// `None`. A numeric host in another spelling (octal, hexadecimal, an integer or fewer than
/// four parts) is rejected, because browsers read it differently from people.
fn decimal_url_host(host: &str) -> Result<Option<Ipv4Addr>, Reason> {
    let decoded: Cow<'_, [u8]> = percent_encoding::percent_decode(host.as_bytes()).into();
    let Ok(ascii) = idna::domain_to_ascii_from_cow(decoded, idna::AsciiDenyList::URL) else {
        // The URL parser rejects the host too, with its own message.
        return Ok(None);
    };
    let trimmed = ascii.strip_suffix('.').unwrap_or(&ascii);
    let last = trimmed.rsplit('.').next().unwrap_or("");
    let hex = last
        .strip_prefix("0x")
        .or_else(|| last.strip_prefix("0X"))
        .is_some_and(|digits| digits.bytes().all(|b| b.is_ascii_hexdigit()));
    let digits = !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit());
    if !hex && !digits {
        return Ok(None);
    }
    parse_ipv4_decimal(trimmed)
        .map(Some)
        .map_err(|_| Reason::BadUrlAddress(host.to_string()))
}

/// Escapes the `[`, `(` or `{` of a defanged spelling left in a canonical URL, such as the
/// `[:]` that refanging leaves of `[[:]]`, so that the canonical form parses back to itself.
fn escape_defanged_spellings(url: &str) -> String {
    const SPELLINGS: [(&str, &str); 5] = [
        ("[.]", "%5B.]"),
        ("(.)", "%28.)"),
        ("{.}", "%7B.}"),
        ("[://]", "%5B://]"),
        ("[:]", "%5B:]"),
    ];
    let mut out = url.to_string();
    while let Some((spelling, escaped)) = SPELLINGS
        .iter()
        .find(|(spelling, _)| out.contains(spelling))
    {
        out = out.replace(spelling, escaped);
    }
    out
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
