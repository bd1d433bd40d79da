//! `search_vul`: reading the query (CVE id, CNVD or CNNVD id, product and version, or
//! keywords), the filters, the order, and the opaque paging cursor.

use tiq_model::indicator::parse_cve;
use tiq_model::vuln::VulnQueryKind;
use tiq_model::{Lang, VulnSearch, Vulnerability};
use tiq_store::{Store, StoreError, VulnFilter, VulnOrder};

use super::index::{StoredVuln, severity_rank};
use super::render::{self, CveMentions, VersionMatch};
use super::version::{self, Affected, Status};

/// Results per page unless the caller asks for another size.
pub const DEFAULT_PAGE_SIZE: usize = 10;
/// Largest page a caller may ask for.
pub const MAX_PAGE_SIZE: usize = 50;
/// Maximum pages a cursor may reach; beyond them the caller narrows the query.
pub const MAX_PAGES: usize = 100;
/// Maximum query length, in characters.
const MAX_QUERY_CHARS: usize = 200;

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VulnSort {
    /// Best text match first for keywords; priority for products.
    #[default]
    Relevance,
    /// In KEV or exploited first, then EPSS, then CVSS.
    Priority,
    /// Newest published first.
    Date,
}

impl VulnSort {
    /// Reads a sort name (`relevance`, `priority` or `date`, any case); none or an empty one
    /// is relevance.
    pub fn from_name(name: Option<&str>) -> Result<VulnSort, SearchError> {
        let lower = name.map(|s| s.trim().to_ascii_lowercase());
        match lower.as_deref() {
            None | Some("") | Some("relevance") => Ok(VulnSort::Relevance),
            Some("priority") => Ok(VulnSort::Priority),
            Some("date") => Ok(VulnSort::Date),
            Some(_) => Err(SearchError::InvalidSort {
                value: name.unwrap_or_default().to_string(),
            }),
        }
    }
}

/// A search request.
#[derive(Debug, Clone, Default)]
pub struct VulnQuery {
    pub query: String,
    /// `critical`, `high`, `medium` or `low`.
    pub min_severity: Option<String>,
    pub kev_only: bool,
    pub exploited_only: bool,
    pub with_exploit_only: bool,
    /// `YYYY-MM-DD`.
    pub since: Option<String>,
    pub sort: VulnSort,
    pub page_size: Option<usize>,
    pub cursor: Option<String>,
}

/// A request the search cannot run, with the value at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    #[error(
        "the query is empty: pass a CVE id, a CNVD or CNNVD id, a product and version, or keywords"
    )]
    Empty,
    #[error("the query is over {MAX_QUERY_CHARS} characters; shorten it")]
    TooLong,
    #[error("the query {value:?} has no letters or digits to search for")]
    NoWords { value: String },
    #[error("the version {value:?} is a pattern; name one release such as 10.2.9")]
    VersionPattern { value: String },
    #[error("{value:?} is not a valid {kind} id; expected a form such as {example}")]
    InvalidId {
        value: String,
        kind: &'static str,
        example: &'static str,
    },
    #[error(
        "{alias} cannot be looked up because no CNVD or CNNVD to CVE alias table is imported; import a two-column CSV (alias,cve) with tiq import"
    )]
    NoAliasTable { alias: String },
    #[error(transparent)]
    InvalidVersion(#[from] version::VersionError),
    #[error("invalid min_severity {value:?}: use critical, high, medium or low")]
    InvalidSeverity { value: String },
    #[error("invalid sort {value:?}: use relevance, priority or date")]
    InvalidSort { value: String },
    #[error("invalid since {value:?}: use a date such as 2024-01-31")]
    InvalidSince { value: String },
    #[error("invalid page_size {value}: use 1 to {MAX_PAGE_SIZE}")]
    InvalidPageSize { value: usize },
    #[error("invalid cursor {value:?}: pass the next_cursor of the previous page unchanged")]
    InvalidCursor { value: String },
    #[error(
        "the cursor belongs to another query or to data that has changed since; run the search again without a cursor"
    )]
    StaleCursor,
    #[error("the cursor is past page {MAX_PAGES}; narrow the query with filters instead")]
    TooDeep,
    #[error("vulnerability search failed: {0}")]
    Store(#[from] StoreError),
}

impl SearchError {
    /// Renders the error in the requested language.
    pub fn message(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.to_string(),
            Lang::ZhCn => match self {
                SearchError::Empty => {
                    "查询为空：请传入 CVE 编号、CNVD 或 CNNVD 编号、产品名加版本，或关键词"
                        .to_string()
                }
                SearchError::TooLong => format!("查询超过 {MAX_QUERY_CHARS} 个字符，请缩短"),
                SearchError::NoWords { value } => {
                    format!("查询“{value}”中没有可搜索的字母或数字")
                }
                SearchError::VersionPattern { value } => {
                    format!("版本“{value}”是一个范围模式；请给出具体版本，例如 10.2.9")
                }
                SearchError::InvalidId {
                    value,
                    kind,
                    example,
                } => {
                    format!("“{value}”不是有效的 {kind} 编号，正确写法如 {example}")
                }
                SearchError::NoAliasTable { alias } => format!(
                    "无法查询 {alias}：尚未导入 CNVD/CNNVD 到 CVE 的对照表；请用 tiq import 导入两列 CSV（alias,cve）"
                ),
                SearchError::InvalidVersion(error) => {
                    format!("无效的版本号“{}”：{}", error.version, error.reason)
                }
                SearchError::InvalidSeverity { value } => {
                    format!("无效的 min_severity“{value}”：请使用 critical、high、medium 或 low")
                }
                SearchError::InvalidSort { value } => {
                    format!("无效的 sort“{value}”：请使用 relevance、priority 或 date")
                }
                SearchError::InvalidSince { value } => {
                    format!("无效的 since“{value}”：请使用 2024-01-31 这样的日期")
                }
                SearchError::InvalidPageSize { value } => {
                    format!("无效的 page_size {value}：请使用 1 到 {MAX_PAGE_SIZE}")
                }
                SearchError::InvalidCursor { value } => {
                    format!("无效的 cursor“{value}”：请原样传入上一页的 next_cursor")
                }
                SearchError::StaleCursor => {
                    "该 cursor 属于其他查询，或数据已更新；请去掉 cursor 重新查询".to_string()
                }
                SearchError::TooDeep => {
                    format!("cursor 已超过第 {MAX_PAGES} 页；请用过滤条件缩小查询范围")
                }
                SearchError::Store(error) => format!("漏洞查询失败：{error}"),
            },
        }
    }

    /// Returns whether the caller can fix the request (as opposed to a store failure).
    pub fn is_invalid_request(&self) -> bool {
        !matches!(self, SearchError::Store(_))
    }
}

/// The parsed query.
enum Parsed {
    Id(String),
    /// The CVEs an alias names; empty when the alias table does not list it.
    Alias(Vec<String>),
    Product {
        product: String,
        version: String,
    },
    Keyword(Vec<String>),
}

/// Runs a search. `mentions` adds related intelligence to each result.
pub fn search(
    store: &Store,
    request: &VulnQuery,
    mentions: &CveMentions,
    lang: Lang,
) -> Result<VulnSearch, SearchError> {
    let normalized = normalize_dashes(request.query.trim());
    let query = normalized.as_str();
    if query.is_empty() {
        return Err(SearchError::Empty);
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(SearchError::TooLong);
    }
    let filter = filter(request)?;
    let page_size = match request.page_size {
        None => DEFAULT_PAGE_SIZE,
        Some(size) if (1..=MAX_PAGE_SIZE).contains(&size) => size,
        Some(size) => return Err(SearchError::InvalidPageSize { value: size }),
    };
    let parsed = parse(query, store)?;
    let data_version = store.vuln_index_version()?.unwrap_or_default();
    let fingerprint = fingerprint(query, request, page_size, &data_version);
    let offset = match &request.cursor {
        Some(cursor) => read_cursor(cursor, fingerprint, page_size)?,
        None => 0,
    };

    let (kind, product, version, total, results) = match parsed {
        Parsed::Id(cve) => {
            let results = by_ids(store, &[cve], mentions, lang)?;
            (VulnQueryKind::Id, None, None, results.len() as u64, results)
        }
        Parsed::Alias(cves) => {
            let results = by_ids(store, &cves, mentions, lang)?;
            (
                VulnQueryKind::Alias,
                None,
                None,
                results.len() as u64,
                results,
            )
        }
        Parsed::Keyword(words) => {
            let terms: Vec<String> = words.iter().map(|w| format!("\"{w}\"")).collect();
            let order = match request.sort {
                VulnSort::Relevance => VulnOrder::Relevance,
                VulnSort::Priority => VulnOrder::Priority,
                VulnSort::Date => VulnOrder::Date,
            };
            let mut fts = terms.join(" ");
            let (mut total, mut rows) =
                store.search_vulns(&fts, &filter, order, offset, page_size)?;
            if total == 0 {
                // Words match whole after stemming, because a prefix term costs several times
                // as much over a large index. With nothing found, the last word is tried as a
                // prefix, so "log4j" finds "Log4j2".
                fts.push('*');
                (total, rows) = store.search_vulns(&fts, &filter, order, offset, page_size)?;
            }
            let results = rows
                .iter()
                .filter_map(|data| stored(data))
                .map(|v| result(store, &v, None, mentions, lang))
                .collect::<Result<_, _>>()?;
            (VulnQueryKind::Keyword, None, None, total, results)
        }
        Parsed::Product { product, version } => {
            let (total, results) = product_search(
                store,
                &product,
                &version,
                &filter,
                request.sort,
                offset,
                page_size,
                mentions,
                lang,
            )?;
            (
                VulnQueryKind::Product,
                Some(product),
                Some(version),
                total,
                results,
            )
        }
    };

    let next = offset + page_size;
    let next_cursor = (next < total as usize && next / page_size < MAX_PAGES)
        .then(|| write_cursor(next, fingerprint));
    let mut search = VulnSearch {
        query: query.to_string(),
        query_kind: kind,
        product,
        version,
        total,
        total_capped: kind == VulnQueryKind::Keyword && total >= tiq_store::COUNT_CAP as u64,
        results,
        next_cursor,
        summary: String::new(),
        suggestion: None,
        lang,
    };
    if search.total == 0 {
        search.suggestion = suggestion(&search, request);
    }
    search.summary = summary(&search, request, offset, mentions, lang);
    Ok(search)
}

/// Renders one result with its aliases.
fn result(
    store: &Store,
    vuln: &StoredVuln,
    matched: Option<VersionMatch<'_>>,
    mentions: &CveMentions,
    lang: Lang,
) -> Result<Vulnerability, StoreError> {
    let aliases = store.vuln_aliases_of(&vuln.id)?;
    Ok(render::vulnerability(
        vuln, aliases, matched, mentions, lang,
    ))
}

fn stored(data: &str) -> Option<StoredVuln> {
    match serde_json::from_str(data) {
        Ok(vuln) => Some(vuln),
        Err(error) => {
            tracing::warn!(%error, "skipped an unreadable vulnerability row; it is rebuilt with the next import");
            None
        }
    }
}

fn filter(request: &VulnQuery) -> Result<VulnFilter, SearchError> {
    let min_severity = match request.min_severity.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(value) => match severity_rank(&value.to_ascii_lowercase()) {
            0 => {
                return Err(SearchError::InvalidSeverity {
                    value: value.to_string(),
                });
            }
            rank => rank,
        },
    };
    let since = match request.since.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(value) => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(value, &format).map_err(|_| SearchError::InvalidSince {
                value: value.to_string(),
            })?;
            Some(value.to_string())
        }
    };
    Ok(VulnFilter {
        min_severity,
        kev_only: request.kev_only,
        exploited_only: request.exploited_only,
        with_exploit_only: request.with_exploit_only,
        since,
    })
}

/// Replaces the dashes that web pages and word processors put in ids (U+2010 to U+2015,
/// U+2212, U+FF0D) with `-`.
fn normalize_dashes(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{ff0d}' => '-',
            c => c,
        })
        .collect()
}

/// Renders the stored CVEs among `cves`, in the given order.
fn by_ids(
    store: &Store,
    cves: &[String],
    mentions: &CveMentions,
    lang: Lang,
) -> Result<Vec<Vulnerability>, SearchError> {
    let mut results = Vec::new();
    for cve in cves {
        if let Some(vuln) = store.vuln(cve)?.and_then(|data| stored(&data)) {
            results.push(result(store, &vuln, None, mentions, lang)?);
        }
    }
    Ok(results)
}

fn parse(query: &str, store: &Store) -> Result<Parsed, SearchError> {
    let upper = query.to_ascii_uppercase();
    let id_form = |prefix: &str| {
        [
            format!("{prefix}-"),
            format!("{prefix}_"),
            format!("{prefix} "),
        ]
        .iter()
        .any(|start| upper.starts_with(start.as_str()))
    };
    if id_form("CVE") {
        return parse_cve(&upper.replace(['_', ' '], "-"))
            .map(Parsed::Id)
            .map_err(|_| SearchError::InvalidId {
                value: query.to_string(),
                kind: "CVE",
                example: "CVE-2024-3400",
            });
    }
    for (prefix, example) in [("CNNVD", "CNNVD-202404-1234"), ("CNVD", "CNVD-2024-12345")] {
        if id_form(prefix) {
            let alias = upper.replace(['_', ' '], "-");
            if !tiq_feeds::vulnerabilities::is_alias_id(&alias) {
                return Err(SearchError::InvalidId {
                    value: query.to_string(),
                    kind: prefix,
                    example,
                });
            }
            if store.vuln_alias_count()? == 0 {
                return Err(SearchError::NoAliasTable { alias });
            }
            return Ok(Parsed::Alias(store.vuln_alias(&alias)?));
        }
    }
    let words: Vec<&str> = query.split_whitespace().collect();
    if let [product @ .., last] = words.as_slice()
        && !product.is_empty()
        && looks_like_version(last)
    {
        version::check_version(last)?;
        if last
            .split(['.', '-'])
            .any(|part| part.eq_ignore_ascii_case("x"))
            || last.contains('*')
        {
            return Err(SearchError::VersionPattern {
                value: last.to_string(),
            });
        }
        return Ok(Parsed::Product {
            product: product.join(" "),
            version: last.trim_start_matches(['v', 'V']).to_string(),
        });
    }
    let words = fts_words(query);
    if words.is_empty() {
        return Err(SearchError::NoWords {
            value: query.to_string(),
        });
    }
    Ok(Parsed::Keyword(words))
}

/// Returns whether a word starts with a digit (or `v` and a digit) and contains a dot or only
/// digits: `9.0.30`, `v2.4.49`, `1.1.1l`, `10`.
fn looks_like_version(word: &str) -> bool {
    let word = word.strip_prefix(['v', 'V']).unwrap_or(word);
    word.starts_with(|c: char| c.is_ascii_digit())
        && (word.contains('.') || word.bytes().all(|b| b.is_ascii_digit()))
}

/// Words of a query as FTS5 terms: letters and digits only, so no query can carry FTS syntax.
fn fts_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn product_search(
    store: &Store,
    product: &str,
    version: &str,
    filter: &VulnFilter,
    sort: VulnSort,
    offset: usize,
    page_size: usize,
    mentions: &CveMentions,
    lang: Lang,
) -> Result<(u64, Vec<Vulnerability>), SearchError> {
    let words = fts_words(product);
    if words.is_empty() {
        return Err(SearchError::Empty);
    }
    let fts = words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(" ");
    // Entries of one CVE stay together: a product can have one entry per release branch.
    let mut by_cve: Vec<(String, Vec<Affected>)> = Vec::new();
    for (cve, json) in store.vuln_product_candidates(&fts, filter)? {
        let Ok(affected) = serde_json::from_str::<Affected>(&json) else {
            continue;
        };
        if !names_product(&affected, &words) {
            continue;
        }
        match by_cve.iter_mut().find(|(known, _)| *known == cve) {
            Some((_, entries)) => entries.push(affected),
            None => by_cve.push((cve, vec![affected])),
        }
    }
    let matches: Vec<(String, Affected, Option<String>)> = by_cve
        .into_iter()
        .filter_map(|(cve, entries)| {
            let fixed = branch_fix(&entries, version);
            if fixed.as_ref().is_some_and(|(_, reached)| *reached) {
                return None;
            }
            let entry = entries
                .into_iter()
                .find(|a| version::status_of(a, version) == Status::Affected)?;
            Some((cve, entry, fixed.map(|(fix, _)| fix)))
        })
        .collect();
    let total = matches.len() as u64;
    let mut page = Vec::new();
    if sort == VulnSort::Date {
        let mut dated = Vec::with_capacity(matches.len());
        for (cve, affected, fixed) in matches {
            if let Some(vuln) = store.vuln(&cve)?.and_then(|data| stored(&data)) {
                dated.push((vuln, affected, fixed));
            }
        }
        dated.sort_by(|(a, ..), (b, ..)| b.published.cmp(&a.published).then(b.id.cmp(&a.id)));
        page.extend(dated.into_iter().skip(offset).take(page_size));
    } else {
        for (cve, affected, fixed) in matches.into_iter().skip(offset).take(page_size) {
            if let Some(vuln) = store.vuln(&cve)?.and_then(|data| stored(&data)) {
                page.push((vuln, affected, fixed));
            }
        }
    }
    let results = page
        .iter()
        .map(|(vuln, affected, fixed)| {
            let matched = VersionMatch {
                version,
                affected,
                branch_fix: fixed.as_deref(),
            };
            result(store, vuln, Some(matched), mentions, lang)
        })
        .collect::<Result<_, _>>()?;
    Ok((total, results))
}

/// Returns whether an affected entry names the queried product: every word of its product
/// name is a query word or a vendor word, so "WordPress" does not match the product
/// "Contact Form for WordPress" and "Office" does not match "IP Office".
fn names_product(affected: &Affected, query_words: &[String]) -> bool {
    let vendor = fts_words(affected.vendor.as_deref().unwrap_or_default());
    let product = fts_words(affected.product.as_deref().unwrap_or_default());
    !product.is_empty()
        && product
            .iter()
            .all(|word| query_words.contains(word) || vendor.contains(word))
}

/// Returns the fix of the release branch closest to `version` among the fix points of a product's
/// entries (`lessThan` bounds and changes to unaffected), and whether `version` has reached
/// it. The closest branch is the one whose fix shares the most leading version components
/// with `version`, so 115.16.1 is fixed when entries end at 115.16.1 and at 128.3.1, and
/// 10.2.5 is not fixed by a 10.1 fix. `None` when there are fewer than two fix points.
pub(super) fn branch_fix(entries: &[Affected], version: &str) -> Option<(String, bool)> {
    let mut fixes: Vec<&str> = Vec::new();
    for entry in entries.iter().flat_map(|a| &a.versions) {
        if entry.status != "affected" {
            continue;
        }
        if let Some(bound) = entry.less_than.as_deref().filter(|b| !b.contains('*')) {
            fixes.push(bound);
        }
        for change in entry.changes.iter().filter(|c| c.status == "unaffected") {
            fixes.push(&change.at);
        }
    }
    fixes.sort_by(|a, b| version::compare_versions(a, b));
    fixes.dedup();
    if fixes.len() < 2 {
        return None;
    }
    let shared = |fix: &str| {
        fix.split('.')
            .zip(version.split('.'))
            .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
            .count()
    };
    let closest = fixes.iter().map(|f| shared(f)).max()?;
    if closest == 0 {
        return None;
    }
    let branch: Vec<&str> = fixes.into_iter().filter(|f| shared(f) == closest).collect();
    match branch
        .iter()
        .find(|f| version::compare_versions(version, f) == std::cmp::Ordering::Less)
    {
        Some(next) => Some((next.to_string(), false)),
        None => branch.last().map(|last| (last.to_string(), true)),
    }
}

/// FNV-1a over the query, filters, page size and data version: a cursor is valid only for
/// the search that made it, over the same data.
fn fingerprint(query: &str, request: &VulnQuery, page_size: usize, data_version: &str) -> u64 {
    let text = format!(
        "{query}\u{1}{:?}\u{1}{}{}{}\u{1}{:?}\u{1}{:?}\u{1}{page_size}\u{1}{data_version}",
        request.min_severity,
        request.kev_only,
        request.exploited_only,
        request.with_exploit_only,
        request.since,
        request.sort
    );
    fnv1a(text.bytes())
}

fn fnv1a(bytes: impl Iterator<Item = u8>) -> u64 {
    bytes.fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Writes a cursor: `c2`, the hex offset, and a check over the offset and the search's
/// fingerprint, so an edited offset or a cursor of another search fails the check.
fn write_cursor(offset: usize, fingerprint: u64) -> String {
    format!("c2{offset:08x}{:016x}", cursor_check(offset, fingerprint))
}

fn cursor_check(offset: usize, fingerprint: u64) -> u64 {
    fnv1a(format!("{offset}\u{1}{fingerprint}").bytes())
}

fn read_cursor(cursor: &str, fingerprint: u64, page_size: usize) -> Result<usize, SearchError> {
    let invalid = || SearchError::InvalidCursor {
        value: cursor.chars().take(80).collect(),
    };
    let body = cursor.strip_prefix("c2").ok_or_else(invalid)?;
    if body.len() != 24 || !body.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let offset = usize::from_str_radix(&body[..8], 16).map_err(|_| invalid())?;
    let check = u64::from_str_radix(&body[8..], 16).map_err(|_| invalid())?;
    if check != cursor_check(offset, fingerprint) {
        return Err(SearchError::StaleCursor);
    }
    if offset % page_size != 0 {
        return Err(invalid());
    }
    if offset / page_size >= MAX_PAGES {
        return Err(SearchError::TooDeep);
    }
    Ok(offset)
}

fn has_filters(request: &VulnQuery) -> bool {
    request
        .min_severity
        .as_deref()
        .is_some_and(|s| !s.trim().is_empty())
        || request.kev_only
        || request.exploited_only
        || request.with_exploit_only
        || request
            .since
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty())
}

fn suggestion(search: &VulnSearch, request: &VulnQuery) -> Option<String> {
    if has_filters(request) {
        return Some(search.query.clone());
    }
    match search.query_kind {
        VulnQueryKind::Product => search.product.clone(),
        VulnQueryKind::Keyword => {
            let words: Vec<&str> = search.query.split_whitespace().collect();
            (words.len() > 1).then(|| words[..words.len() - 1].join(" "))
        }
        _ => None,
    }
}

fn summary(
    search: &VulnSearch,
    request: &VulnQuery,
    offset: usize,
    mentions: &CveMentions,
    lang: Lang,
) -> String {
    if search.total == 0 {
        let filtered = has_filters(request);
        let mut text = match (lang, search.query_kind) {
            (Lang::En, VulnQueryKind::Alias) => format!(
                "{} is not in the imported CNVD and CNNVD alias table; import a table that maps it, or search by its CVE id.",
                search.query.to_ascii_uppercase()
            ),
            (Lang::ZhCn, VulnQueryKind::Alias) => format!(
                "已导入的 CNVD/CNNVD 对照表中没有 {}；请导入包含该编号的对照表，或直接按 CVE 编号查询。",
                search.query.to_ascii_uppercase()
            ),
            (Lang::En, VulnQueryKind::Id) => format!(
                "No loaded vulnerability record matches {}. The CVE, KEV, EPSS and Exploit-DB data may not cover it: run tiq sync cve cisa-kev epss exploitdb.",
                search.query
            ),
            (Lang::ZhCn, VulnQueryKind::Id) => format!(
                "已加载的漏洞数据中没有 {}。CVE、KEV、EPSS 和 Exploit-DB 数据可能未覆盖该编号：请运行 tiq sync cve cisa-kev epss exploitdb。",
                search.query
            ),
            (Lang::En, _) => format!("No vulnerability matches \"{}\".", search.query),
            (Lang::ZhCn, _) => format!("没有与“{}”匹配的漏洞。", search.query),
        };
        let named_by = match search.query_kind {
            VulnQueryKind::Id => mentions
                .indicators
                .get(&search.query.to_ascii_uppercase().replace(['_', ' '], "-"))
                .map(Vec::as_slice)
                .unwrap_or_default(),
            _ => &[],
        };
        if !named_by.is_empty() {
            let examples = named_by.iter().take(3).cloned().collect::<Vec<_>>();
            text.push_str(&match lang {
                Lang::En => format!(
                    " {} stored indicators name it, such as {}.",
                    named_by.len(),
                    examples.join(", ")
                ),
                Lang::ZhCn => format!(
                    "本地有 {} 个指标的标签提到它，例如 {}。",
                    named_by.len(),
                    examples.join("、")
                ),
            });
        }
        if let Some(broader) = &search.suggestion {
            text.push_str(&match (lang, filtered) {
                (Lang::En, true) => format!(" Try \"{broader}\" without filters."),
                (Lang::ZhCn, true) => format!("可去掉过滤条件重试“{broader}”。"),
                (Lang::En, false) => format!(" Try a broader query such as \"{broader}\"."),
                (Lang::ZhCn, false) => format!("可尝试更宽泛的查询，例如“{broader}”。"),
            });
        }
        return text;
    }
    let exploited = search
        .results
        .iter()
        .filter(|v| v.exploitation.known_exploited)
        .count();
    let mut text = match (lang, search.query_kind) {
        (Lang::En, VulnQueryKind::Product) => format!(
            "{} {} is affected by {}.",
            search.product.as_deref().unwrap_or_default(),
            search.version.as_deref().unwrap_or_default(),
            count_of(search.total, "known vulnerability", "known vulnerabilities")
        ),
        (Lang::ZhCn, VulnQueryKind::Product) => format!(
            "{} {} 受 {} 个已知漏洞影响。",
            search.product.as_deref().unwrap_or_default(),
            search.version.as_deref().unwrap_or_default(),
            search.total
        ),
        (Lang::En, _) if search.total_capped => format!(
            "Over {} vulnerabilities match \"{}\"; filters narrow the list.",
            search.total, search.query
        ),
        (Lang::ZhCn, _) if search.total_capped => format!(
            "与“{}”匹配的漏洞超过 {} 个，可用过滤条件缩小范围。",
            search.query, search.total
        ),
        (Lang::En, _) if search.total == 1 => {
            format!("1 vulnerability matches \"{}\".", search.query)
        }
        (Lang::En, _) => format!(
            "{} vulnerabilities match \"{}\".",
            search.total, search.query
        ),
        (Lang::ZhCn, _) => format!("共有 {} 个漏洞与“{}”匹配。", search.total, search.query),
    };
    if exploited > 0 {
        text.push_str(&match lang {
            Lang::En if exploited == 1 && search.results.len() == 1 => {
                " It is known to be exploited.".to_string()
            }
            Lang::En if exploited == 1 => " 1 on this page is known to be exploited.".to_string(),
            Lang::En => format!(" {exploited} on this page are known to be exploited."),
            Lang::ZhCn if exploited == 1 && search.results.len() == 1 => "已知被利用。".to_string(),
            Lang::ZhCn => format!("本页中 {exploited} 个已知被利用。"),
        });
    }
    if let Some(top) = search.results.first() {
        if lang == Lang::En {
            text.push(' ');
        }
        text.push_str(&headline(top, lang));
    }
    if let Some(version) = search
        .version
        .as_deref()
        .filter(|v| v.split('.').count() < 3)
    {
        text.push_str(&match lang {
            Lang::En => format!(
                " The version {version} is compared as one release ({version} with zeros for missing parts), not as a branch."
            ),
            Lang::ZhCn => format!(
                "版本 {version} 按单个版本比较（缺少的部分视为 0），而不是整个分支。"
            ),
        });
    }
    let shown_end = offset + search.results.len();
    if search.next_cursor.is_none() && (shown_end as u64) < search.total {
        text.push_str(&match lang {
            Lang::En => format!(
                " Paging stops after {MAX_PAGES} pages; filters or more words reach the rest."
            ),
            Lang::ZhCn => {
                format!("分页最多 {MAX_PAGES} 页；其余结果请用过滤条件或更多关键词查询。")
            }
        });
    }
    text
}

fn count_of(count: u64, one: &str, many: &str) -> String {
    match count {
        1 => format!("1 {one}"),
        n => format!("{n} {many}"),
    }
}

/// `CVE-2024-3400 (critical 10.0, in KEV, EPSS 0.943): title. Upgrade … or later.`
fn headline(vuln: &Vulnerability, lang: Lang) -> String {
    let mut facts = Vec::new();
    if let Some(cvss) = &vuln.cvss {
        facts.push(format!("{} {:.1}", cvss.severity_label, cvss.score));
    }
    if vuln.exploitation.in_kev {
        facts.push(lang.pick("in KEV", "已列入 KEV").to_string());
    }
    if let Some(epss) = vuln.exploitation.epss {
        facts.push(format!("EPSS {epss:.3}"));
    }
    let facts = if facts.is_empty() {
        String::new()
    } else {
        match lang {
            Lang::En => format!(" ({})", facts.join(", ")),
            Lang::ZhCn => format!("（{}）", facts.join("，")),
        }
    };
    let mut text = match lang {
        Lang::En => format!(
            "Top: {}{facts}: {}.",
            vuln.id,
            vuln.title.trim_end_matches('.')
        ),
        Lang::ZhCn => format!(
            "首要：{}{facts}：{}。",
            vuln.id,
            vuln.title.trim_end_matches('.')
        ),
    };
    if let Some(advice) = &vuln.fix.advice {
        text.push(' ');
        text.push_str(advice);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let cursor = write_cursor(20, 0xabcdef);
        assert_eq!(read_cursor(&cursor, 0xabcdef, 10).unwrap(), 20);
        assert!(matches!(
            read_cursor(&cursor, 1, 10),
            Err(SearchError::StaleCursor)
        ));
        let edited = cursor.replacen("00000014", "00000015", 1);
        assert!(matches!(
            read_cursor(&edited, 0xabcdef, 10),
            Err(SearchError::StaleCursor)
        ));
        assert!(
            matches!(
                read_cursor(&cursor, 0xabcdef, 3),
                Err(SearchError::InvalidCursor { .. })
            ),
            "an offset off the page grid"
        );
        let deep = write_cursor(MAX_PAGES * 10, 0xabcdef);
        assert!(matches!(
            read_cursor(&deep, 0xabcdef, 10),
            Err(SearchError::TooDeep)
        ));
        assert!(matches!(
            read_cursor("c2zz", 1, 10),
            Err(SearchError::InvalidCursor { .. })
        ));
        assert!(matches!(
            read_cursor("page-2", 1, 10),
            Err(SearchError::InvalidCursor { .. })
        ));
    }

    #[test]
    fn version_words() {
        for word in ["9.0.30", "v2.4.49", "1.1.1l", "10", "9.0.0-M1"] {
            assert!(looks_like_version(word), "{word}");
        }
        for word in ["tomcat", "rce", "x1.0", "v"] {
            assert!(!looks_like_version(word), "{word}");
        }
    }

    #[test]
    fn fts_words_drop_syntax() {
        assert_eq!(
            fts_words("log4j \"OR\" NEAR(x)*"),
            ["log4j", "or", "near", "x"]
        );
    }
}
