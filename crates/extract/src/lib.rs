//! Indicator extraction from free text and logs.
//!
//! This crate does no I/O. An [`Extractor`] takes input in chunks of any size. Between
//! chunks it keeps only the unfinished line (cut into pieces past [`Options::max_line`]
//! bytes) and one entry per distinct indicator (at most [`Options::max_indicators`]), so its
//! memory does not grow with the input. [`extract`] is the one-call form for a short text.
//!
//! What it finds, and what it leaves alone, is documented on each module:
//! - [`refang`]: the defanged spellings it undoes.
//! - `scan`: how a line is cut into words and which words are indicators.
//! - [`log`]: the log formats it reads a time, a client and a request from.
//! - [`activity`]: the behaviour it flags per client address.

pub mod activity;
pub mod log;
pub mod refang;
mod scan;
mod timefmt;

use std::borrow::Cow;
use std::collections::HashMap;

/// The maps probed once per occurrence use foldhash, several times faster than SipHash on
/// short keys. Their keys come from the input, so they are seeded per process.
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use activity::{Activity, Behaviour, BehaviourKind, Counted, Threshold, Thresholds};
pub use log::Format;

/// The kind of an extracted indicator.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Ipv4,
    Ipv6,
    Cidr,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
    Sha512,
    Cve,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Cidr,
        Kind::Domain,
        Kind::Url,
        Kind::Email,
        Kind::Md5,
        Kind::Sha1,
        Kind::Sha256,
        Kind::Sha512,
        Kind::Cve,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Cidr => "cidr",
            Kind::Domain => "domain",
            Kind::Url => "url",
            Kind::Email => "email",
            Kind::Md5 => "md5",
            Kind::Sha1 => "sha1",
            Kind::Sha256 => "sha256",
            Kind::Sha512 => "sha512",
            Kind::Cve => "cve",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One distinct indicator, as [`extract`] returns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Item {
    pub kind: Kind,
    pub value: String,
}

/// Extracts the distinct indicators of `text`, in the order they first appear.
pub fn extract(text: &str) -> Vec<Item> {
    let mut extractor = Extractor::new(Options::default());
    extractor.feed(text.as_bytes());
    extractor
        .finish()
        .indicators
        .into_iter()
        .map(|found| Item {
            kind: found.kind,
            value: found.value,
        })
        .collect()
}

/// Limits and settings of an [`Extractor`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Maximum bytes of an unfinished line kept between chunks. Past it, the line is read in
    /// pieces cut at its last whitespace, or anywhere when it has none.
    pub max_line: usize,
    /// Maximum distinct indicators kept, and maximum client addresses whose activity is
    /// tracked. Occurrences of further new indicators are counted in
    /// [`Extraction::dropped`], and further new clients are ignored.
    pub max_indicators: usize,
    /// Year for BSD syslog times, which have none.
    pub year: i32,
    /// Event counts and time windows at which client behaviour is flagged.
    pub thresholds: Thresholds,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_line: 64 * 1024,
            max_indicators: 100_000,
            year: 2026,
            thresholds: Thresholds::default(),
        }
    }
}

/// An indicator found in the input, with its occurrences, times and client activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Found {
    pub kind: Kind,
    pub value: String,
    /// Occurrences in the input.
    pub count: u64,
    /// Line of the first occurrence, from 1.
    pub first_line: u64,
    /// Earliest time of the lines that contain it, RFC 3339 in UTC. Absent when none of
    /// them has a time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Latest time of the lines that contain it, RFC 3339 in UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Activity of an address that was the client of log lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
}

/// Everything found in one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Extraction {
    pub lines: u64,
    pub bytes: u64,
    /// Lines read in each format, leaving out formats with no lines. A line read in pieces
    /// counts once, in the format of its first piece.
    pub formats: Vec<(Format, u64)>,
    /// Distinct indicators, in the order they first appear.
    pub indicators: Vec<Found>,
    /// Occurrences of new indicators that were not kept because
    /// [`Options::max_indicators`] was reached.
    pub dropped: u64,
}

#[derive(Debug)]
struct Entry {
    kind: Kind,
    value: Box<str>,
    count: u64,
    first_line: u64,
    first_time: Option<i64>,
    last_time: Option<i64>,
}

/// Streaming extractor that reads input in chunks and collects its indicators.
#[derive(Debug)]
pub struct Extractor {
    options: Options,
    /// Bytes of the line that the next chunk continues.
    pending: Vec<u8>,
    /// Whether the pending bytes continue a line whose start was already read.
    continued: bool,
    lines: u64,
    bytes: u64,
    formats: [u64; Format::ALL.len()],
    /// Position in `entries` of each value, per kind.
    index: [Map<Box<str>, usize>; Kind::ALL.len()],
    entries: Vec<Entry>,
    activity: Map<IpAddr, activity::Tracker>,
    dropped: u64,
    memo: scan::WordMemo,
}

impl Extractor {
    pub fn new(options: Options) -> Extractor {
        Extractor {
            options,
            pending: Vec::new(),
            continued: false,
            lines: 0,
            bytes: 0,
            formats: [0; Format::ALL.len()],
            index: Default::default(),
            entries: Vec::new(),
            activity: Map::default(),
            dropped: 0,
            memo: scan::WordMemo::default(),
        }
    }

    /// Bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reads the next chunk of input. A line may span chunks.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        let mut rest = chunk;
        if !self.pending.is_empty() || self.continued {
            match memchr::memchr(b'\n', rest) {
                Some(end) => {
                    let mut line = std::mem::take(&mut self.pending);
                    line.extend_from_slice(&rest[..end]);
                    self.line_bytes(&line, true);
                    line.clear();
                    self.pending = line;
                    rest = &rest[end + 1..];
                }
                None => {
                    self.pending.extend_from_slice(rest);
                    self.cut_long_line();
                    return;
                }
            }
        }
        while let Some(end) = memchr::memchr(b'\n', rest) {
            self.line_bytes(&rest[..end], true);
            rest = &rest[end + 1..];
        }
        self.pending.extend_from_slice(rest);
        self.cut_long_line();
    }

    /// Reads the last line, which may lack a newline, and returns everything found.
    pub fn finish(mut self) -> Extraction {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line_bytes(&line, true);
        }

        let thresholds = self.options.thresholds;
        let mut activity = self.activity;
        let indicators = self
            .entries
            .into_iter()
            .map(|entry| {
                let activity = match entry.kind {
                    Kind::Ipv4 | Kind::Ipv6 => entry
                        .value
                        .parse::<IpAddr>()
                        .ok()
                        .and_then(|ip| activity.remove(&ip))
                        .map(|tracker| tracker.finish(&thresholds)),
                    _ => None,
                };
                Found {
                    kind: entry.kind,
                    value: entry.value.into_string(),
                    count: entry.count,
                    first_line: entry.first_line,
                    first_seen: entry.first_time.and_then(timefmt::rfc3339),
                    last_seen: entry.last_time.and_then(timefmt::rfc3339),
                    activity,
                }
            })
            .collect();

        Extraction {
            lines: self.lines,
            bytes: self.bytes,
            formats: Format::ALL
                .into_iter()
                .map(|f| (f, self.formats[f.index()]))
                .filter(|(_, n)| *n > 0)
                .collect(),
            indicators,
            dropped: self.dropped,
        }
    }

    /// Reads the front of a pending line longer than [`Options::max_line`], up to its last
    /// whitespace (or all of it when it has none), so memory stays bounded whatever the
    /// input.
    fn cut_long_line(&mut self) {
        if self.pending.len() <= self.options.max_line {
            return;
        }
        let cut = self
            .pending
            .iter()
            .rposition(u8::is_ascii_whitespace)
            .filter(|&at| at > 0)
            .unwrap_or(self.pending.len());
        let front: Vec<u8> = self.pending.drain(..cut).collect();
        self.line_bytes(&front, false);
    }

    /// Reads one line, or one piece of a long line when `ends_line` is false.
    fn line_bytes(&mut self, bytes: &[u8], ends_line: bool) {
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let starts_line = !self.continued;
        if starts_line {
            self.lines += 1;
        }
        // Text exported on Windows often starts with a UTF-8 byte order mark.
        let bytes = match bytes.strip_prefix(b"\xef\xbb\xbf") {
            Some(rest) if starts_line && self.lines == 1 => rest,
            _ => bytes,
        };
        self.continued = !ends_line;
        // Validating first is faster than the lossy conversion, and most input is valid.
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(bytes),
        };
        self.line(&text, starts_line);
    }

    /// Reads the format, time and client of one line, then its indicators and the client's
    /// activity.
    fn line(&mut self, line: &str, starts_line: bool) {
        let info = log::parse(line, self.options.year);
        if starts_line {
            self.formats[info.format.index()] += 1;
        }
        let time = info.time;
        let line_number = self.lines;
        let text = refang::refang(line);

        let mut sink = Recorder {
            index: &mut self.index,
            entries: &mut self.entries,
            dropped: &mut self.dropped,
            max: self.options.max_indicators,
            line: line_number,
            time,
        };
        scan::Scanner::with_memo(&mut sink, &mut self.memo).line(&text);

        if let Some(client) = info.client {
            let client = match client {
                IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, IpAddr::V4),
                v4 => v4,
            };
            // Activity is tracked for at most as many clients as indicators, so its memory is
            // bounded too.
            let room = self.activity.len() < self.options.max_indicators;
            if let Some(tracker) = self.activity.get_mut(&client) {
                tracker.add(&info, &self.options.thresholds);
            } else if room {
                let tracker = self.activity.entry(client).or_default();
                tracker.add(&info, &self.options.thresholds);
            }
        }
    }
}

/// The sink that counts what the scanner finds in one line into the extractor's entries.
struct Recorder<'a> {
    index: &'a mut [Map<Box<str>, usize>; Kind::ALL.len()],
    entries: &'a mut Vec<Entry>,
    dropped: &'a mut u64,
    max: usize,
    line: u64,
    time: Option<i64>,
}

impl scan::Sink for Recorder<'_> {
    /// Counts one occurrence of `value`, adding an entry for it unless `max` entries exist.
    /// The handle is the entry's position, which never changes.
    fn found(&mut self, kind: Kind, value: &str) -> Option<usize> {
        if let Some(&at) = self.index[kind.index()].get(value) {
            self.again(at);
            return Some(at);
        }
        if self.entries.len() >= self.max {
            *self.dropped += 1;
            return None;
        }
        let at = self.entries.len();
        self.index[kind.index()].insert(value.into(), at);
        self.entries.push(Entry {
            kind,
            value: value.into(),
            count: 1,
            first_line: self.line,
            first_time: self.time,
            last_time: self.time,
        });
        Some(at)
    }

    fn again(&mut self, handle: usize) {
        let entry = &mut self.entries[handle];
        entry.count += 1;
        if let Some(time) = self.time {
            entry.first_time = Some(entry.first_time.map_or(time, |t| t.min(time)));
            entry.last_time = Some(entry.last_time.map_or(time, |t| t.max(time)));
        }
    }
}

#[cfg(test)]
mod tests;
