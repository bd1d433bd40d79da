//! Indicator detection in one refanged line.
//!
//! A line is cut into words at whitespace and control characters, quotes, `<`, `>`,
//! backquotes, braces, `|`, `\`, `^`, commas, semicolons, CJK punctuation, and where CJK
//! text meets ASCII letters or digits. Each word is then read three ways:
//! - Hashes and CVE ids anywhere in it, bounded by characters that are not ASCII letters
//!   or digits.
//! - URLs: an `http` or `https` scheme followed by a valid host. Inside a URL, nested URLs
//!   and the values of its query string are read too, but its path is not. For any other
//!   scheme (`ftp://`, `tcp://`) only the host is read.
//! - The rest is cut at `=`, `&`, `?`, `#`, parentheses and `!`, and each piece is tried as
//!   an e-mail address, a CIDR range, an address with or without a port, or a domain.
//!
//! In a piece that contains `/`, only the part before the first slash can be a host, so the
//! parts of a path (`/var/www/index.php`, `Chrome/120.0.0.0`) are never taken for
//! indicators. The one exception is Squid's hierarchy code, as in `HIER_DIRECT/203.0.113.9`:
//! an address after an upper-case code that contains `_`.

use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::Kind;

/// Top-level domains that are also common file extensions. A bare word ending in one is a
/// file name unless something marks it as a host.
const FILE_EXTENSION_TLDS: [&str; 27] = [
    "ac", "ai", "am", "app", "cab", "cat", "cc", "do", "download", "inc", "md", "mk", "ml", "mobi",
    "mov", "one", "pl", "pm", "pro", "ps", "pub", "py", "rs", "run", "sh", "so", "zip",
];

/// Keys after which a value is a host name (`Host: x`, `"domain":"x"`, `server_name x`).
const HOST_KEYS: [&str; 12] = [
    "host",
    "hostname",
    "domain",
    "server_name",
    "servername",
    "sni",
    "fqdn",
    "query",
    "qname",
    "rrname",
    "cname",
    "dns",
];

/// Builds the table of ASCII bytes that end a word: controls, space, DEL, quotes, `<`, `>`,
/// backquote, braces, `|`, `\`, `^`, `,` and `;`.
const fn word_breaks() -> [bool; 128] {
    let mut table = [false; 128];
    let mut byte = 0;
    while byte <= 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[0x7f] = true;
    let breaks = b"\"'<>`{}|\\^,;";
    let mut at = 0;
    while at < breaks.len() {
        table[breaks[at] as usize] = true;
        at += 1;
    }
    table
}

static WORD_BREAKS: [bool; 128] = word_breaks();

/// Builds a table of `bytes`.
const fn byte_table(bytes: &[u8]) -> [bool; 256] {
    let mut table = [false; 256];
    let mut at = 0;
    while at < bytes.len() {
        table[bytes[at] as usize] = true;
        at += 1;
    }
    table
}

/// Bytes that cut a word into pieces.
static PIECE_BREAKS: [bool; 256] = byte_table(b"=&?#()!");
/// Bytes without which a piece holds no address, domain or e-mail address.
static PIECE_MARKS: [bool; 256] = byte_table(b".:@");

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    AsciiAlnum,
    Cjk,
    Other,
}

/// Returns whether `c` is a Han, kana, bopomofo or Hangul character.
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF | 0x2E80..=0x2FDF | 0x3040..=0x30FF | 0x3100..=0x31FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF | 0x20000..=0x3FFFF)
}

/// Returns whether the non-ASCII `c` ends a word: whitespace, general punctuation except
/// the hyphens U+2010 to U+2013 (which some documents put in CVE ids), CJK and full-width
/// punctuation, and guillemets.
fn breaks_words(c: char) -> bool {
    c.is_whitespace()
        || matches!(c as u32,
            0x2000..=0x200F | 0x2014..=0x206F | 0x3000..=0x303F | 0xFE30..=0xFE4F | 0xFF00..=0xFF0F
            | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65 | 0x00AB | 0x00BB)
}

/// Calls `word` for each word of `line`.
fn for_each_word(line: &str, mut word: impl FnMut(&str)) {
    let bytes = line.as_bytes();
    if bytes.is_ascii() {
        // Without CJK text only the break bytes cut words.
        let mut start = 0;
        for (at, byte) in bytes.iter().enumerate() {
            if WORD_BREAKS[*byte as usize] {
                if at > start {
                    word(&line[start..at]);
                }
                start = at + 1;
            }
        }
        if bytes.len() > start {
            word(&line[start..]);
        }
        return;
    }
    let mut start: Option<usize> = None;
    let mut previous = Class::Other;
    let mut at = 0;
    let mut flush = |start: &mut Option<usize>, end: usize| {
        if let Some(from) = start.take() {
            word(&line[from..end]);
        }
    };
    while at < bytes.len() {
        let byte = bytes[at];
        if byte < 0x80 {
            if WORD_BREAKS[byte as usize] {
                flush(&mut start, at);
                previous = Class::Other;
                at += 1;
                continue;
            }
            let class = if byte.is_ascii_alphanumeric() {
                Class::AsciiAlnum
            } else {
                Class::Other
            };
            if class == Class::AsciiAlnum && previous == Class::Cjk {
                flush(&mut start, at);
            }
            start.get_or_insert(at);
            previous = class;
            at += 1;
            continue;
        }
        let c = line[at..]
            .chars()
            .next()
            .unwrap_or(char::REPLACEMENT_CHARACTER);
        if breaks_words(c) {
            flush(&mut start, at);
            previous = Class::Other;
        } else if is_cjk(c) {
            if previous == Class::AsciiAlnum {
                flush(&mut start, at);
            }
            start.get_or_insert(at);
            previous = Class::Cjk;
        } else {
            start.get_or_insert(at);
            previous = Class::Other;
        }
        at += c.len_utf8();
    }
    flush(&mut start, bytes.len());
}

/// Initial number of slots of a [`WordMemo`], small so that a short text costs little.
const MEMO_FIRST_SLOTS: usize = 1 << 8;
/// Maximum number of slots of a [`WordMemo`]. The table grows fourfold each time it has
/// missed four times as many words as it has slots.
const MEMO_SLOTS: usize = 1 << 13;
/// Maximum length of a word that a [`WordMemo`] keeps. Longer words are rare and seldom
/// repeat.
const MEMO_MAX_WORD: usize = 160;

/// The indicators found in one word, kept so that the next occurrence of the same word is
/// not read again.
#[derive(Debug, Default)]
struct MemoSlot {
    /// The word, empty while the slot is unused.
    word: SlotWord,
    /// Whether the word followed a host key.
    after_host_key: bool,
    found: Vec<Occurrence>,
    /// Whether the word ended in a host key.
    ends_in_host_key: bool,
}

/// Maximum length of the words a [`SlotWord`] keeps in place. Most words of a log are
/// shorter, and comparing them then reads no other memory than the slot's.
const SHORT_WORD: usize = 32;

/// A word kept in a memo slot: in place when short, on the heap when long.
#[derive(Debug, Default)]
struct SlotWord {
    len: u8,
    short: [u8; SHORT_WORD],
    long: Vec<u8>,
}

impl SlotWord {
    fn is(&self, word: &[u8]) -> bool {
        if word.len() <= SHORT_WORD {
            // Compared eight bytes at a time: short words are too many for a call to
            // `memcmp` each.
            if usize::from(self.len) != word.len() {
                return false;
            }
            let mut chunks = word.chunks_exact(8);
            let mut at = 0;
            for chunk in chunks.by_ref() {
                let ours =
                    u64::from_ne_bytes(self.short[at..at + 8].try_into().unwrap_or_default());
                let theirs = u64::from_ne_bytes(chunk.try_into().unwrap_or_default());
                if ours != theirs {
                    return false;
                }
                at += 8;
            }
            chunks
                .remainder()
                .iter()
                .zip(&self.short[at..])
                .all(|(a, b)| a == b)
        } else {
            self.long == word
        }
    }

    fn set(&mut self, word: &[u8]) {
        if word.len() <= SHORT_WORD {
            self.len = word.len() as u8;
            self.short[..word.len()].copy_from_slice(word);
            self.long.clear();
        } else {
            self.len = 0;
            self.long.clear();
            self.long.extend_from_slice(word);
        }
    }
}

/// Results of recently read words, in a fixed number of slots chosen by hash, so memory
/// stays bounded. Logs repeat most of their words (user agents, methods, paths, referrers),
/// and a repeated word costs one hash and one comparison instead of a full reading.
#[derive(Debug)]
pub(crate) struct WordMemo {
    /// A power of two in number.
    slots: Box<[MemoSlot]>,
    /// Words missed since the table last grew.
    misses: usize,
    /// Indicators of the word being read, moved into its slot afterwards.
    captured: Vec<Occurrence>,
}

/// One indicator found in a memoised word, with the sink's handle for counting it again.
#[derive(Debug)]
struct Occurrence {
    kind: Kind,
    value: Box<str>,
    handle: Option<usize>,
}

/// Receiver of the indicators a [`Scanner`] finds.
pub(crate) trait Sink {
    /// Takes one occurrence of an indicator, and may return a handle with which
    /// [`Sink::again`] counts another occurrence of the same indicator.
    fn found(&mut self, kind: Kind, value: &str) -> Option<usize>;

    /// Counts another occurrence of the indicator behind `handle`.
    fn again(&mut self, handle: usize);
}

impl<F: FnMut(Kind, &str)> Sink for F {
    fn found(&mut self, kind: Kind, value: &str) -> Option<usize> {
        self(kind, value);
        None
    }

    fn again(&mut self, _handle: usize) {}
}

impl Default for WordMemo {
    fn default() -> Self {
        WordMemo {
            slots: empty_slots(MEMO_FIRST_SLOTS),
            misses: 0,
            captured: Vec::new(),
        }
    }
}

impl WordMemo {
    /// Counts a missed word, and replaces the table by an empty one four times as large once
    /// misses show that the input has more distinct words than slots.
    fn missed(&mut self) {
        self.misses += 1;
        if self.misses > 4 * self.slots.len() && self.slots.len() < MEMO_SLOTS {
            self.slots = empty_slots((4 * self.slots.len()).min(MEMO_SLOTS));
            self.misses = 0;
        }
    }
}

fn empty_slots(count: usize) -> Box<[MemoSlot]> {
    (0..count).map(|_| MemoSlot::default()).collect()
}

/// The hasher of memo words. The memo only caches, so a collision costs a reading, never a
/// wrong result, and a fixed seed is safe.
static MEMO_HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x6d65_6d6f);

/// Indicator finder for one line at a time, which hands each occurrence to `sink`.
pub(crate) struct Scanner<'f, S: Sink> {
    sink: &'f mut S,
    /// Whether the previous piece was a host key (`Host:`, `domain=`), which makes the next
    /// piece a host.
    after_host_key: bool,
    memo: Option<&'f mut WordMemo>,
    /// Whether found indicators are also kept in the memo's `captured`.
    capturing: bool,
}

impl<'f, S: Sink> Scanner<'f, S> {
    pub(crate) fn new(sink: &'f mut S) -> Self {
        Scanner {
            sink,
            after_host_key: false,
            memo: None,
            capturing: false,
        }
    }

    /// Returns a scanner that looks words up in `memo` before reading them.
    pub(crate) fn with_memo(sink: &'f mut S, memo: &'f mut WordMemo) -> Self {
        Scanner {
            memo: Some(memo),
            ..Scanner::new(sink)
        }
    }

    pub(crate) fn line(&mut self, line: &str) {
        self.after_host_key = false;
        if self.memo.is_none() {
            for_each_word(line, |word| self.word(word));
            return;
        }
        for_each_word(line, |word| self.memoised_word(word));
    }

    fn emit(&mut self, kind: Kind, value: &str) {
        let handle = self.sink.found(kind, value);
        if self.capturing
            && let Some(memo) = self.memo.as_deref_mut()
        {
            memo.captured.push(Occurrence {
                kind,
                value: value.into(),
                handle,
            });
        }
    }

    /// Reads `word`, or replays what the memo kept for it.
    fn memoised_word(&mut self, word: &str) {
        if word.len() > MEMO_MAX_WORD {
            self.word(word);
            return;
        }
        let bytes = word.as_bytes();
        let context = self.after_host_key;
        let hash = MEMO_HASHER.hash_one(bytes) as usize;
        if let Some(memo) = self.memo.as_deref_mut() {
            // Both contexts of a word share a hash and sit in neighbouring slots.
            let index = (hash ^ usize::from(context)) & (memo.slots.len() - 1);
            let slot = &memo.slots[index];
            if slot.after_host_key == context && slot.word.is(bytes) {
                for occurrence in &slot.found {
                    match occurrence.handle {
                        Some(handle) => self.sink.again(handle),
                        None => {
                            self.sink.found(occurrence.kind, &occurrence.value);
                        }
                    }
                }
                self.after_host_key = slot.ends_in_host_key;
                return;
            }
            memo.captured.clear();
            memo.missed();
        }
        self.capturing = true;
        self.word(word);
        self.capturing = false;
        let ends_in_host_key = self.after_host_key;
        if let Some(memo) = self.memo.as_deref_mut() {
            let index = (hash ^ usize::from(context)) & (memo.slots.len() - 1);
            let slot = &mut memo.slots[index];
            slot.word.set(bytes);
            slot.after_host_key = context;
            slot.ends_in_host_key = ends_in_host_key;
            std::mem::swap(&mut slot.found, &mut memo.captured);
        }
    }

    fn word(&mut self, word: &str) {
        let bytes = word.as_bytes();
        // Hashes need 32 characters and CVE ids a `c`, so most words skip the run scan.
        let long = bytes.len() >= 32;
        if long || (bytes.len() >= CVE_MIN_LEN && memchr::memchr2(b'c', b'C', bytes).is_some()) {
            self.runs(word);
        }
        let separator = match memchr::memchr(b':', bytes) {
            Some(colon) if bytes[colon..].starts_with(b"://") => Some(colon),
            Some(colon) => {
                memchr::memmem::find(&bytes[colon + 1..], b"://").map(|at| colon + 1 + at)
            }
            None => None,
        };
        match separator {
            Some(separator) => self.words_with_urls(word, separator),
            None => self.pieces(word),
        }
    }

    /// Finds hashes and CVE ids in the runs of ASCII letters and digits of `word`.
    fn runs(&mut self, word: &str) {
        let bytes = word.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            if !bytes[at].is_ascii_alphanumeric() {
                at += 1;
                continue;
            }
            let start = at;
            let mut hex = true;
            while at < bytes.len() && bytes[at].is_ascii_alphanumeric() {
                hex &= bytes[at].is_ascii_hexdigit();
                at += 1;
            }
            let run = &word[start..at];
            let kind = match run.len() {
                32 => Kind::Md5,
                40 => Kind::Sha1,
                64 => Kind::Sha256,
                128 => Kind::Sha512,
                3 if run.eq_ignore_ascii_case("cve") => {
                    if let Some((id, end)) = cve_at(bytes, at) {
                        self.emit(Kind::Cve, &id);
                        at = end;
                    }
                    continue;
                }
                _ => continue,
            };
            if hex {
                if run.bytes().any(|b| b.is_ascii_uppercase()) {
                    self.emit(kind, &run.to_ascii_lowercase());
                } else {
                    self.emit(kind, run);
                }
            }
        }
    }

    /// Reads a word that contains `://` at `separator`. The text before the first scheme is
    /// read as pieces, and each URL runs to the end of the word. For a scheme other than
    /// `http` or `https`, only the host is read.
    fn words_with_urls(&mut self, word: &str, separator: usize) {
        let scheme_start = word[..separator]
            .bytes()
            .rposition(|b| !b.is_ascii_alphabetic())
            .map_or(0, |p| p + 1);
        if scheme_start > 0 {
            self.pieces(&word[..scheme_start]);
        }
        let mut next = Some((scheme_start, separator));
        while let Some((start, separator)) = next {
            let scheme = &word[start..separator];
            let http = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
            if http {
                self.url(word, start, separator);
            } else {
                // Another scheme is no URL for tiq, but its host may be an indicator.
                let rest = &word[separator + 3..];
                let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                let authority = &rest[..host_end];
                let host = authority
                    .rsplit_once('@')
                    .map_or(authority, |(_, host)| host);
                self.after_host_key = true;
                self.pieces(host);
            }
            let from = separator + 3;
            next = memchr::memmem::find(&word.as_bytes()[from..], b"://").map(|found| {
                let separator = from + found;
                let start = word[from..separator]
                    .bytes()
                    .rposition(|b| !b.is_ascii_alphabetic())
                    .map_or(from, |p| from + p + 1);
                (start, separator)
            });
        }
    }

    /// Reads the URL starting at `start`, whose scheme ends at `separator`.
    fn url(&mut self, word: &str, start: usize, separator: usize) {
        let url = trim_url_end(&word[start..]);
        let rest = &url[separator - start + 3..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let (userinfo, host_port) = match authority.rsplit_once('@') {
            Some((user, host)) => (Some(user), host),
            None => (None, authority),
        };
        let Some((host, port)) = split_host_port(host_port) else {
            return;
        };
        let host = match host_value(host) {
            Some(host) => host,
            None => return,
        };

        let scheme = word[start..separator].to_ascii_lowercase();
        let mut value = String::with_capacity(url.len() + 8);
        value.push_str(&scheme);
        value.push_str("://");
        if let Some(user) = userinfo {
            value.push_str(user);
            value.push('@');
        }
        match &host {
            Host::Ip(IpAddr::V6(v6)) => {
                value.push('[');
                value.push_str(&v6.to_string());
                value.push(']');
            }
            Host::Ip(ip) => value.push_str(&ip.to_string()),
            Host::Domain(name) => value.push_str(name),
        }
        if let Some(port) = port {
            value.push(':');
            value.push_str(port);
        }
        value.push_str(tail);

        self.emit(Kind::Url, &value);
        self.host(&host);
        if let Some((_, query)) = tail.split_once('?') {
            let query = query.split('#').next().unwrap_or(query);
            if !query.contains("://") {
                self.pieces(query);
            }
        }
    }

    fn host(&mut self, host: &Host) {
        match host {
            Host::Ip(ip) => self.address(*ip),
            Host::Domain(name) => self.emit(Kind::Domain, name),
        }
    }

    fn address(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(v4) => self.emit(Kind::Ipv4, &v4.to_string()),
            IpAddr::V6(v6) => self.emit(Kind::Ipv6, &v6.to_string()),
        }
    }

    /// Cuts text with no URL into pieces at `=&?#()!` and reads each.
    fn pieces(&mut self, word: &str) {
        let bytes = word.as_bytes();
        let mut start = 0;
        for (at, byte) in bytes.iter().enumerate() {
            if PIECE_BREAKS[*byte as usize] {
                self.piece(&word[start..at]);
                start = at + 1;
            }
        }
        self.piece(&word[start..]);
    }

    /// Reads one piece as an e-mail address, a CIDR range, a path that may start with a
    /// host, or a host.
    fn piece(&mut self, piece: &str) {
        let piece = trim_piece(piece);
        if piece.is_empty() {
            return;
        }
        let host_context = std::mem::replace(&mut self.after_host_key, is_host_key(piece));
        if !piece.bytes().any(|b| PIECE_MARKS[b as usize]) {
            return;
        }
        if let Some(at) = piece.rfind('@') {
            self.email(piece, at);
            return;
        }
        if let Some(slash) = piece.find('/') {
            let (head, tail) = (&piece[..slash], &piece[slash + 1..]);
            if head.is_empty() {
                return;
            }
            if let Some((ip, prefix)) = cidr(head, tail) {
                self.emit(Kind::Cidr, &format!("{ip}/{prefix}"));
                return;
            }
            let proxy_code =
                head.contains('_') && head.bytes().all(|b| b.is_ascii_uppercase() || b == b'_');
            if proxy_code {
                if let Some(v4) = ipv4(tail.split('/').next().unwrap_or(tail)) {
                    self.emit(Kind::Ipv4, &v4.to_string());
                }
                return;
            }
            if has_www_prefix(head) {
                if let Some(name) = domain(head, true) {
                    let url = format!("http://{name}/{}", trim_url_end(tail));
                    self.emit(Kind::Url, &url);
                    self.emit(Kind::Domain, &name);
                }
                return;
            }
            self.host_like(head, host_context);
            return;
        }
        self.host_like(piece, host_context || has_www_prefix(piece));
    }

    /// Reads a piece with no slash: an address, `host:port`, `key:value` or a domain.
    fn host_like(&mut self, piece: &str, host_context: bool) {
        let mut piece = piece;
        if let Some(inner) = piece.strip_prefix('[') {
            if let Some((address, after)) = inner.split_once(']') {
                let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
                if port_ok && let Some(ip) = ipv6(address) {
                    self.address(ip);
                    return;
                }
            }
            piece = piece.trim_matches(['[', ']']);
        } else if let Some(open) = piece.find('[') {
            // `unknown[198.51.100.7]`, as mail servers log a client.
            self.host_like(&piece[..open], host_context);
            self.host_like(&piece[open..], false);
            return;
        }
        let colons = piece.bytes().filter(|&b| b == b':').count();
        if colons >= 2 {
            if let Some(ip) = ipv6(piece) {
                self.address(ip);
                return;
            }
            let mut context = host_context;
            for part in piece.split(':') {
                self.host_like(part, context);
                context = is_host_key(part);
            }
            return;
        }
        if colons == 1 {
            let (left, right) = piece.split_once(':').unwrap_or((piece, ""));
            self.host_like(left, host_context);
            if !is_port(right) {
                self.host_like(right, is_host_key(left));
            }
            return;
        }
        let bytes = piece.as_bytes();
        if bytes.iter().all(|b| b.is_ascii_digit() || *b == b'.') {
            let trimmed = piece.trim_end_matches('.');
            if let Some(v4) = ipv4(trimmed) {
                self.emit(Kind::Ipv4, &v4.to_string());
            }
            return;
        }
        if bytes.contains(&b'.')
            && let Some(name) = domain(piece, host_context)
        {
            self.emit(Kind::Domain, &name);
        }
    }

    /// Reads the e-mail address around the `@` at `at`. When the part before the `@` is no
    /// valid local part, reads what follows the `@` as a host.
    fn email(&mut self, piece: &str, at: usize) {
        let local_start = piece[..at]
            .bytes()
            .rposition(|b| !(b.is_ascii_alphanumeric() || b"._%+-".contains(&b)))
            .map_or(0, |p| p + 1);
        let local = piece[local_start..at].trim_start_matches('.');
        let after = &piece[at + 1..];
        let domain_end = after
            .find(|c: char| !(c.is_alphanumeric() || c == '.' || c == '-' || c == '_'))
            .unwrap_or(after.len());
        let host = &after[..domain_end];
        if local.is_empty() || local.len() > 64 || local.ends_with('.') {
            self.host_like(after, true);
            return;
        }
        if let Some(name) = domain(host, true) {
            let address = format!("{}@{name}", local.to_ascii_lowercase());
            self.emit(Kind::Email, &address);
            self.emit(Kind::Domain, &name);
        }
    }
}

/// Length of the shortest CVE id. A shorter word contains no CVE id and no hash.
const CVE_MIN_LEN: usize = "CVE-1999-0001".len();

/// Reads the CVE id whose letters `CVE` end at `at`: a hyphen, a four-digit year, a hyphen
/// and 4 to 19 digits, then the end or a character that is not an ASCII letter or digit.
/// Each hyphen may also be U+2010 to U+2013, as some documents write them. Returns the id
/// and the index where it ends.
fn cve_at(bytes: &[u8], at: usize) -> Option<(String, usize)> {
    let mut at = at;
    let mut id = String::from("CVE-");
    at += hyphen_len(&bytes[at..])?;
    let year = bytes.get(at..at + 4)?;
    if !year.iter().all(u8::is_ascii_digit) {
        return None;
    }
    id.push_str(std::str::from_utf8(year).ok()?);
    at += 4;
    at += hyphen_len(&bytes[at..])?;
    let digits = bytes[at..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(4..=19).contains(&digits) {
        return None;
    }
    id.push('-');
    id.push_str(std::str::from_utf8(&bytes[at..at + digits]).ok()?);
    at += digits;
    let bounded = bytes.get(at).is_none_or(|b| !b.is_ascii_alphanumeric());
    bounded.then_some((id, at))
}

/// Returns the length of the hyphen at the start of `bytes`: `-`, or U+2010 to U+2013.
fn hyphen_len(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [b'-', ..] => Some(1),
        [0xE2, 0x80, 0x90..=0x93, ..] => Some(3),
        _ => None,
    }
}

/// Removes what ends a sentence or wraps a URL: trailing `.,;:!?'"*>`, and a closing `)`,
/// `]` or `}` that has no matching opening one in the URL.
fn trim_url_end(url: &str) -> &str {
    let mut url = url;
    loop {
        let Some(last) = url.bytes().last() else {
            return url;
        };
        let unbalanced = |open: u8, close: u8| {
            let bytes = url.as_bytes();
            bytes.iter().filter(|&&b| b == close).count()
                > bytes.iter().filter(|&&b| b == open).count()
        };
        let trim = match last {
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b'\'' | b'"' | b'*' => true,
            b')' => unbalanced(b'(', b')'),
            b']' => unbalanced(b'[', b']'),
            b'}' => unbalanced(b'{', b'}'),
            b'>' => true,
            _ => false,
        };
        if !trim {
            return url;
        }
        url = &url[..url.len() - 1];
    }
}

/// Removes wrapping and sentence punctuation around a piece, keeping the `::` that ends
/// an IPv6 network (`2001:db8::`).
fn trim_piece(piece: &str) -> &str {
    let piece = piece.trim_start_matches(['.', ':', '(', '<', '*', '#', '-', '+', '~']);
    let mut end = piece.len();
    let bytes = piece.as_bytes();
    while end > 0 {
        match bytes[end - 1] {
            b'.' | b')' | b'>' | b'*' | b'#' | b'-' | b'~' | b'+' => end -= 1,
            b':' if !(end >= 2 && bytes[end - 2] == b':') => end -= 1,
            b']' if !piece[..end].contains('[') => end -= 1,
            _ => break,
        }
    }
    &piece[..end]
}

/// Returns whether `piece` is a key from [`HOST_KEYS`], alone or after a prefix that ends
/// in `_`, `.` or `-` (`upstream_host=`, `tls.sni=`, `X-Forwarded-Host:`).
fn is_host_key(piece: &str) -> bool {
    // Every key ends in one of these letters, which rules out most pieces at once.
    let last = piece
        .trim_end_matches([':', '='])
        .bytes()
        .last()
        .unwrap_or(b' ');
    if piece.len() > 40
        || !matches!(
            last.to_ascii_lowercase(),
            b't' | b'n' | b'e' | b'i' | b'y' | b's'
        )
    {
        return false;
    }
    let key = piece.trim_end_matches([':', '=']);
    let key = key.rsplit(['.', '-']).next().unwrap_or(key);
    let key = key.as_bytes();
    HOST_KEYS.iter().any(|host_key| {
        let Some(before) = key.len().checked_sub(host_key.len()) else {
            return false;
        };
        let matches = key[before..].eq_ignore_ascii_case(host_key.as_bytes());
        matches && (before == 0 || key[before - 1] == b'_')
    })
}

fn has_www_prefix(text: &str) -> bool {
    text.len() > 4 && text.as_bytes()[..4].eq_ignore_ascii_case(b"www.")
}

fn is_port(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 5
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<u16>().is_ok_and(|p| p > 0)
}

/// The host of a URL: an address or a canonical domain name.
enum Host {
    Ip(IpAddr),
    Domain(String),
}

/// Splits a URL authority's `host[:port]`, with `[…]` around an IPv6 host.
fn split_host_port(host_port: &str) -> Option<(&str, Option<&str>)> {
    if let Some(inner) = host_port.strip_prefix('[') {
        let (host, after) = inner.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) if is_port(port) => Some((host, Some(port))),
            Some(_) => None,
            None if after.is_empty() => Some((host, None)),
            None => None,
        };
    }
    match host_port.rsplit_once(':') {
        Some((host, port)) if is_port(port) => Some((host, Some(port))),
        Some(_) => None,
        None => Some((host_port, None)),
    }
}

/// Parses the host of a URL as an address or a domain.
fn host_value(host: &str) -> Option<Host> {
    if host.contains(':') {
        return ipv6(host).map(Host::Ip);
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return ipv4(host.trim_end_matches('.')).map(|v4| Host::Ip(IpAddr::V4(v4)));
    }
    domain(host, true).map(Host::Domain)
}

/// Parses a dotted quad of decimal octets, each one to three digits.
fn ipv4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = text.split('.');
    for slot in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = part.parse().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

/// Parses an IPv6 address with an optional zone, which is checked and dropped. An
/// IPv4-mapped address is returned as IPv4, and the unspecified address `::` is rejected.
fn ipv6(text: &str) -> Option<IpAddr> {
    let address = match text.split_once('%') {
        Some((address, zone)) => {
            let zone_ok = !zone.is_empty()
                && zone.len() <= 32
                && zone
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !zone_ok {
                return None;
            }
            address
        }
        None => text,
    };
    let v6: Ipv6Addr = address.parse().ok()?;
    if v6.is_unspecified() {
        return None;
    }
    Some(match v6.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(v6),
    })
}

/// Reads `head/tail` as a CIDR range.
fn cidr(head: &str, tail: &str) -> Option<(IpAddr, u8)> {
    if tail.is_empty() || tail.len() > 3 || !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let prefix: u8 = tail.parse().ok()?;
    let ip = if head.contains(':') {
        let v6: Ipv6Addr = head.parse().ok()?;
        IpAddr::V6(v6)
    } else {
        IpAddr::V4(ipv4(head)?)
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some((ip, prefix))
}

/// Returns the canonical name (lower case, IDN as punycode) of `text` when it is a domain
/// under a known public suffix.
///
/// Outside a host context, a name ending in a file extension that is also a top-level
/// domain (`readme.md`, `archive.zip`) is taken for a file name.
pub(crate) fn domain(text: &str, host_context: bool) -> Option<String> {
    let text = text.strip_suffix('.').unwrap_or(text);
    let (_, last) = text.rsplit_once('.')?;
    if last.len() < 2 {
        return None;
    }
    if last.is_ascii() && !last.bytes().all(|b| b.is_ascii_alphabetic()) {
        let punycode = last.len() > 4 && last[..4].eq_ignore_ascii_case("xn--");
        if !punycode {
            return None;
        }
    }
    let valid_chars = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' || !c.is_ascii());
    if !valid_chars {
        return None;
    }

    let name = if text.is_ascii() {
        text.to_ascii_lowercase()
    } else {
        if text.chars().any(|c| !c.is_alphanumeric() && !c.is_ascii()) {
            return None;
        }
        idna::domain_to_ascii(text).ok()?
    };
    if name.len() > 253 {
        return None;
    }
    let labels_ok = name.split('.').all(|label| {
        !label.is_empty() && label.len() <= 63 && !label.starts_with('-') && !label.ends_with('-')
    });
    if !labels_ok {
        return None;
    }
    if name.split('.').any(|label| label.starts_with("xn--")) {
        // Punycode must decode, and not to another `xn--` label, as tiq's analysis requires.
        let (unicode, result) = idna::domain_to_unicode(&name);
        if result.is_err() || unicode.split('.').any(|label| label.starts_with("xn--")) {
            return None;
        }
    }

    let suffix = psl::suffix(name.as_bytes())?;
    if !suffix.is_known() || psl::domain(name.as_bytes()).is_none() {
        return None;
    }
    if !host_context {
        let tld = name.rsplit('.').next().unwrap_or("");
        if FILE_EXTENSION_TLDS.contains(&tld) {
            return None;
        }
    }
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(line: &str) -> Vec<(Kind, String)> {
        let mut out = Vec::new();
        let mut found = |kind: Kind, value: &str| out.push((kind, value.to_string()));
        Scanner::new(&mut found).line(line);
        out
    }

    /// Scans each line once without a memo, and twice with one, so that the second pass
    /// replays what the first kept. Returns the memo.
    fn scan_with_and_without_memo(lines: &[&str]) -> WordMemo {
        let mut memo = WordMemo::default();
        for pass in 0..2 {
            for line in lines {
                let plain = scan(line);
                let mut memoised = Vec::new();
                let mut found = |kind: Kind, value: &str| memoised.push((kind, value.to_string()));
                Scanner::with_memo(&mut found, &mut memo).line(line);
                assert_eq!(memoised, plain, "pass {pass}: {line:?}");
            }
        }
        memo
    }

    #[test]
    fn memo_grows_with_distinct_words() {
        let lines: Vec<String> = (0..10_000)
            .map(|n| format!("host{n}.example.com 198.51.100.{} id{n}", n % 250))
            .collect();
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        let memo = scan_with_and_without_memo(&lines);
        assert_eq!(memo.slots.len(), MEMO_SLOTS);
        let small = scan_with_and_without_memo(&lines[..10]);
        assert_eq!(small.slots.len(), MEMO_FIRST_SLOTS);
    }

    #[test]
    fn memo_gives_the_same_indicators() {
        let corpus = include_str!("../tests/corpus.jsonl");
        let texts: Vec<String> = corpus
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let case: serde_json::Value = serde_json::from_str(line).unwrap();
                case["text"].as_str().unwrap().to_string()
            })
            .collect();
        let lines: Vec<&str> = texts.iter().flat_map(|text| text.lines()).collect();
        assert!(lines.len() > 300, "{} corpus lines", lines.len());
        scan_with_and_without_memo(&lines);
    }

    #[test]
    fn memo_keeps_host_key_context() {
        // The same words after a host key and elsewhere, in quoted fields and bare.
        scan_with_and_without_memo(&[
            r#"{"host":"files.example.zip","path":"update.zip"}"#,
            r#"{"path":"update.zip","host":"files.example.zip"}"#,
            "Host: update.zip and update.zip",
            "update.zip Host: update.zip",
            r#"sni="update.zip" "update.zip""#,
        ]);
    }

    #[test]
    fn words_split_at_cjk_text_and_punctuation() {
        let mut words = Vec::new();
        for_each_word(
            "恶意IP为192.0.2.1，请封禁 测试.example.com。",
            |w| words.push(w.to_string()),
        );
        assert_eq!(
            words,
            [
                "恶意",
                "IP",
                "为",
                "192.0.2.1",
                "请封禁",
                "测试.example.com"
            ]
        );
    }

    #[test]
    fn url_drops_trailing_punctuation() {
        for (input, url) in [
            ("see http://example.com/a.", "http://example.com/a"),
            ("(http://example.com/a)", "http://example.com/a"),
            (
                "http://example.com/wiki/A_(b)",
                "http://example.com/wiki/A_(b)",
            ),
            ("<https://example.org/x?y=1>", "https://example.org/x?y=1"),
            ("'http://example.net/p'!", "http://example.net/p"),
        ] {
            let found = scan(input);
            assert!(
                found.contains(&(Kind::Url, url.to_string())),
                "{input}: {found:?}"
            );
        }
    }

    #[test]
    fn broken_punycode_is_no_host() {
        let line = "C2 at hxxps://bad[.]xn--example[.]net:8443/gate.php and bad.xn--example.net";
        assert!(scan(&crate::refang::refang(line)).is_empty());
        assert_eq!(
            scan("xn--bcher-kva.com and xn--xn--fdxn--xn--fdl.com xn--a.com"),
            [(Kind::Domain, "xn--bcher-kva.com".to_string())]
        );
    }

    #[test]
    fn host_context_admits_file_extension_tlds() {
        assert!(scan("open readme.md and archive.zip").is_empty());
        assert_eq!(
            scan("Host: update.zip"),
            [(Kind::Domain, "update.zip".to_string())]
        );
        assert_eq!(
            scan(r#"{"host":"files.example.zip"}"#),
            [(Kind::Domain, "files.example.zip".to_string())]
        );
    }

    #[test]
    fn paths_and_versions_are_not_indicators() {
        assert!(scan("GET /var/www/index.php HTTP/1.1").is_empty());
        assert!(scan("Mozilla/5.0 Chrome/120.0.0.0 Safari/537.36").is_empty());
        assert!(scan("v1.2.3.4 1.3.6.1.4.1 300.1.1.1 10:12:13 00:1a:2b:3c:4d:5e").is_empty());
    }
}
