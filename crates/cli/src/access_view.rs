//! `tiq key` and `tiq audit`, and the audit entries of lookups run from the command line.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use time::OffsetDateTime;
use tiq_access::audit::{AuditFilter, AuditLog, AuditRecord};
use tiq_access::{AccessError, AuditEntry, KeyRecord, Keys, NewKey, ScopeSet, Surface, timefmt};
use tiq_model::Lang;

use crate::args::{AuditAction, AuditArgs, AuditFormat, KeyAction, KeyArgs, KeyCreateArgs};
use crate::config::parse_duration;
use crate::render::{outln, table};

pub fn key(data_dir: &Path, args: &KeyArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    let fail = localized(lang);
    let mut keys = Keys::open(data_dir).map_err(fail)?;
    let now = OffsetDateTime::now_utc();
    match &args.action {
        KeyAction::Create(create) => {
            let new = new_key(create, now, lang)?;
            let (record, secret) = keys.create(&new, now).map_err(fail)?;
            print_secret(&record, &secret, create.json, lang)?;
        }
        KeyAction::List(list) => {
            let records = keys.list().map_err(fail)?;
            let mut rows = Vec::new();
            let mut json = Vec::new();
            for record in &records {
                let last_used = keys.last_used(&record.id).map_err(fail)?;
                if list.json {
                    json.push(key_json(record, None, last_used.as_deref(), now));
                } else {
                    rows.push(vec![
                        record.id.clone(),
                        record.name.clone(),
                        record.scopes.to_string(),
                        record
                            .rate_per_minute
                            .map_or_else(|| "-".to_string(), |rate| format!("{rate}/min")),
                        record
                            .daily_quota
                            .map_or_else(|| "-".to_string(), |quota| quota.to_string()),
                        record
                            .expires
                            .map_or_else(|| "-".to_string(), timefmt::format),
                        state(record, now, lang).to_string(),
                        last_used.unwrap_or_else(|| "-".to_string()),
                    ]);
                }
            }
            if list.json {
                outln!("{}", serde_json::to_string_pretty(&json)?);
            } else if rows.is_empty() {
                outln!(
                    "{}",
                    lang.pick(
                        "no API keys: tiq serve answers loopback clients without one; create one with `tiq key create --name NAME`",
                        "没有 API 密钥：tiq serve 只为环回地址上的客户端提供无需密钥的服务；用 `tiq key create --name 名称` 创建密钥"
                    )
                );
            } else {
                let header = [
                    "ID",
                    lang.pick("NAME", "名称"),
                    lang.pick("SCOPES", "权限范围"),
                    lang.pick("RATE", "速率"),
                    lang.pick("DAILY QUOTA", "每日配额"),
                    lang.pick("EXPIRES", "过期时间"),
                    lang.pick("STATE", "状态"),
                    lang.pick("LAST USED", "最近使用"),
                ];
                table(&header, &rows, "");
            }
        }
        KeyAction::Revoke(reference) => {
            let record = keys.revoke(&reference.key, now).map_err(fail)?;
            outln!(
                "{}",
                match lang {
                    Lang::En => format!(
                        "revoked key {} ({}); a running tiq serve refuses it within a second",
                        record.id, record.name
                    ),
                    Lang::ZhCn => format!(
                        "已吊销密钥 {}（{}）；运行中的 tiq serve 会在一秒内拒绝它",
                        record.id, record.name
                    ),
                }
            );
        }
        KeyAction::Rotate(reference) => {
            let (record, secret) = keys.rotate(&reference.key, now).map_err(fail)?;
            print_secret(&record, &secret, false, lang)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Returns a `map_err` function that turns an [`AccessError`] into an error with its
/// message in `lang`.
fn localized(lang: Lang) -> impl Fn(AccessError) -> anyhow::Error + Copy {
    move |error| anyhow::anyhow!(error.message(lang))
}

fn new_key(args: &KeyCreateArgs, now: OffsetDateTime, lang: Lang) -> anyhow::Result<NewKey> {
    let scopes = match &args.scopes {
        Some(text) => ScopeSet::parse(text).map_err(|error| match lang {
            Lang::En => anyhow::anyhow!("invalid --scopes: {error}"),
            Lang::ZhCn => anyhow::anyhow!(
                "--scopes 无效：{:?} 不是权限范围；可用 {}",
                error.0,
                ScopeSet::all()
            ),
        })?,
        None => ScopeSet::lookups(),
    };
    let rate_per_minute = args
        .rate
        .as_deref()
        .map(|text| parse_rate(text, lang))
        .transpose()?;
    if args.daily_quota == Some(0) {
        bail!(
            "{}",
            lang.pick(
                "invalid --daily-quota 0: give at least 1, or leave it out for no quota",
                "--daily-quota 不能为 0：请至少给 1，或省略以不设配额"
            )
        );
    }
    let expires = args
        .expires
        .as_deref()
        .map(|text| parse_time(text, now, Direction::Ahead, "--expires", lang))
        .transpose()?;
    if expires.is_some_and(|expires| expires <= now) {
        bail!(
            "{}",
            lang.pick(
                "--expires is in the past: give a later date, such as 2027-01-01 or 90d",
                "--expires 已是过去的时间：请给出更晚的日期，例如 2027-01-01 或 90d"
            )
        );
    }
    Ok(NewKey {
        name: args.name.clone(),
        scopes,
        rate_per_minute,
        daily_quota: args.daily_quota,
        expires,
    })
}

/// Reads `60/min`, `60`, or `10/s` as requests per minute.
fn parse_rate(text: &str, lang: Lang) -> anyhow::Result<u32> {
    let trimmed = text.trim().to_ascii_lowercase();
    let (number, per) = trimmed.split_once('/').unwrap_or((&trimmed, "min"));
    let factor = match per.trim() {
        "min" | "m" | "minute" => Some(1),
        "s" | "sec" | "second" => Some(60),
        _ => None,
    };
    let value = number
        .trim()
        .parse::<u32>()
        .ok()
        .zip(factor)
        .and_then(|(n, f)| n.checked_mul(f))
        .filter(|n| *n > 0);
    value.ok_or_else(|| match lang {
        Lang::En => anyhow::anyhow!(
            "invalid --rate {text:?}: write requests per minute or per second, such as 60/min or 10/s"
        ),
        Lang::ZhCn => anyhow::anyhow!(
            "--rate {text:?} 无效：请写每分钟或每秒的请求数，例如 60/min 或 10/s"
        ),
    })
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Ahead,
    Back,
}

/// Reads a date (00:00 UTC), an RFC 3339 time, or a period from now (`90d`, `24h`).
fn parse_time(
    text: &str,
    now: OffsetDateTime,
    direction: Direction,
    flag: &str,
    lang: Lang,
) -> anyhow::Result<OffsetDateTime> {
    let text = text.trim();
    if let Some(time) = timefmt::parse(text) {
        return Ok(time);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text, &date_format) {
        return Ok(date.midnight().assume_utc());
    }
    // A period too long for a date (beyond year 9999) is refused like any bad value.
    let shifted = parse_duration(text).and_then(|period| {
        let period = time::Duration::try_from(period).ok()?;
        match direction {
            Direction::Ahead => now.checked_add(period),
            Direction::Back => now.checked_sub(period),
        }
    });
    if let Some(time) = shifted {
        return Ok(time);
    }
    Err(match lang {
        Lang::En => anyhow::anyhow!(
            "invalid {flag} {text:?}: write a date such as 2027-01-01, a time such as 2027-01-01T08:00:00Z, or a period such as 24h or 90d"
        ),
        Lang::ZhCn => anyhow::anyhow!(
            "{flag} {text:?} 无效：请写日期（如 2027-01-01）、时间（如 2027-01-01T08:00:00Z）或时长（如 24h 或 90d）"
        ),
    })
}

fn state(record: &KeyRecord, now: OffsetDateTime, lang: Lang) -> &'static str {
    if record.revoked.is_some() {
        lang.pick("revoked", "已吊销")
    } else if record.is_expired(now) {
        lang.pick("expired", "已过期")
    } else {
        lang.pick("active", "有效")
    }
}

fn key_json(
    record: &KeyRecord,
    secret: Option<&str>,
    last_used: Option<&str>,
    now: OffsetDateTime,
) -> serde_json::Value {
    let mut value = serde_json::json!({
        "id": record.id,
        "name": record.name,
        "scopes": record.scopes.iter().map(|scope| scope.name()).collect::<Vec<_>>(),
        "rate_per_minute": record.rate_per_minute,
        "daily_quota": record.daily_quota,
        "created": timefmt::format(record.created),
        "expires": record.expires.map(timefmt::format),
        "revoked": record.revoked.map(timefmt::format),
        "rotated": record.rotated.map(timefmt::format),
        "state": state(record, now, Lang::En),
    });
    if let Some(secret) = secret {
        value["key"] = serde_json::json!(secret);
    }
    if secret.is_none() {
        value["last_used"] = serde_json::json!(last_used);
    }
    value
}

fn print_secret(record: &KeyRecord, secret: &str, json: bool, lang: Lang) -> anyhow::Result<()> {
    if json {
        let value = key_json(record, Some(secret), None, OffsetDateTime::now_utc());
        outln!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let limits = format!(
        "{}: {}; {}: {}; {}: {}; {}: {}",
        lang.pick("scopes", "权限范围"),
        record.scopes,
        lang.pick("rate", "速率"),
        record.rate_per_minute.map_or_else(
            || lang.pick("no limit", "不限").to_string(),
            |rate| format!("{rate}/min")
        ),
        lang.pick("daily quota", "每日配额"),
        record.daily_quota.map_or_else(
            || lang.pick("no limit", "不限").to_string(),
            |quota| quota.to_string()
        ),
        lang.pick("expires", "过期时间"),
        record
            .expires
            .map_or_else(|| lang.pick("never", "永不").to_string(), timefmt::format),
    );
    outln!(
        "{} {} ({})",
        lang.pick("key", "密钥"),
        record.id,
        record.name
    );
    outln!("  {limits}");
    outln!(
        "{}",
        lang.pick(
            "The secret below is shown this once; tiq keeps only its hash. Store it now:",
            "下面的密钥内容只显示这一次，tiq 只保存其哈希。请立即妥善保存："
        )
    );
    outln!("{secret}");
    Ok(())
}

pub fn audit(data_dir: &Path, args: &AuditArgs, lang: Lang) -> anyhow::Result<ExitCode> {
    let fail = localized(lang);
    let mut log = AuditLog::open(data_dir).map_err(fail)?;
    let now = OffsetDateTime::now_utc();
    let filtered = args.since.is_some()
        || args.until.is_some()
        || args.key_filter.is_some()
        || args.tool.is_some()
        || args.limit.is_some()
        || args.format != AuditFormat::Table;
    if args.action.is_some() && filtered {
        bail!(
            "{}",
            lang.pick(
                "--since, --until, --key, --tool, --format and --limit choose entries to list; `tiq audit verify` and `tiq audit prune` take none of them",
                "--since、--until、--key、--tool、--format 和 --limit 用于筛选要列出的记录；`tiq audit verify` 和 `tiq audit prune` 不接受这些选项"
            )
        );
    }
    match &args.action {
        Some(AuditAction::Verify) => {
            let verification = log.verify().map_err(fail)?;
            return Ok(match verification.first_break {
                None => {
                    let range = match verification.last {
                        Some(last) => format!("{}–{last}", verification.anchor + 1),
                        None => "-".to_string(),
                    };
                    outln!(
                        "{}",
                        match lang {
                            Lang::En => format!(
                                "audit log intact: {} {} checked ({range})",
                                verification.checked,
                                if verification.checked == 1 {
                                    "entry"
                                } else {
                                    "entries"
                                }
                            ),
                            Lang::ZhCn => format!(
                                "审计日志完整：已校验 {} 条记录（{range}）",
                                verification.checked
                            ),
                        }
                    );
                    ExitCode::SUCCESS
                }
                Some(found) => {
                    eprintln!(
                        "{}: {}",
                        lang.pick("audit log broken", "审计日志已被破坏"),
                        found.message(lang)
                    );
                    ExitCode::FAILURE
                }
            });
        }
        Some(AuditAction::Prune(prune)) => {
            let before = parse_duration(&prune.older_than)
                .filter(|period| *period >= Duration::from_secs(3600))
                .and_then(|period| time::Duration::try_from(period).ok())
                .and_then(|period| now.checked_sub(period))
                .ok_or_else(|| match lang {
                    Lang::En => anyhow::anyhow!(
                        "invalid --older-than {:?}: write a period of at least an hour, such as 90d",
                        prune.older_than
                    ),
                    Lang::ZhCn => anyhow::anyhow!(
                        "--older-than {:?} 无效：请写不少于一小时的时长，例如 90d",
                        prune.older_than
                    ),
                })?;
            let removed = log.prune(before).map_err(fail)?;
            outln!(
                "{}",
                match lang {
                    Lang::En => format!(
                        "removed {removed} audit entries older than {}",
                        prune.older_than
                    ),
                    Lang::ZhCn =>
                        format!("已删除 {removed} 条早于 {} 的审计记录", prune.older_than),
                }
            );
            return Ok(ExitCode::SUCCESS);
        }
        None => {}
    }
    let key_id = match &args.key_filter {
        Some(reference) => {
            let keys = Keys::open(data_dir).map_err(fail)?;
            let record = keys.find(reference).map_err(fail)?;
            // A key since deleted from the table can still be named by its id.
            Some(record.map_or_else(|| reference.clone(), |record| record.id))
        }
        None => None,
    };
    let filter = AuditFilter {
        since: args
            .since
            .as_deref()
            .map(|text| parse_time(text, now, Direction::Back, "--since", lang))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|text| parse_time(text, now, Direction::Back, "--until", lang))
            .transpose()?,
        key_id,
        tool: args.tool.clone(),
        limit: args.limit,
    };
    let records = log.entries(&filter).map_err(fail)?;
    match args.format {
        AuditFormat::Jsonl => {
            for record in &records {
                outln!("{}", serde_json::to_string(record)?);
            }
        }
        AuditFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for record in &records {
                writer.serialize(record).context("cannot write CSV")?;
            }
            if records.is_empty() {
                writer
                    .write_record(CSV_HEADER)
                    .context("cannot write CSV")?;
            }
            let bytes = writer.into_inner().context("cannot write CSV")?;
            let text = String::from_utf8(bytes).context("cannot write CSV")?;
            for line in text.lines() {
                outln!("{line}");
            }
        }
        AuditFormat::Table => {
            if records.is_empty() {
                outln!(
                    "{}",
                    lang.pick("no audit entries match", "没有符合条件的审计记录")
                );
            } else {
                let rows: Vec<Vec<String>> = records.iter().map(table_row).collect();
                let header = [
                    "SEQ",
                    lang.pick("TIME (UTC)", "时间（UTC）"),
                    lang.pick("KEY", "密钥"),
                    lang.pick("CLIENT", "客户端"),
                    lang.pick("SURFACE", "接口"),
                    lang.pick("TOOL", "工具"),
                    lang.pick("STATUS", "状态"),
                    lang.pick("MS", "毫秒"),
                    lang.pick("VERDICT", "结论"),
                    lang.pick("QUERY", "查询"),
                ];
                table(&header, &rows, "");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

const CSV_HEADER: [&str; 13] = [
    "seq",
    "time",
    "request_id",
    "key_id",
    "client",
    "surface",
    "tool",
    "query",
    "verdict",
    "status",
    "latency_us",
    "prev",
    "hash",
];

fn table_row(record: &AuditRecord) -> Vec<String> {
    let mut query = record.query.clone().unwrap_or_else(|| "-".to_string());
    if query.chars().count() > 60 {
        query = format!("{}…", query.chars().take(59).collect::<String>());
    }
    vec![
        record.seq.to_string(),
        record
            .time
            .get(..19)
            .unwrap_or(&record.time)
            .replace('T', " "),
        record.key_id.clone().unwrap_or_else(|| "-".to_string()),
        record.client.clone().unwrap_or_else(|| "-".to_string()),
        record.surface.clone(),
        record.tool.clone(),
        record.status.to_string(),
        format!("{:.1}", record.latency_us as f64 / 1000.0),
        record.verdict.clone().unwrap_or_else(|| "-".to_string()),
        query,
    ]
}

/// Appends the audit entry of a lookup run from the command line. A failure to write it is
/// logged and does not fail the lookup, whose result is already printed.
pub fn record_lookup(
    data_dir: &Path,
    tool: &str,
    query: &str,
    verdict: Option<String>,
    status: u16,
    started: Instant,
) {
    let entry = AuditEntry {
        time: OffsetDateTime::now_utc(),
        request_id: format!("cli-{}", std::process::id()),
        key_id: None,
        client: Some("local".to_string()),
        surface: Surface::Cli,
        tool: tool.to_string(),
        query: Some(query.to_string()),
        verdict,
        status,
        latency: started.elapsed(),
    };
    let written = AuditLog::open(data_dir).and_then(|mut log| log.append(vec![entry]));
    if let Err(error) = written {
        tracing::warn!(%error, "cannot write the audit entry of this lookup");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rates_and_times_are_read() {
        assert_eq!(parse_rate("60/min", Lang::En).unwrap(), 60);
        assert_eq!(parse_rate("60", Lang::En).unwrap(), 60);
        assert_eq!(parse_rate("10/s", Lang::En).unwrap(), 600);
        let error = parse_rate("5/h", Lang::En).unwrap_err().to_string();
        assert!(error.contains("\"5/h\""), "{error}");
        assert!(error.contains("60/min"), "{error}");
        assert!(parse_rate("0", Lang::En).is_err());

        let now = datetime!(2026-05-01 12:00 UTC);
        assert_eq!(
            parse_time("2027-01-01", now, Direction::Ahead, "--expires", Lang::En).unwrap(),
            datetime!(2027-01-01 00:00 UTC)
        );
        assert_eq!(
            parse_time("90d", now, Direction::Ahead, "--expires", Lang::En).unwrap(),
            datetime!(2026-07-30 12:00 UTC)
        );
        assert_eq!(
            parse_time("24h", now, Direction::Back, "--since", Lang::En).unwrap(),
            datetime!(2026-04-30 12:00 UTC)
        );
        let error = parse_time("yesterday", now, Direction::Back, "--since", Lang::En)
            .unwrap_err()
            .to_string();
        assert!(error.contains("--since"), "{error}");
        assert!(error.contains("\"yesterday\""), "{error}");
    }
}
