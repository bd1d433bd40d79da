//! The JSON error body of the REST API, and the mapping of every failure to an HTTP status.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;
use tiq_access::Denial;
use tiq_model::Lang;

/// Body of every REST error response.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ErrorBody {
    /// Machine-readable code: `invalid_indicator`, `invalid_parameter`, `missing_parameter`,
    /// `invalid_language`, `invalid_body`, `too_many_items`, `unsupported_media_type`,
    /// `payload_too_large`, `headers_too_large`, `missing_key`, `invalid_key`, `revoked_key`,
    /// `expired_key`, `missing_scope`, `rate_limited`, `quota_exhausted`,
    /// `too_many_failed_attempts`, `host_not_allowed`, `not_found`, `method_not_allowed`,
    /// `store_unavailable`, `timeout` or `internal_error`.
    pub error: String,
    /// Description of the failure, naming the value and the fix, in the request language.
    pub message: String,
    /// On 429: the limit reached, `rate`, `daily_quota` or `failed_auth`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// On 429: seconds to wait, as in the `Retry-After` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u64>,
    /// On 429 for the daily quota: when it resets (RFC 3339, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resets_at: Option<String>,
    /// On 5xx: the id of the request in the server log, to quote to the operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// A failed REST request: its status, code and message.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Rejection by access control, sent with its own headers and fields.
    pub denial: Option<Box<(Denial, Lang)>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: String) -> ApiError {
        ApiError {
            status,
            code,
            message,
            denial: None,
        }
    }

    /// Creates the error of a call access control refused (401, 403 or 429).
    pub fn denied(denial: Denial, lang: Lang) -> ApiError {
        ApiError {
            status: StatusCode::from_u16(denial.status()).unwrap_or(StatusCode::FORBIDDEN),
            code: denial.code(),
            message: denial.message(lang),
            denial: Some(Box::new((denial, lang))),
        }
    }

    /// Creates the error of a request the caller can fix (HTTP 400).
    pub fn bad_request(code: &'static str, message: String) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// Creates the 413 of a text over the scan limit; `message` names both sizes.
    pub fn text_too_large(message: String) -> ApiError {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "text_too_large", message)
    }

    /// Creates the error of a missing query parameter, named in the message.
    pub fn missing(name: &str, example: &str, lang: Lang) -> ApiError {
        let message = match lang {
            Lang::En => format!("missing query parameter {name}: pass {name}={example}"),
            Lang::ZhCn => format!("缺少查询参数 {name}：请传入 {name}={example}"),
        };
        ApiError::bad_request("missing_parameter", message)
    }

    /// Creates the error of a store failure. The details go to the log, not to the caller.
    pub fn unavailable(lang: Lang) -> ApiError {
        let message = lang.pick(
            "the local database cannot be read; the server log has the details, and the request can be retried",
            "无法读取本地数据库；详情见服务器日志，可稍后重试",
        );
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            message.to_string(),
        )
    }

    /// Creates the error of a failure inside the server, such as a panicked analysis task.
    pub fn internal(lang: Lang) -> ApiError {
        let message = lang.pick(
            "internal error; the server log has the details",
            "服务器内部错误；详情见服务器日志",
        );
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            message.to_string(),
        )
    }

    pub fn from_query(rejection: QueryRejection, lang: Lang) -> ApiError {
        let message = match lang {
            Lang::En => format!("invalid query string: {}", rejection.body_text()),
            Lang::ZhCn => format!("查询参数无效：{}", rejection.body_text()),
        };
        ApiError::bad_request("invalid_parameter", message)
    }

    pub fn from_path(rejection: PathRejection, lang: Lang) -> ApiError {
        let message = match lang {
            Lang::En => format!("invalid path: {}", rejection.body_text()),
            Lang::ZhCn => format!("路径无效：{}", rejection.body_text()),
        };
        ApiError::bad_request("invalid_parameter", message)
    }

    /// Maps a JSON body rejection: 413 for a body over the limit, 415 without a JSON
    /// content type, 400 for anything else (never axum's 422).
    pub fn from_json(rejection: JsonRejection, lang: Lang) -> ApiError {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => too_large(lang),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => unsupported_media_type("application/json", lang),
            _ => {
                let message = match lang {
                    Lang::En => format!("invalid JSON body: {}", rejection.body_text()),
                    Lang::ZhCn => format!("JSON 请求体无效：{}", rejection.body_text()),
                };
                ApiError::bad_request("invalid_body", message)
            }
        }
    }
}

/// Largest request body the REST API reads, in bytes (4 MiB, as on `/mcp`).
pub const MAX_BODY_BYTES: usize = crate::guard::MAX_BODY_BYTES;

pub fn too_large(lang: Lang) -> ApiError {
    let message = match lang {
        Lang::En => format!(
            "request body is over the limit of {MAX_BODY_BYTES} bytes: send fewer items per request"
        ),
        Lang::ZhCn => format!("请求体超过 {MAX_BODY_BYTES} 字节的上限：请减少每次请求的条目"),
    };
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", message)
}

pub fn unsupported_media_type(expected: &str, lang: Lang) -> ApiError {
    let message = match lang {
        Lang::En => format!("unsupported Content-Type: send {expected}"),
        Lang::ZhCn => format!("不支持的 Content-Type：请使用 {expected}"),
    };
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        message,
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Some(denied) = self.denial {
            let (denial, lang) = *denied;
            return crate::auth::denial_response(&denial, tiq_access::Surface::Rest, lang);
        }
        let body = ErrorBody {
            error: self.code.to_string(),
            message: self.message,
            limit: None,
            retry_after_seconds: None,
            resets_at: None,
            request_id: None,
        };
        (self.status, Json(body)).into_response()
    }
}

/// Returns the JSON 404 for a path no route serves.
pub async fn not_found(method: Method, uri: Uri, headers: HeaderMap) -> ApiError {
    let path = uri.path();
    let message = match super::lang::from_accept_language(&headers) {
        Lang::En => format!("no route for {method} {path}: the API is described at /openapi.json"),
        Lang::ZhCn => format!("没有 {method} {path} 这个接口：接口说明见 /openapi.json"),
    };
    ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
}

/// Returns the JSON 405 for a path served with other methods.
pub async fn method_not_allowed(method: Method, uri: Uri, headers: HeaderMap) -> ApiError {
    let path = uri.path();
    let message = match super::lang::from_accept_language(&headers) {
        Lang::En => format!(
            "method {method} is not allowed on {path}: the API is described at /openapi.json"
        ),
        Lang::ZhCn => format!("{path} 不支持 {method} 方法：接口说明见 /openapi.json"),
    };
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        message,
    )
}
