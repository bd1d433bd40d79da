//! The response language of a REST request: the `lang` query parameter, else the
//! `Accept-Language` header, else English.

use axum::http::{HeaderMap, StatusCode, header};
use tiq_model::Lang;

use super::error::ApiError;

/// Picks the language from an explicit `lang` value, else from `Accept-Language`. An explicit
/// value tiq has no text for is rejected, naming it.
pub fn resolve(explicit: Option<&str>, headers: &HeaderMap) -> Result<Lang, ApiError> {
    let fallback = from_accept_language(headers);
    match explicit.map(str::trim).filter(|value| !value.is_empty()) {
        None => Ok(fallback),
        Some(value) => value.parse::<Lang>().map_err(|_| {
            let message = match fallback {
                Lang::En => format!("unsupported lang {value:?}: use en or zh-CN"),
                Lang::ZhCn => format!("不支持的 lang“{value}”：请使用 en 或 zh-CN"),
            };
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_language", message)
        }),
    }
}

/// Picks the language from `Accept-Language` (RFC 9110): the supported language with the
/// highest weight, where any `zh` tag selects Simplified Chinese and any `en` tag English.
/// English when the header names neither.
pub fn from_accept_language(headers: &HeaderMap) -> Lang {
    let Some(value) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|value| value.to_str().ok())
    else {
        return Lang::default();
    };
    let mut best: Option<(f32, Lang)> = None;
    for entry in value.split(',') {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let weight = parts
            .filter_map(|part| part.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let lang = if tag == "zh" || tag.starts_with("zh-") {
            Lang::ZhCn
        } else if tag == "en" || tag.starts_with("en-") {
            Lang::En
        } else {
            continue;
        };
        if weight > 0.0 && best.is_none_or(|(top, _)| weight > top) {
            best = Some((weight, lang));
        }
    }
    best.map(|(_, lang)| lang).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(accept: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_str(accept).unwrap(),
        );
        headers
    }

    #[test]
    fn accept_language_weights() {
        assert_eq!(from_accept_language(&headers("zh-CN,zh;q=0.9")), Lang::ZhCn);
        assert_eq!(
            from_accept_language(&headers("en;q=0.5, zh-TW")),
            Lang::ZhCn
        );
        assert_eq!(
            from_accept_language(&headers("zh;q=0.3, en-GB;q=0.8")),
            Lang::En
        );
        assert_eq!(from_accept_language(&headers("fr, de;q=0.9")), Lang::En);
        assert_eq!(from_accept_language(&headers("zh;q=0")), Lang::En);
        assert_eq!(from_accept_language(&HeaderMap::new()), Lang::En);
    }

    #[test]
    fn explicit_lang_wins() {
        let chinese = headers("zh-CN");
        assert_eq!(resolve(Some("en"), &chinese).unwrap(), Lang::En);
        assert_eq!(resolve(None, &chinese).unwrap(), Lang::ZhCn);
        assert_eq!(resolve(Some(""), &chinese).unwrap(), Lang::ZhCn);
        let error = resolve(Some("fr"), &HeaderMap::new()).unwrap_err();
        assert_eq!(error.code, "invalid_language");
        assert!(error.message.contains("\"fr\""), "{}", error.message);
    }
}
