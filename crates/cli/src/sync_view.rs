//! `tiq sync`, `tiq status` and `tiq catalog`: feeds on the terminal.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tiq_engine::Engine;
use tiq_model::Lang;
use tiq_sync::{FeedOutcome, FeedState, Fetcher, Progress, SyncOptions, SyncStatus};

use crate::args::SyncArgs;
use crate::config::{Config, format_duration};
use crate::render::{outln, table};

/// Reloads the engine's in-memory data after a background sync brought new data.
pub struct Reload(pub Arc<Engine>);

impl Progress for Reload {
    fn finished(&self, outcome: &FeedOutcome) {
        if matches!(outcome.status, SyncStatus::Updated { .. })
            && let Err(error) = self.0.reload()
        {
            tracing::warn!(%error, "cannot reload data after a sync");
        }
    }
}

/// Progress bars on a terminal: bytes while downloading, then records while importing.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
    lang: Lang,
}

impl Bars {
    fn bar(&self, feed: &str) -> ProgressBar {
        let mut bars = self.bars.lock().unwrap_or_else(|p| p.into_inner());
        bars.entry(feed.to_string())
            .or_insert_with(|| {
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_prefix(feed.to_string());
                bar
            })
            .clone()
    }
}

impl Progress for Bars {
    fn started(&self, feed: &str) {
        let bar = self.bar(feed);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:24} {msg}").expect("a valid template"),
        );
        bar.set_message(self.lang.pick("connecting", "正在连接").to_string());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    }

    fn bytes(&self, feed: &str, received: u64, total: Option<u64>) {
        let bar = self.bar(feed);
        match total {
            Some(total) if bar.length() != Some(total) => {
                bar.set_style(
                    ProgressStyle::with_template(
                        "{spinner} {prefix:24} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}",
                    )
                    .expect("a valid template")
                    .progress_chars("=> "),
                );
                bar.set_length(total);
            }
            None if bar.length().is_some() => {}
            None => bar.set_message(format!(
                "{} {}",
                self.lang.pick("downloaded", "已下载"),
                indicatif::HumanBytes(received)
            )),
            _ => {}
        }
        bar.set_position(received);
    }

    fn importing(&self, feed: &str) {
        let bar = self.bar(feed);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:24} {msg} {elapsed}")
                .expect("a valid template"),
        );
        bar.set_message(
            self.lang
                .pick("checking and importing records", "正在校验并导入记录")
                .to_string(),
        );
    }

    fn records(&self, feed: &str, stored: u64) {
        let bar = self.bar(feed);
        bar.set_message(match self.lang {
            Lang::En => format!("importing: {} records", indicatif::HumanCount(stored)),
            Lang::ZhCn => format!("正在导入：{} 条记录", indicatif::HumanCount(stored)),
        });
    }

    fn finished(&self, outcome: &FeedOutcome) {
        let bar = self.bar(&outcome.feed);
        bar.set_style(
            ProgressStyle::with_template("  {prefix:24} {msg}").expect("a valid template"),
        );
        bar.finish_with_message(status_text(&outcome.status, self.lang));
    }
}

/// Returns a spinner counting stored records, when standard error is a terminal.
pub fn records_spinner(lang: Lang) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let template = match lang {
        Lang::En => "{spinner} importing: {human_pos} records {elapsed}",
        Lang::ZhCn => "{spinner} 正在导入：{human_pos} 条记录 {elapsed}",
    };
    let bar = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template(template).expect("a valid template"));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

/// One line per step, for logs and pipes.
struct Lines {
    lang: Lang,
}

impl Progress for Lines {
    fn started(&self, feed: &str) {
        eprintln!("{feed}: {}", self.lang.pick("downloading", "正在下载"));
    }

    fn importing(&self, feed: &str) {
        eprintln!("{feed}: {}", self.lang.pick("importing", "正在导入"));
    }

    fn finished(&self, outcome: &FeedOutcome) {
        eprintln!(
            "{}: {}",
            outcome.feed,
            status_text(&outcome.status, self.lang)
        );
    }
}

fn status_text(status: &SyncStatus, lang: Lang) -> String {
    match (status, lang) {
        (SyncStatus::Unchanged, Lang::En) => "unchanged".to_string(),
        (SyncStatus::Unchanged, Lang::ZhCn) => "未变化".to_string(),
        (
            SyncStatus::Updated {
                records, sources, ..
            },
            Lang::En,
        ) => {
            let noun = if *sources == 1 { "source" } else { "sources" };
            format!("updated: {records} records in {sources} {noun}")
        }
        (
            SyncStatus::Updated {
                records, sources, ..
            },
            Lang::ZhCn,
        ) => {
            format!("已更新：{sources} 个来源，共 {records} 条记录")
        }
        (SyncStatus::Failed { error }, Lang::En) => format!("failed: {error}"),
        (SyncStatus::Failed { error }, Lang::ZhCn) => format!("失败：{error}"),
    }
}

/// `tiq sync [SOURCE...]`.
pub fn sync(
    data_dir: &Path,
    config: &Config,
    args: &SyncArgs,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    let settings = config.sync_settings();
    let mut chosen = Vec::new();
    if args.sources.is_empty() {
        chosen.extend(settings.feeds.iter().filter(|f| f.enabled));
    } else {
        for name in &args.sources {
            let Some(feed) = settings.feed(name) else {
                let names = tiq_sync::CATALOG
                    .iter()
                    .map(|f| f.name)
                    .collect::<Vec<_>>()
                    .join(", ");
                let message = match lang {
                    Lang::En => format!("no catalog source named {name:?}; the names are: {names}"),
                    Lang::ZhCn => format!("目录中没有名为 {name:?} 的情报源；可用名称：{names}"),
                };
                if args.json {
                    let body = serde_json::json!({
                        "error": "unknown_source",
                        "input": name,
                        "message": message,
                    });
                    outln!("{}", serde_json::to_string_pretty(&body)?);
                } else {
                    eprintln!("{}: {message}", lang.pick("error", "错误"));
                }
                return Ok(ExitCode::from(crate::EXIT_USAGE));
            };
            chosen.push(feed);
        }
    }
    let fetcher =
        Fetcher::new(&settings).context(lang.pick("cannot start downloads", "无法开始下载"))?;
    let options = SyncOptions {
        accept_shrink: args.accept_shrink,
        force: args.force,
    };
    let progress: Box<dyn Progress> = if std::io::stderr().is_terminal() && !args.json {
        Box::new(Bars {
            multi: MultiProgress::new(),
            bars: Mutex::new(HashMap::new()),
            lang,
        })
    } else {
        Box::new(Lines { lang })
    };
    let outcomes: Vec<FeedOutcome> = chosen
        .iter()
        .map(|feed| tiq_sync::sync_feed(data_dir, &fetcher, feed, &options, &*progress))
        .collect();
    drop(progress);

    if args.json {
        outln!("{}", serde_json::to_string_pretty(&outcomes)?);
    } else {
        outln!();
        let header = [
            lang.pick("SOURCE", "情报源"),
            lang.pick("RESULT", "结果"),
            lang.pick("RECORDS", "记录"),
            lang.pick("REJECTED", "拒绝"),
            lang.pick("DOWNLOADED", "下载量"),
            lang.pick("TIME", "耗时"),
            lang.pick("DETAIL", "说明"),
        ];
        let rows: Vec<Vec<String>> = outcomes
            .iter()
            .map(|o| {
                let (result, records, rejected, detail) = match &o.status {
                    SyncStatus::Unchanged => (
                        lang.pick("unchanged", "未变化"),
                        String::new(),
                        String::new(),
                        String::new(),
                    ),
                    SyncStatus::Updated {
                        records,
                        rejected,
                        sources,
                    } => (
                        lang.pick("updated", "已更新"),
                        records.to_string(),
                        rejected.to_string(),
                        match (lang, sources) {
                            (Lang::En, 1) => "1 source".to_string(),
                            (Lang::En, _) => format!("{sources} sources"),
                            (Lang::ZhCn, _) => format!("{sources} 个来源"),
                        },
                    ),
                    SyncStatus::Failed { error } => (
                        lang.pick("FAILED", "失败"),
                        String::new(),
                        String::new(),
                        error.clone(),
                    ),
                };
                vec![
                    o.feed.clone(),
                    result.to_string(),
                    records,
                    rejected,
                    indicatif::HumanBytes(o.bytes).to_string(),
                    format!("{:.1}s", o.elapsed.as_secs_f64()),
                    detail,
                ]
            })
            .collect();
        table(&header, &rows, "");
        rejected_lines(&outcomes, args.rejected_lines, lang);
    }
    let failed = outcomes
        .iter()
        .filter(|o| matches!(o.status, SyncStatus::Failed { .. }))
        .count();
    if !args.json {
        let updated = outcomes
            .iter()
            .filter(|o| matches!(o.status, SyncStatus::Updated { .. }))
            .count();
        let unchanged = outcomes.len() - updated - failed;
        outln!(
            "\n{}",
            match lang {
                Lang::En => format!(
                    "{} {}: {updated} updated, {unchanged} unchanged, {failed} failed",
                    outcomes.len(),
                    if outcomes.len() == 1 { "feed" } else { "feeds" }
                ),
                Lang::ZhCn => format!(
                    "{} 个情报源：{updated} 个已更新，{unchanged} 个未变化，{failed} 个失败",
                    outcomes.len()
                ),
            }
        );
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Prints the first `limit` rejected lines of each feed.
fn rejected_lines(outcomes: &[FeedOutcome], limit: usize, lang: Lang) {
    if limit == 0 {
        return;
    }
    for outcome in outcomes.iter().filter(|o| !o.rejected_lines.is_empty()) {
        outln!(
            "\n{} {}:",
            lang.pick("Rejected lines in", "被拒绝的行："),
            outcome.feed
        );
        for rejected in outcome.rejected_lines.iter().take(limit) {
            let (file, line, reason) = (&rejected.file, rejected.line, &rejected.reason);
            match lang {
                Lang::En => outln!("  {file} line {line}: {reason}"),
                Lang::ZhCn => outln!("  {file} 第 {line} 行：{reason}"),
            }
        }
        let more = outcome.rejected_lines.len().saturating_sub(limit);
        if more > 0 {
            outln!(
                "  {}",
                lang.pick(
                    &format!("… and {more} more listed with --json"),
                    &format!("……另有 {more} 行，可用 --json 查看")
                )
            );
        }
    }
}

/// `tiq status`.
pub fn status(
    data_dir: &Path,
    config: &Config,
    json: bool,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    // A mistyped --data-dir must not create an empty store that reports nothing synced.
    if !data_dir.join(tiq_engine::DB_FILE).exists() {
        bail!(
            "{} {}: {}",
            lang.pick("no tiq database in", "数据目录中没有 tiq 数据库："),
            data_dir.display(),
            lang.pick(
                "run `tiq sync` or `tiq import` first, or pass the right --data-dir",
                "请先运行 `tiq sync` 或 `tiq import`，或指定正确的 --data-dir"
            )
        );
    }
    let store = tiq_store::Store::open(data_dir).with_context(|| {
        format!(
            "{} {}",
            lang.pick("cannot open the data directory", "无法打开数据目录"),
            data_dir.display()
        )
    })?;
    let status = tiq_sync::status(
        &store,
        &config.sync_settings(),
        time::OffsetDateTime::now_utc(),
    )?;
    if json {
        outln!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(ExitCode::SUCCESS);
    }
    let header = [
        lang.pick("SOURCE", "情报源"),
        lang.pick("STATE", "状态"),
        lang.pick("RECORDS", "记录"),
        lang.pick("LAST SUCCESS", "上次成功"),
        lang.pick("DATA AGE", "数据时效"),
        lang.pick("EVERY", "周期"),
        lang.pick("NEXT TRY", "下次同步"),
        lang.pick("LAST ERROR", "上次错误"),
    ];
    let rows: Vec<Vec<String>> = status
        .feeds
        .iter()
        .map(|f| {
            vec![
                f.name.clone(),
                state_name(f.state, lang).to_string(),
                f.records.to_string(),
                f.last_success.clone().unwrap_or_else(|| "-".to_string()),
                f.age_seconds.map_or_else(|| "-".to_string(), age),
                format_duration(std::time::Duration::from_secs(f.cadence_seconds)),
                f.next_attempt.clone().unwrap_or_else(|| "-".to_string()),
                f.last_error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table(&header, &rows, "");
    if !status.imported.is_empty() {
        outln!();
        outln!(
            "{}",
            lang.pick("Imported by hand (not synced):", "手动导入（不同步）：")
        );
        let header = [
            lang.pick("SOURCE", "来源"),
            lang.pick("RECORDS", "记录"),
            lang.pick("IMPORTED", "导入时间"),
            lang.pick("AGE", "时效"),
        ];
        let rows: Vec<Vec<String>> = status
            .imported
            .iter()
            .map(|s| {
                vec![
                    s.name.clone(),
                    s.records.to_string(),
                    s.imported_at.clone(),
                    s.age_seconds.map_or_else(|| "-".to_string(), age),
                ]
            })
            .collect();
        table(&header, &rows, "  ");
    }
    Ok(ExitCode::SUCCESS)
}

fn state_name(state: FeedState, lang: Lang) -> &'static str {
    match state {
        FeedState::Syncing => lang.pick("syncing", "同步中"),
        FeedState::Failing => lang.pick("failing", "失败"),
        FeedState::Stale => lang.pick("stale", "过期"),
        FeedState::NeverSynced => lang.pick("never synced", "从未同步"),
        FeedState::Ok => lang.pick("ok", "正常"),
        FeedState::Disabled => lang.pick("disabled", "未启用"),
    }
}

/// Formats an age in the largest whole unit.
fn age(seconds: u64) -> String {
    match seconds {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3600 => format!("{}h", s / 3600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[derive(serde::Serialize)]
struct CatalogRow<'a> {
    name: &'a str,
    title: &'a str,
    category: tiq_sync::Category,
    enabled: bool,
    formats: &'a [&'a str],
    cadence: String,
    weight: f64,
    licence: &'a str,
    homepage: &'a str,
    locations: &'a [String],
    /// Name of each download under `<mirror>/<feed>/`, in the order of `locations`.
    mirror_files: Vec<&'a str>,
    note: Option<&'a str>,
}

/// `tiq catalog`.
pub fn catalog(config: &Config, json: bool, lang: Lang) {
    let settings = config.sync_settings();
    let rows: Vec<CatalogRow<'_>> = settings
        .feeds
        .iter()
        .map(|f| CatalogRow {
            name: f.feed.name,
            title: f.feed.title,
            category: f.feed.category,
            enabled: f.enabled,
            formats: f.feed.formats,
            cadence: format_duration(f.cadence),
            weight: f.weight,
            licence: f.feed.licence,
            homepage: f.feed.homepage,
            locations: &f.locations,
            mirror_files: f.feed.downloads.iter().map(|d| d.file).collect(),
            note: f.feed.note,
        })
        .collect();
    if json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("catalog rows serialise")
        );
        return;
    }
    let header = [
        lang.pick("SOURCE", "情报源"),
        lang.pick("KIND", "类别"),
        lang.pick("ON", "启用"),
        lang.pick("EVERY", "周期"),
        lang.pick("WEIGHT", "权重"),
        lang.pick("LICENCE", "许可"),
        lang.pick("FROM", "地址"),
    ];
    let table_rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.name.to_string(),
                r.category.name().to_string(),
                if r.enabled {
                    lang.pick("yes", "是")
                } else {
                    lang.pick("no", "否")
                }
                .to_string(),
                r.cadence.clone(),
                format!("{:.2}", r.weight),
                r.licence.to_string(),
                r.locations.join(" "),
            ]
        })
        .collect();
    table(&header, &table_rows, "");
}
