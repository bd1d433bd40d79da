//! The [`Sink`] that parsers hand records to, and the counting wrapper the parsers use.

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
    /// Sightings, allow-list entries and ASN ranges handed to the sink.
    pub records: u64,
    /// Lines or list entries reported through [`Sink::reject`].
    pub rejected: u64,
    /// Well-formed lines or list entries left out because tiq cannot store their kind, such as
    /// maltrail trails that are only a URL path. They are not errors and reach no sink method.
    pub skipped: u64,
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

    pub(crate) fn reject(&mut self, line: u64, reason: impl fmt::Display) {
        self.stats.rejected += 1;
        self.sink.reject(line, reason.to_string());
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
