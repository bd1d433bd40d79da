//! `POST /api/v3/ti`: the request and response layout of a commercial cloud threat-intelligence
//! service, so clients written for it can query tiq unchanged. The analysis is the engine's,
//! as on every other surface.

mod layout;

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};
use tiq_engine::Engine;
use tiq_engine::vuln::{VulnQuery, VulnSort};
use tiq_model::{IndicatorKind, Lang};

pub use layout::V3Response;
use layout::{ErrorAnswer, IndicatorAnswer, VulAnswer, code};

use tiq_access::{Denial, Scope, Surface};

use super::error::ApiError;
use super::lang;
use crate::auth::{Admission, AuditNote};

/// Body of `POST /api/v3/ti`, as JSON or as `application/x-www-form-urlencoded` fields. JSON
/// numbers and booleans are read as their text.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct V3Request {
    /// Version of the layout the client speaks, such as `3.0`; accepted and not checked.
    pub c_version: Option<String>,
    /// `IPAnalysis`, `DomainInfo` or `DomainAnalysis`, `UrlInfo` or `URLAnalysis`, `FileInfo`
    /// or `FileAnalysis`, or `VulSearch`, in any letter case.
    pub c_action: Option<String>,
    /// The indicator to analyse, or the VulSearch query.
    pub key: Option<String>,
    /// Type hint of the client; accepted and not used, because `c_action` sets the type.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Options of the client; accepted and not used.
    pub option: Option<String>,
    /// `zh`, `zh-CN` or `en`. Without it, `Accept-Language` decides, and English is the default.
    pub c_lang: Option<String>,
    /// The caller's API key, when no `Authorization` or `X-API-Key` header carries one.
    /// Never logged.
    pub c_appkey: Option<String>,
    /// VulSearch: `critical`, `high`, `medium` or `low`.
    pub min_severity: Option<String>,
    /// VulSearch: `true` or `1` for KEV entries only.
    pub kev_only: Option<String>,
    /// VulSearch: `true` or `1` for known exploited vulnerabilities only.
    pub exploited_only: Option<String>,
    /// VulSearch: `true` or `1` for vulnerabilities with public exploit code only.
    pub has_exploit: Option<String>,
    /// VulSearch: published on or after this date, `YYYY-MM-DD`.
    pub since: Option<String>,
    /// VulSearch: `relevance`, `priority` or `date`.
    pub sort: Option<String>,
    /// VulSearch: results per page, 1 to 50.
    pub page_size: Option<String>,
    /// VulSearch: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The operation a request names in `c_action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Analyze(IndicatorKind),
    VulSearch,
}

/// Action names, lower-case, as the service spells them.
const ACTIONS: [(&str, Action); 8] = [
    ("ipanalysis", Action::Analyze(IndicatorKind::Ip)),
    ("domaininfo", Action::Analyze(IndicatorKind::Domain)),
    ("domainanalysis", Action::Analyze(IndicatorKind::Domain)),
    ("urlinfo", Action::Analyze(IndicatorKind::Url)),
    ("urlanalysis", Action::Analyze(IndicatorKind::Url)),
    ("fileinfo", Action::Analyze(IndicatorKind::Hash)),
    ("fileanalysis", Action::Analyze(IndicatorKind::Hash)),
    ("vulsearch", Action::VulSearch),
];

const ACTION_LIST: &str = "IPAnalysis, DomainInfo, DomainAnalysis, UrlInfo, URLAnalysis, FileInfo, FileAnalysis, VulSearch";

#[utoipa::path(
    post,
    path = "/api/v3/ti",
    tag = "compatibility",
    summary = "Analyse an indicator or search vulnerabilities in the v3 layout",
    description = "Responses carry `return_code`: 0 ok, 1001 bad request, 1002 invalid \
        `key` (not a valid indicator or query), 1003 unsupported action and 5000 internal \
        error come with HTTP 200; 1004 no valid API key, 1005 missing scope and 1006 rate, \
        quota or failed-attempt limit come with HTTP 401, 403 and 429.",
    request_body(
        description = "JSON or application/x-www-form-urlencoded fields",
        content(
            (ref("#/components/schemas/V3Request") = "application/json"),
            (ref("#/components/schemas/V3Request") = "application/x-www-form-urlencoded")
        )
    ),
    responses(
        (status = 200, description = "The response; return_code states whether it succeeded", body = ref("#/components/schemas/V3Response")),
        (status = 401, description = "No valid API key: return_code 1004", body = ref("#/components/schemas/V3Response")),
        (status = 403, description = "The key lacks the action's scope (return_code 1005), or the Host header is not an allowed host", body = ref("#/components/schemas/V3Response")),
        (status = 429, description = "A limit was reached: return_code 1006, with Retry-After", body = ref("#/components/schemas/V3Response")),
        (status = 413, description = "The body is over 4 MiB", body = ref("#/components/schemas/V3Response")),
        (status = 415, description = "The body is neither JSON nor form fields", body = ref("#/components/schemas/V3Response"))
    )
)]
pub async fn ti(
    mut admission: Admission,
    State(engine): State<Arc<Engine>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let fallback = lang::from_accept_language(&headers);
    let request = match body {
        Ok(body) => read_request(&headers, &body, fallback),
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            let message = super::error::too_large(fallback).message;
            return error(StatusCode::PAYLOAD_TOO_LARGE, code::BAD_REQUEST, message);
        }
        Err(rejection) => Err((StatusCode::OK, rejection.body_text())),
    };
    let request = match request {
        Ok(request) => request,
        Err((status, message)) => return error(status, code::BAD_REQUEST, message),
    };
    let mut note = AuditNote::new(
        request
            .c_action
            .as_deref()
            .and_then(tool_of)
            .unwrap_or("v3"),
        request.key.clone(),
    );
    if admission.is_pending()
        && let Err(denial) = admission.authenticate(request.c_appkey.as_deref())
    {
        note = AuditNote::rejected(&denial);
        let lang = lang::resolve(request.c_lang.as_deref(), &headers).unwrap_or(fallback);
        let mut response = crate::auth::denial_response(&denial, Surface::V3, lang);
        response.extensions_mut().insert(note);
        return response;
    }
    let mut response = match answer(&admission, engine, request, &headers).await {
        Ok(answer) => {
            note.verdict = answer.verdict();
            Json(answer).into_response()
        }
        Err(Rejection::Answer(answer)) => Json(V3Response::Error(answer)).into_response(),
        Err(Rejection::Denied(denial, lang)) => {
            crate::auth::denial_response(&denial, Surface::V3, lang)
        }
    };
    response.extensions_mut().insert(note);
    if let Some(caller) = admission.caller() {
        response
            .extensions_mut()
            .insert(crate::auth::ResolvedCaller(caller.clone()));
    }
    response
}

/// Returns the MCP tool an action corresponds to, for the audit log.
fn tool_of(action: &str) -> Option<&'static str> {
    let lower = action.trim().to_ascii_lowercase();
    ACTIONS
        .iter()
        .find(|(known, _)| *known == lower)
        .map(|(_, action)| match action {
            Action::Analyze(kind) => kind.tool(),
            Action::VulSearch => "search_vul",
        })
}

/// Reason an action got no result: a v3 error response, or a rejection by access control.
enum Rejection {
    Answer(ErrorAnswer),
    Denied(Denial, Lang),
}

impl From<ErrorAnswer> for Rejection {
    fn from(answer: ErrorAnswer) -> Rejection {
        Rejection::Answer(answer)
    }
}

/// Builds the v3 body of a rejection by access control.
pub fn denial_body(denial: &Denial, lang: Lang) -> Value {
    let return_code = match denial.status() {
        401 => code::UNAUTHORIZED,
        403 => code::FORBIDDEN,
        _ => code::LIMITED,
    };
    let mut body = serde_json::to_value(ErrorAnswer::new(return_code, denial.message(lang)))
        .expect("an error response always serialises");
    if let Some(seconds) = denial.retry_after() {
        body["retry_after_seconds"] = Value::from(seconds);
    }
    body
}

fn error(status: StatusCode, return_code: i32, message: String) -> Response {
    let body = V3Response::Error(ErrorAnswer::new(return_code, message));
    (status, Json(body)).into_response()
}

/// Reads a JSON or form body into a request. A body of another type is a 415; a body that
/// cannot be read is a 200 with `return_code` 1001, as the service responds.
fn read_request(
    headers: &HeaderMap,
    body: &[u8],
    lang: Lang,
) -> Result<V3Request, (StatusCode, String)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    let fields = match media_type {
        "application/json" => json_fields(body, lang),
        "application/x-www-form-urlencoded" => form_fields(body, lang),
        _ => {
            let expected = "application/json or application/x-www-form-urlencoded";
            let message = super::error::unsupported_media_type(expected, lang).message;
            return Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, message));
        }
    };
    let fields = fields.map_err(|message| (StatusCode::OK, message))?;
    serde_json::from_value(Value::Object(fields)).map_err(|error| {
        let message = match lang {
            Lang::En => format!("invalid request fields: {error}"),
            Lang::ZhCn => format!("请求字段无效：{error}"),
        };
        (StatusCode::OK, message)
    })
}

/// Reads a JSON object, keeping strings and writing numbers and booleans as text.
fn json_fields(body: &[u8], lang: Lang) -> Result<Map<String, Value>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|error| match lang {
        Lang::En => format!("the body is not valid JSON ({error}): send a JSON object such as {{\"c_action\": \"IPAnalysis\", \"key\": \"203.0.113.7\"}}"),
        Lang::ZhCn => format!("请求体不是有效的 JSON（{error}）：请发送 JSON 对象，例如 {{\"c_action\": \"IPAnalysis\", \"key\": \"203.0.113.7\"}}"),
    })?;
    let Value::Object(object) = value else {
        return Err(lang
            .pick(
                "the body is JSON but not an object: send {\"c_action\": ..., \"key\": ...}",
                "请求体是 JSON 但不是对象：请发送 {\"c_action\": ..., \"key\": ...}",
            )
            .to_string());
    };
    let mut fields = Map::new();
    for (name, value) in object {
        let text = match value {
            Value::Null => continue,
            Value::String(text) => text,
            Value::Number(number) => number.to_string(),
            Value::Bool(flag) => flag.to_string(),
            Value::Array(_) | Value::Object(_) => {
                return Err(match lang {
                    Lang::En => format!("field {name:?} must be a string, number or boolean"),
                    Lang::ZhCn => format!("字段“{name}”必须是字符串、数字或布尔值"),
                });
            }
        };
        fields.insert(name, Value::String(text));
    }
    Ok(fields)
}

fn form_fields(body: &[u8], lang: Lang) -> Result<Map<String, Value>, String> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_bytes(body).map_err(|error| match lang {
            Lang::En => format!(
                "the form body cannot be read ({error}): send c_action=IPAnalysis&key=203.0.113.7"
            ),
            Lang::ZhCn => {
                format!("无法读取表单请求体（{error}）：请发送 c_action=IPAnalysis&key=203.0.113.7")
            }
        })?;
    Ok(pairs
        .into_iter()
        .map(|(name, value)| (name, Value::String(value)))
        .collect())
}

/// Runs the action and maps its outcome to the layout.
async fn answer(
    admission: &Admission,
    engine: Arc<Engine>,
    request: V3Request,
    headers: &HeaderMap,
) -> Result<V3Response, Rejection> {
    tracing::debug!(
        c_version = request.c_version.as_deref(),
        c_action = request.c_action.as_deref(),
        type_hint = request.kind.as_deref(),
        option = request.option.as_deref(),
        with_appkey = request.c_appkey.is_some(),
        "v3 request"
    );
    let lang = lang::resolve(request.c_lang.as_deref(), headers)
        .map_err(|error| ErrorAnswer::new(code::BAD_REQUEST, error.message))?;
    let action = read_action(request.c_action.as_deref(), lang)?;
    let key = match request.key.as_deref().map(str::trim) {
        Some(key) if !key.is_empty() => key.to_string(),
        _ => {
            let message = lang.pick(
                "missing key: pass the indicator to analyse or the vulnerability query",
                "缺少 key：请传入要分析的指标或漏洞查询词",
            );
            return Err(ErrorAnswer::new(code::BAD_REQUEST, message.to_string()).into());
        }
    };
    let scope = match action {
        Action::Analyze(kind) => super::v1::scope_of(kind),
        Action::VulSearch => Scope::Vul,
    };
    admission
        .admit(scope, 1)
        .map_err(|denial| Rejection::Denied(denial, lang))?;
    match action {
        Action::Analyze(kind) => super::v1::analyze(engine, kind, key, lang)
            .await
            .map(|report| V3Response::Indicator(Box::new(IndicatorAnswer::from_report(report))))
            .map_err(|error| failure(error).into()),
        Action::VulSearch => {
            let query = vul_query(key, &request, lang)?;
            super::v1::search(engine, query, lang)
                .await
                .map(|search| V3Response::Vulnerabilities(Box::new(VulAnswer::from_search(search))))
                .map_err(|error| failure(error).into())
        }
    }
}

fn read_action(action: Option<&str>, lang: Lang) -> Result<Action, ErrorAnswer> {
    let Some(name) = action.map(str::trim).filter(|name| !name.is_empty()) else {
        let message = match lang {
            Lang::En => format!("missing c_action: use one of {ACTION_LIST}"),
            Lang::ZhCn => format!("缺少 c_action：请使用 {ACTION_LIST} 之一"),
        };
        return Err(ErrorAnswer::new(code::BAD_REQUEST, message));
    };
    let lower = name.to_ascii_lowercase();
    ACTIONS
        .iter()
        .find(|(known, _)| *known == lower)
        .map(|(_, action)| *action)
        .ok_or_else(|| {
            let message = match lang {
                Lang::En => format!("unsupported c_action {name:?}: use one of {ACTION_LIST}"),
                Lang::ZhCn => format!("不支持的 c_action“{name}”：请使用 {ACTION_LIST} 之一"),
            };
            ErrorAnswer::new(code::UNSUPPORTED_ACTION, message)
        })
}

/// Maps a REST failure to a return code: invalid input is 1002, anything else 5000.
fn failure(error: ApiError) -> ErrorAnswer {
    let return_code = if error.status == StatusCode::BAD_REQUEST {
        code::INVALID_KEY
    } else {
        code::INTERNAL_ERROR
    };
    ErrorAnswer::new(return_code, error.message)
}

/// Builds a vulnerability query from the key and the VulSearch fields.
fn vul_query(key: String, request: &V3Request, lang: Lang) -> Result<VulnQuery, ErrorAnswer> {
    let bad = |message: String| ErrorAnswer::new(code::BAD_REQUEST, message);
    let flag = |name: &str, value: &Option<String>| -> Result<bool, ErrorAnswer> {
        match value
            .as_deref()
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("") | Some("false") | Some("0") => Ok(false),
            Some("true") | Some("1") => Ok(true),
            Some(other) => Err(bad(match lang {
                Lang::En => format!("invalid {name} {other:?}: use true or false"),
                Lang::ZhCn => format!("无效的 {name}“{other}”：请使用 true 或 false"),
            })),
        }
    };
    let page_size = match request.page_size.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse::<usize>().map_err(|_| {
            bad(match lang {
                Lang::En => format!("invalid page_size {text:?}: use a number from 1 to 50"),
                Lang::ZhCn => format!("无效的 page_size“{text}”：请使用 1 到 50 的数字"),
            })
        })?),
    };
    let sort =
        VulnSort::from_name(request.sort.as_deref()).map_err(|error| bad(error.message(lang)))?;
    Ok(VulnQuery {
        query: key,
        min_severity: request.min_severity.clone(),
        kev_only: flag("kev_only", &request.kev_only)?,
        exploited_only: flag("exploited_only", &request.exploited_only)?,
        with_exploit_only: flag("has_exploit", &request.has_exploit)?,
        since: request.since.clone(),
        sort,
        page_size,
        cursor: request.cursor.clone(),
    })
}
