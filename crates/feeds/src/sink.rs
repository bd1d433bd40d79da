//! The [`Sink`] that parsers hand records to, the counting wrapper the parsers use, and the sink
//! behind [`validate`](crate::validate) that keeps only rejections.

use std::fmt;
use std::path::Path;

use tiq_model::{AllowEntry, AsnRange, Sighting};

use crate::error::FeedError;

/// Error a sink returns when it cannot store a record; it stops the parse.
pub type SinkError = Box<dyn std::error::Error + Send + Sync>;

/// Receiver of the records a parser produces, usually the store's importer.
pub trait Sink {
    fn sighting(&mut self, sighting: Sighting) -> Result<(), SinkError>;
    fn allow(&mut self, entry: AllowEntry) -> Result<(), SinkError>;
    fn asn_range(&mut self, range: AsnRange) -> Result<(), SinkError>;
    /// Reports a line the parser could not use, with its 1-based number and the reason.
    fn reject(&mut self, line: u64, reason: String);
}

/// Counts of one parse.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Lines of the file, after gzip decompression.
    pub lines: u64,
    /// Sightings, allow-list entries and ASN ranges handed to the sink. For a kept file checked
    /// by [`validate`](crate::validate), the entries checked: KEV vulnerabilities, CVE records,
    /// EPSS rows, STIX objects and the like.
    pub records: u64,
    /// Lines or list entries reported through [`Sink::reject`].
    pub rejected: u64,
    /// Well-formed lines or list entries left out because tiq cannot store their kind, such as
    /// maltrail trails that are only a URL path. They are not errors and reach no sink method.
    pub skipped: u64,
}

/// Maximum length of a rejection reason, in characters.
const MAX_REASON_CHARS: usize = 300;

fn shorten(mut reason: String) -> String {
    if let Some((cut, _)) = reason.char_indices().nth(MAX_REASON_CHARS) {
        reason.truncate(cut);
        reason.push_str("… (cut)");
    }
    reason
}

/// Wraps a sink for one file: counts records and rejections and adds the path and line to
/// sink errors.
pub(crate) struct Emitter<'a> {
    sink: &'a mut dyn Sink,
    path: &'a Path,
    stats: ParseStats,
}

impl<'a> Emitter<'a> {
    pub(crate) fn new(sink: &'a mut dyn Sink, path: &'a Path) -> Emitter<'a> {
        Emitter {
            sink,
            path,
            stats: ParseStats::default(),
        }
    }

    pub(crate) fn sighting(&mut self, line: u64, sighting: Sighting) -> Result<(), FeedError> {
        let result = self.sink.sighting(sighting);
        self.counted(line, result)
    }

    pub(crate) fn allow(&mut self, line: u64, entry: AllowEntry) -> Result<(), FeedError> {
        let result = self.sink.allow(entry);
        self.counted(line, result)
    }

    pub(crate) fn asn_range(&mut self, line: u64, range: AsnRange) -> Result<(), FeedError> {
        let result = self.sink.asn_range(range);
        self.counted(line, result)
    }

    /// Reports a rejected line. The reason is cut to [`MAX_REASON_CHARS`], because it may quote
    /// the line and a line can be up to a megabyte long.
    pub(crate) fn reject(&mut self, line: u64, reason: impl fmt::Display) {
        self.stats.rejected += 1;
        self.sink.reject(line, shorten(reason.to_string()));
    }

    /// Counts an entry of a kept file that passed its checks; kept files hand no records to the
    /// sink.
    pub(crate) fn count_record(&mut self) {
        self.stats.records += 1;
    }

    /// Counts a well-formed entry that tiq cannot store.
    pub(crate) fn skip(&mut self) {
        self.stats.skipped += 1;
    }

    pub(crate) fn set_lines(&mut self, lines: u64) {
        self.stats.lines = lines;
    }

    pub(crate) fn finish(self) -> ParseStats {
        self.stats
    }

    fn counted(
        &mut self,
        line: u64,
        result: Result<(), crate::SinkError>,
    ) -> Result<(), FeedError> {
        result.map_err(|source| FeedError::Sink {
            path: self.path.to_path_buf(),
            line,
            source,
        })?;
        self.stats.records += 1;
        Ok(())
    }
}

/// A sink that drops records and passes rejections to a callback, for
/// [`validate`](crate::validate).
pub(crate) struct RejectionSink<'a> {
    pub(crate) reject: &'a mut dyn FnMut(u64, String),
}

impl Sink for RejectionSink<'_> {
    fn sighting(&mut self, _: Sighting) -> Result<(), SinkError> {
        Ok(())
    }

    fn allow(&mut self, _: AllowEntry) -> Result<(), SinkError> {
        Ok(())
    }

    fn asn_range(&mut self, _: AsnRange) -> Result<(), SinkError> {
        Ok(())
    }

    fn reject(&mut self, line: u64, reason: String) {
        (self.reject)(line, reason);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_cut() {
        let long = format!("invalid IP address {:?}", "9".repeat(10_000));
        let short = shorten(long);
        assert!(short.chars().count() < MAX_REASON_CHARS + 10, "{short}");
        assert!(short.ends_with("(cut)"));
        assert_eq!(shorten("ok".to_string()), "ok");
    }
}
