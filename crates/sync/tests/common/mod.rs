//! A feed publisher on 127.0.0.1 for the sync tests: files in memory, ETag and
//! Last-Modified validators, and failures on demand.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

/// What the publisher does for one path.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub body: Vec<u8>,
    /// Status returned instead, for the next `fail_times` requests.
    pub fail_status: Option<u16>,
    pub fail_times: u32,
    /// Delay before each response.
    pub delay: Option<Duration>,
    /// Bytes of the body sent before a pause of `delay` in the middle of the body; the
    /// delay before the response is then skipped.
    pub stall_after: Option<usize>,
    /// Send no validators, as some publishers do.
    pub no_validators: bool,
    /// Redirect every request to the same path.
    pub redirect_loop: bool,
}

#[derive(Default)]
struct Inner {
    files: HashMap<String, Entry>,
    requests: HashMap<String, u32>,
    not_modified: HashMap<String, u32>,
}

/// Handle on a running publisher.
#[derive(Clone)]
pub struct Publisher {
    inner: Arc<Mutex<Inner>>,
    pub address: SocketAddr,
    _runtime: Arc<tokio::runtime::Runtime>,
}

impl Publisher {
    /// Starts a publisher on an ephemeral loopback port.
    pub fn start() -> Publisher {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = axum::Router::new()
            .route("/{*path}", axum::routing::get(serve))
            .with_state(inner.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let address = listener.local_addr().unwrap();
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Publisher {
            inner,
            address,
            _runtime: Arc::new(runtime),
        }
    }

    /// URL of a path on this publisher.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{}", self.address, path.trim_start_matches('/'))
    }

    /// Publishes (or replaces) a file.
    pub fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.set(
            path,
            Entry {
                body: body.into(),
                ..Entry::default()
            },
        );
    }

    pub fn set(&self, path: &str, entry: Entry) {
        self.inner
            .lock()
            .unwrap()
            .files
            .insert(path.trim_start_matches('/').to_string(), entry);
    }

    /// Makes the next `times` requests for `path` fail with `status`.
    pub fn fail(&self, path: &str, status: u16, times: u32) {
        let mut inner = self.inner.lock().unwrap();
        let entry = inner
            .files
            .entry(path.trim_start_matches('/').to_string())
            .or_default();
        entry.fail_status = Some(status);
        entry.fail_times = times;
    }

    /// Requests seen for `path`.
    pub fn requests(&self, path: &str) -> u32 {
        let inner = self.inner.lock().unwrap();
        inner
            .requests
            .get(path.trim_start_matches('/'))
            .copied()
            .unwrap_or(0)
    }

    /// Number of 304 Not Modified responses for `path`.
    pub fn not_modified(&self, path: &str) -> u32 {
        let inner = self.inner.lock().unwrap();
        inner
            .not_modified
            .get(path.trim_start_matches('/'))
            .copied()
            .unwrap_or(0)
    }
}

/// Computes a strong ETag from the content: FNV-1a, enough to tell versions apart in tests.
fn etag(body: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in body {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{hash:016x}-{}\"", body.len())
}

const LAST_MODIFIED: &str = "Tue, 01 Dec 2026 08:00:00 GMT";

async fn serve(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Response {
    let entry = {
        let mut inner = inner.lock().unwrap();
        *inner.requests.entry(path.clone()).or_default() += 1;
        let Some(entry) = inner.files.get_mut(&path) else {
            return status(StatusCode::NOT_FOUND);
        };
        let failing = entry.fail_status.filter(|_| entry.fail_times > 0);
        if failing.is_some() {
            entry.fail_times -= 1;
        }
        (entry.clone(), failing)
    };
    let (entry, failing) = entry;
    if let Some(delay) = entry.delay.filter(|_| entry.stall_after.is_none()) {
        tokio::time::sleep(delay).await;
    }
    if let Some(code) = failing {
        return status(StatusCode::from_u16(code).unwrap());
    }
    if entry.redirect_loop {
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, format!("/{path}"))
            .body(Body::empty())
            .unwrap();
    }
    let tag = etag(&entry.body);
    let unchanged = !entry.no_validators
        && headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == tag);
    if unchanged {
        *inner.lock().unwrap().not_modified.entry(path).or_default() += 1;
        return status(StatusCode::NOT_MODIFIED);
    }
    let mut response = Response::builder().status(StatusCode::OK);
    if !entry.no_validators {
        response = response
            .header(header::ETAG, tag)
            .header(header::LAST_MODIFIED, LAST_MODIFIED);
    }
    let body = match entry.stall_after {
        Some(sent) => {
            use futures_util::StreamExt;
            let pause = entry.delay.unwrap_or_default();
            let (head, tail) = entry.body.split_at(sent.min(entry.body.len()));
            let chunks = [(head.to_vec(), Duration::ZERO), (tail.to_vec(), pause)];
            Body::from_stream(
                futures_util::stream::iter(chunks).then(|(chunk, wait)| async move {
                    tokio::time::sleep(wait).await;
                    Ok::<_, std::io::Error>(chunk)
                }),
            )
        }
        None => Body::from(entry.body),
    };
    response.body(body).unwrap()
}

fn status(code: StatusCode) -> Response {
    Response::builder()
        .status(code)
        .body(Body::from(format!("{code}\n")))
        .unwrap()
}

/// Builds a zip archive in memory from (path, content) pairs.
pub fn zip(members: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut writer = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (path, content) in members {
            writer.start_file(*path, options).unwrap();
            writer.write_all(content).unwrap();
        }
        writer.finish().unwrap();
    }
    out.into_inner()
}

/// Gzip-compresses bytes.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}
