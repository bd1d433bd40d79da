//! Downloads: conditional HTTP(S) requests with retries, size limits and timeouts, and local
//! files for mirrors on disk.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::blocking::Client;
use reqwest::header::{
    CONTENT_LENGTH, ETAG, HeaderMap, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use tiq_store::Validators;

use crate::settings::SyncSettings;

/// Reason a download failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "{url}: the server returned HTTP {status}; check the address (the source's url, or the mirror layout that `tiq catalog --json` lists), or sync later if the publisher is down"
    )]
    Status { url: String, status: u16 },
    #[error("{url}: {message}")]
    Transport {
        url: String,
        message: String,
        /// A timeout or a broken connection, which a retry may get past; a redirect loop or
        /// an invalid request is not.
        transient: bool,
    },
    #[error(
        "{url}: larger than the limit of {limit} bytes; raise sync.max_download_mb to allow it"
    )]
    TooLarge { url: String, limit: u64 },
    #[error(
        "{location}: {source}; check the path (a mirror folder holds <feed>/<file> as `tiq catalog --json` lists in mirror_files)"
    )]
    Local {
        location: String,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

impl FetchError {
    /// Server errors, timeouts and broken connections may pass, so they are retried; a 4xx response is not.
    fn is_transient(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => *status >= 500,
            FetchError::Transport { transient, .. } => *transient,
            _ => false,
        }
    }
}

/// Result of one download.
#[derive(Debug)]
pub enum Fetched {
    /// The server (or the file's modification time) reports nothing changed.
    NotModified,
    /// The body was written to the target path.
    Body {
        bytes: u64,
        validators: Validators,
        /// When the data was produced, from Last-Modified or the file's modification time.
        modified: Option<SystemTime>,
    },
}

/// Reports bytes as they arrive: (received, expected total if known).
pub type OnBytes<'a> = &'a dyn Fn(u64, Option<u64>);

/// Fetches over HTTP(S) or from local files.
pub struct Fetcher {
    client: Client,
    max_bytes: u64,
    retries: u32,
    retry_delay: Duration,
}

impl Fetcher {
    pub fn new(settings: &SyncSettings) -> Result<Fetcher, FetchError> {
        let client = Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("tiq/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| FetchError::Transport {
                url: String::new(),
                message: format!("cannot build the HTTP client: {error}"),
                transient: false,
            })?;
        Ok(Fetcher {
            client,
            max_bytes: settings.max_bytes,
            retries: settings.retries,
            retry_delay: settings.retry_delay,
        })
    }

    /// Largest download, and largest total an archive may unpack to.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Fetches `location` into `target`, sending `known` validators so an unchanged file
    /// costs one round trip. Transient failures are retried with a doubling delay.
    pub fn fetch(
        &self,
        location: &str,
        known: &Validators,
        target: &Path,
        on_bytes: OnBytes<'_>,
    ) -> Result<Fetched, FetchError> {
        if let Some(path) = local_path(location) {
            return fetch_local(location, &path, known, target, self.max_bytes);
        }
        let mut attempt = 0;
        loop {
            match self.fetch_http(location, known, target, on_bytes) {
                Err(error) if error.is_transient() && attempt < self.retries => {
                    let delay = self.retry_delay * 2u32.saturating_pow(attempt);
                    tracing::warn!(url = %redact(location), %error, attempt = attempt + 1, delay_ms = delay.as_millis() as u64, "download failed; retrying");
                    std::thread::sleep(delay);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn fetch_http(
        &self,
        url: &str,
        known: &Validators,
        target: &Path,
        on_bytes: OnBytes<'_>,
    ) -> Result<Fetched, FetchError> {
        let transport = |error: reqwest::Error| FetchError::Transport {
            url: redact(url),
            message: describe(&error),
            transient: !error.is_redirect() && !error.is_builder(),
        };
        let mut request = self.client.get(url);
        if let Some(etag) = &known.etag {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = &known.last_modified {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
        let mut response = request.send().map_err(transport)?;
        let status = response.status();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified);
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                url: redact(url),
                status: status.as_u16(),
            });
        }
        let headers = response.headers().clone();
        let expected = header_u64(&headers, CONTENT_LENGTH);
        if expected.is_some_and(|length| length > self.max_bytes) {
            return Err(FetchError::TooLarge {
                url: redact(url),
                limit: self.max_bytes,
            });
        }
        let write_error = |source| FetchError::Write {
            path: target.display().to_string(),
            source,
        };
        let mut out = File::create(target).map_err(write_error)?;
        let mut buffer = vec![0u8; 64 * 1024];
        let mut bytes = 0u64;
        loop {
            let n = response
                .read(&mut buffer)
                .map_err(|error| FetchError::Transport {
                    url: redact(url),
                    message: match is_timeout(&error) {
                        true => format!(
                            "timed out after {bytes} bytes of the body; raise sync.timeout if the link is slow"
                        ),
                        false => format!("the download broke off after {bytes} bytes: {error}"),
                    },
                    transient: true,
                })?;
            if n == 0 {
                break;
            }
            bytes += n as u64;
            if bytes > self.max_bytes {
                return Err(FetchError::TooLarge {
                    url: redact(url),
                    limit: self.max_bytes,
                });
            }
            out.write_all(&buffer[..n]).map_err(write_error)?;
            on_bytes(bytes, expected);
        }
        out.sync_all().map_err(write_error)?;
        let last_modified = header_text(&headers, LAST_MODIFIED);
        Ok(Fetched::Body {
            bytes,
            modified: last_modified
                .as_deref()
                .and_then(|text| httpdate::parse_http_date(text).ok()),
            validators: Validators {
                etag: header_text(&headers, ETAG),
                last_modified,
            },
        })
    }
}

/// Returns the local file a `file://` URL or a plain path names, or `None` for http(s) URLs.
fn local_path(location: &str) -> Option<std::path::PathBuf> {
    if let Some(rest) = location.strip_prefix("file://") {
        return Some(std::path::PathBuf::from(rest));
    }
    if location.starts_with("http://") || location.starts_with("https://") {
        return None;
    }
    Some(std::path::PathBuf::from(location))
}

/// Copies a local file. Its size and modification time stand in for an ETag.
fn fetch_local(
    location: &str,
    path: &Path,
    known: &Validators,
    target: &Path,
    max_bytes: u64,
) -> Result<Fetched, FetchError> {
    let local = |source| FetchError::Local {
        location: location.to_string(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(local)?;
    if !metadata.is_file() {
        return Err(local(std::io::Error::other("not a regular file")));
    }
    if metadata.len() > max_bytes {
        return Err(FetchError::TooLarge {
            url: location.to_string(),
            limit: max_bytes,
        });
    }
    let modified = metadata.modified().ok();
    let stamp = format!(
        "\"file-{}-{}\"",
        metadata.len(),
        modified
            .and_then(|m| m.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos())
    );
    if known.etag.as_deref() == Some(stamp.as_str()) {
        return Ok(Fetched::NotModified);
    }
    let bytes = std::fs::copy(path, target).map_err(|source| FetchError::Write {
        path: target.display().to_string(),
        source,
    })?;
    Ok(Fetched::Body {
        bytes,
        modified,
        validators: Validators {
            etag: Some(stamp),
            last_modified: None,
        },
    })
}

fn header_text(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn header_u64(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<u64> {
    header_text(headers, name).and_then(|v| v.trim().parse().ok())
}

/// Hides what may be a secret in a URL, for messages, logs and the status: the user and
/// password, query values, and path segments that look like keys (PhishTank and others
/// put the API key in the path).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_string(),
    };
    let path: Vec<&str> = path
        .split('/')
        .map(|segment| match looks_like_key(segment) {
            true => "***",
            false => segment,
        })
        .collect();
    let mut redacted = format!("{scheme}://{authority}{}", path.join("/"));
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) => format!("{key}=***"),
                None => pair.to_string(),
            })
            .collect();
        redacted.push('?');
        redacted.push_str(&pairs.join("&"));
    }
    redacted
}

/// Returns whether a path segment looks like an API key: a long run of letters and digits
/// with both in it.
fn looks_like_key(segment: &str) -> bool {
    segment.len() >= 20
        && segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && segment.chars().any(|c| c.is_ascii_digit())
        && segment.chars().any(|c| c.is_ascii_alphabetic())
}

/// Returns whether a read error, or any error behind it, is a timeout.
fn is_timeout(error: &std::io::Error) -> bool {
    if error.kind() == std::io::ErrorKind::TimedOut {
        return true;
    }
    // `io::Error::source` skips the wrapped error itself, so the walk starts from it.
    let mut current = error
        .get_ref()
        .map(|inner| inner as &(dyn std::error::Error + 'static));
    while let Some(error) = current {
        if let Some(error) = error.downcast_ref::<reqwest::Error>()
            && error.is_timeout()
        {
            return true;
        }
        if let Some(error) = error.downcast_ref::<std::io::Error>()
            && error.kind() == std::io::ErrorKind::TimedOut
        {
            return true;
        }
        current = error.source();
    }
    false
}

/// Describes the error and its causes in one line, because reqwest's own message hides the
/// cause, and ends with what to do.
fn describe(error: &reqwest::Error) -> String {
    let (mut text, hint) = if error.is_timeout() {
        (
            "timed out".to_string(),
            "raise sync.timeout or sync.connect_timeout if the link is slow",
        )
    } else if error.is_connect() {
        (
            "cannot connect".to_string(),
            "check the address and that the server or mirror is running",
        )
    } else {
        ("request failed".to_string(), "check the address")
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    format!("{text}; {hint}")
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_keys_and_passwords() {
        assert_eq!(
            redact(
                "https://data.example.com/data/0123456789abcdef0123456789abcdef/online-valid.csv"
            ),
            "https://data.example.com/data/***/online-valid.csv"
        );
        assert_eq!(
            redact("https://user:secret@mirror.example.org/tiq/ipsum/ipsum.txt"),
            "https://***@mirror.example.org/tiq/ipsum/ipsum.txt"
        );
        assert_eq!(
            redact("https://feeds.example.net/export?key=abc&format=csv"),
            "https://feeds.example.net/export?key=***&format=***"
        );
        let plain = "https://raw.example.com/stamparm/ipsum/master/ipsum.txt";
        assert_eq!(redact(plain), plain);
    }
}
