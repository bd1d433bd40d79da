//! Errors of the crate: [`FeedError`] for a file that fails while it is read or parsed, and
//! [`Unsupported`] for a file that [`inspect`](crate::inspect) cannot import.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::sink::SinkError;

/// A failure while walking, reading or parsing a feed file.
///
/// Records that the sink received before the error belong to a partial import: a caller that
/// stores them in a transaction should roll it back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedError {
    #[error("failed to read {}: {source}", .path.display())]
    Io { path: PathBuf, source: io::Error },

    #[error("{}: malformed feed file: {reason}", Location(.path, *.line))]
    Malformed {
        path: PathBuf,
        /// 1-based line of the problem, when it has one.
        line: Option<u64>,
        reason: String,
    },

    #[error("{}: incomplete file: {reason}; fetch the file again", .path.display())]
    Incomplete { path: PathBuf, reason: String },

    #[error("{}: the sink failed to store a record: {source}", Location(.path, Some(*.line)))]
    Sink {
        path: PathBuf,
        line: u64,
        source: SinkError,
    },

    /// A kept file ([`Format::is_kept_file`](crate::Format::is_kept_file)) given to
    /// [`parse`](crate::parse).
    #[error(
        "{}: {format} files are kept whole, not streamed into records; check them with validate and copy the file",
        .path.display()
    )]
    NotStreamable { path: PathBuf, format: &'static str },

    #[error("{}: invalid MaxMind DB: {source}", .path.display())]
    MaxMindDb {
        path: PathBuf,
        source: maxminddb::MaxMindDbError,
    },
}

impl FeedError {
    pub(crate) fn io(path: &Path) -> impl FnOnce(io::Error) -> FeedError + '_ {
        move |source| FeedError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn malformed(
        path: &Path,
        line: Option<u64>,
        reason: impl fmt::Display,
    ) -> FeedError {
        FeedError::Malformed {
            path: path.to_path_buf(),
            line,
            reason: reason.to_string(),
        }
    }
}

/// `path:line`, or the path alone when there is no line.
struct Location<'a>(&'a Path, Option<u64>);

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.1 {
            Some(line) => write!(f, "{}:{line}", self.0.display()),
            None => write!(f, "{}", self.0.display()),
        }
    }
}

/// A file that [`inspect`](crate::inspect) does not import, with the reason.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", .path.display())]
pub struct Unsupported {
    pub path: PathBuf,
    pub reason: UnsupportedReason,
}

/// Reason a file is not imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnsupportedReason {
    #[error("the file cannot be read: {0}")]
    Unreadable(#[source] io::Error),

    #[error("the file is empty or contains only whitespace")]
    Empty,

    #[error("binary data in no supported format")]
    Binary,

    /// A zip archive, such as a feed export saved without being extracted.
    #[error("zip archive: extract the feed file from it and import that file")]
    ZipArchive,

    /// An HTML page where a feed was expected, usually an error or login page saved by a
    /// download.
    #[error(
        "HTML page, not a feed: the download probably returned an error page; fetch the feed again"
    )]
    HtmlPage,

    /// A gzip stream that ends before its end marker.
    #[error("the compressed data ends early, so the file is cut short: fetch it again ({0})")]
    Truncated(#[source] io::Error),

    #[error("documentation or licence text, not a feed")]
    Documentation,

    #[error("JSON schema, not a feed")]
    Schema,

    /// A MISP warninglist whose `matching_attributes` name no attribute type tiq looks up.
    #[error(
        "MISP warninglist {list:?} applies only to {attributes} attributes, which tiq does not look up"
    )]
    WarninglistOutOfScope { list: String, attributes: String },

    #[error("invalid JSON: {0}")]
    InvalidJson(String),

    #[error("JSON document of unknown shape (top-level keys: {keys})")]
    UnknownJson { keys: String },

    #[error("text in no supported format (first line: {first_line:?})")]
    UnknownText { first_line: String },
}
