//! `tiq scan` and `tiq extract`: a file of any size read in chunks through the extractor,
//! with a progress bar on a terminal, then the ranked report, block rules, or the bare list.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tiq_engine::IpIndexing;
use tiq_engine::blocklist::{self, BlockFormat};
use tiq_engine::scan::ScanLimits;
use tiq_extract::{Extraction, Extractor, Found};
use tiq_model::Lang;
use tiq_model::scan::{ScanItem, ScanReport};

use crate::args::{ExtractArgs, ExtractFormat, ScanArgs, ScanFormat};
use crate::config::Config;
use crate::{EXIT_USAGE, access_view, render};

/// Bytes read at a time.
const CHUNK: usize = 1024 * 1024;
/// Minimum file size, in bytes, for a progress bar on a terminal.
const PROGRESS_FROM: u64 = 16 * 1024 * 1024;
/// Default number of rows in the scan table, changed with `--limit`.
const TABLE_ROWS: usize = 50;
/// Maximum addresses whose flagged behaviour the scan table describes.
const FLAGGED_ROWS: usize = 10;

/// Runs `tiq extract`: prints the indicators of a file without looking them up.
pub fn extract(args: &ExtractArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    let extraction = read(&args.file, lang)?;
    let mut out = String::new();
    match args.format {
        ExtractFormat::Jsonl => {
            for found in &extraction.indicators {
                out.push_str(&serde_json::to_string(found)?);
                out.push('\n');
            }
        }
        ExtractFormat::Json => {
            out.push_str(&serde_json::to_string_pretty(&extraction.indicators)?);
            out.push('\n');
        }
        ExtractFormat::Csv => {
            out.push_str("kind,value,count,first_line,first_seen,last_seen\n");
            for found in &extraction.indicators {
                let fields = [
                    found.kind.name().to_string(),
                    found.value.clone(),
                    found.count.to_string(),
                    found.first_line.to_string(),
                    found.first_seen.clone().unwrap_or_default(),
                    found.last_seen.clone().unwrap_or_default(),
                ];
                push_csv_row(&mut out, &fields);
            }
        }
        ExtractFormat::Table => {
            let rows: Vec<Vec<String>> = extraction.indicators.iter().map(extract_row).collect();
            let header = [
                lang.pick("KIND", "类型"),
                lang.pick("VALUE", "值"),
                lang.pick("COUNT", "次数"),
                lang.pick("FIRST LINE", "首次出现行"),
            ];
            for line in render::table_lines(&header, &rows, "") {
                out.push_str(&line);
                out.push('\n');
            }
            out.push_str(&extraction_footer(&extraction, lang));
            out.push('\n');
        }
    }
    write_output(None, &out, lang)?;
    if extraction.dropped > 0 && !matches!(args.format, ExtractFormat::Table) {
        // The table shows the note in its last line, and other formats show records only.
        eprintln!(
            "{}: {}",
            lang.pick("warning", "警告"),
            cap_note(extraction.dropped, lang)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Returns the table row of one extracted indicator.
fn extract_row(found: &Found) -> Vec<String> {
    vec![
        found.kind.name().to_string(),
        found.value.clone(),
        found.count.to_string(),
        found.first_line.to_string(),
    ]
}

/// Returns the line under the extraction table: counts, and what the cap left out.
fn extraction_footer(extraction: &Extraction, lang: Lang) -> String {
    let mut text = match lang {
        Lang::En => format!(
            "{} distinct indicators in {} lines ({} bytes)",
            extraction.indicators.len(),
            extraction.lines,
            extraction.bytes
        ),
        Lang::ZhCn => format!(
            "{} 行（{} 字节）中共有 {} 个不同指标",
            extraction.lines,
            extraction.bytes,
            extraction.indicators.len()
        ),
    };
    if extraction.dropped > 0 {
        text.push_str(lang.pick("; ", "；"));
        text.push_str(&cap_note(extraction.dropped, lang));
    }
    text
}

/// Returns the note on the occurrences of new indicators that the cap left out.
fn cap_note(dropped: u64, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{dropped} occurrences of further indicators were not kept (the cap is 100,000 distinct)"
        ),
        Lang::ZhCn => format!("另有 {dropped} 次新指标出现未保留（不同指标上限为 100,000）"),
    }
}

/// Runs `tiq scan`: reads a file, analyses every indicator, and prints a ranked table, JSON,
/// CSV or block rules.
pub fn scan(
    data_dir: &Path,
    config: &Config,
    args: &ScanArgs,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    let export = match args
        .export
        .as_deref()
        .map(BlockFormat::from_str)
        .transpose()
    {
        Ok(export) => export,
        Err(name) => {
            let message = match lang {
                Lang::En => format!(
                    "unknown export format \"{name}\": use one of {}",
                    BlockFormat::NAMES
                ),
                Lang::ZhCn => format!("未知的导出格式 \"{name}\"：请使用 {}", BlockFormat::NAMES),
            };
            eprintln!("{}: {message}", lang.pick("error", "错误"));
            return Ok(ExitCode::from(EXIT_USAGE));
        }
    };
    if args.limit == Some(0) {
        eprintln!(
            "{}: {}",
            lang.pick("error", "错误"),
            lang.pick(
                "--limit 0 shows nothing: give 1 or more",
                "--limit 0 不会显示任何内容：请给出 1 或更大的数"
            )
        );
        return Ok(ExitCode::from(EXIT_USAGE));
    }

    // The address index builds in the background while the file is read.
    let engine = crate::open_existing(data_dir, config, IpIndexing::Background, lang)?;
    let started = Instant::now();
    let extraction = read(&args.file, lang)?;
    let bytes = extraction.bytes;
    engine.wait_for_ip_index();
    let report = engine.scan(extraction, ScanLimits::default(), lang);

    let source = source_name(&args.file);
    access_view::record_lookup(
        data_dir,
        "analyze_text",
        &format!("{source} ({bytes} bytes)"),
        Some(report.audit_verdict()),
        200,
        started,
    );

    let out = match (export, args.format) {
        (Some(format), _) => {
            let rules = blocklist::render(&report, format, &now_rfc3339(), &source);
            let blocked = report.indicators.iter().filter(|i| i.block).count();
            let found = report.totals.indicators;
            let message = match lang {
                Lang::En => format!(
                    "{blocked} malicious public addresses and domains to block, of {found} indicators found"
                ),
                Lang::ZhCn => {
                    format!("在发现的 {found} 个指标中，有 {blocked} 个恶意公网地址和域名需要封禁")
                }
            };
            eprintln!("{message}");
            rules
        }
        (None, ScanFormat::Json) => serde_json::to_string_pretty(&report)? + "\n",
        (None, ScanFormat::Csv) => scan_csv(&report),
        (None, ScanFormat::Table) => scan_table(&report, args.limit.unwrap_or(TABLE_ROWS), lang),
    };
    write_output(args.output.as_deref(), &out, lang)?;
    Ok(ExitCode::SUCCESS)
}

/// Returns the current time in RFC 3339, to the second.
fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Names the input for the block list header and the audit log.
fn source_name(file: &Path) -> String {
    if file == Path::new("-") {
        "standard input".to_string()
    } else {
        file.display().to_string()
    }
}

/// Reads `file` (or standard input for `-`) through the extractor.
fn read(file: &Path, lang: Lang) -> anyhow::Result<Extraction> {
    let mut extractor = Extractor::new(tiq_engine::scan::extract_options());
    let mut buffer = vec![0u8; CHUNK];
    if file == Path::new("-") {
        let mut stdin = std::io::stdin().lock();
        loop {
            let read = stdin.read(&mut buffer).with_context(|| {
                lang.pick("cannot read standard input", "无法读取标准输入")
                    .to_string()
            })?;
            if read == 0 {
                break;
            }
            extractor.feed(&buffer[..read]);
        }
        return Ok(extractor.finish());
    }
    let mut input = File::open(file).with_context(|| match lang {
        Lang::En => format!(
            "cannot open {}: check the path, or pass - to read standard input",
            file.display()
        ),
        Lang::ZhCn => format!(
            "无法打开 {}：请检查路径，或用 - 读取标准输入",
            file.display()
        ),
    })?;
    let metadata = input.metadata().ok();
    let size = metadata.as_ref().map_or(0, |m| m.len());
    if metadata.is_some_and(|m| m.is_dir()) {
        anyhow::bail!(match lang {
            Lang::En => format!("{} is a directory: give a file", file.display()),
            Lang::ZhCn => format!("{} 是目录：请给出文件", file.display()),
        });
    }

    let bar = progress(size, lang);
    loop {
        let read = input.read(&mut buffer).with_context(|| match lang {
            Lang::En => format!("cannot read {}", file.display()),
            Lang::ZhCn => format!("无法读取 {}", file.display()),
        })?;
        if read == 0 {
            break;
        }
        extractor.feed(&buffer[..read]);
        if let Some(bar) = &bar {
            bar.set_position(extractor.bytes());
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    Ok(extractor.finish())
}

/// Returns a progress bar for a file of `size` bytes, or `None` for a smaller file than
/// [`PROGRESS_FROM`] or when standard error is not a terminal.
fn progress(size: u64, lang: Lang) -> Option<ProgressBar> {
    if size < PROGRESS_FROM || !std::io::stderr().is_terminal() {
        return None;
    }
    let template = match lang {
        Lang::En => {
            "reading {bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta} left"
        }
        Lang::ZhCn => {
            "正在读取 {bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} 剩余 {eta}"
        }
    };
    let bar = ProgressBar::new(size)
        .with_style(ProgressStyle::with_template(template).expect("a valid template"));
    Some(bar)
}

/// Writes `text` to the file `output`, or to standard output when there is none. A closed
/// pipe on standard output is not an error.
fn write_output(output: Option<&Path>, text: &str, lang: Lang) -> anyhow::Result<()> {
    match output {
        Some(path) => write_file(path, text, lang),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(text.as_bytes()) {
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.with_context(|| {
                    lang.pick("cannot write to standard output", "无法写入标准输出")
                        .to_string()
                }),
            }
        }
    }
}

/// Writes through a temporary file beside `path`, so a failed run leaves any earlier
/// file whole.
fn write_file(path: &Path, text: &str, lang: Lang) -> anyhow::Result<()> {
    let cannot = || match lang {
        Lang::En => format!(
            "cannot write {}: check that its directory exists and is writable",
            path.display()
        ),
        Lang::ZhCn => format!("无法写入 {}：请确认其目录存在且可写", path.display()),
    };
    let mut temporary = PathBuf::from(path);
    temporary.as_mut_os_string().push(".tiq-partial");
    std::fs::write(&temporary, text).with_context(cannot)?;
    std::fs::rename(&temporary, path).with_context(cannot)
}

/// Returns the names of the behaviours flagged for `item`, separated by spaces.
fn behaviour_names(item: &ScanItem) -> String {
    item.activity
        .as_ref()
        .map(|activity| {
            activity
                .behaviours
                .iter()
                .map(|b| b.kind.name())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Writes one CSV row per indicator. The last column is the summary of its report, or the
/// note of an indicator that was not analysed.
fn scan_csv(report: &ScanReport) -> String {
    let mut out = String::from(
        "kind,value,verdict,threat_level,confidence,count,first_line,first_seen,last_seen,block,behaviour,summary\n",
    );
    for item in &report.indicators {
        let compact = item.report.as_deref();
        let fields = [
            item.kind.name().to_string(),
            item.value.clone(),
            item.verdict.map_or("", |v| v.name()).to_string(),
            compact.map_or(String::new(), |r| r.threat_level.level.to_string()),
            compact.map_or(String::new(), |r| format!("{:.2}", r.confidence)),
            item.count.to_string(),
            item.first_line.to_string(),
            item.first_seen.clone().unwrap_or_default(),
            item.last_seen.clone().unwrap_or_default(),
            item.block.to_string(),
            behaviour_names(item),
            compact.map_or_else(
                || item.note.clone().unwrap_or_default(),
                |r| r.summary.clone(),
            ),
        ];
        push_csv_row(&mut out, &fields);
    }
    out
}

/// Appends one CSV row, quoting and defusing each field.
fn push_csv_row(out: &mut String, fields: &[String]) {
    let row: Vec<String> = fields.iter().map(|f| blocklist::csv_field(f)).collect();
    out.push_str(&row.join(","));
    out.push('\n');
}

/// Writes the scan as text: the summary, a table of the first `rows` indicators, what the log
/// shows for flagged addresses, and the next steps.
fn scan_table(report: &ScanReport, rows: usize, lang: Lang) -> String {
    let mut out = String::new();
    out.push_str(&report.summary);
    out.push_str("\n\n");

    let header = [
        lang.pick("VERDICT", "结论"),
        lang.pick("LEVEL", "等级"),
        lang.pick("KIND", "类型"),
        lang.pick("VALUE", "值"),
        lang.pick("COUNT", "次数"),
        lang.pick("LOG", "日志行为"),
    ];
    let table: Vec<Vec<String>> = report
        .indicators
        .iter()
        .take(rows)
        .map(|item| {
            vec![
                item.verdict.map_or_else(
                    || lang.pick("not analysed", "未分析").to_string(),
                    |v| v.localized(lang).to_string(),
                ),
                item.report
                    .as_ref()
                    .map_or(String::from("-"), |r| r.threat_level.level.to_string()),
                item.kind.name().to_string(),
                item.value.clone(),
                item.count.to_string(),
                behaviour_names(item),
            ]
        })
        .collect();
    for line in render::table_lines(&header, &table, "") {
        out.push_str(&line);
        out.push('\n');
    }
    if report.indicators.len() > rows {
        let more = report.indicators.len() - rows;
        out.push_str(&match lang {
            Lang::En => {
                format!("… {more} more: --limit N shows more, --format json or csv lists all\n")
            }
            Lang::ZhCn => {
                format!("…… 另有 {more} 个：用 --limit N 显示更多，--format json 或 csv 列出全部\n")
            }
        });
    }

    let flagged: Vec<&ScanItem> = report
        .indicators
        .iter()
        .filter(|i| {
            i.activity
                .as_ref()
                .is_some_and(|a| !a.behaviours.is_empty())
        })
        .take(FLAGGED_ROWS)
        .collect();
    if !flagged.is_empty() {
        out.push('\n');
        out.push_str(lang.pick("What the log shows:\n", "日志显示：\n"));
        for item in flagged {
            let sentences: Vec<String> = item
                .activity
                .iter()
                .flat_map(|a| &a.behaviours)
                .map(|b| tiq_engine::scan::behaviour_sentence(b, lang))
                .collect();
            out.push_str(&format!(
                "  {}: {}\n",
                item.value,
                sentences.join(lang.pick("; ", "；"))
            ));
        }
    }

    out.push('\n');
    out.push_str(lang.pick("Next steps:\n", "下一步：\n"));
    for step in &report.recommendation {
        out.push_str(&format!("  - {step}\n"));
    }
    out
}
