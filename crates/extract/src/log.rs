//! Log format detection, and the time, client and request of one line.
//!
//! Formats read:
//! - nginx and Apache access logs (common and combined).
//! - JSON lines with the usual field names (nginx and Caddy JSON, Elastic Common Schema,
//!   AWS WAF and Cloudflare firewall events).
//! - Syslog with a BSD, RFC 3339 or RFC 5424 header, including sshd and PAM
//!   authentication messages.
//! - WAF alerts: ModSecurity in Apache or nginx error logs, naxsi, and CEF events.
//! - The nginx error log.
//!
//! Anything else is plain text. Its indicators are still found, but without a time or a
//! client.

use std::borrow::Cow;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use time::{Date, Month, PrimitiveDateTime, Time, UtcOffset};

/// The format a line was read as.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// nginx or Apache access log, common or combined.
    AccessLog,
    Json,
    Syslog,
    /// A WAF alert: ModSecurity, naxsi or a CEF event.
    Waf,
    NginxError,
    Text,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::AccessLog,
        Format::Json,
        Format::Syslog,
        Format::Waf,
        Format::NginxError,
        Format::Text,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::AccessLog => "access_log",
            Format::Json => "json",
            Format::Syslog => "syslog",
            Format::Waf => "waf",
            Format::NginxError => "nginx_error",
            Format::Text => "text",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// The format, time, client and request read from one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineInfo<'a> {
    pub format: Format,
    /// Unix seconds, UTC.
    pub time: Option<i64>,
    pub client: Option<IpAddr>,
    pub method: Option<Cow<'a, str>>,
    pub path: Option<Cow<'a, str>>,
    pub status: Option<u16>,
    pub failed_login: bool,
    pub accepted_login: bool,
    /// `Some` for a WAF alert, with its rule id or message when the line gives one.
    pub waf: Option<Option<String>>,
}

impl<'a> LineInfo<'a> {
    /// Returns the info of a plain-text line: no time, client or request.
    fn text() -> LineInfo<'a> {
        LineInfo {
            format: Format::Text,
            time: None,
            client: None,
            method: None,
            path: None,
            status: None,
            failed_login: false,
            accepted_login: false,
            waf: None,
        }
    }
}

/// Detects the format of `line` and reads its time, client and request. `year` completes
/// BSD syslog times, which have none.
pub(crate) fn parse(line: &str, year: i32) -> LineInfo<'_> {
    let line = line.trim_start();
    let first = line.as_bytes().first().copied().unwrap_or(b' ');
    if first == b'{' {
        return json(line);
    }
    if first.is_ascii_hexdigit()
        && let Some(info) = access_log(line)
    {
        return info;
    }
    if memchr::memmem::find(line.as_bytes(), b"ModSecurity:").is_some() {
        return modsecurity(line);
    }
    if let Some(at) = memchr::memmem::find(line.as_bytes(), b"NAXSI_FMT:") {
        return naxsi(line, at);
    }
    if let Some(at) = memchr::memmem::find(line.as_bytes(), b"CEF:") {
        return cef(line, at, year);
    }
    if first.is_ascii_digit()
        && let Some(info) = nginx_error(line)
    {
        return info;
    }
    syslog(line, year)
}

/// Reads a common or combined access log line:
/// `192.0.2.1 - user [05/Dec/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 512 …`
fn access_log(line: &str) -> Option<LineInfo<'_>> {
    let (host, rest) = line.split_once(' ')?;
    let client: IpAddr = host.parse().ok()?;
    let (_, rest) = split_once_pair(rest, *b" [")?;
    let (stamp, rest) = split_once_pair(rest, *b"] ")?;
    let rest = rest.strip_prefix('"')?;
    let (request, rest) = split_once_pair(rest, *b"\" ")?;
    let status = rest.get(..3).and_then(|s| s.parse::<u16>().ok());
    let mut parts = request.split(' ');
    let method = parts.next().filter(|m| is_method(m));
    let path = method.and(parts.next());
    Some(LineInfo {
        format: Format::AccessLog,
        time: access_log_time(stamp),
        client: Some(client),
        method: method.map(Cow::Borrowed),
        path: path.map(Cow::Borrowed),
        status,
        ..LineInfo::text()
    })
}

/// Splits `text` around the first occurrence of the two ASCII bytes `pair`. Faster than
/// `split_once` with a string pattern, which builds a searcher for each call.
fn split_once_pair(text: &str, pair: [u8; 2]) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    memchr::memchr_iter(pair[0], bytes)
        .find(|&at| bytes.get(at + 1) == Some(&pair[1]))
        .map(|at| (&text[..at], &text[at + 2..]))
}

fn is_method(text: &str) -> bool {
    !text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_uppercase())
}

/// Parses an access log time, `05/Dec/2026:10:00:00 +0000`.
fn access_log_time(stamp: &str) -> Option<i64> {
    let bytes = stamp.as_bytes();
    if bytes.len() < 26
        || !bytes[..26].is_ascii()
        || bytes[2] != b'/'
        || bytes[6] != b'/'
        || bytes[11] != b':'
    {
        return None;
    }
    let day = number(&stamp[0..2])?;
    let month = month(&stamp[3..6])?;
    let year = number(&stamp[7..11])?;
    let clock = clock(&stamp[12..20])?;
    let offset = numeric_offset(&stamp[21..26])?;
    unix(year as i32, month, day as u8, clock, offset)
}

fn number(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn month(text: &str) -> Option<Month> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let index = NAMES.iter().position(|m| m.eq_ignore_ascii_case(text))?;
    Month::try_from(index as u8 + 1).ok()
}

/// Parses `HH:MM:SS`, reading a leap second as second 59.
fn clock(text: &str) -> Option<Time> {
    let bytes = text.as_bytes();
    if bytes.len() != 8 || !bytes.is_ascii() || bytes[2] != b':' || bytes[5] != b':' {
        return None;
    }
    let hour = number(&text[0..2])?;
    let minute = number(&text[3..5])?;
    let second = number(&text[6..8])?.min(59);
    Time::from_hms(hour as u8, minute as u8, second as u8).ok()
}

/// Parses a numeric UTC offset, `+0000` or `-0700`.
fn numeric_offset(text: &str) -> Option<UtcOffset> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours = number(text.get(1..3)?)? as i8;
    let minutes = number(text.get(3..5)?)? as i8;
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
}

/// Returns the Unix time of a calendar date and clock time at `offset`.
fn unix(year: i32, month: Month, day: u8, clock: Time, offset: UtcOffset) -> Option<i64> {
    let date = Date::from_calendar_date(year, month, day).ok()?;
    Some(
        PrimitiveDateTime::new(date, clock)
            .assume_offset(offset)
            .unix_timestamp(),
    )
}

/// Parses the RFC 3339 or ISO 8601 time at the start of `text`, such as
/// `2026-12-05T10:00:00Z` or `2026-12-05 10:00:00`. Fractions of a second are ignored, and
/// a time without an offset is UTC.
fn iso_time(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() < 19 || !bytes[..19].is_ascii() || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    if !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    let year = number(&text[0..4])?;
    let month = Month::try_from(number(&text[5..7])? as u8).ok()?;
    let day = number(&text[8..10])?;
    let clock = clock(&text[11..19])?;
    let mut rest = &text[19..];
    if let Some(fraction) = rest.strip_prefix(['.', ',']) {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        rest = &fraction[digits..];
    }
    let offset = match rest.as_bytes().first() {
        Some(b'Z' | b'z') => UtcOffset::UTC,
        Some(b'+' | b'-') => {
            let compact = rest
                .get(..6)
                .filter(|o| o.as_bytes()[3] == b':')
                .map_or_else(
                    || rest.get(..5).map(Cow::Borrowed),
                    |o| Some(Cow::Owned(o.replace(':', ""))),
                )?;
            numeric_offset(&compact).unwrap_or(UtcOffset::UTC)
        }
        _ => UtcOffset::UTC,
    };
    unix(year as i32, month, day as u8, clock, offset)
}

/// Parses a JSON time value: an RFC 3339 or access log string, or Unix seconds. A number
/// over 1e11 is taken as milliseconds.
fn json_time(value: &serde_json::Value) -> Option<i64> {
    match value {
        serde_json::Value::String(text) => iso_time(text).or_else(|| access_log_time(text)),
        serde_json::Value::Number(number) => {
            let seconds = number.as_f64()?;
            let seconds = if seconds > 1e11 {
                seconds / 1000.0
            } else {
                seconds
            };
            (seconds > 0.0 && seconds < 1e10).then_some(seconds as i64)
        }
        _ => None,
    }
}

// JSON keys in lower case, each matched against a field's own key at any depth.

/// Keys of the client address.
const CLIENT_KEYS: [&str; 13] = [
    "remote_addr",
    "client_ip",
    "clientip",
    "src_ip",
    "source_ip",
    "srcip",
    "remote_ip",
    "remoteip",
    "ip",
    "client",
    "c-ip",
    "clientaddress",
    "client_addr",
];
/// Keys of the event time.
const TIME_KEYS: [&str; 10] = [
    "@timestamp",
    "timestamp",
    "time",
    "ts",
    "date",
    "datetime",
    "eventtime",
    "event_time",
    "time_local",
    "time_iso8601",
];
/// Keys of the HTTP request method.
const METHOD_KEYS: [&str; 5] = [
    "method",
    "request_method",
    "http_method",
    "httpmethod",
    "verb",
];
/// Keys of the request path. Only values that start with `/` are read.
const PATH_KEYS: [&str; 7] = [
    "path",
    "uri",
    "request_uri",
    "uri_path",
    "request_path",
    "cs-uri-stem",
    "url",
];
/// Keys of the HTTP response status.
const STATUS_KEYS: [&str; 7] = [
    "status",
    "status_code",
    "statuscode",
    "response_code",
    "responsecode",
    "http_status",
    "sc-status",
];
/// Keys of the WAF rule that matched.
const RULE_KEYS: [&str; 5] = [
    "terminatingruleid",
    "rule_id",
    "ruleid",
    "rule_name",
    "rulename",
];
/// Actions, in any case, that make a JSON or CEF event a WAF alert.
const BLOCKING_ACTIONS: [&str; 8] = [
    "block",
    "blocked",
    "deny",
    "denied",
    "drop",
    "reject",
    "challenge",
    "managed_challenge",
];

/// Reads a JSON line. Each field is matched by its own key, in any case and at any depth.
fn json(line: &str) -> LineInfo<'_> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
        return LineInfo::text();
    };
    let mut info = LineInfo {
        format: Format::Json,
        ..LineInfo::text()
    };
    let mut action_blocks = false;
    let mut rule = None;
    let mut authentication = false;
    let mut failure = false;
    visit(&value, &mut |key, value| {
        let key = key.to_ascii_lowercase();
        let key = key.as_str();
        let text = value.as_str();
        if info.client.is_none() && CLIENT_KEYS.contains(&key) {
            info.client = text.and_then(|t| t.parse().ok());
        } else if info.time.is_none() && TIME_KEYS.contains(&key) {
            info.time = json_time(value);
        } else if info.method.is_none() && METHOD_KEYS.contains(&key) {
            info.method = text
                .filter(|m| is_method(m))
                .map(|m| Cow::Owned(m.to_string()));
        } else if info.path.is_none() && PATH_KEYS.contains(&key) {
            info.path = text
                .filter(|p| p.starts_with('/'))
                .map(|p| Cow::Owned(p.to_string()));
        } else if key == "request"
            && let Some(request) = text
        {
            let mut parts = request.split(' ');
            if let (Some(method), Some(path)) = (parts.next(), parts.next())
                && is_method(method)
            {
                info.method.get_or_insert(Cow::Owned(method.to_string()));
                info.path.get_or_insert(Cow::Owned(path.to_string()));
            }
        } else if info.status.is_none() && STATUS_KEYS.contains(&key) {
            info.status = match value {
                serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
                serde_json::Value::String(s) => s.parse().ok(),
                _ => None,
            };
        } else if key == "action" {
            action_blocks |=
                text.is_some_and(|a| BLOCKING_ACTIONS.iter().any(|b| b.eq_ignore_ascii_case(a)));
        } else if rule.is_none() && RULE_KEYS.contains(&key) {
            rule = match value {
                serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            };
        } else if key == "category" || key == "type" {
            authentication |= text.is_some_and(|t| t.eq_ignore_ascii_case("authentication"));
        } else if key == "outcome" {
            failure |= text.is_some_and(|t| t.eq_ignore_ascii_case("failure"));
        }
    });
    if action_blocks {
        info.waf = Some(rule);
    }
    info.failed_login = authentication && failure;
    info
}

/// Calls `field` with the key and value of every scalar field of the objects in `value`,
/// at any depth.
fn visit(value: &serde_json::Value, field: &mut impl FnMut(&str, &serde_json::Value)) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, value) in map {
                match value {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                        visit(value, field)
                    }
                    _ => field(key, value),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| visit(item, field)),
        _ => {}
    }
}

/// Returns the text between `[name "` and `"]`, as ModSecurity writes its fields.
fn bracketed<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("[{name} \"");
    let start = line.find(&open)? + open.len();
    let end = line[start..].find("\"]")?;
    Some(&line[start..start + end])
}

/// Reads a ModSecurity alert from the Apache error log
/// (`[client 192.0.2.1:5555] ModSecurity: …`) or the nginx error log
/// (`… [client 192.0.2.1] ModSecurity: …`, `client: 192.0.2.1`).
fn modsecurity(line: &str) -> LineInfo<'_> {
    let client = line
        .find("[client ")
        .map(|at| &line[at + 8..])
        .and_then(|rest| rest.split([']', ' ']).next())
        .and_then(address_with_port)
        .or_else(|| after_key(line, "client: "));
    let rule = bracketed(line, "id")
        .map(|id| match bracketed(line, "msg") {
            Some(message) => format!("{id} {message}"),
            None => id.to_string(),
        })
        .or_else(|| bracketed(line, "msg").map(str::to_string));
    LineInfo {
        format: Format::Waf,
        time: error_log_time(line),
        client,
        path: bracketed(line, "uri").map(Cow::Borrowed),
        waf: Some(rule),
        ..LineInfo::text()
    }
}

/// Reads a naxsi alert, whose `NAXSI_FMT:` marker starts at `at`:
/// `NAXSI_FMT: ip=192.0.2.1&server=example.com&uri=/login&…&id0=1000&…`
fn naxsi(line: &str, at: usize) -> LineInfo<'_> {
    let fields = line[at + 10..].trim_start();
    let fields = fields.split([' ', ',']).next().unwrap_or("");
    let mut info = LineInfo {
        format: Format::Waf,
        time: error_log_time(line),
        waf: Some(None),
        ..LineInfo::text()
    };
    for pair in fields.split('&') {
        match pair.split_once('=') {
            Some(("ip", value)) => info.client = value.parse().ok(),
            Some(("uri", value)) => info.path = Some(Cow::Borrowed(value)),
            Some(("id0", value)) => info.waf = Some(Some(value.to_string())),
            _ => {}
        }
    }
    info
}

/// Reads a CEF event, whose `CEF:` starts at `at`:
/// `CEF:0|Vendor|Product|Version|SignatureId|Name|Severity|src=192.0.2.1 act=blocked …`.
/// The event is a WAF alert when its action blocks or its product is a web application
/// firewall.
fn cef(line: &str, at: usize, year: i32) -> LineInfo<'_> {
    let header: Vec<&str> = line[at..].splitn(8, '|').collect();
    let mut info = LineInfo {
        format: Format::Waf,
        time: syslog_time(line, year),
        ..LineInfo::text()
    };
    let Some(extension) = header.get(7) else {
        return info;
    };
    let mut blocked = false;
    for (key, value) in cef_pairs(extension) {
        match key {
            "src" | "sourceAddress" => info.client = value.parse().ok(),
            "act" | "deviceAction" => {
                let value = value.to_ascii_lowercase();
                blocked = BLOCKING_ACTIONS.iter().any(|b| value.starts_with(b));
            }
            "requestMethod" if is_method(value) => info.method = Some(Cow::Borrowed(value)),
            "request" => info.path = Some(Cow::Borrowed(value)),
            "rt" => info.time = value.parse::<i64>().ok().map(|ms| ms / 1000).or(info.time),
            _ => {}
        }
    }
    let product = header.get(2).copied().unwrap_or("").to_ascii_lowercase();
    let firewall = ["waf", "asm", "modsecurity", "securesphere", "fortiweb"]
        .iter()
        .any(|name| product.contains(name));
    if blocked || firewall {
        let rule = match (header.get(4), header.get(5)) {
            (Some(id), Some(name)) => Some(format!("{id} {name}")),
            (Some(id), None) => Some(id.to_string()),
            _ => None,
        };
        info.waf = Some(rule);
    }
    info
}

/// Splits CEF extension text into its `key=value` pairs. A value may contain spaces, and
/// `\=` is an escaped `=` that does not start a pair.
fn cef_pairs(extension: &str) -> Vec<(&str, &str)> {
    let mut pairs = Vec::new();
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let bytes = extension.as_bytes();
    for (at, byte) in bytes.iter().enumerate() {
        if *byte != b'=' || (at > 0 && bytes[at - 1] == b'\\') {
            continue;
        }
        let start = extension[..at].rfind(' ').map_or(0, |p| p + 1);
        keys.push((start, at));
    }
    for (index, (start, equals)) in keys.iter().enumerate() {
        let end = keys
            .get(index + 1)
            .map_or(extension.len(), |(next, _)| next.saturating_sub(1));
        let end = end.max(equals + 1);
        pairs.push((
            &extension[*start..*equals],
            extension[equals + 1..end].trim(),
        ));
    }
    pairs
}

/// Reads an nginx error log line:
/// `2026/12/05 10:00:00 [error] 12#12: *3 …, client: 192.0.2.1, server: …, request: "GET / HTTP/1.1"`
fn nginx_error(line: &str) -> Option<LineInfo<'_>> {
    let time = nginx_time(line)?;
    let mut info = LineInfo {
        format: Format::NginxError,
        time: Some(time),
        client: after_key(line, "client: "),
        ..LineInfo::text()
    };
    if let Some(at) = line.find("request: \"") {
        let request = &line[at + 10..];
        let mut parts = request.split(' ');
        if let (Some(method), Some(path)) = (parts.next(), parts.next())
            && is_method(method)
        {
            info.method = Some(Cow::Borrowed(method));
            info.path = Some(Cow::Borrowed(path));
        }
    }
    Some(info)
}

/// Parses the `2026/12/05 10:00:00` time at the start of a line as UTC, because the line
/// has no offset.
fn nginx_time(line: &str) -> Option<i64> {
    let bytes = line.as_bytes();
    if bytes.len() < 19
        || !bytes[..19].is_ascii()
        || bytes[4] != b'/'
        || bytes[7] != b'/'
        || bytes[10] != b' '
    {
        return None;
    }
    let year = number(&line[0..4])?;
    let month = Month::try_from(number(&line[5..7])? as u8).ok()?;
    let day = number(&line[8..10])?;
    unix(
        year as i32,
        month,
        day as u8,
        clock(&line[11..19])?,
        UtcOffset::UTC,
    )
}

/// Parses the time of an Apache (`[Sat Dec 05 10:00:00.123456 2026]`) or nginx error log
/// line as UTC.
fn error_log_time(line: &str) -> Option<i64> {
    if let Some(time) = nginx_time(line) {
        return Some(time);
    }
    let inner = line.strip_prefix('[')?.split(']').next()?;
    let parts: Vec<&str> = inner.split_whitespace().collect();
    let [_, month_name, day, clock_text, year] = parts.as_slice() else {
        return None;
    };
    let clock_text = clock_text.get(..8)?;
    unix(
        number(year)? as i32,
        month(month_name)?,
        number(day)? as u8,
        clock(clock_text)?,
        UtcOffset::UTC,
    )
}

/// Reads the address after `key`, up to a comma, space or closing bracket.
fn after_key(line: &str, key: &str) -> Option<IpAddr> {
    let at = line.find(key)?;
    let value = line[at + key.len()..].split([',', ' ', ']']).next()?;
    address_with_port(value)
}

/// Reads `192.0.2.1`, `192.0.2.1:5555`, `2001:db8::1` or `[2001:db8::1]:5555`.
fn address_with_port(text: &str) -> Option<IpAddr> {
    if let Ok(ip) = text.parse() {
        return Some(ip);
    }
    if let Some(inner) = text.strip_prefix('[') {
        return inner.split(']').next()?.parse().ok();
    }
    let (host, _) = text.rsplit_once(':')?;
    host.parse().ok()
}

/// Parses the syslog time at the start of `line`, after an optional `<PRI>`: BSD
/// (`Dec  5 10:00:00`, in `year` and UTC), RFC 3339, or RFC 5424 (`<34>1 2026-…`).
fn syslog_time(line: &str, year: i32) -> Option<i64> {
    let mut text = line;
    if let Some(rest) = text.strip_prefix('<') {
        let close = rest.find('>')?;
        text = &rest[close + 1..];
        if let Some(rest) = text.strip_prefix("1 ") {
            text = rest;
        }
    }
    if let Some(time) = iso_time(text) {
        return Some(time);
    }
    let bytes = text.as_bytes();
    if bytes.len() < 15 || !bytes[..15].is_ascii() || bytes[3] != b' ' {
        return None;
    }
    let month = month(&text[0..3])?;
    let day = number(text[4..6].trim_start())?;
    unix(year, month, day as u8, clock(&text[7..15])?, UtcOffset::UTC)
}

/// Messages of failed logins, as sshd writes them.
const FAILED_LOGINS: [&str; 5] = [
    "Failed password",
    "Failed publickey",
    "Failed keyboard-interactive",
    "Failed none",
    "maximum authentication attempts exceeded",
];

/// Reads a syslog line, with the client of a failed or accepted login. A line without a
/// syslog time is plain text.
fn syslog(line: &str, year: i32) -> LineInfo<'_> {
    let Some(time) = syslog_time(line, year) else {
        return LineInfo::text();
    };
    let mut info = LineInfo {
        format: Format::Syslog,
        time: Some(time),
        ..LineInfo::text()
    };
    let sshd = line.contains("sshd");
    let failed = FAILED_LOGINS.iter().any(|m| line.contains(m))
        // sshd logs its own "Failed password" beside the PAM message, so PAM counts
        // only for other services.
        || (!sshd && line.contains("authentication failure"));
    let accepted = sshd && line.contains("Accepted ");
    if failed || accepted {
        info.failed_login = failed;
        info.accepted_login = accepted;
        info.client = after_key(line, " from ").or_else(|| after_key(line, "rhost="));
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOON: i64 = 1_796_472_000; // 2026-12-05T12:00:00Z

    #[test]
    fn reads_an_access_log_line() {
        let info = parse(
            r#"192.0.2.10 - - [05/Dec/2026:13:00:00 +0100] "POST /wp-login.php HTTP/1.1" 401 512 "-" "curl/8.0""#,
            2026,
        );
        assert_eq!(info.format, Format::AccessLog);
        assert_eq!(info.time, Some(NOON));
        assert_eq!(info.client, "192.0.2.10".parse().ok());
        assert_eq!(info.method.as_deref(), Some("POST"));
        assert_eq!(info.path.as_deref(), Some("/wp-login.php"));
        assert_eq!(info.status, Some(401));
    }

    #[test]
    fn reads_sshd_logins_with_and_without_year() {
        let bsd = parse(
            "Dec  5 12:00:00 host sshd[42]: Failed password for invalid user admin from 203.0.113.9 port 4242 ssh2",
            2026,
        );
        assert_eq!(bsd.format, Format::Syslog);
        assert_eq!(bsd.time, Some(NOON));
        assert!(bsd.failed_login);
        assert_eq!(bsd.client, "203.0.113.9".parse().ok());

        let iso = parse(
            "2026-12-05T12:00:00.123456+00:00 host sshd[42]: Accepted password for root from 203.0.113.9 port 4242 ssh2",
            1999,
        );
        assert_eq!(iso.time, Some(NOON));
        assert!(iso.accepted_login);
        assert!(!iso.failed_login);
    }

    #[test]
    fn reads_json_and_waf_lines() {
        let aws = parse(
            r#"{"timestamp":1796472000000,"action":"BLOCK","terminatingRuleId":"SQLi_BODY","httpRequest":{"clientIp":"198.51.100.4","uri":"/login","httpMethod":"POST"}}"#,
            2026,
        );
        assert_eq!(aws.format, Format::Json);
        assert_eq!(aws.time, Some(NOON));
        assert_eq!(aws.client, "198.51.100.4".parse().ok());
        assert_eq!(aws.waf, Some(Some("SQLi_BODY".to_string())));
        assert_eq!(aws.path.as_deref(), Some("/login"));

        let modsec = parse(
            r#"[Sat Dec 05 12:00:00.123456 2026] [security2:error] [pid 7] [client 203.0.113.5:5555] ModSecurity: Access denied with code 403 (phase 2). [id "942100"] [msg "SQL Injection Attack Detected via libinjection"] [uri "/search"]"#,
            2026,
        );
        assert_eq!(modsec.format, Format::Waf);
        assert_eq!(modsec.time, Some(NOON));
        assert_eq!(modsec.client, "203.0.113.5".parse().ok());
        assert_eq!(
            modsec.waf,
            Some(Some(
                "942100 SQL Injection Attack Detected via libinjection".to_string()
            ))
        );

        let cef = parse(
            "CEF:0|Example|WAF|1.0|1001|SQL injection|8|src=192.0.2.77 act=blocked request=/q?id=1",
            2026,
        );
        assert_eq!(cef.client, "192.0.2.77".parse().ok());
        assert_eq!(cef.waf, Some(Some("1001 SQL injection".to_string())));
    }

    #[test]
    fn plain_text_has_no_client() {
        let info = parse("The actor used 192.0.2.1 for staging.", 2026);
        assert_eq!(info, LineInfo::text());
    }
}
