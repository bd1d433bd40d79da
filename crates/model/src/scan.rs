//! The result of scanning a text or a log: every indicator found, ranked malicious first,
//! with what the log shows about it and the verdict of the local intelligence.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
pub use tiq_extract::{Activity, Behaviour, BehaviourKind, Counted, Kind as FoundKind};

use crate::batch::CompactReport;
use crate::lang::Lang;
use crate::report::Verdict;

/// Distinct indicators per verdict, and those not analysed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScanTotals {
    /// Distinct indicators found.
    pub indicators: u64,
    pub malicious: u64,
    pub suspicious: u64,
    pub benign: u64,
    pub unknown: u64,
    /// Indicators without a verdict: ranges, e-mail addresses (their domains are analysed),
    /// SHA-512 digests, CVE ids (use search_vul), and any past the analysis limit or whose
    /// lookup failed.
    pub not_analyzed: u64,
}

impl ScanTotals {
    /// Counts one indicator with its verdict, `None` when it was not analysed.
    pub fn add(&mut self, verdict: Option<Verdict>) {
        self.indicators += 1;
        match verdict {
            Some(Verdict::Malicious) => self.malicious += 1,
            Some(Verdict::Suspicious) => self.suspicious += 1,
            Some(Verdict::Benign) => self.benign += 1,
            Some(Verdict::Unknown) => self.unknown += 1,
            None => self.not_analyzed += 1,
        }
    }
}

/// One distinct indicator found in the input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanItem {
    /// Kind: ipv4, ipv6, cidr, domain, url, email, md5, sha1, sha256, sha512 or cve.
    pub kind: FoundKind,
    /// The canonical value: refanged, lower-case host, IDN as punycode.
    pub value: String,
    /// Occurrences in the input.
    pub count: u64,
    /// Line of the first occurrence, from 1.
    pub first_line: u64,
    /// Earliest time of the log lines that contain it, RFC 3339 in UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// Latest time of the log lines that contain it, RFC 3339 in UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
    /// Verdict, absent when the indicator was not analysed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// Whether a block list should contain it: a malicious public address or a malicious
    /// domain, on no benign list.
    pub block: bool,
    /// Compact report, with the behaviour the log shows among its evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<Box<CompactReport>>,
    /// Requests and flagged behaviour of an address that was the client of log lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activity: Option<Activity>,
    /// Reason the indicator was not analysed, or the error of a failed analysis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The response to a scan of a text or a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScanReport {
    /// Summary of what was found and what matters most, in the requested language.
    pub summary: String,
    /// Next steps, in the requested language.
    pub recommendation: Vec<String>,
    pub totals: ScanTotals,
    /// Lines read.
    pub lines: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Lines read per format: access_log, json, syslog, waf, nginx_error, text.
    pub formats: BTreeMap<String, u64>,
    /// The indicators, malicious first, then suspicious, unknown, benign and not analysed.
    /// Within a verdict they are ordered by threat level, confidence, flagged behaviour and
    /// occurrences.
    pub indicators: Vec<ScanItem>,
    /// Counts of what the limits left out, by reason: `indicators` cut from the list by
    /// `limit`, `analysis` listed without a lookup past the analysis limit, and
    /// `distinct_indicator_cap` occurrences of new indicators past the cap on distinct
    /// indicators.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left_out: BTreeMap<String, u64>,
    /// Explains why the list is cut, in the requested language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Language of the summary, next steps and notes.
    pub lang: Lang,
}

/// Default maximum number of indicators a scan lists.
pub const DEFAULT_SCAN_LIMIT: usize = 100;
/// Maximum list limit a caller may request.
pub const MAX_SCAN_LIMIT: usize = 1000;

/// A scan request: the text or log to read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScanRequest {
    /// The text: a log excerpt (nginx or Apache access log, JSON lines, syslog or sshd,
    /// ModSecurity, naxsi or CEF alerts), a threat report, an e-mail, or any mix. Defanged
    /// indicators are read too.
    pub text: String,
    /// Language of the summaries and recommendations: "en" (default) or "zh-CN".
    #[serde(default)]
    pub lang: Option<String>,
    /// Maximum indicators listed, malicious first: 1 to 1000, default 100. The totals count
    /// them all.
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Validates a requested list limit: 1 to [`MAX_SCAN_LIMIT`], or [`DEFAULT_SCAN_LIMIT`] when
/// absent.
pub fn scan_limit(limit: Option<usize>, lang: Lang) -> Result<usize, String> {
    match limit {
        None => Ok(DEFAULT_SCAN_LIMIT),
        Some(limit) if (1..=MAX_SCAN_LIMIT).contains(&limit) => Ok(limit),
        Some(limit) => Err(match lang {
            Lang::En => format!("limit {limit} is out of range: give 1 to {MAX_SCAN_LIMIT}"),
            Lang::ZhCn => format!("limit {limit} 超出范围：请给出 1 到 {MAX_SCAN_LIMIT}"),
        }),
    }
}

/// Returns the message for a text over the size limit, naming both sizes and the
/// alternatives.
pub fn text_too_large(bytes: usize, limit: usize, lang: Lang) -> String {
    let (kib, limit_kib) = (bytes.div_ceil(1024), limit / 1024);
    match lang {
        Lang::En => format!(
            "the text is {kib} KiB, over the limit of {limit_kib} KiB: send it in parts, raise [server] max_text_kb in tiq.toml, or run `tiq scan FILE`, which reads any size"
        ),
        Lang::ZhCn => format!(
            "文本大小为 {kib} KiB，超过上限 {limit_kib} KiB：请分段提交，或在 tiq.toml 中调高 [server] max_text_kb，或运行可读取任意大小文件的 `tiq scan 文件`"
        ),
    }
}

impl ScanReport {
    /// Returns the totals as one line for the audit log.
    pub fn audit_verdict(&self) -> String {
        let t = &self.totals;
        format!(
            "malicious={} suspicious={} benign={} unknown={} not_analyzed={}",
            t.malicious, t.suspicious, t.benign, t.unknown, t.not_analyzed
        )
    }
}
