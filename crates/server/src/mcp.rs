//! The MCP tools: one per indicator type, each returning the engine's report, and
//! `describe_threat` for the knowledge behind the names in reports. The server handler also
//! serves the prompts of `prompts.rs`, the resources of `resources.rs`, and argument
//! completion for both.

use std::sync::{Arc, OnceLock};

use rmcp::handler::server::router::prompt::PromptRouter;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::schema_for_output;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, CompleteRequestParams, CompleteResult, CompletionInfo, ContentBlock,
    Implementation, ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, Reference, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, prompt_handler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use tiq_engine::scan::ScanLimits;
use tiq_engine::vuln::{VulnQuery, VulnSort};
use tiq_engine::{AnalyzeError, Engine};
use tiq_model::batch::{BatchReport, BatchRequest, ItemReport, VerdictCounts};
use tiq_model::scan::{ScanReport, ScanRequest, scan_limit, text_too_large};
use tiq_model::{IndicatorKind, Lang, Report, ThreatDescription, ThreatLevel, Verdict};
use tiq_sync::SyncSettings;

use crate::auth::{Admission, AuditNote};
use crate::resources;
use std::time::Instant;
use tiq_access::{Access, Denial, Scope, Surface};

const INSTRUCTIONS: &str = "tiq is a self-hosted threat-intelligence service built from open feeds. \
Use analyze_ip, analyze_domain, analyze_url or analyze_file_hash when a user asks whether an \
indicator is malicious, what it is, or what to do about it. Each returns a verdict \
(malicious, suspicious, benign or unknown), a threat level 0-5, a confidence, the evidence \
behind it, and next steps. 'unknown' means no local source lists the indicator; it never \
means safe. Use analyze_batch for many indicators at once (up to 1,000, mixed types), and \
analyze_text for a pasted log, alert or report: it finds every indicator, looks each up and \
flags what the log shows (password guessing, scanning, WAF alerts). \
Use describe_threat to explain a family, actor, campaign or ATT&CK technique a \
report names, and search_vul for CVEs, affected product versions and what to patch. Pass lang=zh-CN for summaries in Simplified Chinese. \
The prompts investigate_alert, triage_ip, triage_indicator and assess_cve_for_stack are \
step-by-step playbooks; the resource tiq://status reports how fresh each feed is.";

/// Arguments of `analyze_ip`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct IpArgs {
    /// IPv4 or IPv6 address in any common form: 203.0.113.7, 2001:db8::1, [2001:db8::1]:443,
    /// fe80::1%eth0, ::ffff:203.0.113.7, or defanged such as 203.0.113[.]7.
    pub ip: String,
    /// Language of the summary and recommendation: "en" (default) or "zh-CN".
    #[serde(default)]
    pub lang: Option<String>,
}

/// Arguments of `analyze_domain`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DomainArgs {
    /// Domain or subdomain: example.com, www.example.com., Unicode (例子.测试) or punycode,
    /// or defanged such as example[.]com.
    pub domain: String,
    /// Language of the summary and recommendation: "en" (default) or "zh-CN".
    #[serde(default)]
    pub lang: Option<String>,
}

/// Arguments of `analyze_url`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UrlArgs {
    /// http or https URL, such as https://example.com/login; hxxp://, hxxps:// and [.] are accepted.
    pub url: String,
    /// Language of the summary and recommendation: "en" (default) or "zh-CN".
    #[serde(default)]
    pub lang: Option<String>,
}

/// Arguments of `analyze_file_hash`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct HashArgs {
    /// MD5 (32 hex digits), SHA-1 (40) or SHA-256 (64) of a file, in any letter case.
    pub hash: String,
    /// Language of the summary and recommendation: "en" (default) or "zh-CN".
    #[serde(default)]
    pub lang: Option<String>,
}

/// Arguments of `search_vul`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct VulArgs {
    /// A CVE id (any case: CVE-2024-3400), a CNVD or CNNVD id (through the imported alias
    /// table), a product and version ("Apache Tomcat 9.0.30", "OpenSSL 1.1.1l"), or keywords
    /// ("log4j remote code execution").
    pub query: String,
    /// Only results at or above this CVSS severity: "critical", "high", "medium" or "low".
    #[serde(default)]
    pub min_severity: Option<String>,
    /// Only vulnerabilities in CISA's Known Exploited Vulnerabilities catalog.
    #[serde(default)]
    pub kev_only: bool,
    /// Only vulnerabilities known to be exploited (in KEV, or CISA SSVC exploitation active).
    #[serde(default)]
    pub exploited_only: bool,
    /// Only vulnerabilities with public exploit code (Exploit-DB, exploit references).
    #[serde(default)]
    pub has_exploit: bool,
    /// Only vulnerabilities published on or after this date, "YYYY-MM-DD".
    #[serde(default)]
    pub since: Option<String>,
    /// "relevance" (default: text match for keywords, priority for products), "priority"
    /// (known exploited first, then EPSS, then CVSS) or "date" (newest first).
    #[serde(default)]
    pub sort: Option<String>,
    /// Results per page, 1 to 50 (default 10).
    #[serde(default)]
    pub page_size: Option<usize>,
    /// The `next_cursor` of the previous page, unchanged.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Language of the summary and fix advice: "en" (default) or "zh-CN".
    #[serde(default)]
    pub lang: Option<String>,
}

/// Arguments of `describe_threat`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ThreatArgs {
    /// A threat actor, malware family or tool, campaign, ATT&CK technique or tactic, by name,
    /// alias or ATT&CK id: "APT28", "Fancy Bear", "G0007", "Cobalt Strike", "cobaltstrike",
    /// "win.cobalt_strike", "T1059.001", "TA0011". Family names as reports show them work too.
    /// At most 200 characters.
    pub name: String,
    /// Language of the summary: "en" (default) or "zh-CN". Descriptions stay as the knowledge
    /// source wrote them (English).
    #[serde(default)]
    pub lang: Option<String>,
}

/// Default maximum size of a text for `analyze_text` and `POST /api/v1/scan`, in bytes
/// (1 MiB). `[server] max_text_kb` changes it.
pub const DEFAULT_MAX_TEXT_BYTES: usize = 1024 * 1024;

/// The tool server handed to rmcp; one instance per MCP session.
#[derive(Clone)]
pub struct TiqTools {
    engine: Arc<Engine>,
    settings: Arc<SyncSettings>,
    /// For stdio, where no HTTP request carries an admission: audit only.
    access: Option<Arc<Access>>,
    /// Maximum size of a text for `analyze_text`, in bytes.
    max_text_bytes: usize,
    tool_router: ToolRouter<TiqTools>,
    prompt_router: PromptRouter<TiqTools>,
}

#[tool_router(router = tool_router)]
impl TiqTools {
    /// Creates the server over `engine`, with the catalog's default feed settings for the
    /// status resources.
    pub fn new(engine: Arc<Engine>) -> TiqTools {
        // Building the routers generates every tool's schemas; a stateless request makes a
        // new handler each time, so they are built once and cloned.
        static ROUTERS: OnceLock<(ToolRouter<TiqTools>, PromptRouter<TiqTools>)> = OnceLock::new();
        let (tool_router, prompt_router) =
            ROUTERS.get_or_init(|| (Self::tool_router(), Self::prompt_router()));
        TiqTools {
            engine,
            settings: Arc::new(SyncSettings::resolve(None, |_| None)),
            access: None,
            max_text_bytes: DEFAULT_MAX_TEXT_BYTES,
            tool_router: tool_router.clone(),
            prompt_router: prompt_router.clone(),
        }
    }

    /// Audits tool calls that reach the handler without an HTTP request (over stdio) in
    /// `access`; calls over HTTP are admitted and audited through their request.
    pub fn with_access(mut self, access: Option<Arc<Access>>) -> TiqTools {
        self.access = access;
        self
    }

    /// Sets the maximum size of a text for `analyze_text`, in bytes.
    pub fn with_max_text(mut self, bytes: usize) -> TiqTools {
        self.max_text_bytes = bytes;
        self
    }

    /// Uses `settings` (the configured feeds) for the status resources.
    pub fn with_sync_settings(mut self, settings: Arc<SyncSettings>) -> TiqTools {
        self.settings = settings;
        self
    }

    #[tool(
        description = "Check an IP address against local threat intelligence. Use it for an IP \
            seen in an alert, a firewall or web log, or a connection list. Returns the common \
            report: verdict, threat_level, confidence, tags (botnet C2, scanner, brute force, \
            Tor exit, ...), families and actors, evidence from each source, known-benign list \
            matches (public resolvers, CDNs, clouds, crawlers), a profile with scope \
            (public/private), country, ASN and flags, related URLs, a summary and next steps. \
            Private and reserved addresses are reported as such without lookups.",
        output_schema = report_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn analyze_ip(
        &self,
        Parameters(args): Parameters<IpArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.run(IndicatorKind::Ip, args.ip, args.lang).await)
    }

    #[tool(
        description = "Check a domain or host name against local threat intelligence. Use it for \
            a domain from DNS or proxy logs, an e-mail, or a phishing report. Returns the common \
            report: verdict, threat_level, confidence, tags (phishing, malware, C2, ...), \
            families and actors, evidence (a listing of a parent domain counts for less), \
            known-benign matches such as top-site lists, a profile with the registered domain, \
            TLD and flags, related URLs and sibling domains, a summary and next steps.",
        output_schema = report_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn analyze_domain(
        &self,
        Parameters(args): Parameters<DomainArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self
            .run(IndicatorKind::Domain, args.domain, args.lang)
            .await)
    }

    #[tool(
        description = "Check a URL against local threat intelligence. Use it for a link from an \
            e-mail, chat or proxy log. Returns the common report for the exact URL with its \
            host's listings folded in (weighted lower than a listing of the URL itself): \
            verdict, threat_level, confidence, tags (malware download, phishing, ...), \
            evidence, a profile with scheme, host, port, path and whether the host is a URL \
            shortener, a summary and next steps.",
        output_schema = report_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn analyze_url(
        &self,
        Parameters(args): Parameters<UrlArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.run(IndicatorKind::Url, args.url, args.lang).await)
    }

    #[tool(
        description = "Check a file hash (MD5, SHA-1 or SHA-256) against local threat \
            intelligence. Use it for a hash from an EDR alert, a sandbox report or a threat \
            report. Returns the common report: verdict, threat_level, confidence, malware \
            families and actors, first and last seen, evidence per source, known-benign \
            matches such as the empty-file hashes, indicators reported together with it, a \
            summary and next steps. A hash claim does not age.",
        output_schema = report_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn analyze_file_hash(
        &self,
        Parameters(args): Parameters<HashArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        Ok(self.run(IndicatorKind::Hash, args.hash, args.lang).await)
    }

    #[tool(
        description = "Check many indicators at once against local threat intelligence: up to \
            1,000 IP addresses, domains, URLs and file hashes in any mix, such as every \
            indicator pulled from an alert, a log excerpt or a threat report. Use it instead of \
            calling analyze_ip and the others in a loop. Each item is a string (the type is \
            detected; defanged forms are accepted) or {\"type\": \"ip|domain|url|hash\", \
            \"value\": ...}. Returns one result per item in input order: index, input, type \
            and a report (compact by default: verdict, threat_level, confidence, tags, families, \
            actors, top_sources, summary, recommendation; detail=\"full\" gives whole reports \
            up to 2 MiB for the batch), or an error with a code and message for that item \
            (network ranges and CVE ids are rejected per item). Totals count items per verdict \
            and errors. A value given twice is analysed once and reported at each position. \
            'unknown' means no local source lists it; it never means safe.",
        output_schema = output_schema::<BatchReport>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn analyze_batch(
        &self,
        Parameters(args): Parameters<BatchRequest>,
    ) -> Result<CallToolResult, ErrorData> {
        let lang = match args.lang.as_deref().map(str::parse::<Lang>).transpose() {
            Ok(lang) => lang.unwrap_or_default(),
            Err(error) => return Ok(tool_error(error.to_string())),
        };
        let engine = self.engine.clone();
        let detail = args.detail.unwrap_or_default();
        let outcome =
            tokio::task::spawn_blocking(move || engine.analyze_batch(&args.items, detail, lang))
                .await;
        Ok(match outcome {
            Ok(Ok(batch)) => batch_result(&batch),
            Ok(Err(error)) => tool_error(error.message(lang)),
            Err(error) => {
                tracing::error!(tool = "analyze_batch", %error, "batch analysis task failed");
                tool_error(format!(
                    "{}: {error}",
                    lang.pick("internal error", "内部错误")
                ))
            }
        })
    }

    #[tool(
        description = "Find and analyse every indicator in a text or log. Use it when the user \
            pastes a log excerpt (nginx or Apache access log, JSON lines, syslog and sshd \
            authentication failures, ModSecurity, naxsi or CEF WAF alerts), an alert, an \
            e-mail or a paragraph of a threat report, instead of picking indicators out by \
            hand. Finds IPv4 and IPv6 addresses (with ports, brackets, zones), CIDR ranges, \
            domains (IDN too), URLs, e-mail addresses, MD5, SHA-1, SHA-256 and SHA-512 hashes \
            and CVE ids, defanged forms included (hxxp, [.], (dot), [at]). File names such as \
            report.pdf, version strings, dates and GUIDs are ignored. Each address, domain, \
            URL and hash is looked up like analyze_ip and the others. For log lines it \
            reports per address the occurrences, first and last time, methods, paths and \
            status codes, and flags what the log itself shows (bursts of failed logins, of \
            POSTs to login pages, of missing pages, WAF alerts) as evidence in that address's \
            report: an address no source lists but that the log shows guessing passwords is \
            suspicious. Returns totals per verdict (counting every indicator), a summary, \
            next steps, and up to limit indicators (1 to 1000, default 100) ranked malicious \
            first, each with a compact report, a block flag (malicious, public, on no benign \
            list) and the log activity. Text up to 1 MiB by default. 'unknown' never means safe.",
        output_schema = output_schema::<ScanReport>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn analyze_text(
        &self,
        Parameters(args): Parameters<ScanRequest>,
    ) -> Result<CallToolResult, ErrorData> {
        let lang = match args.lang.as_deref().map(str::parse::<Lang>).transpose() {
            Ok(lang) => lang.unwrap_or_default(),
            Err(error) => return Ok(tool_error(error.to_string())),
        };
        let limit = match scan_limit(args.limit, lang) {
            Ok(limit) => limit,
            Err(message) => return Ok(tool_error(message)),
        };
        if args.text.len() > self.max_text_bytes {
            return Ok(tool_error(text_too_large(
                args.text.len(),
                self.max_text_bytes,
                lang,
            )));
        }
        let engine = self.engine.clone();
        let limits = ScanLimits {
            max_listed: limit,
            ..ScanLimits::default()
        };
        let outcome =
            tokio::task::spawn_blocking(move || engine.scan_text(&args.text, limits, lang)).await;
        Ok(match outcome {
            Ok(report) => scan_result(&report),
            Err(error) => {
                tracing::error!(tool = "analyze_text", %error, "text scan task failed");
                tool_error(format!(
                    "{}: {error}",
                    lang.pick("internal error", "内部错误")
                ))
            }
        })
    }

    #[tool(
        description = "Search local vulnerability intelligence (CVE records with CISA's \
            enrichment, CISA KEV, EPSS, Exploit-DB). Use it for \"is our Tomcat affected\", \
            \"is CVE-X being exploited\", \"what do we patch to\". Accepts a CVE id, a CNVD or \
            CNNVD id, a product with a version (\"Apache Tomcat 9.0.30\": returns the CVEs whose \
            affected ranges include that version) or keywords. Filters: min_severity, kev_only, \
            exploited_only, has_exploit, since; sort by relevance, priority or date; pages of \
            10 (page_size up to 50) with next_cursor. Each result has CVSS score, vector and \
            severity, CWE, affected products with version ranges, exploitation (KEV dates, \
            required action and ransomware use, SSVC, EPSS, public exploits), the fix (first \
            fixed version and upgrade advice, patch and advisory links, mitigations) and \
            related indicators, actors and families. A query that matches nothing returns \
            total 0 and a broader suggestion.",
        output_schema = output_schema::<tiq_model::VulnSearch>(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn search_vul(
        &self,
        Parameters(args): Parameters<VulArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let lang = match args.lang.as_deref().map(str::parse::<Lang>).transpose() {
            Ok(lang) => lang.unwrap_or_default(),
            Err(error) => return Ok(tool_error(error.to_string())),
        };
        let sort = match VulnSort::from_name(args.sort.as_deref()) {
            Ok(sort) => sort,
            Err(error) => return Ok(tool_error(error.message(lang))),
        };
        let request = VulnQuery {
            query: args.query,
            min_severity: args.min_severity,
            kev_only: args.kev_only,
            exploited_only: args.exploited_only,
            with_exploit_only: args.has_exploit,
            since: args.since,
            sort,
            page_size: args.page_size,
            cursor: args.cursor,
        };
        let engine = self.engine.clone();
        let outcome =
            tokio::task::spawn_blocking(move || engine.search_vulnerabilities(&request, lang))
                .await;
        Ok(match outcome {
            Ok(Ok(search)) => search_result(&search),
            Ok(Err(error)) => {
                if !error.is_invalid_request() {
                    tracing::error!(tool = "search_vul", %error, "vulnerability search failed");
                }
                tool_error(error.message(lang))
            }
            Err(error) => {
                tracing::error!(tool = "search_vul", %error, "vulnerability search task failed");
                tool_error(format!(
                    "{}: {error}",
                    lang.pick("internal error", "内部错误")
                ))
            }
        })
    }

    #[tool(
        description = "Explain a threat name from MITRE ATT&CK and the MISP galaxies. Use it when             a report names a family or actor the user does not know, or when the user asks             about an actor, malware family, tool, campaign, technique or tactic. Accepts a             name, alias or ATT&CK id; spellings such as cobaltstrike, Cobalt Strike and             win.cobalt_strike are one family. Returns kind, canonical name and id, aliases,             description, suspected country, tactics, linked techniques, actors, families and             campaigns (capped, with left_out counts), how many stored indicators carry it with             a few examples (C2 servers first), other entries the name also matches, references             and a summary. found=false means no knowledge source describes the name.",
        output_schema = description_schema(),
        annotations(read_only_hint = true, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn describe_threat(
        &self,
        Parameters(args): Parameters<ThreatArgs>,
    ) -> Result<CallToolResult, ErrorData> {
        let lang = match args.lang.as_deref().map(str::parse::<Lang>).transpose() {
            Ok(lang) => lang.unwrap_or_default(),
            Err(error) => return Ok(tool_error(error.to_string())),
        };
        let engine = self.engine.clone();
        let name = args.name;
        let outcome =
            tokio::task::spawn_blocking(move || engine.describe_threat(&name, lang)).await;
        Ok(match outcome {
            Ok(Ok(description)) => description_result(&description),
            Ok(Err(error)) if error.is_invalid_request() => tool_error(error.message(lang)),
            Ok(Err(error)) => {
                tracing::error!(tool = "describe_threat", %error, "description failed");
                tool_error(error.message(lang))
            }
            Err(error) => {
                tracing::error!(tool = "describe_threat", %error, "description task failed");
                tool_error(format!(
                    "{}: {error}",
                    lang.pick("internal error", "内部错误")
                ))
            }
        })
    }
}

impl TiqTools {
    /// Runs one analysis on the blocking pool and turns the outcome into a tool result.
    /// Invalid input and store failures are tool errors (`isError`), never protocol errors.
    async fn run(
        &self,
        kind: IndicatorKind,
        input: String,
        lang: Option<String>,
    ) -> CallToolResult {
        let lang = match lang.as_deref().map(str::parse::<Lang>).transpose() {
            Ok(lang) => lang.unwrap_or_default(),
            Err(error) => return tool_error(error.to_string()),
        };
        let engine = self.engine.clone();
        // Handing a memory-only lookup to the blocking pool would cost more than the lookup.
        let outcome = if engine.analyzes_in_memory(kind) {
            Ok(engine.analyze(kind, &input, lang))
        } else {
            tokio::task::spawn_blocking(move || engine.analyze(kind, &input, lang)).await
        };
        match outcome {
            Ok(Ok(report)) => report_result(&report),
            Ok(Err(AnalyzeError::Invalid(error))) => tool_error(error.message(lang)),
            Ok(Err(error)) => {
                tracing::error!(tool = kind.name(), %error, "analysis failed");
                tool_error(error.message(lang))
            }
            Err(error) => {
                tracing::error!(tool = kind.name(), %error, "analysis task failed");
                tool_error(format!(
                    "{}: {error}",
                    lang.pick("internal error", "内部错误")
                ))
            }
        }
    }
}

fn report_schema() -> Arc<rmcp::model::JsonObject> {
    output_schema::<Report>()
}

fn description_schema() -> Arc<rmcp::model::JsonObject> {
    output_schema::<ThreatDescription>()
}

/// Returns the JSON schema of a tool's output without the integer `format` values schemars
/// adds (`uint32`, `uint8`): JSON Schema does not define them and some validators warn about
/// them.
fn output_schema<T: JsonSchema + 'static>() -> Arc<rmcp::model::JsonObject> {
    let mut schema = Value::Object((*schema_for_output::<T>()).clone());
    strip_integer_formats(&mut schema);
    match schema {
        Value::Object(object) => Arc::new(object),
        _ => unreachable!("a JSON object stays an object"),
    }
}

pub(crate) fn strip_integer_formats(value: &mut Value) {
    match value {
        Value::Object(object) => {
            let integer_format = object
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|format| format.starts_with("uint") || format.starts_with("int"));
            if integer_format {
                object.remove("format");
            }
            object.values_mut().for_each(strip_integer_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_integer_formats),
        _ => {}
    }
}

/// Wraps the report as `structuredContent`, with the summary and next steps as text.
fn report_result(report: &Report) -> CallToolResult {
    let value = serde_json::to_value(report).expect("a report always serialises");
    let lang = report.lang;
    let mut text = format!(
        "{} [{} · {} {} {} · {} {:.2}]\n{}",
        report.indicator.value,
        report.verdict.localized(lang),
        lang.pick("level", "威胁等级"),
        report.threat_level.level,
        ThreatLevel::name_of(report.threat_level.level, lang),
        lang.pick("confidence", "置信度"),
        report.confidence,
        report.summary
    );
    for step in &report.recommendation {
        text.push_str("\n- ");
        text.push_str(step);
    }
    let mut result = CallToolResult::structured(value);
    result.content = vec![ContentBlock::text(text)];
    result
}

/// Most item lines in the text of a batch result; the structured content has every item.
const BATCH_TEXT_LINES: usize = 100;

/// Wraps a batch as `structuredContent`, with the totals and one line per malicious or
/// suspicious item and per error as text.
fn batch_result(batch: &BatchReport) -> CallToolResult {
    let value = serde_json::to_value(batch).expect("a batch result always serialises");
    let lang = batch.lang;
    let counts = &batch.verdicts;
    let mut text = format!(
        "{} {}: {} {}, {} {}, {} {}, {} {}, {} {}",
        batch.total,
        lang.pick("items", "个条目"),
        counts.malicious,
        Verdict::Malicious.localized(lang),
        counts.suspicious,
        Verdict::Suspicious.localized(lang),
        counts.benign,
        Verdict::Benign.localized(lang),
        counts.unknown,
        Verdict::Unknown.localized(lang),
        batch.errors,
        lang.pick("errors", "错误"),
    );

    let mut lines = batch.results.iter().filter_map(|result| {
        if let Some(error) = &result.error {
            return Some(format!(
                "[{}] {}: {}",
                result.index, result.input, error.message
            ));
        }
        let (verdict, level) = match result.report.as_ref()? {
            ItemReport::Full(report) => (report.verdict, report.threat_level.level),
            ItemReport::Compact(report) => (report.verdict, report.threat_level.level),
        };
        matches!(verdict, Verdict::Malicious | Verdict::Suspicious).then(|| {
            let verdict = verdict.localized(lang);
            format!("[{}] {}: {verdict} {level}", result.index, result.input)
        })
    });

    for line in lines.by_ref().take(BATCH_TEXT_LINES) {
        text.push_str("\n- ");
        text.push_str(&line);
    }
    let rest = lines.count();
    if rest > 0 {
        text.push_str(&format!("\n… {rest} {}", lang.pick("more", "条未列出")));
    }
    if let Some(note) = &batch.note {
        text.push('\n');
        text.push_str(note);
    }

    let mut result = CallToolResult::structured(value);
    result.content = vec![ContentBlock::text(text)];
    result
}

/// Wraps a vulnerability search as `structuredContent`, with the summary and one line per
/// result as text.
fn search_result(search: &tiq_model::VulnSearch) -> CallToolResult {
    let value = serde_json::to_value(search).expect("a search result always serialises");
    let mut text = search.summary.clone();
    for vuln in &search.results {
        let severity = vuln
            .cvss
            .as_ref()
            .map(|c| format!(" [{} {:.1}]", c.severity_label, c.score))
            .unwrap_or_default();
        text.push_str(&format!("\n- {}{severity}: {}", vuln.id, vuln.title));
    }
    if let Some(cursor) = &search.next_cursor {
        text.push_str(&format!("\nnext_cursor: {cursor}"));
    }
    let mut result = CallToolResult::structured(value);
    result.content = vec![ContentBlock::text(text)];
    result
}

/// Wraps a threat description as `structuredContent`, with the summary as text.
fn description_result(description: &ThreatDescription) -> CallToolResult {
    let value = serde_json::to_value(description).expect("a description always serialises");
    let mut text = description.summary.clone();
    if !description.description.is_empty() {
        text.push_str("\n\n");
        text.push_str(&description.description);
    }
    let mut result = CallToolResult::structured(value);
    result.content = vec![ContentBlock::text(text)];
    result
}

/// Maximum indicator lines in the text content of a scan result. The structured content
/// contains every listed indicator.
const SCAN_TEXT_LINES: usize = 20;

/// Wraps a scan report as `structuredContent`, with a text version: the summary, one line
/// per malicious, suspicious or benign indicator, the next steps and the note.
fn scan_result(report: &ScanReport) -> CallToolResult {
    let value = serde_json::to_value(report).expect("a scan report always serialises");
    let lang = report.lang;
    let mut text = report.summary.clone();
    let notable = report
        .indicators
        .iter()
        .filter(|item| {
            matches!(
                item.verdict,
                Some(Verdict::Malicious | Verdict::Suspicious | Verdict::Benign)
            )
        })
        .take(SCAN_TEXT_LINES);
    for item in notable {
        let verdict = item.verdict.map_or("", |v| v.localized(lang));
        let summary = item.report.as_ref().map_or("", |r| r.summary.as_str());
        text.push_str(&format!(
            "\n- {} [{}]: {verdict}. {summary}",
            item.value,
            item.kind.name()
        ));
    }
    for step in &report.recommendation {
        text.push_str("\n* ");
        text.push_str(step);
    }
    if let Some(note) = &report.note {
        text.push('\n');
        text.push_str(note);
    }
    let mut result = CallToolResult::structured(value);
    result.content = vec![ContentBlock::text(text)];
    result
}

/// Returns what a text costs against a key's rate and quota: one per indicator of it that
/// is looked up, and at least one.
fn text_cost(text: &str) -> u32 {
    let mut extractor = tiq_extract::Extractor::new(tiq_engine::scan::extract_options());
    extractor.feed(text.as_bytes());
    crate::rest::scan_cost(&extractor.finish())
}

/// Withholds the reports of batch items whose type the caller's key has no scope for.
fn withhold_batch(admission: &Admission, result: &mut CallToolResult) {
    let Some(caller) = admission.caller() else {
        return;
    };
    if caller.scopes() == tiq_access::ScopeSet::all() {
        return;
    }
    let Some(Ok(mut batch)) = result
        .structured_content
        .as_ref()
        .map(|value| serde_json::from_value::<BatchReport>(value.clone()))
    else {
        return;
    };
    let lang = batch.lang;
    crate::rest::withhold_unscoped(admission, &mut batch, lang);
    *result = batch_result(&batch);
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// Returns the argument an audit entry records as the call's query.
fn audit_query(tool: &str, arguments: Option<&rmcp::model::JsonObject>) -> Option<String> {
    let arguments = arguments?;
    if tool == "analyze_batch" {
        let count = arguments.get("items")?.as_array()?.len();
        return Some(format!("{count} items"));
    }
    if tool == "analyze_text" {
        let bytes = arguments.get("text")?.as_str()?.len();
        return Some(format!("{bytes} bytes"));
    }
    let field = match tool {
        "analyze_ip" => "ip",
        "analyze_domain" => "domain",
        "analyze_url" => "url",
        "analyze_file_hash" => "hash",
        "search_vul" => "query",
        "describe_threat" => "name",
        _ => return None,
    };
    arguments
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Returns the conclusion of a tool result, for the audit log.
fn audit_verdict(result: &CallToolResult) -> Option<String> {
    let value = result.structured_content.as_ref()?;
    if let Some(verdict) = value.get("verdict").and_then(Value::as_str) {
        return Some(verdict.to_string());
    }
    if value.get("totals").is_some() {
        let report = serde_json::from_value::<ScanReport>(value.clone()).ok()?;
        return Some(report.audit_verdict());
    }
    if let Some(counts) = value.get("verdicts") {
        let counts = serde_json::from_value::<VerdictCounts>(counts.clone()).ok()?;
        let errors = value.get("errors").and_then(Value::as_u64).unwrap_or(0);
        return Some(crate::rest::batch_verdicts(&counts, errors as usize));
    }
    value
        .get("total")
        .and_then(Value::as_u64)
        .map(|total| format!("{total} results"))
}

/// Builds the tool error of a call that access control rejected, with the rejection's fields as
/// structured content (`error`, `message`, and `limit` and `retry_after_seconds` for limits).
fn denied_result(denial: &Denial, lang: Lang) -> CallToolResult {
    let body = crate::auth::denial_body(denial, lang);
    let mut result = CallToolResult::error(vec![ContentBlock::text(denial.message(lang))]);
    result.structured_content = Some(body);
    result
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for TiqTools {
    /// Admits the call against the caller's scopes and limits, runs the tool, and audits it.
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, ErrorData> {
        let admission = context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Admission>().cloned())
            .unwrap_or_else(|| Admission::open(self.access.clone(), Surface::Stdio));
        let started = Instant::now();
        let tool = request.name.to_string();
        let lang = request
            .arguments
            .as_ref()
            .and_then(|arguments| arguments.get("lang"))
            .and_then(Value::as_str)
            .and_then(|tag| tag.parse::<Lang>().ok())
            .unwrap_or_default();
        let mut note = AuditNote::new(&tool, audit_query(&tool, request.arguments.as_ref()));
        if let Some(scope) = Scope::of_tool(&tool) {
            let cost = match tool.as_str() {
                "analyze_batch" => request
                    .arguments
                    .as_ref()
                    .and_then(|arguments| arguments.get("items"))
                    .and_then(Value::as_array)
                    .map_or(1, |items| {
                        u32::try_from(items.len()).unwrap_or(u32::MAX).max(1)
                    }),
                _ => 1,
            };
            if let Err(denial) = admission.admit(scope, cost) {
                admission.record(&note, denial.status(), started);
                return Ok(rmcp::model::CallToolResponse::Complete(denied_result(
                    &denial, lang,
                )));
            }
            // A text costs one request per indicator it looks up. The first was admitted
            // above with the scope, so a key without it costs no extraction.
            if tool == "analyze_text" {
                let text = request
                    .arguments
                    .as_ref()
                    .and_then(|arguments| arguments.get("text"))
                    .and_then(Value::as_str)
                    .filter(|text| text.len() <= self.max_text_bytes)
                    .map(str::to_string);
                let cost = match text {
                    Some(text) => tokio::task::spawn_blocking(move || text_cost(&text))
                        .await
                        .unwrap_or(1),
                    None => 1,
                };
                if cost > 1
                    && let Err(denial) = admission.admit(scope, cost - 1)
                {
                    admission.record(&note, denial.status(), started);
                    return Ok(rmcp::model::CallToolResponse::Complete(denied_result(
                        &denial, lang,
                    )));
                }
            }
        }
        let context = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
        let outcome = self.tool_router.call(context).await;
        match outcome {
            Ok(rmcp::model::CallToolResponse::Complete(mut result)) => {
                if tool == "analyze_batch" {
                    withhold_batch(&admission, &mut result);
                }
                note.verdict = audit_verdict(&result);
                let status = if result.is_error == Some(true) {
                    400
                } else {
                    200
                };
                admission.record(&note, status, started);
                Ok(rmcp::model::CallToolResponse::Complete(result))
            }
            Ok(other) => {
                admission.record(&note, 200, started);
                Ok(other)
            }
            Err(error) => {
                admission.record(&note, 400, started);
                Err(error)
            }
        }
    }

    fn get_info(&self) -> ServerConfig {
        let mut implementation = Implementation::new("tiq", env!("CARGO_PKG_VERSION"));
        implementation.title = Some("tiq threat intelligence".to_string());
        let capabilities = ServerCapabilities::builder()
            .enable_completions()
            .enable_prompts()
            .enable_resources()
            .enable_tools()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(implementation)
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(resources::list())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let result =
            resources::read(self.engine.clone(), self.settings.clone(), &request.uri).await?;
        Ok(result.into())
    }

    /// Completes feed names in `tiq://feeds/{name}` and the `lang` argument of every prompt.
    async fn complete(
        &self,
        request: CompleteRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let typed = request.argument.value.as_str();
        let values = match (&request.r#ref, request.argument.name.as_str()) {
            (Reference::Resource(template), "name") if template.uri == resources::FEED_TEMPLATE => {
                resources::complete_feed_name(&self.settings, typed)
            }
            (Reference::Prompt(_), "lang") => ["en", "zh-CN"]
                .into_iter()
                .filter(|tag| {
                    tag.to_ascii_lowercase()
                        .starts_with(&typed.to_ascii_lowercase())
                })
                .map(String::from)
                .collect(),
            _ => Vec::new(),
        };
        let total = values.len();
        let values: Vec<String> = values
            .into_iter()
            .take(CompletionInfo::MAX_VALUES)
            .collect();
        let mut completion =
            CompletionInfo::new(values).map_err(|error| ErrorData::internal_error(error, None))?;
        completion.total = u32::try_from(total).ok();
        completion.has_more = Some(total > CompletionInfo::MAX_VALUES);
        Ok(CompleteResult::new(completion))
    }
}
