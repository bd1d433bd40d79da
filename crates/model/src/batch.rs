//! Batch analysis: many indicators of mixed types in one request, with one result per item
//! in input order, counts by verdict, and a size cap on full reports.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::indicator::{Indicator, IndicatorKind, ParseError, refang};
use crate::lang::Lang;
use crate::report::{IndicatorRef, KnowledgeRef, Report, Tag, ThreatLevel, Verdict};

/// Maximum number of items in one batch.
pub const MAX_BATCH_ITEMS: usize = 1000;

/// Serialised size of the full reports one batch returns, in bytes (2 MiB). Items past it get
/// compact reports, and the batch reports how many in `left_out` and `note`.
pub const FULL_DETAIL_BUDGET_BYTES: usize = 2 * 1024 * 1024;

/// Number of evidence sources a compact report lists.
pub const COMPACT_SOURCES: usize = 5;

/// Indicator types a batch item may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchKind {
    Ip,
    Domain,
    Url,
    Hash,
}

impl BatchKind {
    pub fn indicator_kind(self) -> IndicatorKind {
        match self {
            BatchKind::Ip => IndicatorKind::Ip,
            BatchKind::Domain => IndicatorKind::Domain,
            BatchKind::Url => IndicatorKind::Url,
            BatchKind::Hash => IndicatorKind::Hash,
        }
    }

    fn from_name(name: &str) -> Option<BatchKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "ip" => Some(BatchKind::Ip),
            "domain" => Some(BatchKind::Domain),
            "url" => Some(BatchKind::Url),
            "hash" => Some(BatchKind::Hash),
            _ => None,
        }
    }
}

/// One batch item: a bare value whose type is detected, or a value with its type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum BatchItem {
    /// An IP address, domain, URL or file hash; the type is detected from the value. A
    /// network range (CIDR) and a CVE id are rejected for that item.
    Value(String),
    /// A value of a given type, which skips detection.
    Typed {
        #[serde(rename = "type")]
        kind: BatchKind,
        value: String,
    },
}

/// A batch request, as the `analyze_batch` tool and `POST /api/v1/batch` take it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BatchRequest {
    /// Up to 1,000 indicators of any mix of types. Each is a string (an IP address, domain,
    /// URL or MD5/SHA-1/SHA-256 hash, defanged forms accepted; the type is detected) or an
    /// object such as {"type": "domain", "value": "example.com"}. An item that cannot be read
    /// gets an error of its own; the others are still analysed.
    #[schemars(with = "Vec<BatchItem>")]
    pub items: Vec<Value>,
    /// "compact" (default): verdict, threat level, confidence, tags, families, actors, top
    /// sources, summary and recommendation per item. "full": the whole report per item, up
    /// to 2 MiB for the batch; later items get compact reports and `note` states so.
    #[serde(default)]
    pub detail: Option<Detail>,
    /// Language of summaries, recommendations and error messages: "en" (default) or "zh-CN".
    #[serde(default)]
    pub lang: Option<String>,
}

/// How much of each report a batch returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// The verdict and its main reasons ([`CompactReport`]).
    #[default]
    Compact,
    /// The whole report, up to [`FULL_DETAIL_BUDGET_BYTES`] for the batch.
    Full,
}

/// Reason one item got no report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemErrorCode {
    /// The item is neither a string nor an object with `type` and `value`.
    InvalidItem,
    /// The type is not ip, domain, url or hash, or the value is a network range or a CVE id.
    UnsupportedType,
    /// The value is not a valid indicator of its type.
    InvalidIndicator,
    /// The store failed while analysing the item.
    LookupFailed,
    /// The caller's API key lacks the scope of the item's type.
    MissingScope,
}

/// The error of one item, with a message in the request language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ItemError {
    pub code: ItemErrorCode,
    /// Description of the problem, naming the value and what to pass instead.
    pub message: String,
}

/// A batch item that cannot be analysed, found before any lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ItemProblem {
    #[error(
        "item {item} is not a string or an object with \"type\" and \"value\": pass \"203.0.113.7\" or {{\"type\": \"ip\", \"value\": \"203.0.113.7\"}}"
    )]
    Shape { item: String },
    #[error("unsupported type {kind:?}: use ip, domain, url or hash")]
    UnknownType { kind: String },
    #[error(
        "{value:?} is a network range, which is not analysed: pass one address such as {first}"
    )]
    Network { value: String, first: String },
    #[error(
        "{value:?} is a CVE id, which is not an indicator: search it with search_vul (MCP) or /api/v1/vul (REST)"
    )]
    Cve { value: String },
    #[error(transparent)]
    Invalid(#[from] ParseError),
}

impl ItemProblem {
    pub fn code(&self) -> ItemErrorCode {
        match self {
            ItemProblem::Shape { .. } => ItemErrorCode::InvalidItem,
            ItemProblem::UnknownType { .. }
            | ItemProblem::Network { .. }
            | ItemProblem::Cve { .. } => ItemErrorCode::UnsupportedType,
            ItemProblem::Invalid(_) => ItemErrorCode::InvalidIndicator,
        }
    }

    /// Renders the problem in the requested language.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (ItemProblem::Shape { item }, Lang::ZhCn) => format!(
                "条目 {item} 既不是字符串，也不是带 \"type\" 和 \"value\" 的对象：请传入 \"203.0.113.7\" 或 {{\"type\": \"ip\", \"value\": \"203.0.113.7\"}}"
            ),
            (ItemProblem::UnknownType { kind }, Lang::ZhCn) => {
                format!("不支持的类型“{kind}”：请使用 ip、domain、url 或 hash")
            }
            (ItemProblem::Network { value, first }, Lang::ZhCn) => {
                format!("“{value}”是一个网段，不做分析：请传入单个地址，例如 {first}")
            }
            (ItemProblem::Cve { value }, Lang::ZhCn) => format!(
                "“{value}”是 CVE 编号，不是威胁指标：请用 search_vul（MCP）或 /api/v1/vul（REST）查询"
            ),
            (ItemProblem::Invalid(error), Lang::ZhCn) => error.message(lang),
        }
    }

    pub fn to_item_error(&self, lang: Lang) -> ItemError {
        ItemError {
            code: self.code(),
            message: self.message(lang),
        }
    }
}

/// Returns the input text of an item for its result: the value of a string or typed item,
/// else the item's JSON.
pub fn item_input(item: &Value) -> String {
    match item {
        Value::String(value) => value.clone(),
        Value::Object(object) => match object.get("value") {
            Some(Value::String(value)) => value.clone(),
            _ => item.to_string(),
        },
        other => other.to_string(),
    }
}

/// Reads one item of a batch request and parses its indicator, detecting the type of a bare
/// value.
pub fn parse_item(item: &Value) -> Result<Indicator, ItemProblem> {
    let shape = || ItemProblem::Shape {
        item: shorten(&item.to_string()),
    };
    match item {
        Value::String(value) => detect(value),
        Value::Object(object) => {
            let (Some(Value::String(kind)), Some(Value::String(value))) =
                (object.get("type"), object.get("value"))
            else {
                return Err(shape());
            };
            let kind = BatchKind::from_name(kind).ok_or_else(|| ItemProblem::UnknownType {
                kind: shorten(kind),
            })?;
            Ok(Indicator::parse_as(kind.indicator_kind(), value)?)
        }
        _ => Err(shape()),
    }
}

/// Detects the type of a bare value. A network range is rejected before parsing, because
/// `192.0.2.0/24` would otherwise read as a URL with the path `/24`.
fn detect(value: &str) -> Result<Indicator, ItemProblem> {
    if let Ok(network) = refang(value).parse::<ipnet::IpNet>() {
        return Err(ItemProblem::Network {
            value: shorten(value),
            first: network.network().to_string(),
        });
    }
    match Indicator::parse_any(value)? {
        Indicator::Cve(id) => Err(ItemProblem::Cve { value: id }),
        indicator => Ok(indicator),
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(200).collect()
}

/// The verdict and its main reasons, for a batch item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CompactReport {
    pub indicator: IndicatorRef,
    pub verdict: Verdict,
    pub threat_level: ThreatLevel,
    /// Certainty of the verdict, 0 to 1.
    pub confidence: f64,
    pub tags: Vec<Tag>,
    pub families: Vec<KnowledgeRef>,
    pub actors: Vec<KnowledgeRef>,
    /// Up to five evidence sources, the heaviest first.
    pub top_sources: Vec<String>,
    pub summary: String,
    pub recommendation: Vec<String>,
}

impl CompactReport {
    pub fn from_report(report: &Report) -> CompactReport {
        let mut evidence: Vec<_> = report.evidence.iter().collect();
        evidence.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        let mut top_sources: Vec<String> = Vec::new();
        for item in evidence {
            if top_sources.len() == COMPACT_SOURCES {
                break;
            }
            if !top_sources.contains(&item.source) {
                top_sources.push(item.source.clone());
            }
        }
        CompactReport {
            indicator: report.indicator.clone(),
            verdict: report.verdict,
            threat_level: report.threat_level.clone(),
            confidence: report.confidence,
            tags: report.tags.clone(),
            families: report.families.clone(),
            actors: report.actors.clone(),
            top_sources,
            summary: report.summary.clone(),
            recommendation: report.recommendation.clone(),
        }
    }
}

/// The report of one batch item: full or compact, as `detail` of the result states.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ItemReport {
    Full(Box<Report>),
    Compact(Box<CompactReport>),
}

/// The result of one item, at its position in the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BatchResult {
    /// Position in the request, from 0.
    pub index: usize,
    /// The value as the caller gave it (the `value` of a typed item).
    pub input: String,
    /// Type of the indicator, detected or given. Absent when the item could not be read.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<IndicatorKind>,
    /// `full` or `compact`; absent with an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Detail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ItemReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ItemError>,
}

/// Items per verdict. Each position counts, so a value given twice counts twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VerdictCounts {
    pub malicious: usize,
    pub suspicious: usize,
    pub benign: usize,
    pub unknown: usize,
}

impl VerdictCounts {
    pub fn add(&mut self, verdict: Verdict) {
        *self.count_of(verdict) += 1;
    }

    fn count_of(&mut self, verdict: Verdict) -> &mut usize {
        match verdict {
            Verdict::Malicious => &mut self.malicious,
            Verdict::Suspicious => &mut self.suspicious,
            Verdict::Benign => &mut self.benign,
            Verdict::Unknown => &mut self.unknown,
        }
    }
}

impl BatchReport {
    /// Replaces the report of each item whose type `refuse` returns a message for with a
    /// `missing_scope` error carrying that message, and recounts the totals.
    pub fn withhold(&mut self, refuse: impl Fn(IndicatorKind) -> Option<String>) {
        for result in &mut self.results {
            let (Some(kind), Some(report)) = (result.kind, result.report.as_ref()) else {
                continue;
            };
            let Some(message) = refuse(kind) else {
                continue;
            };
            let verdict = match report {
                ItemReport::Full(report) => report.verdict,
                ItemReport::Compact(report) => report.verdict,
            };
            let count = self.verdicts.count_of(verdict);
            *count = count.saturating_sub(1);
            self.errors += 1;
            result.report = None;
            result.detail = None;
            result.error = Some(ItemError {
                code: ItemErrorCode::MissingScope,
                message,
            });
        }
    }
}

/// The response to a batch request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BatchReport {
    /// Items in the request.
    pub total: usize,
    /// Distinct indicators analysed; a value given twice (in any spelling) is analysed once
    /// and reported at each position.
    pub analyzed: usize,
    pub verdicts: VerdictCounts,
    /// Items that got an error instead of a report.
    pub errors: usize,
    /// The detail the request asked for.
    pub detail: Detail,
    /// One result per item, in request order.
    pub results: Vec<BatchResult>,
    /// Items cut down from the requested detail, by kind (`full_reports`: items that got a
    /// compact report because the full reports reached the size cap).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub left_out: BTreeMap<String, u64>,
    /// Explains `left_out`, in the requested language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub lang: Lang,
}

/// A batch request that cannot run at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    #[error(
        "the batch has {count} items, over the limit of {limit}: split it into smaller batches"
    )]
    TooMany { count: usize, limit: usize },
}

impl BatchError {
    /// Renders the error in the requested language.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (_, Lang::En) => self.to_string(),
            (BatchError::TooMany { count, limit }, Lang::ZhCn) => {
                format!("批量请求含 {count} 个条目，超过上限 {limit}：请拆分为多个较小的批次")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bare_values_detected() {
        let cases = [
            ("203.0.113.7", IndicatorKind::Ip),
            ("example[.]com", IndicatorKind::Domain),
            ("hxxp://203.0.113.7/bin.sh", IndicatorKind::Url),
            ("44d88612fea8a8f36de82e1278abb02f", IndicatorKind::Hash),
        ];
        for (value, kind) in cases {
            let parsed = parse_item(&json!(value)).unwrap();
            assert_eq!(parsed.kind(), kind, "{value}");
        }
    }

    #[test]
    fn network_range_rejected() {
        let problem = parse_item(&json!("198.51.100.0/24")).unwrap_err();
        assert_eq!(problem.code(), ItemErrorCode::UnsupportedType);
        let message = problem.message(Lang::En);
        assert!(message.contains("\"198.51.100.0/24\""), "{message}");
        assert!(message.contains("198.51.100.0"), "{message}");
        let chinese = problem.message(Lang::ZhCn);
        assert!(chinese.contains("网段"), "{chinese}");
    }

    #[test]
    fn cve_rejected() {
        let problem = parse_item(&json!("cve-2021-44228")).unwrap_err();
        assert_eq!(problem.code(), ItemErrorCode::UnsupportedType);
        assert!(problem.message(Lang::En).contains("CVE-2021-44228"));
    }

    #[test]
    fn typed_items() {
        let parsed = parse_item(&json!({"type": "domain", "value": "Example.COM"})).unwrap();
        assert_eq!(parsed.value(), "example.com");

        let wrong = parse_item(&json!({"type": "ip", "value": "example.com"})).unwrap_err();
        assert_eq!(wrong.code(), ItemErrorCode::InvalidIndicator);
        assert!(wrong.message(Lang::En).contains("\"example.com\""));

        let unknown = parse_item(&json!({"type": "email", "value": "a@example.com"})).unwrap_err();
        assert_eq!(unknown.code(), ItemErrorCode::UnsupportedType);
        assert!(unknown.message(Lang::En).contains("\"email\""));
    }

    #[test]
    fn malformed_items() {
        for item in [
            json!(42),
            json!(null),
            json!({"value": "203.0.113.7"}),
            json!([]),
        ] {
            let problem = parse_item(&item).unwrap_err();
            assert_eq!(problem.code(), ItemErrorCode::InvalidItem, "{item}");
        }
        assert_eq!(item_input(&json!(42)), "42");
        assert_eq!(item_input(&json!({"type": "ip", "value": "x"})), "x");
    }

    #[test]
    fn too_many_message() {
        let error = BatchError::TooMany {
            count: 1001,
            limit: MAX_BATCH_ITEMS,
        };
        assert!(error.message(Lang::En).contains("1001"));
        assert!(error.message(Lang::En).contains("1000"));
        assert!(error.message(Lang::ZhCn).contains("1001"));
    }
}
