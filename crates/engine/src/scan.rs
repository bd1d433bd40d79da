//! Text and log scans. Every indicator `tiq-extract` finds is analysed like a single lookup,
//! the behaviour the log shows becomes evidence in its report, and the results are ranked
//! malicious first.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::net::IpAddr;

use tiq_extract::{Activity, Behaviour, BehaviourKind, Extraction, Found, Kind};
use tiq_model::batch::CompactReport;
use tiq_model::scan::{ScanItem, ScanReport, ScanTotals};
use tiq_model::{
    ClaimKind, Evidence, Indicator, IndicatorKind, Lang, Report, Tag, ThreatLevel, ThreatType,
    Verdict,
};

use crate::{Engine, address_scope};

/// Limits of a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanLimits {
    /// Maximum indicators analysed, in the order they first appear. Further ones are listed
    /// without a verdict.
    pub max_analyzed: usize,
    /// Maximum indicators listed in the report. The totals count them all.
    pub max_listed: usize,
}

impl Default for ScanLimits {
    fn default() -> Self {
        ScanLimits {
            max_analyzed: 10_000,
            max_listed: usize::MAX,
        }
    }
}

/// Returns the kind of lookup an extracted kind gets, or `None` for kinds that are only
/// listed.
pub fn lookup_kind(kind: Kind) -> Option<IndicatorKind> {
    match kind {
        Kind::Ipv4 | Kind::Ipv6 => Some(IndicatorKind::Ip),
        Kind::Domain => Some(IndicatorKind::Domain),
        Kind::Url => Some(IndicatorKind::Url),
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 => Some(IndicatorKind::Hash),
        Kind::Cidr | Kind::Email | Kind::Sha512 | Kind::Cve => None,
    }
}

impl Engine {
    /// Extracts the indicators of `text` and scans them.
    pub fn scan_text(&self, text: &str, limits: ScanLimits, lang: Lang) -> ScanReport {
        let mut extractor = tiq_extract::Extractor::new(extract_options());
        extractor.feed(text.as_bytes());
        self.scan(extractor.finish(), limits, lang)
    }

    /// Analyses what an extraction found and ranks it. A lookup that fails is noted on its
    /// item, and the scan goes on.
    pub fn scan(&self, extraction: Extraction, limits: ScanLimits, lang: Lang) -> ScanReport {
        let mut analyzed = 0usize;
        let mut skipped = 0u64;
        let mut items: Vec<ScanItem> = Vec::with_capacity(extraction.indicators.len());
        for found in extraction.indicators {
            let lookup = lookup_kind(found.kind);
            let item = match lookup {
                Some(kind) if analyzed < limits.max_analyzed => {
                    analyzed += 1;
                    self.scan_item(found, kind, lang)
                }
                Some(_) => {
                    skipped += 1;
                    let max = limits.max_analyzed;
                    let note = match lang {
                        Lang::En => format!(
                            "not analysed: the scan reached its analysis limit of {max} indicators"
                        ),
                        Lang::ZhCn => format!("未分析：本次扫描已达到 {max} 个指标的分析上限"),
                    };
                    unanalysed(found, note)
                }
                None => {
                    let note = not_analysed_note(found.kind, &found.value, lang);
                    unanalysed(found, note)
                }
            };
            items.push(item);
        }

        items.sort_by(rank);
        let mut totals = ScanTotals::default();
        for item in &items {
            totals.add(item.verdict);
        }
        let summary = summary(&totals, &items, extraction.lines, lang);
        let recommendation = recommendation(&items, lang);

        // The list is cut only after the totals, summary and next steps count every item.
        let mut left_out = BTreeMap::new();
        let mut note = None;
        if items.len() > limits.max_listed {
            let cut = items.len() - limits.max_listed;
            items.truncate(limits.max_listed);
            left_out.insert("indicators".to_string(), cut as u64);
            note = Some(match lang {
                Lang::En => format!(
                    "{cut} lower-ranked indicators are left out of the list, but the totals count them. Raise limit to see more."
                ),
                Lang::ZhCn => format!(
                    "另有 {cut} 个排名靠后的指标未列出，总数已计入；提高 limit 可查看更多。"
                ),
            });
        }
        if skipped > 0 {
            left_out.insert("analysis".to_string(), skipped);
        }
        if extraction.dropped > 0 {
            left_out.insert("distinct_indicator_cap".to_string(), extraction.dropped);
        }

        ScanReport {
            summary,
            recommendation,
            totals,
            lines: extraction.lines,
            bytes: extraction.bytes,
            formats: extraction
                .formats
                .into_iter()
                .map(|(format, lines)| (format.name().to_string(), lines))
                .collect(),
            indicators: items,
            left_out,
            note,
            lang,
        }
    }

    /// Analyses one indicator as `kind` and adds the behaviour the log shows to its report.
    fn scan_item(&self, found: Found, kind: IndicatorKind, lang: Lang) -> ScanItem {
        let indicator = match Indicator::parse_as(kind, &found.value) {
            Ok(indicator) => indicator,
            Err(error) => {
                let note = error.message(lang);
                return unanalysed(found, note);
            }
        };
        let mut report = match self.analyze_indicator(&found.value, &indicator, lang) {
            Ok(report) => report,
            Err(error) => {
                tracing::error!(indicator = %found.value, %error, "scan item analysis failed");
                let note = error.message(lang);
                return unanalysed(found, note);
            }
        };
        if let Some(activity) = &found.activity {
            add_log_evidence(&mut report, activity, lang);
        }
        let block = blockable(&report, &indicator);
        ScanItem {
            kind: found.kind,
            value: found.value,
            count: found.count,
            first_line: found.first_line,
            first_seen: found.first_seen,
            last_seen: found.last_seen,
            verdict: Some(report.verdict),
            block,
            report: Some(Box::new(CompactReport::from_report(&report))),
            activity: found.activity,
            note: None,
        }
    }
}

/// Returns the extraction options of a scan: the defaults, with the current UTC year for
/// BSD syslog times.
pub fn extract_options() -> tiq_extract::Options {
    tiq_extract::Options {
        year: time::OffsetDateTime::now_utc().year(),
        ..tiq_extract::Options::default()
    }
}

/// Lists `found` without a verdict, with `note` saying why.
fn unanalysed(found: Found, note: String) -> ScanItem {
    ScanItem {
        kind: found.kind,
        value: found.value,
        count: found.count,
        first_line: found.first_line,
        first_seen: found.first_seen,
        last_seen: found.last_seen,
        verdict: None,
        block: false,
        report: None,
        activity: found.activity,
        note: Some(note),
    }
}

/// Returns why an indicator of a kind that has no lookup is only listed.
fn not_analysed_note(kind: Kind, value: &str, lang: Lang) -> String {
    match (kind, lang) {
        (Kind::Cidr, Lang::En) => "a network range: listed, not looked up".to_string(),
        (Kind::Cidr, Lang::ZhCn) => "网段：仅列出，不查询".to_string(),
        (Kind::Email, Lang::En) => {
            "an e-mail address: its domain is analysed as its own item".to_string()
        }
        (Kind::Email, Lang::ZhCn) => "电子邮件地址：其域名作为单独条目分析".to_string(),
        (Kind::Sha512, Lang::En) => {
            "a SHA-512 digest: no imported feed lists SHA-512 digests, so it cannot be matched"
                .to_string()
        }
        (Kind::Sha512, Lang::ZhCn) => {
            "SHA-512 摘要：导入的情报源均不含 SHA-512，无法匹配".to_string()
        }
        (_, Lang::En) => format!("a CVE id: look it up with search_vul or `tiq vul {value}`"),
        (_, Lang::ZhCn) => format!("CVE 编号：请用 search_vul 或 `tiq vul {value}` 查询"),
    }
}

/// Returns whether the indicator is safe to put in a block list: a malicious public address
/// or a malicious domain, on no benign list.
fn blockable(report: &Report, indicator: &Indicator) -> bool {
    if report.verdict != Verdict::Malicious || !report.benign_matches.is_empty() {
        return false;
    }
    match indicator {
        Indicator::Ip(ip) => !address_scope(*ip).is_internal(),
        Indicator::Domain(_) => true,
        _ => false,
    }
}

/// Returns the position of a verdict in the ranking, malicious first and not analysed last.
fn verdict_rank(verdict: Option<Verdict>) -> u8 {
    match verdict {
        Some(Verdict::Malicious) => 0,
        Some(Verdict::Suspicious) => 1,
        Some(Verdict::Unknown) => 2,
        Some(Verdict::Benign) => 3,
        None => 4,
    }
}

/// Orders scan items by verdict (malicious first), then by threat level, confidence,
/// number of flagged behaviours, occurrences and first line.
fn rank(a: &ScanItem, b: &ScanItem) -> Ordering {
    let level = |item: &ScanItem| item.report.as_ref().map_or(0, |r| r.threat_level.level);
    let confidence = |item: &ScanItem| item.report.as_ref().map_or(0.0, |r| r.confidence);
    let flagged = |item: &ScanItem| {
        item.activity
            .as_ref()
            .map_or(0, |activity| activity.behaviours.len())
    };
    verdict_rank(a.verdict)
        .cmp(&verdict_rank(b.verdict))
        .then_with(|| level(b).cmp(&level(a)))
        .then_with(|| confidence(b).total_cmp(&confidence(a)))
        .then_with(|| flagged(b).cmp(&flagged(a)))
        .then_with(|| b.count.cmp(&a.count))
        .then_with(|| a.first_line.cmp(&b.first_line))
}

/// Formats a length of time for a sentence, such as "10 minutes" or "45 seconds".
fn span(seconds: u64, lang: Lang) -> String {
    let minutes = seconds / 60;
    let whole_minutes = seconds.is_multiple_of(60) && seconds >= 60;
    match (whole_minutes, lang) {
        (true, Lang::En) if minutes == 1 => "1 minute".to_string(),
        (true, Lang::En) => format!("{minutes} minutes"),
        (true, Lang::ZhCn) => format!("{minutes} 分钟"),
        (false, Lang::En) if seconds == 1 => "1 second".to_string(),
        (false, Lang::En) => format!("{seconds} seconds"),
        (false, Lang::ZhCn) => format!("{seconds} 秒"),
    }
}

/// Describes `behaviour` in one sentence, without a final full stop.
pub fn behaviour_sentence(behaviour: &Behaviour, lang: Lang) -> String {
    let events = behaviour.events;
    let within = behaviour.window_seconds.map(|s| span(s, lang));
    let when = match (&behaviour.from, &behaviour.to, lang) {
        (Some(from), Some(to), Lang::En) => format!(" ({from} to {to})"),
        (Some(from), Some(to), Lang::ZhCn) => format!("（{from} 至 {to}）"),
        _ => String::new(),
    };
    match (behaviour.kind, lang) {
        (BehaviourKind::FailedLogins, Lang::En) => match within {
            Some(within) => format!("{events} failed logins within {within}{when}"),
            None => format!("{events} failed logins"),
        },
        (BehaviourKind::FailedLogins, Lang::ZhCn) => match within {
            Some(within) => format!("{within}内登录失败 {events} 次{when}"),
            None => format!("登录失败 {events} 次"),
        },
        (BehaviourKind::LoginAfterFailures, Lang::En) => {
            format!("{events} successful login(s) after the failed ones")
        }
        (BehaviourKind::LoginAfterFailures, Lang::ZhCn) => {
            format!("多次失败后登录成功 {events} 次")
        }
        (BehaviourKind::LoginPosts, Lang::En) => match within {
            Some(within) => format!("{events} POSTs to login pages within {within}{when}"),
            None => format!("{events} POSTs to login pages"),
        },
        (BehaviourKind::LoginPosts, Lang::ZhCn) => match within {
            Some(within) => format!("{within}内向登录页面 POST {events} 次{when}"),
            None => format!("向登录页面 POST {events} 次"),
        },
        (BehaviourKind::NotFoundBurst, Lang::En) => match within {
            Some(within) => {
                format!(
                    "{events} requests for missing pages within {within}{when}, typical of scanners"
                )
            }
            None => format!("{events} requests for missing pages, typical of scanners"),
        },
        (BehaviourKind::NotFoundBurst, Lang::ZhCn) => match within {
            Some(within) => format!("{within}内请求不存在的页面 {events} 次{when}，符合扫描特征"),
            None => format!("请求不存在的页面 {events} 次，符合扫描特征"),
        },
        (BehaviourKind::WafAlerts, Lang::En) if behaviour.rules.is_empty() => {
            format!("{events} WAF alerts")
        }
        (BehaviourKind::WafAlerts, Lang::En) => {
            format!(
                "{events} WAF alerts (rules: {})",
                behaviour.rules.join("; ")
            )
        }
        (BehaviourKind::WafAlerts, Lang::ZhCn) if behaviour.rules.is_empty() => {
            format!("WAF 告警 {events} 次")
        }
        (BehaviourKind::WafAlerts, Lang::ZhCn) => {
            format!(
                "WAF 告警 {events} 次（规则：{}）",
                behaviour.rules.join("；")
            )
        }
    }
}

/// Returns the threat type that a behaviour is evidence of.
fn behaviour_threat(kind: BehaviourKind) -> ThreatType {
    match kind {
        BehaviourKind::FailedLogins
        | BehaviourKind::LoginAfterFailures
        | BehaviourKind::LoginPosts => ThreatType::BruteForce,
        BehaviourKind::NotFoundBurst => ThreatType::Scanner,
        BehaviourKind::WafAlerts => ThreatType::Exploit,
    }
}

/// Adds the behaviour the log shows to the report as `log` evidence and tags. A report with
/// an unknown verdict becomes suspicious, because the log itself is evidence: threat level 4
/// (high) with a login after failed ones, 3 (medium) otherwise. Any other verdict stays, and
/// the summary gains the sentences.
pub fn add_log_evidence(report: &mut Report, activity: &Activity, lang: Lang) {
    if activity.behaviours.is_empty() {
        return;
    }
    let sentences: Vec<String> = activity
        .behaviours
        .iter()
        .map(|b| behaviour_sentence(b, lang))
        .collect();

    for (behaviour, sentence) in activity.behaviours.iter().zip(&sentences) {
        report.evidence.push(Evidence {
            source: "log".to_string(),
            claim: ClaimKind::Suspicious,
            threat_type: Some(behaviour_threat(behaviour.kind)),
            matched: report.indicator.value.clone(),
            labels: vec![behaviour.kind.name().to_string()],
            family: None,
            first_seen: behaviour.from.clone(),
            last_seen: behaviour.to.clone(),
            weight: 0.0,
            reference: None,
            note: Some(sentence.clone()),
        });
        let threat_type = behaviour_threat(behaviour.kind);
        if !report.tags.iter().any(|t| t.threat_type == threat_type) {
            report.tags.push(Tag {
                threat_type,
                labels: vec!["log".to_string()],
            });
        }
    }

    let shown = sentences.join(lang.pick("; ", "；"));
    let value = report.indicator.value.clone();
    if report.verdict == Verdict::Unknown {
        let after_failures = activity
            .behaviours
            .iter()
            .any(|b| b.kind == BehaviourKind::LoginAfterFailures);
        report.verdict = Verdict::Suspicious;
        report.threat_level = ThreatLevel::new(if after_failures { 4 } else { 3 });
        report.confidence = 0.6;
        report.summary = match lang {
            Lang::En => format!(
                "{value} is suspicious from this log alone: {shown}. No imported source lists it."
            ),
            Lang::ZhCn => {
                format!("仅依据本日志，{value} 可疑：{shown}。导入的情报源中没有它的记录。")
            }
        };
        report.recommendation.insert(
            0,
            match (after_failures, lang) {
                (true, Lang::En) => format!(
                    "Treat the account that logged in from {value} as compromised: reset its credentials and review its sessions"
                ),
                (true, Lang::ZhCn) => format!("将从 {value} 登录成功的账号视为已失陷：重置凭据并审查其会话"),
                (false, Lang::En) => format!(
                    "Rate-limit or block {value} at the edge, and check whether any attempt succeeded"
                ),
                (false, Lang::ZhCn) => format!("在边界对 {value} 限速或封禁，并检查是否有尝试成功"),
            },
        );
    } else {
        report.summary.push_str(&match lang {
            Lang::En => format!(" This log shows {shown}."),
            Lang::ZhCn => format!("本日志显示：{shown}。"),
        });
    }
}

/// Writes the summary of a scan: the totals, then the three most severe indicators.
fn summary(totals: &ScanTotals, items: &[ScanItem], lines: u64, lang: Lang) -> String {
    let mut text = match lang {
        Lang::En => format!(
            "Read {lines} {} and found {} distinct indicators: {} malicious, {} suspicious, {} unknown, {} benign, {} not analysed.",
            if lines == 1 { "line" } else { "lines" },
            totals.indicators,
            totals.malicious,
            totals.suspicious,
            totals.unknown,
            totals.benign,
            totals.not_analyzed
        ),
        Lang::ZhCn => format!(
            "共读取 {lines} 行，发现 {} 个不同指标：恶意 {}，可疑 {}，未知 {}，良性 {}，未分析 {}。",
            totals.indicators,
            totals.malicious,
            totals.suspicious,
            totals.unknown,
            totals.benign,
            totals.not_analyzed
        ),
    };

    let worst: Vec<&ScanItem> = items
        .iter()
        .filter(|i| matches!(i.verdict, Some(Verdict::Malicious | Verdict::Suspicious)))
        .take(3)
        .collect();
    if worst.is_empty() {
        text.push_str(lang.pick(
            " None of them is malicious or suspicious, by the local sources or by what the log shows. Unknown never means safe.",
            "根据本地情报源和日志行为，其中没有恶意或可疑指标；未知并不代表安全。",
        ));
        return text;
    }

    text.push_str(lang.pick(" Most severe: ", "最严重的："));
    let parts: Vec<String> = worst
        .iter()
        .map(|item| {
            let report = item.report.as_ref();
            let verdict = item.verdict.map_or("", |v| v.localized(lang));
            let level = report.map_or("", |r| ThreatLevel::name_of(r.threat_level.level, lang));
            match lang {
                Lang::En => format!("{} ({verdict}, {level})", item.value),
                Lang::ZhCn => format!("{}（{verdict}，{level}）", item.value),
            }
        })
        .collect();
    text.push_str(&parts.join(lang.pick(", ", "，")));
    text.push_str(lang.pick(".", "。"));
    text
}

/// Writes the next steps of a scan: blocking, review of suspicious indicators, and checks
/// of internal hosts with flagged behaviour.
fn recommendation(items: &[ScanItem], lang: Lang) -> Vec<String> {
    let block = items.iter().filter(|i| i.block).count();
    let suspicious = items
        .iter()
        .filter(|i| i.verdict == Some(Verdict::Suspicious))
        .count();
    let internal_flagged = items
        .iter()
        .filter(|i| {
            i.activity
                .as_ref()
                .is_some_and(|a| !a.behaviours.is_empty())
                && i.value
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| address_scope(ip).is_internal())
        })
        .count();

    let mut steps = Vec::new();
    if block > 0 {
        steps.push(match lang {
            Lang::En => format!(
                "Block the {block} malicious public addresses and domains: `tiq scan FILE --export nftables` (or iptables, ipset, nginx, csv) writes the rules"
            ),
            Lang::ZhCn => format!(
                "封禁 {block} 个恶意公网地址和域名：`tiq scan 文件 --export nftables`（或 iptables、ipset、nginx、csv）可生成规则"
            ),
        });
        steps.push(
            lang.pick(
                "Search the rest of your logs for the malicious indicators to find every host that talked to them",
                "在其余日志中检索这些恶意指标，找出与其通信过的所有主机",
            )
            .to_string(),
        );
    }
    if suspicious > 0 {
        steps.push(match lang {
            Lang::En => format!(
                "Review the {suspicious} suspicious indicators with analyze_ip, analyze_domain or analyze_url before blocking them"
            ),
            Lang::ZhCn => format!("封禁前先用 analyze_ip、analyze_domain 或 analyze_url 复核 {suspicious} 个可疑指标"),
        });
    }
    if internal_flagged > 0 {
        steps.push(match lang {
            Lang::En => format!(
                "{internal_flagged} internal addresses show flagged behaviour: check those hosts for compromise rather than blocking them"
            ),
            Lang::ZhCn => format!("{internal_flagged} 个内网地址出现可疑行为：应排查这些主机是否失陷，而不是封禁"),
        });
    }
    if steps.is_empty() {
        steps.push(
            lang.pick(
                "Nothing here calls for blocking. Keep the log, because new feed data may change the verdicts",
                "目前无需封禁；请保留该日志，情报更新后结论可能变化",
            )
            .to_string(),
        );
    }
    steps
}
