//! Version matching for the `affected` arrays of CVE JSON 5 records: the status that one
//! item of the array gives a product version, and the first version that is fixed.
//!
//! Ranges are read as the `versions` description of the CVE Record Format schema defines
//! them (CVEProject/cve-schema, `schema/CVE_Record_Format.json`). Where the schema leaves
//! the choice open (overlapping entries, placeholder bounds, the order of versions), the
//! rules are those of `docs/vulnerabilities.md`, section "Version comparison". No I/O.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;

/// Maximum length in characters of a version that can be compared.
pub const MAX_VERSION_CHARS: usize = 64;

/// Range starts that mean "from the first version". The schema's convention is "0". The
/// others appear in published CVE records with the same meaning.
const OPEN_LOWER_BOUNDS: [&str; 7] = ["0", "*", "-", "all", "earlier", "n/a", "unspecified"];

/// One item of a CVE JSON 5 `affected` array. Fields that version matching does not use
/// (`cpes`, `platforms`, `collectionURL`...) are ignored when reading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Affected {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// `affected`, `unaffected` or `unknown`: the status of versions that no entry covers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_status: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionEntry>,
}

/// One entry of the `versions` list: a version, or a range of versions, with its status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionEntry {
    /// The single version, or the inclusive start of the range.
    #[serde(default)]
    pub version: String,
    /// `affected`, `unaffected` or `unknown`.
    #[serde(default)]
    pub status: String,
    /// Numbering scheme of the range, such as `semver`, `custom`, `maven`, `rpm` or `git`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_type: Option<String>,
    /// Exclusive end of the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub less_than: Option<String>,
    /// Inclusive end of the range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub less_than_or_equal: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
}

/// Status change inside a range: from version `at` on, the status is `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Change {
    #[serde(default)]
    pub at: String,
    #[serde(default)]
    pub status: String,
}

/// Vulnerability status of a product version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Affected,
    Unaffected,
    Unknown,
}

impl Status {
    /// Returns the schema's name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Affected => "affected",
            Status::Unaffected => "unaffected",
            Status::Unknown => "unknown",
        }
    }

    /// Reads a status value of a record. Values outside the schema's three count as unknown.
    fn from_record(value: &str) -> Status {
        let value = value.trim();
        if value.eq_ignore_ascii_case("affected") {
            Status::Affected
        } else if value.eq_ignore_ascii_case("unaffected") {
            Status::Unaffected
        } else {
            Status::Unknown
        }
    }
}

/// Error for a version string that cannot be compared with other versions.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid version \"{}\": {reason}. Use a version such as 2.4.49, 1.1.1l, 9.0.0-M1 \
     or v1.2.3-rc.1, of at most {MAX_VERSION_CHARS} characters",
    shown(.version)
)]
pub struct VersionError {
    pub version: String,
    pub reason: String,
}

/// Escapes control characters and shortens an overlong value for an error message.
fn shown(value: &str) -> String {
    let escaped: String = value.escape_debug().collect();
    match escaped.char_indices().nth(MAX_VERSION_CHARS) {
        Some((end, _)) => format!("{}...", &escaped[..end]),
        None => escaped,
    }
}

/// Checks that `version` can be compared with the versions of CVE records.
///
/// It must be at most 64 characters of ASCII letters, digits and the separators `.`, `-`,
/// `_`, with an optional `v` prefix, `N:` epoch and `+build` suffix. It must contain a digit
/// and start with a letter or digit. A commit id (7 or more hex digits with a letter) has no
/// order, so it is rejected.
pub fn check_version(version: &str) -> Result<(), VersionError> {
    parse(version, Wildcards::Rejected)
        .map(|_| ())
        .map_err(|reason| VersionError {
            version: version.to_string(),
            reason,
        })
}

/// Orders two versions: numbers by value in each component (2.4.5 < 2.4.49), a letter suffix
/// after its base (1.1.1 < 1.1.1k < 1.1.1l), pre-release labels before their release
/// (9.0.0-M1 < 9.0.0, 1.2.3-beta.2 < 1.2.3-rc.1 < 1.2.3). Case, a `v` prefix, build
/// metadata and trailing zero components make no difference.
///
/// Both may be range bounds such as `5.10.*` or `*`. The order is total: strings that cannot
/// be compared sort after every version, and among themselves by their lower-case text.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    match (parse(a, Wildcards::Allowed), parse(b, Wildcards::Allowed)) {
        (Ok(a), Ok(b)) => a.cmp(&b),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.trim().to_lowercase().cmp(&b.trim().to_lowercase()),
    }
}

/// Decides the status that `affected` gives `version`.
///
/// A single-version entry equal to `version` decides alone. When several do, `unaffected`
/// wins over `affected`, which wins over `unknown`. Otherwise, among the ranges that contain
/// `version`, `affected` wins over `unknown`, which wins over `unaffected`. A range whose
/// bounds or changes cannot be compared counts as `unknown`, because it may contain
/// `version`. When no entry applies, the result is `defaultStatus`, or unknown without one.
pub fn status_of(affected: &Affected, version: &str) -> Status {
    let rules = Rules::new(affected);
    match parse(version, Wildcards::Rejected) {
        Ok(key) => rules.evaluate(Probe::At(&key)).status,
        Err(_) => rules.status_of_text(version),
    }
}

/// Returns the lowest version above `version` (or above every affected range when `version`
/// is None) at which the product is no longer affected, when the record names it: a
/// `lessThan` bound, a `changes` entry to "unaffected", or an "unaffected" version or range
/// start. Returns None when the record names no such version (e.g. `lessThanOrEqual`
/// without a change, or a "*" upper bound), and when `version` is not affected.
///
/// The version returned must not be affected itself. It may be unknown only when no entry
/// covers it, as the `lessThan` bound of a record without `defaultStatus`. When the last
/// affected version is an inclusive bound, the next version that the record names as not
/// affected is taken as the fix, assuming no release lies between the two.
pub fn first_fixed(affected: &Affected, version: Option<&str>) -> Option<String> {
    let rules = Rules::new(affected);
    let points = rules.points();
    let fixes = fix_points(affected);
    let is_affected = |probe: &Probe<'_>| rules.evaluate(*probe).status == Status::Affected;
    match version {
        Some(version) => {
            let key = parse(version, Wildcards::Rejected).ok()?;
            if !is_affected(&Probe::At(&key)) {
                return None;
            }
            let probes = probes_above(&key, &points);
            let first_unaffected = probes.iter().position(|probe| !is_affected(probe))?;
            rules.fix_at(&probes, first_unaffected, &fixes)
        }
        None => {
            let probes = probes_from_bottom(&points);
            let last_affected = probes.iter().rposition(is_affected)?;
            rules.fix_at(&probes, last_affected + 1, &fixes)
        }
    }
}

/// Whether `*` may stand for "any number" in the string being parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wildcards {
    /// Range bounds: `*` alone or as the last component, as in `5.10.*`.
    Allowed,
    /// Versions of a product.
    Rejected,
}

/// One component of a version, ordered so that a missing component equals zero:
/// pre-release label < zero < other word < positive number < wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Pre-release label by rank: dev, alpha, beta, milestone, preview, rc, snapshot.
    Pre(u8),
    /// Decimal number without leading zeros, so zero is the empty string.
    Number(String),
    /// Any other word, read as a post-release suffix (OpenSSL's `l`, PAN-OS's `h`).
    Word(String),
    /// `*` in a range bound: above every number.
    Wildcard,
}

const ZERO: Token = Token::Number(String::new());

impl Token {
    fn class(&self) -> u8 {
        match self {
            Token::Pre(_) => 0,
            Token::Number(digits) if digits.is_empty() => 1,
            Token::Word(_) => 2,
            Token::Number(_) => 3,
            Token::Wildcard => 4,
        }
    }
}

impl Ord for Token {
    fn cmp(&self, other: &Token) -> Ordering {
        let by_value = || match (self, other) {
            (Token::Pre(a), Token::Pre(b)) => a.cmp(b),
            (Token::Word(a), Token::Word(b)) => a.cmp(b),
            (Token::Number(a), Token::Number(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
            _ => Ordering::Equal,
        };
        self.class().cmp(&other.class()).then_with(by_value)
    }
}

impl PartialOrd for Token {
    fn partial_cmp(&self, other: &Token) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A parsed version or range bound, compared by epoch, then the dotted numeric release,
/// then the rest. Versions that differ only by trailing zeros are equal.
#[derive(Debug, Clone)]
enum Key {
    Version {
        epoch: Token,
        /// The leading numbers joined by dots, and a trailing wildcard if any.
        release: Vec<Token>,
        /// Everything after the release, such as `l` in `1.1.1l` or `rc`, `1` in `1.0-rc.1`.
        suffix: Vec<Token>,
    },
    /// A bare `*`: above every version.
    Unbounded,
}

impl Key {
    fn has_wildcard(&self) -> bool {
        match self {
            Key::Version {
                release, suffix, ..
            } => release.contains(&Token::Wildcard) || suffix.contains(&Token::Wildcard),
            Key::Unbounded => true,
        }
    }
}

/// Compares two token lists as if the shorter one ended in zeros.
fn cmp_padded(a: &[Token], b: &[Token]) -> Ordering {
    let length = a.len().max(b.len());
    (0..length)
        .map(|i| a.get(i).unwrap_or(&ZERO).cmp(b.get(i).unwrap_or(&ZERO)))
        .find(|ordering| ordering.is_ne())
        .unwrap_or(Ordering::Equal)
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        match (self, other) {
            (Key::Unbounded, Key::Unbounded) => Ordering::Equal,
            (Key::Unbounded, _) => Ordering::Greater,
            (_, Key::Unbounded) => Ordering::Less,
            (
                Key::Version {
                    epoch,
                    release,
                    suffix,
                },
                Key::Version {
                    epoch: other_epoch,
                    release: other_release,
                    suffix: other_suffix,
                },
            ) => epoch
                .cmp(other_epoch)
                .then_with(|| cmp_padded(release, other_release))
                .then_with(|| cmp_padded(suffix, other_suffix)),
        }
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Key {}

/// Parses a version or range bound, or returns why it cannot be compared.
fn parse(text: &str, wildcards: Wildcards) -> Result<Key, String> {
    let text = text.trim();
    check_characters(text)?;
    let text = text.to_ascii_lowercase();
    if text == "*" {
        return match wildcards {
            Wildcards::Allowed => Ok(Key::Unbounded),
            Wildcards::Rejected => Err(wildcard_in_version()),
        };
    }

    // Build metadata never changes the order.
    let text = text.split('+').next().unwrap_or_default();
    let (epoch, text) = split_epoch(text)?;
    let text = strip_v_prefix(text);
    if looks_like_commit_id(text) {
        return Err("it looks like a commit id, which has no version order".to_string());
    }

    let runs = split_runs(text)?;
    if !runs.iter().any(|run| run.kind == RunKind::Digits) {
        return Err("it contains no digit".to_string());
    }
    if wildcards == Wildcards::Rejected && runs.iter().any(|run| run.kind == RunKind::Star) {
        return Err(wildcard_in_version());
    }
    Ok(build_key(epoch, &runs))
}

fn wildcard_in_version() -> String {
    "'*' stands for any version in a range bound and is not a version itself".to_string()
}

fn check_characters(text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("it is empty".to_string());
    }
    if text.chars().count() > MAX_VERSION_CHARS {
        return Err(format!("it is longer than {MAX_VERSION_CHARS} characters"));
    }
    for c in text.chars() {
        if c.is_control() {
            return Err("it contains a control character".to_string());
        }
        if c.is_whitespace() {
            return Err("it contains whitespace".to_string());
        }
        if !(c.is_ascii_alphanumeric() || ".-_+:*".contains(c)) {
            return Err(format!("it contains '{c}', which a version cannot contain"));
        }
    }
    Ok(())
}

/// Splits an rpm-style `N:` epoch off the front, zero when there is none.
fn split_epoch(text: &str) -> Result<(Token, &str), String> {
    let Some((epoch, rest)) = text.split_once(':') else {
        return Ok((ZERO, text));
    };
    if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the part before ':' must be a numeric epoch".to_string());
    }
    if rest.contains(':') {
        return Err("it contains more than one ':'".to_string());
    }
    Ok((number(epoch), rest))
}

fn strip_v_prefix(text: &str) -> &str {
    match text.strip_prefix('v') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => text,
    }
}

/// Checks for the shape of an abbreviated or full git commit id.
fn looks_like_commit_id(text: &str) -> bool {
    (7..=64).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_hexdigit())
        && text.bytes().any(|b| b.is_ascii_alphabetic())
}

fn number(digits: &str) -> Token {
    Token::Number(digits.trim_start_matches('0').to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunKind {
    Digits,
    Letters,
    Star,
}

/// A maximal run of digits, of letters, or a `*`, with the separator before it.
#[derive(Debug, Clone, Copy)]
struct Run<'a> {
    separator: Option<char>,
    kind: RunKind,
    text: &'a str,
}

fn run_kind(c: char) -> Option<RunKind> {
    if c.is_ascii_digit() {
        Some(RunKind::Digits)
    } else if c.is_ascii_alphabetic() {
        Some(RunKind::Letters)
    } else if c == '*' {
        Some(RunKind::Star)
    } else {
        None
    }
}

/// Splits lower-case text of letters, digits, `*` and the separators `.`, `-`, `_` into runs.
fn split_runs(text: &str) -> Result<Vec<Run<'_>>, String> {
    if text.is_empty() {
        return Err("it has no version number".to_string());
    }
    let mut runs = Vec::new();
    let mut separator = None;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let Some(kind) = run_kind(c) else {
            if runs.is_empty() {
                return Err("it must start with a letter or a digit".to_string());
            }
            if separator.is_some() {
                return Err("it has two separators in a row".to_string());
            }
            separator = Some(c);
            rest = &rest[c.len_utf8()..];
            continue;
        };
        let length = match kind {
            RunKind::Star => 1,
            _ => rest
                .find(|c| run_kind(c) != Some(kind))
                .unwrap_or(rest.len()),
        };
        runs.push(Run {
            separator: separator.take(),
            kind,
            text: &rest[..length],
        });
        rest = &rest[length..];
    }
    if separator.is_some() {
        return Err("it ends with a separator".to_string());
    }
    check_wildcard_position(&runs)?;
    Ok(runs)
}

/// Allows `*` only as a whole last component after a separator, as in `5.10.*`.
fn check_wildcard_position(runs: &[Run<'_>]) -> Result<(), String> {
    let last = runs.len() - 1;
    let misplaced = runs
        .iter()
        .enumerate()
        .any(|(i, run)| run.kind == RunKind::Star && (i != last || run.separator.is_none()));
    if misplaced {
        return Err("'*' may only be the whole last component, as in 5.10.*".to_string());
    }
    Ok(())
}

/// Builds the key: the leading numbers joined by dots form the release, the rest the suffix.
fn build_key(epoch: Token, runs: &[Run<'_>]) -> Key {
    let release_length = runs
        .iter()
        .enumerate()
        .take_while(|(i, run)| {
            run.kind != RunKind::Letters && (*i == 0 || run.separator == Some('.'))
        })
        .count();
    let release = runs[..release_length].iter().map(run_token).collect();
    let suffix = runs[release_length..]
        .iter()
        .enumerate()
        .map(|(i, run)| match run.kind {
            RunKind::Letters => {
                let next = runs.get(release_length + i + 1);
                let before_number = next
                    .is_some_and(|next| next.kind == RunKind::Digits && next.separator.is_none());
                word_token(run.text, before_number)
            }
            _ => run_token(run),
        })
        .collect();
    Key::Version {
        epoch,
        release,
        suffix,
    }
}

fn run_token(run: &Run<'_>) -> Token {
    match run.kind {
        RunKind::Star => Token::Wildcard,
        _ => number(run.text),
    }
}

/// Classifies a word as a pre-release label or a post-release suffix.
///
/// The one-letter labels of Python and Tomcat (`1.0a1`, `9.0.0-M1`) count as pre-releases
/// only when a number follows directly, because OpenSSL writes fixes as `1.1.1a`.
fn word_token(word: &str, before_number: bool) -> Token {
    let rank = match word {
        "dev" => Some(0),
        "alpha" => Some(1),
        "a" if before_number => Some(1),
        "beta" => Some(2),
        "b" if before_number => Some(2),
        "milestone" => Some(3),
        "m" if before_number => Some(3),
        "pre" | "preview" => Some(4),
        "rc" | "cr" => Some(5),
        "c" if before_number => Some(5),
        "snapshot" => Some(6),
        _ => None,
    };
    rank.map_or_else(|| Token::Word(word.to_string()), Token::Pre)
}

/// A place on the version line at which the rules are evaluated.
#[derive(Debug, Clone, Copy)]
enum Probe<'k> {
    /// Below every version.
    Bottom,
    At(&'k Key),
    /// Above this version and below every greater version that a record names.
    Above(&'k Key),
}

impl Probe<'_> {
    fn cmp_bound(self, bound: &Key) -> Ordering {
        match self {
            Probe::Bottom => Ordering::Less,
            Probe::At(key) => key.cmp(bound),
            Probe::Above(key) if key >= bound => Ordering::Greater,
            Probe::Above(_) => Ordering::Less,
        }
    }
}

/// Probes just above `key` and at and above each point greater than it.
fn probes_above<'k>(key: &'k Key, points: &'k [Key]) -> Vec<Probe<'k>> {
    let later = points.iter().filter(|point| *point > key);
    std::iter::once(Probe::Above(key))
        .chain(later.flat_map(|point| [Probe::At(point), Probe::Above(point)]))
        .collect()
}

fn probes_from_bottom(points: &[Key]) -> Vec<Probe<'_>> {
    std::iter::once(Probe::Bottom)
        .chain(
            points
                .iter()
                .flat_map(|point| [Probe::At(point), Probe::Above(point)]),
        )
        .collect()
}

/// A status and whether any entry gave it, as opposed to `defaultStatus`.
#[derive(Debug, Clone, Copy)]
struct Finding {
    status: Status,
    covered: bool,
}

/// A single-version entry.
#[derive(Debug)]
struct ExactRule<'a> {
    text: &'a str,
    key: Option<Key>,
    status: Status,
}

#[derive(Debug)]
enum Upper {
    Below(Key),
    UpTo(Key),
}

/// A range entry whose bounds and changes could all be parsed.
#[derive(Debug)]
struct RangeRule {
    /// None when the range starts at the first version.
    lower: Option<Key>,
    /// None when the range has no end.
    upper: Option<Upper>,
    status: Status,
    /// Status changes sorted by version.
    changes: Vec<(Key, Status)>,
}

impl RangeRule {
    /// Returns the status the range gives `probe`, or None when the range does not contain it.
    fn status_at(&self, probe: Probe<'_>) -> Option<Status> {
        if let Some(lower) = &self.lower
            && probe.cmp_bound(lower) == Ordering::Less
        {
            return None;
        }
        let inside = match &self.upper {
            None => true,
            Some(Upper::Below(bound)) => probe.cmp_bound(bound) == Ordering::Less,
            Some(Upper::UpTo(bound)) => probe.cmp_bound(bound) != Ordering::Greater,
        };
        if !inside {
            return None;
        }
        // The last change at or below the probe decides.
        let reached = self
            .changes
            .iter()
            .rev()
            .find(|(at, _)| probe.cmp_bound(at) != Ordering::Less);
        Some(reached.map_or(self.status, |(_, status)| *status))
    }
}

enum Rule<'a> {
    Exact(ExactRule<'a>),
    Range(RangeRule),
    /// A range with a bound or change that cannot be compared.
    Undecidable,
}

/// The entries of one `affected` item, parsed once for repeated evaluation.
struct Rules<'a> {
    exact: Vec<ExactRule<'a>>,
    ranges: Vec<RangeRule>,
    undecidable: bool,
    default: Status,
}

impl<'a> Rules<'a> {
    fn new(affected: &'a Affected) -> Rules<'a> {
        let default = affected
            .default_status
            .as_deref()
            .map_or(Status::Unknown, Status::from_record);
        let mut rules = Rules {
            exact: Vec::new(),
            ranges: Vec::new(),
            undecidable: false,
            default,
        };
        for entry in &affected.versions {
            match rule(entry) {
                Rule::Exact(exact) => rules.exact.push(exact),
                Rule::Range(range) => rules.ranges.push(range),
                Rule::Undecidable => rules.undecidable = true,
            }
        }
        rules
    }

    fn evaluate(&self, probe: Probe<'_>) -> Finding {
        if let Probe::At(key) = probe {
            let matching = self
                .exact
                .iter()
                .filter(|rule| rule.key.as_ref() == Some(key));
            if let Some(status) = combine_exact(matching.map(|rule| rule.status)) {
                return Finding {
                    status,
                    covered: true,
                };
            }
        }
        let statuses = self
            .ranges
            .iter()
            .filter_map(|range| range.status_at(probe))
            .chain(self.undecidable.then_some(Status::Unknown));
        match combine_ranges(statuses) {
            Some(status) => Finding {
                status,
                covered: true,
            },
            None => Finding {
                status: self.default,
                covered: false,
            },
        }
    }

    /// Decides the status of a version that cannot be compared. Only single-version entries
    /// with the same text can match it.
    fn status_of_text(&self, version: &str) -> Status {
        let version = version.trim();
        let matching = self
            .exact
            .iter()
            .filter(|rule| rule.text.eq_ignore_ascii_case(version));
        if let Some(status) = combine_exact(matching.map(|rule| rule.status)) {
            return status;
        }
        if self.ranges.is_empty() && !self.undecidable {
            self.default
        } else {
            Status::Unknown
        }
    }

    /// Returns every version at which the status may change, sorted and without duplicates.
    fn points(&self) -> Vec<Key> {
        let exact = self.exact.iter().filter_map(|rule| rule.key.clone());
        let ranges = self.ranges.iter().flat_map(|range| {
            let upper = match &range.upper {
                Some(Upper::Below(bound) | Upper::UpTo(bound)) => Some(bound.clone()),
                None => None,
            };
            let changes = range.changes.iter().map(|(at, _)| at.clone());
            range.lower.clone().into_iter().chain(upper).chain(changes)
        });
        let mut points: Vec<Key> = exact
            .chain(ranges)
            .filter(|key| !matches!(key, Key::Unbounded))
            .collect();
        points.sort();
        points.dedup();
        points
    }

    /// Returns the fix version that the first non-affected probe at `index` points to.
    ///
    /// A probe just above a version lies in a gap the record names no version for, so the
    /// fix is the next named version, if it is not affected.
    fn fix_at(&self, probes: &[Probe<'_>], index: usize, fixes: &[(Key, &str)]) -> Option<String> {
        let candidate = match probes.get(index)? {
            Probe::At(key) => *key,
            Probe::Above(_) => match probes.get(index + 1)? {
                Probe::At(key) => *key,
                _ => return None,
            },
            Probe::Bottom => return None,
        };
        let (_, text) = fixes.iter().find(|(key, _)| key == candidate)?;
        let finding = self.evaluate(Probe::At(candidate));
        let fixed = match finding.status {
            Status::Unaffected => true,
            Status::Unknown => !finding.covered,
            Status::Affected => false,
        };
        fixed.then(|| text.to_string())
    }
}

fn rule(entry: &VersionEntry) -> Rule<'_> {
    let status = Status::from_record(&entry.status);
    let upper = match (&entry.less_than, &entry.less_than_or_equal) {
        (Some(bound), _) => Some((bound, false)),
        (None, Some(bound)) => Some((bound, true)),
        (None, None) => None,
    };
    let Some((bound, inclusive)) = upper else {
        return exact_rule(entry, status);
    };
    match range_rule(entry, status, bound, inclusive) {
        Some(range) => Rule::Range(range),
        None => Rule::Undecidable,
    }
}

/// Reads a single-version entry. A lone "*" covers every version, so it becomes a range.
fn exact_rule(entry: &VersionEntry, status: Status) -> Rule<'_> {
    let text = entry.version.trim();
    if text == "*" {
        return Rule::Range(RangeRule {
            lower: None,
            upper: None,
            status,
            changes: Vec::new(),
        });
    }
    Rule::Exact(ExactRule {
        text,
        key: parse(text, Wildcards::Rejected).ok(),
        status,
    })
}

/// Reads a range entry, or returns None when a bound or change cannot be compared.
fn range_rule(
    entry: &VersionEntry,
    status: Status,
    bound: &str,
    inclusive: bool,
) -> Option<RangeRule> {
    let lower = if is_open_lower_bound(&entry.version) {
        None
    } else {
        Some(parse(&entry.version, Wildcards::Rejected).ok()?)
    };
    let upper = match parse(bound, Wildcards::Allowed).ok()? {
        Key::Unbounded => None,
        key if inclusive => Some(Upper::UpTo(key)),
        key => Some(Upper::Below(key)),
    };
    let mut changes = entry
        .changes
        .iter()
        .map(|change| {
            let at = parse(&change.at, Wildcards::Rejected).ok()?;
            Some((at, Status::from_record(&change.status)))
        })
        .collect::<Option<Vec<_>>>()?;
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    Some(RangeRule {
        lower,
        upper,
        status,
        changes,
    })
}

fn is_open_lower_bound(version: &str) -> bool {
    let version = version.trim();
    OPEN_LOWER_BOUNDS
        .iter()
        .any(|open| open.eq_ignore_ascii_case(version))
}

/// Returns the versions that `affected` names as no longer affected, with their text: the
/// `lessThan` bounds without wildcards, changes to "unaffected", and the versions and range
/// starts of "unaffected" entries.
fn fix_points(affected: &Affected) -> Vec<(Key, &str)> {
    let unaffected = |status: &str| Status::from_record(status) == Status::Unaffected;
    let mut fixes = Vec::new();
    for entry in &affected.versions {
        if let Some(bound) = &entry.less_than {
            fixes.extend(fix_point(bound, Wildcards::Allowed));
        }
        for change in entry
            .changes
            .iter()
            .filter(|change| unaffected(&change.status))
        {
            fixes.extend(fix_point(&change.at, Wildcards::Rejected));
        }
        if unaffected(&entry.status) && !is_open_lower_bound(&entry.version) {
            fixes.extend(fix_point(&entry.version, Wildcards::Rejected));
        }
    }
    fixes
}

fn fix_point(text: &str, wildcards: Wildcards) -> Option<(Key, &str)> {
    let text = text.trim();
    let key = parse(text, wildcards).ok()?;
    (!key.has_wildcard()).then_some((key, text))
}

/// Combines the statuses of single-version entries: "unaffected" for exactly this version
/// is the most specific statement a record makes.
fn combine_exact(statuses: impl Iterator<Item = Status>) -> Option<Status> {
    statuses.max_by_key(|status| match status {
        Status::Unaffected => 2,
        Status::Affected => 1,
        Status::Unknown => 0,
    })
}

/// Combines the statuses of overlapping ranges, so that no range saying "affected" is lost.
fn combine_ranges(statuses: impl Iterator<Item = Status>) -> Option<Status> {
    statuses.max_by_key(|status| match status {
        Status::Affected => 2,
        Status::Unknown => 1,
        Status::Unaffected => 0,
    })
}
