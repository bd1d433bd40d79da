//! Terminal output: the readable report layout, the import table and the source list.

use tiq_engine::SourceRow;
use tiq_engine::{FileStatus, ImportSummary};
use tiq_model::{Lang, Report, ThreatLevel};
use unicode_width::UnicodeWidthStr;

/// Writes one line to standard output. A closed pipe (`tiq ip … | head -1`) ends the
/// program quietly with success, as other command-line tools do.
macro_rules! outln {
    () => {
        $crate::render::emit(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::render::emit(format_args!($($arg)*))
    };
}
pub(crate) use outln;

pub fn emit(line: std::fmt::Arguments<'_>) {
    use std::io::Write;

    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{line}") {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to standard output: {error}");
        std::process::exit(1);
    }
}

/// Prints a report in the readable layout.
pub fn report(report: &Report, lang: Lang) {
    let level = ThreatLevel::name_of(report.threat_level.level, lang);
    outln!(
        "{}  ·  {}  ·  {} {} {}  ·  {} {:.2}",
        report.indicator.value,
        report.verdict.localized(lang).to_uppercase(),
        lang.pick("level", "威胁等级"),
        report.threat_level.level,
        level,
        lang.pick("confidence", "置信度"),
        report.confidence
    );
    outln!();
    outln!("{}", report.summary);

    if !report.tags.is_empty() {
        let tags: Vec<String> = report
            .tags
            .iter()
            .map(|t| match t.labels.is_empty() {
                true => t.threat_type.name().to_string(),
                false => format!("{} ({})", t.threat_type.name(), t.labels.join(", ")),
            })
            .collect();
        field(lang.pick("Tags", "标签"), &tags.join("; "));
    }
    let lists = [
        (lang.pick("Families", "家族"), &report.families, ""),
        (lang.pick("Actors", "组织"), &report.actors, ""),
        (
            lang.pick("Campaigns", "攻击活动"),
            &report.campaigns,
            "campaigns",
        ),
        (
            lang.pick("Techniques", "技术"),
            &report.techniques,
            "techniques",
        ),
    ];
    knowledge_fields(&lists, &report.left_out, lang);
    field(lang.pick("Profile", "画像"), &profile_line(report));
    if let (Some(first), Some(last)) = (&report.first_seen, &report.last_seen) {
        field(lang.pick("Seen", "出现时间"), &format!("{first} … {last}"));
    }

    if !report.evidence.is_empty() {
        outln!("\n{}:", lang.pick("Evidence", "证据"));
        let rows: Vec<Vec<String>> = report
            .evidence
            .iter()
            .map(|e| {
                vec![
                    e.source.clone(),
                    e.claim.name().to_string(),
                    e.threat_type
                        .map(|t| t.name().to_string())
                        .unwrap_or_default(),
                    format!("{:.2}", e.weight),
                    e.matched.clone(),
                    [e.family.clone(), e.note.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join("; "),
                ]
            })
            .collect();
        let header = [
            lang.pick("SOURCE", "来源"),
            lang.pick("CLAIM", "结论"),
            lang.pick("TYPE", "类型"),
            lang.pick("WEIGHT", "权重"),
            lang.pick("MATCHED", "命中"),
            lang.pick("NOTE", "说明"),
        ];
        table(&header, &rows, "  ");
    }
    if !report.related.is_empty() {
        outln!("\n{}:", lang.pick("Related", "关联指标"));
        for related in report.related.iter().take(RELATED_SHOWN) {
            let verdict = related
                .verdict
                .map(|v| format!(" [{}]", v.localized(lang)))
                .unwrap_or_default();
            outln!(
                "  {} {} ({}){verdict}",
                related.kind,
                related.value,
                related.relation
            );
        }
        let more = report.related.len().saturating_sub(RELATED_SHOWN) as u64
            + report.left_out.get("related").copied().unwrap_or(0);
        if more > 0 {
            outln!("  {}", left_out_note(more, lang).trim());
        }
    }
    outln!("\n{}:", lang.pick("Next steps", "处置建议"));
    for step in &report.recommendation {
        outln!("  - {step}");
    }
    if let Some(as_of) = &report.data_as_of {
        outln!(
            "\n{} {as_of}",
            lang.pick("Data imported:", "数据导入时间：")
        );
    }
}

/// Prints one page of a vulnerability search.
pub fn vulnerabilities(search: &tiq_model::VulnSearch, lang: Lang) {
    outln!("{}", search.summary);
    for vuln in &search.results {
        outln!();
        let severity = vuln
            .cvss
            .as_ref()
            .map(|c| format!("  {} {:.1}", c.severity_label, c.score))
            .unwrap_or_default();
        let mut flags = Vec::new();
        if vuln.exploitation.in_kev {
            flags.push("KEV".to_string());
        }
        if let Some(epss) = vuln.exploitation.epss {
            flags.push(format!("EPSS {epss:.3}"));
        }
        if !vuln.exploitation.public_exploits.is_empty() {
            flags.push(lang.pick("public exploit", "有公开利用").to_string());
        }
        outln!("{}{severity}  {}", vuln.id, flags.join(" · "));
        outln!("  {}", vuln.title);
        if !vuln.aliases.is_empty() {
            field(lang.pick("Aliases", "别名"), &vuln.aliases.join(", "));
        }
        if let Some(status) = &vuln.version_status {
            let status = match status.as_str() {
                "affected" => lang.pick("affected", "受影响"),
                "unaffected" => lang.pick("not affected", "不受影响"),
                _ => lang.pick("unknown", "未知"),
            };
            field(lang.pick("Version", "版本"), status);
        }
        if let Some(kev) = &vuln.exploitation.kev
            && !kev.due_date.is_empty()
        {
            let ransomware = match kev.ransomware_use.as_str() {
                "Known" => lang.pick("known", "已知"),
                _ => lang.pick("unknown", "未知"),
            };
            field(
                lang.pick("KEV", "KEV"),
                &format!(
                    "{} {} · {} {} · {} {ransomware}",
                    lang.pick("added", "加入"),
                    kev.date_added,
                    lang.pick("due", "截止"),
                    kev.due_date,
                    lang.pick("ransomware use", "勒索软件利用"),
                ),
            );
        }
        if let Some(advice) = &vuln.fix.advice {
            field(lang.pick("Fix", "修复"), advice);
        }
        if let Some(link) = vuln.fix.patches.first().or(vuln.fix.advisories.first()) {
            field(lang.pick("Advisory", "公告"), link);
        }
    }
    if let Some(cursor) = &search.next_cursor {
        outln!();
        outln!("{} --cursor {cursor}", lang.pick("Next page:", "下一页："));
    }
}

/// Prints a threat description.
pub fn threat(description: &tiq_model::ThreatDescription, lang: Lang) {
    if let Some(entry) = &description.entry {
        let kind = description.kind.map_or("", |k| k.localized(lang));
        outln!("{}  ({kind})", entry.label());
    }
    outln!("{}", description.summary);
    if !description.description.is_empty() {
        outln!();
        outln!("{}", description.description);
    }
    outln!();
    if !description.aliases.is_empty() {
        field(
            lang.pick("Aliases", "别名"),
            &description.aliases.join(", "),
        );
    }
    if !description.tactics.is_empty() {
        field(
            lang.pick("Tactics", "战术"),
            &description.tactics.join(", "),
        );
    }
    let lists = [
        (lang.pick("Actors", "组织"), &description.actors, "actors"),
        (
            lang.pick("Families", "家族"),
            &description.families,
            "families",
        ),
        (
            lang.pick("Campaigns", "攻击活动"),
            &description.campaigns,
            "campaigns",
        ),
        (
            lang.pick("Techniques", "技术"),
            &description.techniques,
            "techniques",
        ),
    ];
    knowledge_fields(&lists, &description.left_out, lang);
    if !description.other_matches.is_empty() {
        let matches: Vec<String> = description
            .other_matches
            .iter()
            .map(|entry| match lang {
                Lang::En => format!("{} ({})", entry.label(), entry.kind.localized(lang)),
                Lang::ZhCn => format!("{}（{}）", entry.label(), entry.kind.localized(lang)),
            })
            .collect();
        field(lang.pick("Also matches", "同名条目"), &matches.join(", "));
    }
    if !description.indicators.examples.is_empty() {
        field(
            lang.pick("Indicators", "指标示例"),
            &description.indicators.examples.join(", "),
        );
    }
    if !description.sources.is_empty() {
        field(
            lang.pick("Sources", "来源"),
            &description.sources.join(", "),
        );
    }
    for reference in &description.references {
        field(lang.pick("Reference", "参考"), reference);
    }
}

/// Prints each non-empty list of actors, families, campaigns or techniques as one field,
/// with the count its cap left out (`left_out` keyed by the third element).
fn knowledge_fields(
    lists: &[(&str, &Vec<tiq_model::KnowledgeRef>, &str)],
    left_out: &std::collections::BTreeMap<String, u64>,
    lang: Lang,
) {
    for (name, list, cut) in lists {
        if list.is_empty() {
            continue;
        }
        let mut text = list
            .iter()
            .map(|entry| entry.label())
            .collect::<Vec<_>>()
            .join(", ");
        if let Some(more) = left_out.get(*cut) {
            text.push_str(&left_out_note(*more, lang));
        }
        field(name, &text);
    }
}

/// Related indicators printed; `--json` has all that the report lists.
const RELATED_SHOWN: usize = 10;

fn left_out_note(count: u64, lang: Lang) -> String {
    match lang {
        Lang::En => format!(" (and {count} more)"),
        Lang::ZhCn => format!("（另有 {count} 项未列出）"),
    }
}

fn field(name: &str, value: &str) {
    outln!("{name}: {value}");
}

fn profile_line(report: &Report) -> String {
    let profile = &report.profile;
    let mut parts: Vec<String> = Vec::new();
    let mut push = |label: &str, value: Option<String>| {
        if let Some(value) = value {
            parts.push(format!("{label} {value}"));
        }
    };

    push("scope", profile.scope.clone());
    push("country", profile.country.clone());
    push("region", profile.region.clone());
    push("city", profile.city.clone());
    let as_name = profile.as_name.clone().unwrap_or_default();
    push("asn", profile.asn.map(|asn| format!("AS{asn} {as_name}")));
    push("network", profile.network.clone());
    push("registered", profile.registered_domain.clone());
    push("tld", profile.tld.clone());
    push("suffix", profile.public_suffix.clone());
    push("rank", profile.popularity_rank.map(|rank| rank.to_string()));
    push("host", profile.host.clone());
    push("port", profile.port.map(|port| port.to_string()));
    push("path", profile.path.clone());
    push("hash", profile.hash_type.clone());

    if !profile.flags.is_empty() {
        parts.push(format!("flags {}", profile.flags.join(",")));
    }
    if parts.is_empty() {
        "-".to_string()
    } else {
        parts.join(" · ")
    }
}

/// Prints the per-file import table, the rejected lines and the totals.
pub fn import_table(summary: &ImportSummary, rejected_lines: usize, lang: Lang) {
    let rows: Vec<Vec<String>> = summary
        .files
        .iter()
        .map(|f| {
            vec![
                f.path.display().to_string(),
                f.format.clone().unwrap_or_else(|| "-".to_string()),
                f.source.clone().unwrap_or_else(|| "-".to_string()),
                f.records.to_string(),
                f.rejected.to_string(),
                f.skipped.to_string(),
                status_text(&f.status, lang),
            ]
        })
        .collect();
    let header = [
        lang.pick("FILE", "文件"),
        lang.pick("FORMAT", "格式"),
        lang.pick("SOURCE", "来源"),
        lang.pick("RECORDS", "记录数"),
        lang.pick("REJECTED", "拒绝行数"),
        lang.pick("SKIPPED", "跳过"),
        lang.pick("STATUS", "状态"),
    ];
    table(&header, &rows, "  ");

    for file in summary
        .files
        .iter()
        .filter(|f| !f.rejected_lines.is_empty())
    {
        outln!(
            "\n{} {}:",
            lang.pick("Rejected lines in", "被拒绝的行："),
            file.path.display()
        );
        for (line, reason) in file.rejected_lines.iter().take(rejected_lines) {
            match lang {
                Lang::En => outln!("  line {line}: {reason}"),
                Lang::ZhCn => outln!("  第 {line} 行：{reason}"),
            }
        }
        let printed = file.rejected_lines.len().min(rejected_lines) as u64;
        if file.rejected > printed {
            let more = file.rejected - printed;
            outln!(
                "  {}",
                lang.pick(&format!("… and {more} more"), &format!("……另有 {more} 行"))
            );
        }
    }

    let imported = summary.count(|s| *s == FileStatus::Imported);
    let unsupported = summary.count(|s| matches!(s, FileStatus::Unsupported(_)));
    let failed = summary.count(|s| matches!(s, FileStatus::Failed(_) | FileStatus::Kept(_)));
    let seconds = summary.elapsed.as_secs_f64();
    match lang {
        Lang::En => outln!(
            "\n{} {}: {imported} imported, {unsupported} unsupported, {failed} failed or kept; {} records in {seconds:.1} s",
            summary.files.len(),
            if summary.files.len() == 1 {
                "file"
            } else {
                "files"
            },
            summary.records()
        ),
        Lang::ZhCn => outln!(
            "\n共 {} 个文件：导入 {imported} 个，不支持 {unsupported} 个，失败或保留旧数据 {failed} 个；{} 条记录，用时 {seconds:.1} 秒",
            summary.files.len(),
            summary.records()
        ),
    }
}

fn status_text(status: &FileStatus, lang: Lang) -> String {
    match status {
        FileStatus::Imported => lang.pick("imported", "已导入").to_string(),
        FileStatus::Unsupported(reason) => {
            format!("{}: {reason}", lang.pick("unsupported", "不支持"))
        }
        FileStatus::Failed(reason) => format!("{}: {reason}", lang.pick("failed", "失败")),
        FileStatus::Kept(reason) => format!(
            "{}: {reason}",
            lang.pick("kept earlier records", "保留旧数据")
        ),
    }
}

/// Prints the imported sources.
pub fn sources(sources: &[SourceRow], lang: Lang) {
    let rows: Vec<Vec<String>> = sources
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.format.clone(),
                s.records.to_string(),
                s.imported_at.clone(),
            ]
        })
        .collect();
    let header = [
        lang.pick("SOURCE", "来源"),
        lang.pick("FORMAT", "格式"),
        lang.pick("RECORDS", "记录数"),
        lang.pick("IMPORTED", "导入时间"),
    ];
    table(&header, &rows, "  ");
}

/// Prints aligned columns; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>], indent: &str) {
    for line in table_lines(header, rows, indent) {
        outln!("{line}");
    }
}

/// Returns aligned columns, one string per line; the last column is not padded.
pub fn table_lines(header: &[&str], rows: &[Vec<String>], indent: &str) -> Vec<String> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len() - 1;
        let mut out = indent.to_string();
        for (i, cell) in cells.into_iter().enumerate() {
            out.push_str(cell);
            if i < last {
                out.push_str(&" ".repeat(widths[i] - cell.width() + 2));
            }
        }
        out.trim_end().to_string()
    };
    let mut lines = vec![line(header.to_vec())];
    for row in rows {
        lines.push(line(row.iter().map(String::as_str).collect()));
    }
    lines
}
