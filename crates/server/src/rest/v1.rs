//! REST API v1: one route per MCP tool, each calling the same engine function and returning
//! the same JSON as the tool's `structuredContent`.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tiq_engine::scan::ScanLimits;
use tiq_engine::vuln::{VulnQuery, VulnSort};
use tiq_engine::{AnalyzeError, Engine};
use tiq_model::batch::{BatchReport, BatchRequest, VerdictCounts};
use tiq_model::scan::{ScanRequest, scan_limit, text_too_large};
use tiq_model::{IndicatorKind, Lang, Report, VulnSearch};
use utoipa::IntoParams;

use crate::auth::{Admission, AuditNote};
use tiq_access::Scope;

use super::error::ApiError;
use super::lang;
use super::openapi::{
    BatchResponses, DescribeResponses, ReportResponses, ScanResponses, VulResponses,
};

/// The optional `lang` query parameter of every route.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangParam {
    /// Language of summaries, recommendations and error messages: `en` or `zh-CN`. Without
    /// it, the `Accept-Language` header decides, and English is the default.
    pub lang: Option<String>,
}

/// Query parameters of `GET /api/v1/url`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UrlParams {
    /// http or https URL, percent-encoded, such as `https://example.com/login`;
    /// `hxxp://`, `hxxps://` and `[.]` are accepted.
    #[param(required = true)]
    pub url: Option<String>,
    /// `en` or `zh-CN`; see `lang` on the other routes.
    pub lang: Option<String>,
}

/// Query parameters of `GET /api/v1/vul`, named as the `search_vul` tool's arguments.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VulParams {
    /// A CVE id, a CNVD or CNNVD id, a product and version (`Apache Tomcat 9.0.30`) or
    /// keywords, at most 200 characters.
    #[param(required = true)]
    pub q: Option<String>,
    /// Only results at or above this CVSS severity: `critical`, `high`, `medium` or `low`.
    pub min_severity: Option<String>,
    /// Only vulnerabilities in CISA's Known Exploited Vulnerabilities catalog.
    pub kev_only: Option<bool>,
    /// Only vulnerabilities known to be exploited (in KEV, or CISA SSVC exploitation active).
    pub exploited_only: Option<bool>,
    /// Only vulnerabilities with public exploit code.
    pub has_exploit: Option<bool>,
    /// Only vulnerabilities published on or after this date, `YYYY-MM-DD`.
    pub since: Option<String>,
    /// `relevance` (default), `priority` or `date`.
    pub sort: Option<String>,
    /// Results per page, 1 to 50 (default 10).
    pub page_size: Option<usize>,
    /// The `next_cursor` of the previous page, unchanged.
    pub cursor: Option<String>,
    /// `en` or `zh-CN`; see `lang` on the other routes.
    pub lang: Option<String>,
}

/// Body of `GET /api/v1/ping`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Pong {
    /// Always `ok`.
    pub status: String,
}

/// Runs `work` on the blocking pool; a panicked task becomes an internal error.
pub(super) async fn blocking<T: Send + 'static>(
    lang: Lang,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|error| {
        tracing::error!(%error, "REST request task failed");
        ApiError::internal(lang)
    })
}

/// Analyses one indicator like the MCP tools do: invalid input is a 400 naming the value, a
/// store failure a 503.
pub(super) async fn analyze(
    engine: Arc<Engine>,
    kind: IndicatorKind,
    input: String,
    lang: Lang,
) -> Result<Report, ApiError> {
    // Handing a memory-only lookup to the blocking pool would cost more than the lookup.
    let outcome = if engine.analyzes_in_memory(kind) {
        engine.analyze(kind, &input, lang)
    } else {
        blocking(lang, move || engine.analyze(kind, &input, lang)).await?
    };
    outcome.map_err(|error| match error {
        AnalyzeError::Invalid(error) => {
            ApiError::bad_request("invalid_indicator", error.message(lang))
        }
        error => {
            tracing::error!(kind = kind.name(), %error, "REST analysis failed");
            ApiError::unavailable(lang)
        }
    })
}

/// Returns the scope an analysis of `kind` needs.
pub(super) fn scope_of(kind: IndicatorKind) -> Scope {
    match kind {
        IndicatorKind::Ip => Scope::Ip,
        IndicatorKind::Domain => Scope::Domain,
        IndicatorKind::Url => Scope::Url,
        IndicatorKind::Hash => Scope::Hash,
        IndicatorKind::Cve => Scope::Vul,
    }
}

/// Admits the call or turns the refusal into its 401, 403 or 429.
pub(super) fn admit(
    admission: &Admission,
    scope: Scope,
    cost: u32,
    lang: Lang,
) -> Result<(), ApiError> {
    admission
        .admit(scope, cost)
        .map_err(|denial| ApiError::denied(denial, lang))
}

/// Builds the response and attaches the note the access middleware writes to the audit log.
pub(super) fn noted<T: Serialize>(
    mut note: AuditNote,
    result: Result<Json<T>, ApiError>,
    verdict: impl FnOnce(&T) -> Option<String>,
) -> Response {
    let mut response = match result {
        Ok(Json(value)) => {
            note.verdict = verdict(&value);
            Json(value).into_response()
        }
        Err(error) => error.into_response(),
    };
    response.extensions_mut().insert(note);
    response
}

/// Returns the verdict of a report, for the audit log.
pub(super) fn report_verdict(report: &Report) -> Option<String> {
    Some(report.verdict.name().to_string())
}

/// Reads the path value and the language of an analysis route, then analyses.
async fn analyze_route(
    admission: Admission,
    engine: Arc<Engine>,
    kind: IndicatorKind,
    value: Result<Path<String>, PathRejection>,
    query: Result<Query<LangParam>, QueryRejection>,
    headers: &HeaderMap,
) -> Response {
    let note = AuditNote::new(
        kind.tool(),
        value.as_ref().ok().map(|Path(value)| value.clone()),
    );
    let result = async {
        let fallback = lang::from_accept_language(headers);
        let Query(query) = query.map_err(|rejection| ApiError::from_query(rejection, fallback))?;
        let lang = lang::resolve(query.lang.as_deref(), headers)?;
        let Path(value) = value.map_err(|rejection| ApiError::from_path(rejection, lang))?;
        admit(&admission, scope_of(kind), 1, lang)?;
        analyze(engine, kind, value, lang).await.map(Json)
    }
    .await;
    noted(note, result, report_verdict)
}

#[utoipa::path(
    get,
    path = "/api/v1/ping",
    tag = "service",
    summary = "Check that the server answers, without any lookup",
    responses(
        (status = 200, description = "The server is up", body = ref("#/components/schemas/Pong")),
        (status = 401, description = "No valid API key (once keys exist)", body = ref("#/components/schemas/ErrorBody")),
        (status = 429, description = "Too many failed authentications from this address", body = ref("#/components/schemas/ErrorBody"))
    )
)]
pub async fn ping() -> Json<Pong> {
    Json(Pong {
        status: "ok".to_string(),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/ip/{ip}",
    tag = "indicators",
    summary = "Analyse an IP address (the analyze_ip tool)",
    params(
        ("ip" = String, Path, description = "IPv4 or IPv6 address: 203.0.113.7, 2001:db8::1, defanged 203.0.113[.]7"),
        LangParam
    ),
    responses(ReportResponses)
)]
pub async fn ip(
    admission: Admission,
    State(engine): State<Arc<Engine>>,
    value: Result<Path<String>, PathRejection>,
    query: Result<Query<LangParam>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    analyze_route(admission, engine, IndicatorKind::Ip, value, query, &headers).await
}

#[utoipa::path(
    get,
    path = "/api/v1/domain/{domain}",
    tag = "indicators",
    summary = "Analyse a domain (the analyze_domain tool)",
    params(
        ("domain" = String, Path, description = "Domain or subdomain: example.com, Unicode or punycode, defanged example[.]com"),
        LangParam
    ),
    responses(ReportResponses)
)]
pub async fn domain(
    admission: Admission,
    State(engine): State<Arc<Engine>>,
    value: Result<Path<String>, PathRejection>,
    query: Result<Query<LangParam>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    analyze_route(
        admission,
        engine,
        IndicatorKind::Domain,
        value,
        query,
        &headers,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/hash/{hash}",
    tag = "indicators",
    summary = "Analyse a file hash (the analyze_file_hash tool)",
    params(
        ("hash" = String, Path, description = "MD5 (32 hex digits), SHA-1 (40) or SHA-256 (64), any case"),
        LangParam
    ),
    responses(ReportResponses)
)]
pub async fn hash(
    admission: Admission,
    State(engine): State<Arc<Engine>>,
    value: Result<Path<String>, PathRejection>,
    query: Result<Query<LangParam>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    analyze_route(
        admission,
        engine,
        IndicatorKind::Hash,
        value,
        query,
        &headers,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/url",
    tag = "indicators",
    summary = "Analyse a URL (the analyze_url tool)",
    params(UrlParams),
    responses(ReportResponses)
)]
pub async fn url(
    admission: Admission,
    State(engine): State<Arc<Engine>>,
    query: Result<Query<UrlParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let note = AuditNote::new(
        "analyze_url",
        query
            .as_ref()
            .ok()
            .and_then(|Query(query)| query.url.clone()),
    );
    let result = async {
        let fallback = lang::from_accept_language(&headers);
        let Query(query) = query.map_err(|rejection| ApiError::from_query(rejection, fallback))?;
        let lang = lang::resolve(query.lang.as_deref(), &headers)?;
        let url = query
            .url
            .ok_or_else(|| ApiError::missing("url", "https%3A%2F%2Fexample.com%2Flogin", lang))?;
        admit(&admission, Scope::Url, 1, lang)?;
        analyze(engine, IndicatorKind::Url, url, lang)
            .await
            .map(Json)
    }
    .await;
    noted(note, result, report_verdict)
}

#[utoipa::path(
    get,
    path = "/api/v1/vul",
    tag = "vulnerabilities",
    summary = "Search vulnerabilities (the search_vul tool)",
    params(VulParams),
    responses(VulResponses)
)]
pub async fn vul(
    admission: Admission,
    State(engine): State<Arc<Engine>>,
    query: Result<Query<VulParams>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let note = AuditNote::new(
        "search_vul",
        query
            .as_ref()
            .ok()
            .and_then(|Query(params)| params.q.clone()),
    );
    let result = vul_search(admission, engine, query, &headers).await;
    noted(note, result, |search| {
        Some(format!("{} results", search.total))
    })
}

async fn vul_search(
    admission: Admission,
    engine: Arc<Engine>,
    query: Result<Query<VulParams>, QueryRejection>,
    headers: &HeaderMap,
) -> Result<Json<VulnSearch>, ApiError> {
    let fallback = lang::from_accept_language(headers);
    let Query(params) = query.map_err(|rejection| ApiError::from_query(rejection, fallback))?;
    let lang = lang::resolve(params.lang.as_deref(), headers)?;
    let q = params
        .q
        .ok_or_else(|| ApiError::missing("q", "CVE-2021-44228", lang))?;
    admit(&admission, Scope::Vul, 1, lang)?;
    let sort = VulnSort::from_name(params.sort.as_deref())
        .map_err(|error| ApiError::bad_request("invalid_parameter", error.message(lang)))?;
    let request = VulnQuery {
        query: q,
        min_severity: params.min_severity,
        kev_only: params.kev_only.unwrap_or(false),
        exploited_only: params.exploited_only.unwrap_or(false),
        with_exploit_only: params.has_exploit.unwrap_or(false),
        since: params.since,
        sort,
        page_size: params.page_size,
        cursor: params.cursor,
    };
    search(engine, request, lang).await.map(Json)
}

/// Runs a vulnerability search: a request the caller can fix is a 400, a store failure a 503.
pub(super) async fn search(
    engine: Arc<Engine>,
    request: VulnQuery,
    lang: Lang,
) -> Result<VulnSearch, ApiError> {
    let outcome = blocking(lang, move || engine.search_vulnerabilities(&request, lang)).await?;
    outcome.map_err(|error| {
        if error.is_invalid_request() {
            return ApiError::bad_request("invalid_parameter", error.message(lang));
        }
        tracing::error!(%error, "REST vulnerability search failed");
        ApiError::unavailable(lang)
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/describe/{name}",
    tag = "knowledge",
    summary = "Describe an actor, family, campaign, technique or tactic (the describe_threat tool)",
    params(
        ("name" = String, Path, description = "Name, alias or ATT&CK id, at most 200 characters: APT28, cobaltstrike, T1059.001"),
        LangParam
    ),
    responses(DescribeResponses)
)]
pub async fn describe(
    admission: Admission,
    State(engine): State<Arc<Engine>>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<LangParam>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let note = AuditNote::new(
        "describe_threat",
        name.as_ref().ok().map(|Path(name)| name.clone()),
    );
    let result = async {
        let fallback = lang::from_accept_language(&headers);
        let Query(query) = query.map_err(|rejection| ApiError::from_query(rejection, fallback))?;
        let lang = lang::resolve(query.lang.as_deref(), &headers)?;
        let Path(name) = name.map_err(|rejection| ApiError::from_path(rejection, lang))?;
        admit(&admission, Scope::Knowledge, 1, lang)?;
        let outcome = blocking(lang, move || engine.describe_threat(&name, lang)).await?;
        outcome.map(Json).map_err(|error| {
            if error.is_invalid_request() {
                return ApiError::bad_request("invalid_parameter", error.message(lang));
            }
            tracing::error!(%error, "REST description failed");
            ApiError::unavailable(lang)
        })
    }
    .await;
    noted(note, result, |_| None)
}

#[utoipa::path(
    post,
    path = "/api/v1/batch",
    tag = "indicators",
    summary = "Analyse up to 1,000 indicators of mixed types (the analyze_batch tool)",
    params(LangParam),
    request_body(content = ref("#/components/schemas/BatchRequest"), content_type = "application/json"),
    responses(BatchResponses)
)]
pub async fn batch(
    admission: Admission,
    State(engine): State<Arc<Engine>>,
    query: Result<Query<LangParam>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Json<BatchRequest>, JsonRejection>,
) -> Response {
    let count = body.as_ref().map(|Json(request)| request.items.len()).ok();
    let note = AuditNote::new("analyze_batch", count.map(|n| format!("{n} items")));
    let result = async {
        let fallback = lang::from_accept_language(&headers);
        let Query(query) = query.map_err(|rejection| ApiError::from_query(rejection, fallback))?;
        let lang = lang::resolve(query.lang.as_deref(), &headers)?;
        let Json(request) = body.map_err(|rejection| ApiError::from_json(rejection, lang))?;
        let lang = match request.lang.as_deref() {
            Some(_) => lang::resolve(request.lang.as_deref(), &headers)?,
            None => lang,
        };
        let cost = u32::try_from(request.items.len())
            .unwrap_or(u32::MAX)
            .max(1);
        admit(&admission, Scope::Batch, cost, lang)?;
        let detail = request.detail.unwrap_or_default();
        let items = request.items;
        let outcome = blocking(lang, move || engine.analyze_batch(&items, detail, lang)).await?;
        let mut batch = outcome
            .map_err(|error| ApiError::bad_request("too_many_items", error.message(lang)))?;
        withhold_unscoped(&admission, &mut batch, lang);
        Ok(Json(batch))
    }
    .await;
    noted(note, result, |batch| {
        Some(batch_verdicts(&batch.verdicts, batch.errors))
    })
}

/// Withholds the reports of batch items whose type the caller's key has no scope for.
pub(crate) fn withhold_unscoped(admission: &Admission, batch: &mut BatchReport, lang: Lang) {
    let Some(caller) = admission.caller() else {
        return;
    };
    let scopes = caller.scopes();
    batch.withhold(|kind| {
        let scope = scope_of(kind);
        (!scopes.contains(scope)).then(|| tiq_access::Denial::MissingScope { scope }.message(lang))
    });
}

/// Formats the verdict counts of a batch, for the audit log.
pub(crate) fn batch_verdicts(counts: &VerdictCounts, errors: usize) -> String {
    format!(
        "malicious={} suspicious={} benign={} unknown={} errors={errors}",
        counts.malicious, counts.suspicious, counts.benign, counts.unknown
    )
}

/// Maximum size of a text for `POST /api/v1/scan`, in bytes: the same limit as for
/// `analyze_text`.
#[derive(Debug, Clone, Copy)]
pub struct MaxText(pub usize);

#[utoipa::path(
    post,
    path = "/api/v1/scan",
    tag = "indicators",
    summary = "Find and analyse every indicator in a text or log (the analyze_text tool)",
    params(LangParam),
    request_body(content = ref("#/components/schemas/ScanRequest"), content_type = "application/json",
        description = "JSON with the text, or the text itself as text/plain (then lang and limit come from the query)"),
    responses(ScanResponses)
)]
pub async fn scan(
    admission: Admission,
    State(engine): State<Arc<Engine>>,
    axum::Extension(MaxText(max_text)): axum::Extension<MaxText>,
    query: Result<Query<ScanParams>, QueryRejection>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let mut note = AuditNote::new("analyze_text", Some(format!("{} bytes", body.len())));
    let mut text_bytes = None;
    let result = async {
        let fallback = lang::from_accept_language(&headers);
        let Query(params) = query.map_err(|rejection| ApiError::from_query(rejection, fallback))?;
        let lang = lang::resolve(params.lang.as_deref(), &headers)?;
        let request = scan_request(&headers, &body, params.limit, lang)?;

        // A `lang` in the JSON body takes precedence over the query and Accept-Language.
        let lang = match request.lang.as_deref() {
            Some(_) => lang::resolve(request.lang.as_deref(), &headers)?,
            None => lang,
        };
        let limit = scan_limit(request.limit.or(params.limit), lang)
            .map_err(|message| ApiError::bad_request("invalid_parameter", message))?;
        if request.text.len() > max_text {
            return Err(ApiError::text_too_large(text_too_large(
                request.text.len(),
                max_text,
                lang,
            )));
        }
        text_bytes = Some(request.text.len());

        // The scope and the first request are checked before the extraction, so a key
        // without the scope costs nothing. The rest of the cost depends on what the text
        // contains, one request per indicator looked up.
        admit(&admission, Scope::Text, 1, lang)?;
        let text = request.text;
        let extraction = blocking(lang, move || {
            let mut extractor = tiq_extract::Extractor::new(tiq_engine::scan::extract_options());
            extractor.feed(text.as_bytes());
            extractor.finish()
        })
        .await?;
        let cost = scan_cost(&extraction);
        if cost > 1 {
            admit(&admission, Scope::Text, cost - 1, lang)?;
        }
        let limits = ScanLimits {
            max_listed: limit,
            ..ScanLimits::default()
        };
        blocking(lang, move || engine.scan(extraction, limits, lang))
            .await
            .map(Json)
    }
    .await;

    // For a text within the size limit, the audit log records the size of the text rather
    // than of the body, as it does for analyze_text.
    if let Some(bytes) = text_bytes {
        note.query = Some(format!("{bytes} bytes"));
    }
    noted(note, result, |report| Some(report.audit_verdict()))
}

/// Reads the scan request from a JSON body, or from a `text/plain` body with `limit` from
/// the query. A request without a Content-Type is read as JSON.
fn scan_request(
    headers: &HeaderMap,
    body: &[u8],
    query_limit: Option<usize>,
    lang: Lang,
) -> Result<ScanRequest, ApiError> {
    let content_type = headers.get(axum::http::header::CONTENT_TYPE).map(|value| {
        value
            .to_str()
            .unwrap_or("?")
            .trim_start()
            .to_ascii_lowercase()
    });
    let plain = content_type
        .as_deref()
        .is_some_and(|value| value.starts_with("text/plain"));
    let json = content_type
        .as_deref()
        .is_none_or(|value| value.starts_with("application/json") || value.contains("+json"));
    if !plain && !json {
        return Err(super::error::unsupported_media_type(
            "application/json or text/plain",
            lang,
        ));
    }

    if plain {
        return Ok(ScanRequest {
            text: String::from_utf8_lossy(body).into_owned(),
            lang: None,
            limit: query_limit,
        });
    }
    let Json(request) = Json::<ScanRequest>::from_bytes(body)
        .map_err(|rejection| ApiError::from_json(rejection, lang))?;
    Ok(request)
}

/// Query parameters of `POST /api/v1/scan`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScanParams {
    /// `en` or `zh-CN`, as on the other routes.
    pub lang: Option<String>,
    /// Maximum indicators listed: 1 to 1000, default 100. A `limit` in a JSON body takes
    /// precedence.
    pub limit: Option<usize>,
}

/// Returns the cost of a scan against a key's rate limit and quota: one per indicator it
/// will look up (at least 1), as a batch counts each item.
pub(crate) fn scan_cost(extraction: &tiq_extract::Extraction) -> u32 {
    let lookups = extraction
        .indicators
        .iter()
        .filter(|found| tiq_engine::scan::lookup_kind(found.kind).is_some())
        .count();
    u32::try_from(lookups).unwrap_or(u32::MAX).max(1)
}
