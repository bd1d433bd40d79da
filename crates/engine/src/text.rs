//! Summaries and recommendations in English and Simplified Chinese.
//!
//! Each sentence is built from the report's own fields, so the text never claims more than
//! the evidence does.

use tiq_model::{
    AllowCategory, ClaimKind, IndicatorKind, Lang, Report, ThreatLevel, ThreatType, Verdict,
};

use std::fmt::Write;

use crate::scope::AddressScope;
use crate::score::Outcome;

/// Most sources named in a summary before "and N more".
const NAMED_SOURCES: usize = 3;

/// One short paragraph stating the verdict and the main reason for it.
pub fn summary(
    report: &Report,
    scope: Option<AddressScope>,
    outcome: &Outcome,
    lang: Lang,
) -> String {
    let value = &report.indicator.value;
    if let Some(scope) = scope.filter(|s| s.is_internal()) {
        let subject = match (report.indicator.kind, lang) {
            (IndicatorKind::Url, Lang::En) => format!("The host of {value}"),
            (IndicatorKind::Url, Lang::ZhCn) => format!("{value} 的主机"),
            _ => value.clone(),
        };
        return internal_summary(&subject, scope, lang);
    }
    let level = ThreatLevel::name_of(report.threat_level.level, lang);
    let confidence = report.confidence;
    match report.verdict {
        Verdict::Malicious | Verdict::Suspicious => {
            let verdict = report.verdict.localized(lang);
            let threat = main_threat(report, lang);
            let sources = listing_sources(report, lang);
            let families = families_clause(report, lang);
            match lang {
                Lang::En => format!(
                    "{value} is {verdict} ({level}, confidence {confidence:.2}): {sources} for {threat}.{families}{}",
                    shared_clause(report, lang)
                ),
                Lang::ZhCn => format!(
                    "{value} 判定为{verdict}（{level}，置信度 {confidence:.2}）：{sources} 将其列为{threat}。{families}{}",
                    shared_clause(report, lang)
                ),
            }
        }
        Verdict::Benign => {
            let lists = benign_lists(report, lang);
            let outweighed = if outcome.outweighed {
                lang.pick(
                    " A weaker listing by a threat feed was outweighed; see the evidence.",
                    "威胁情报源中较弱的恶意记录已被白名单抵消，详见证据。",
                )
            } else {
                ""
            };
            match lang {
                Lang::En => format!(
                    "{value} is benign (confidence {confidence:.2}): it is on the known-benign list {lists}.{outweighed}"
                ),
                Lang::ZhCn => format!(
                    "{value} 判定为良性（置信度 {confidence:.2}）：它在已知良性名单 {lists} 中。{outweighed}"
                ),
            }
        }
        Verdict::Unknown => {
            let sources = report_sources_total(report);
            let weak = weak_guard_clause(report, lang);
            let hosted = hosted_clause(report, lang);
            match lang {
                Lang::En => format!(
                    "No source in the local store lists {value}{sources}. Unknown does not mean safe: \
                     judge it by the context it appeared in.{weak}{hosted}"
                ),
                Lang::ZhCn => format!(
                    "本地情报库中没有任何来源收录 {value}{sources}。未知不等于安全，请结合其出现的上下文判断。{weak}{hosted}"
                ),
            }
        }
    }
}

/// Says how many listed malicious URLs an unlisted host serves, which the verdict of the
/// host itself does not count.
fn hosted_clause(report: &Report, lang: Lang) -> String {
    let shown = report
        .related
        .iter()
        .filter(|r| r.relation == "hosted_on" && r.verdict == Some(Verdict::Malicious))
        .count() as u64;
    if shown == 0 {
        return String::new();
    }
    let more = report.left_out.get("related").copied().unwrap_or(0);
    let (count, at_least) = (shown + more, more > 0);
    match (lang, at_least) {
        (Lang::En, false) => {
            format!(" It hosts {count} URL(s) that sources list as malicious; see related.")
        }
        (Lang::En, true) => format!(
            " It hosts up to {count} URLs that sources list, {shown} of those shown as malicious; see related."
        ),
        (Lang::ZhCn, false) => format!("它托管了 {count} 个被情报源列为恶意的网址，详见关联指标。"),
        (Lang::ZhCn, true) => format!(
            "它托管了最多 {count} 个被情报源收录的网址，其中已列出的 {shown} 个为恶意，详见关联指标。"
        ),
    }
}

fn internal_summary(value: &str, scope: AddressScope, lang: Lang) -> String {
    let standard = scope
        .standard()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    match lang {
        Lang::En => format!(
            "{value} is {}{standard}: public threat intelligence does not apply to it, \
             and it was not looked up anywhere.",
            scope_phrase_en(scope)
        ),
        Lang::ZhCn => format!(
            "{value} 是{}地址{standard}：公开威胁情报不适用于该地址，也未向任何地方查询。",
            scope_name_zh(scope)
        ),
    }
}

fn scope_phrase_en(scope: AddressScope) -> &'static str {
    match scope {
        AddressScope::Private => "a private address",
        AddressScope::SharedNat => "a carrier-grade NAT (shared) address",
        AddressScope::Loopback => "a loopback address",
        AddressScope::LinkLocal => "a link-local address",
        AddressScope::Multicast => "a multicast address",
        AddressScope::Unspecified => "the unspecified address",
        AddressScope::Broadcast => "the broadcast address",
        AddressScope::Documentation => "a documentation address",
        AddressScope::Benchmarking => "a benchmarking address",
        AddressScope::Reserved => "a reserved address",
        AddressScope::Public => "a public address",
    }
}

/// Next step for an address that public intelligence does not cover.
fn internal_step(scope: AddressScope, lang: Lang) -> &'static str {
    match scope {
        AddressScope::Loopback => lang.pick(
            "The traffic never left the machine: look at the local process that used this address.",
            "该流量没有离开本机：请检查使用该地址的本地进程。",
        ),
        AddressScope::Unspecified | AddressScope::Broadcast | AddressScope::Multicast => lang.pick(
            "This is not a single peer: check which device or log source produced the record.",
            "这不是单个通信对端：请检查是哪台设备或哪个日志源产生了这条记录。",
        ),
        _ => lang.pick(
            "Find the host behind the address in your asset inventory, DHCP and EDR records, and investigate it inside your network.",
            "在资产清单、DHCP 和 EDR 记录中找到该地址对应的主机，并在内部网络中排查。",
        ),
    }
}

fn scope_name_zh(scope: AddressScope) -> &'static str {
    match scope {
        AddressScope::Private => "私有",
        AddressScope::SharedNat => "运营商级 NAT 共享",
        AddressScope::Loopback => "环回",
        AddressScope::LinkLocal => "链路本地",
        AddressScope::Multicast => "组播",
        AddressScope::Unspecified => "未指定",
        AddressScope::Broadcast => "广播",
        AddressScope::Documentation => "文档示例",
        AddressScope::Benchmarking => "基准测试",
        AddressScope::Reserved => "保留",
        AddressScope::Public => "公网",
    }
}

fn main_threat(report: &Report, lang: Lang) -> String {
    let names: Vec<&str> = report
        .tags
        .iter()
        .take(2)
        .map(|tag| match lang {
            Lang::En => tag.threat_type.name_en(),
            Lang::ZhCn => tag.threat_type.name_zh(),
        })
        .collect();
    if names.is_empty() {
        return lang.pick("suspicious activity", "可疑活动").to_string();
    }
    names.join(lang.pick(" and ", "和"))
}

fn listing_sources(report: &Report, lang: Lang) -> String {
    let mut names: Vec<&str> = Vec::new();
    for evidence in &report.evidence {
        let listing = matches!(
            evidence.claim,
            ClaimKind::Malicious | ClaimKind::Suspicious | ClaimKind::Context
        );
        if listing && !names.contains(&evidence.source.as_str()) {
            names.push(&evidence.source);
        }
    }
    let named = names
        .iter()
        .take(NAMED_SOURCES)
        .copied()
        .collect::<Vec<_>>();
    let rest = names.len().saturating_sub(NAMED_SOURCES);
    match lang {
        Lang::En if rest > 0 => format!("{} and {rest} more sources list it", named.join(", ")),
        Lang::En if names.len() == 1 => format!("{} lists it", named.join(", ")),
        Lang::En => format!("{} list it", named.join(", ")),
        Lang::ZhCn if rest > 0 => format!("{} 等 {} 个来源", named.join("、"), names.len()),
        Lang::ZhCn => named.join("、"),
    }
}

fn families_clause(report: &Report, lang: Lang) -> String {
    let mut parts = Vec::new();
    if !report.families.is_empty() {
        let names = report
            .families
            .iter()
            .take(5)
            .map(|f| f.name.clone())
            .collect::<Vec<_>>();
        parts.push(match lang {
            Lang::En => format!(" Families: {}.", names.join(", ")),
            Lang::ZhCn => format!("关联家族：{}。", names.join("、")),
        });
    }
    if !report.actors.is_empty() {
        let names = report
            .actors
            .iter()
            .take(5)
            .map(|a| a.name.clone())
            .collect::<Vec<_>>();
        parts.push(match lang {
            Lang::En => format!(" Actors: {}.", names.join(", ")),
            Lang::ZhCn => format!("关联组织：{}。", names.join("、")),
        });
    }
    parts.concat()
}

fn shared_clause(report: &Report, lang: Lang) -> &'static str {
    let shared = report
        .profile
        .flags
        .iter()
        .any(|f| f == "cloud" || f == "cdn" || f == "shared_namespace");
    if !shared {
        return "";
    }
    lang.pick(
        " It sits on shared cloud, CDN or hosting space, so other tenants may be affected by a block.",
        "该地址位于共享的云、CDN 或托管网段，封禁可能影响其他租户。",
    )
}

/// Names the known-benign lists that carry weight for this indicator, with their category.
fn benign_lists(report: &Report, lang: Lang) -> String {
    let mut names: Vec<(&str, &str)> = Vec::new();
    for evidence in report
        .evidence
        .iter()
        .filter(|e| e.claim == ClaimKind::Benign && e.weight > 0.0)
    {
        let list = evidence
            .source
            .strip_prefix("misp-warninglist/")
            .unwrap_or(&evidence.source);
        let category = evidence
            .labels
            .first()
            .and_then(|name| AllowCategory::from_name(name))
            .map(|category| category_name(category, lang))
            .unwrap_or_default();
        if !names.contains(&(list, category)) {
            names.push((list, category));
        }
    }
    let mut text = String::new();
    for (position, (list, category)) in names.into_iter().take(NAMED_SOURCES).enumerate() {
        if position > 0 {
            text.push_str(lang.pick(", ", "、"));
        }
        let written = match lang {
            Lang::En => write!(text, "{list} ({category})"),
            Lang::ZhCn => write!(text, "{list}（{category}）"),
        };
        written.expect("writing to a String cannot fail");
    }
    text
}

/// Human name of a known-benign list category.
pub fn category_name(category: AllowCategory, lang: Lang) -> &'static str {
    match category {
        AllowCategory::PublicResolver => lang.pick("public resolver", "公共 DNS 解析器"),
        AllowCategory::Cdn => lang.pick("CDN", "CDN"),
        AllowCategory::Cloud => lang.pick("cloud or hosting range", "云或托管网段"),
        AllowCategory::Crawler => lang.pick("search-engine crawler", "搜索引擎爬虫"),
        AllowCategory::ResearchScanner => lang.pick("research scanner", "研究机构扫描器"),
        AllowCategory::TopSite => lang.pick("top site", "热门网站"),
        AllowCategory::KnownFile => lang.pick("known harmless file", "已知无害文件"),
        AllowCategory::Reserved => lang.pick("reserved range", "保留地址段"),
        AllowCategory::Sinkhole => lang.pick("sinkhole", "sinkhole 接管服务器"),
        AllowCategory::UrlShortener => lang.pick("URL shortener", "短网址服务"),
        AllowCategory::SharedNamespace => lang.pick("shared namespace", "共享域名空间"),
        AllowCategory::Other => lang.pick("other list", "其他名单"),
    }
}

/// Mentions a benign list too weak to decide the verdict, such as a top-site parent domain.
fn weak_guard_clause(report: &Report, lang: Lang) -> String {
    let lists = benign_lists(report, lang);
    if lists.is_empty() {
        return String::new();
    }
    match lang {
        Lang::En => format!(
            " A parent domain or a shared range is on {lists}, which does not vouch for every name or address under it."
        ),
        Lang::ZhCn => {
            format!("其上级域名或所在网段在 {lists} 中，但这不代表其下的每个名称或地址都可信。")
        }
    }
}

fn report_sources_total(report: &Report) -> String {
    match &report.data_as_of {
        Some(date) => match report.lang {
            Lang::En => format!(" (data imported up to {date})"),
            Lang::ZhCn => format!("（数据导入于 {date}）"),
        },
        None => match report.lang {
            Lang::En => " (the store is empty: run `tiq sync` or `tiq import` first)".to_string(),
            Lang::ZhCn => "（本地库为空：请先运行 `tiq sync` 或 `tiq import`）".to_string(),
        },
    }
}

/// Concrete next steps for the verdict and indicator type.
pub fn recommendation(report: &Report, scope: Option<AddressScope>, lang: Lang) -> Vec<String> {
    let value = &report.indicator.value;
    if let Some(scope) = scope.filter(|s| s.is_internal()) {
        return vec![internal_step(scope, lang).to_string()];
    }
    match report.verdict {
        Verdict::Malicious => malicious_steps(report, value, lang),
        Verdict::Suspicious => vec![
            match lang {
                Lang::En => format!(
                    "Do not block {value} on this evidence alone: review where it appeared and watch it in your logs."
                ),
                Lang::ZhCn => format!("仅凭现有证据不建议直接封禁 {value}：请核查其出现的位置，并在日志中持续关注。"),
            },
            lang.pick(
                "Block it if it also shows malicious behaviour in your own logs (failed logins, exploit attempts, beaconing).",
                "如果在自有日志中也出现恶意行为（登录失败、漏洞利用尝试、周期性外联），再进行封禁。",
            )
            .to_string(),
        ],
        Verdict::Benign => vec![benign_step(report, lang).to_string()],
        Verdict::Unknown => unknown_steps(report, lang),
    }
}

fn benign_step(report: &Report, lang: Lang) -> &'static str {
    let scanner = report.evidence.iter().any(|e| {
        e.claim == ClaimKind::Benign
            && e.weight > 0.0
            && e.labels
                .iter()
                .any(|l| l == "research_scanner" || l == "crawler")
    });
    if scanner {
        return lang.pick(
            "It is a known research scanner or crawler: its traffic is Internet-wide scanning, not an attack aimed at you. No incident response is needed; block it only if you do not want to be scanned.",
            "这是已知的研究机构扫描器或爬虫：其流量是面向整个互联网的扫描，并非针对你的攻击。无需应急响应；如不希望被扫描，可以封禁。",
        );
    }
    lang.pick(
        "Nothing to do for this indicator; if it triggered an alert, the alert is likely a false positive, so look at the other indicators in it.",
        "该指标无需处置；如果它触发了告警，告警很可能是误报，请检查告警中的其他指标。",
    )
}

fn malicious_steps(report: &Report, value: &str, lang: Lang) -> Vec<String> {
    let mut steps = Vec::new();
    let threats: Vec<ThreatType> = report.tags.iter().map(|t| t.threat_type).collect();
    match report.indicator.kind {
        IndicatorKind::Ip => {
            steps.push(match lang {
                Lang::En => format!("Block {value} at the firewall, inbound and outbound."),
                Lang::ZhCn => format!("在防火墙上封禁 {value}（入站和出站）。"),
            });
            steps.push(lang.pick(
                "Search firewall, proxy and EDR logs of the last 30 days for connections to or from it.",
                "在最近 30 天的防火墙、代理和 EDR 日志中检索与其相关的连接。",
            ).to_string());
            if threats.iter().any(|t| {
                matches!(
                    t,
                    ThreatType::BruteForce | ThreatType::Abuse | ThreatType::Scanner
                )
            }) {
                steps.push(lang.pick(
                    "Check authentication logs (SSH, RDP, VPN, web logins) for successful logins from it.",
                    "检查认证日志（SSH、RDP、VPN、Web 登录），确认是否有来自该地址的成功登录。",
                ).to_string());
            }
        }
        IndicatorKind::Domain => {
            steps.push(match lang {
                Lang::En => format!("Block {value} at the DNS resolver and the web proxy."),
                Lang::ZhCn => format!("在 DNS 解析器和 Web 代理上封禁 {value}。"),
            });
            steps.push(
                lang.pick(
                    "Search DNS and proxy logs for hosts that resolved or visited it.",
                    "在 DNS 和代理日志中查找解析或访问过它的主机。",
                )
                .to_string(),
            );
        }
        IndicatorKind::Url => {
            steps.push(match lang {
                Lang::En => format!("Block {value} at the web proxy or WAF."),
                Lang::ZhCn => format!("在 Web 代理或 WAF 上封禁 {value}。"),
            });
            steps.push(lang.pick(
                "Find the users who opened it in proxy logs; if it served a download, scan their machines for the payload.",
                "在代理日志中找出访问过它的用户；如果它提供了下载，请扫描这些用户的终端是否存在恶意载荷。",
            ).to_string());
            if threats.contains(&ThreatType::Phishing) {
                steps.push(
                    lang.pick(
                        "Reset the passwords of users who submitted credentials to it.",
                        "对在该页面提交过凭据的用户重置密码。",
                    )
                    .to_string(),
                );
            }
        }
        IndicatorKind::Hash | IndicatorKind::Cve => {
            steps.push(
                lang.pick(
                    "Quarantine the file and search all endpoints for this hash with your EDR.",
                    "隔离该文件，并用 EDR 在所有终端上搜索此哈希。",
                )
                .to_string(),
            );
            steps.push(
                lang.pick(
                    "Treat hosts where it ran as compromised: isolate them and investigate.",
                    "将运行过该文件的主机视为已失陷：隔离并开展调查。",
                )
                .to_string(),
            );
        }
    }
    if threats.iter().any(|t| {
        matches!(
            t,
            ThreatType::C2 | ThreatType::Botnet | ThreatType::Ransomware | ThreatType::Apt
        )
    }) {
        steps.push(lang.pick(
            "Any internal host that contacted it is likely infected: isolate it and start incident response.",
            "任何与其通信过的内部主机都可能已被感染：请隔离并启动应急响应。",
        ).to_string());
    }
    steps
}

fn unknown_steps(report: &Report, lang: Lang) -> Vec<String> {
    let mut steps = vec![lang
        .pick(
            "No verdict from local intelligence: decide from the context (what it did, which host talked to it, when).",
            "本地情报无结论：请根据上下文判断（它做了什么、哪台主机与其通信、发生时间）。",
        )
        .to_string()];
    steps.push(
        lang.pick(
            "Update the feeds (`tiq sync`, or `tiq import` with fresh files) and ask again if the data is old; `tiq status` shows each feed's age.",
            "如果数据较旧，请更新情报（`tiq sync`，或用最新文件 `tiq import`）后重新查询；`tiq status` 显示各情报源的时效。",
        )
        .to_string(),
    );
    if report.indicator.kind == IndicatorKind::Hash {
        steps.push(
            lang.pick(
                "Submit the file to a sandbox you trust if it came from an untrusted source.",
                "如果文件来源不可信，请提交到可信的沙箱进行分析。",
            )
            .to_string(),
        );
    }
    steps
}
