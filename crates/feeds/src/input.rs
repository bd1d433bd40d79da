//! Reading feed files: transparent gzip, a bounded head for detection, numbered lines and CSV
//! fields, and line lookup for formats that are read whole.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::bufread::MultiGzDecoder;

use crate::error::FeedError;
use crate::sink::Emitter;
use crate::source::FeedFile;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Bytes of decompressed content that detection looks at.
const HEAD_LIMIT: u64 = 64 * 1024;

/// Maximum line length in bytes. A longer line is rejected without being kept in memory.
const MAX_LINE_BYTES: u64 = 1024 * 1024;

/// Opens a file for reading, decompressing it when it starts with the gzip magic bytes.
pub(crate) fn open(path: &Path) -> io::Result<Box<dyn BufRead>> {
    let mut file = BufReader::with_capacity(64 * 1024, File::open(path)?);
    if file.fill_buf()?.starts_with(&GZIP_MAGIC) {
        let decoder = MultiGzDecoder::new(file);
        return Ok(Box::new(BufReader::with_capacity(64 * 1024, decoder)));
    }
    Ok(Box::new(file))
}

/// Reads the whole decompressed content, for JSON formats that are parsed in one piece.
pub(crate) fn read_all(path: &Path) -> io::Result<Vec<u8>> {
    let mut content = Vec::new();
    open(path)?.read_to_end(&mut content)?;
    Ok(content)
}

/// The first [`HEAD_LIMIT`] bytes of a file's decompressed content.
pub(crate) struct Head {
    bytes: Vec<u8>,
    /// Complete lines of the head when it is UTF-8 text without NUL bytes.
    text: Option<String>,
}

impl Head {
    pub(crate) fn read(path: &Path) -> io::Result<Head> {
        let mut bytes = Vec::new();
        open(path)?.take(HEAD_LIMIT + 1).read_to_end(&mut bytes)?;
        let truncated = bytes.len() as u64 > HEAD_LIMIT;
        bytes.truncate(HEAD_LIMIT as usize);
        let text = decode_text(&bytes, truncated);
        Ok(Head { bytes, text })
    }

    pub(crate) fn is_blank(&self) -> bool {
        self.bytes.iter().all(u8::is_ascii_whitespace)
    }

    pub(crate) fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// Complete lines of the head; none when the head is binary.
    pub(crate) fn lines(&self) -> impl Iterator<Item = &str> {
        self.text().unwrap_or("").lines()
    }

    /// Trimmed lines that are neither blank nor comments starting with one of `comment`.
    pub(crate) fn data_lines<'a>(&'a self, comment: &'a [char]) -> impl Iterator<Item = &'a str> {
        self.lines()
            .map(str::trim)
            .filter(move |line| !line.is_empty() && !line.starts_with(comment))
    }

    pub(crate) fn first_line(&self) -> &str {
        self.lines().next().unwrap_or("")
    }

    /// Returns whether any of the first `count` lines starts with `prefix`.
    pub(crate) fn has_line_starting(&self, count: usize, prefix: &str) -> bool {
        self.lines()
            .take(count)
            .any(|line| line.starts_with(prefix))
    }
}

/// Decodes the head as text. When the head was cut short, the unfinished last line is dropped,
/// unless it is the only line.
fn decode_text(bytes: &[u8], truncated: bool) -> Option<String> {
    if bytes.contains(&0) {
        return None;
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        // A multi-byte character cut by the head limit is not a decoding error.
        Err(error) if truncated && error.error_len().is_none() => {
            std::str::from_utf8(&bytes[..error.valid_up_to()]).ok()?
        }
        Err(_) => return None,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let complete = match (truncated, text.rfind('\n')) {
        (true, Some(end)) => &text[..end],
        _ => text,
    };
    Some(complete.to_string())
}

/// One line of a file: its 1-based number and its text, or `None` when it is not UTF-8 or is
/// longer than [`MAX_LINE_BYTES`].
pub(crate) struct Line<'a> {
    pub number: u64,
    pub text: Option<&'a str>,
    /// Whether the line was longer than [`MAX_LINE_BYTES`]; its bytes were skipped.
    pub too_long: bool,
}

/// Reads numbered lines without the line terminator, reusing one buffer.
pub(crate) struct LineReader<R> {
    reader: R,
    buffer: Vec<u8>,
    number: u64,
}

impl<R: BufRead> LineReader<R> {
    pub(crate) fn new(reader: R) -> LineReader<R> {
        LineReader {
            reader,
            buffer: Vec::new(),
            number: 0,
        }
    }

    /// Returns the next line, `None` at the end of the file, or an error for a read failure. A
    /// line over [`MAX_LINE_BYTES`] is skipped to its end and returned without text.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buffer.clear();
        let read = (&mut self.reader)
            .take(MAX_LINE_BYTES)
            .read_until(b'\n', &mut self.buffer)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        if read as u64 == MAX_LINE_BYTES && !self.buffer.ends_with(b"\n") {
            self.skip_rest_of_line()?;
            return Ok(Some(Line {
                number: self.number,
                text: None,
                too_long: true,
            }));
        }
        let mut content = self.buffer.as_slice();
        content = content.strip_suffix(b"\n").unwrap_or(content);
        content = content.strip_suffix(b"\r").unwrap_or(content);
        if self.number == 1 {
            content = content
                .strip_prefix("\u{feff}".as_bytes())
                .unwrap_or(content);
        }
        Ok(Some(Line {
            number: self.number,
            text: std::str::from_utf8(content).ok(),
            too_long: false,
        }))
    }

    /// Discards bytes up to and including the next newline, one buffer at a time.
    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            let available = self.reader.fill_buf()?;
            if available.is_empty() {
                return Ok(());
            }
            if let Some(end) = available.iter().position(|&byte| byte == b'\n') {
                self.reader.consume(end + 1);
                return Ok(());
            }
            let length = available.len();
            self.reader.consume(length);
        }
    }

    pub(crate) fn lines_read(&self) -> u64 {
        self.number
    }
}

/// Calls `handle` for every UTF-8 line of the file, rejects the others, and records the line
/// count in the stats.
pub(crate) fn for_each_line(
    file: &FeedFile,
    out: &mut Emitter,
    mut handle: impl FnMut(u64, &str, &mut Emitter) -> Result<(), FeedError>,
) -> Result<(), FeedError> {
    let reader = open(&file.path).map_err(FeedError::io(&file.path))?;
    let mut lines = LineReader::new(reader);
    while let Some(line) = lines.next_line().map_err(|error| read_error(file, error))? {
        match line.text {
            Some(text) => handle(line.number, text, out)?,
            None if line.too_long => out.reject(
                line.number,
                format!(
                    "the line is longer than {MAX_LINE_BYTES} bytes: no feed entry is that long"
                ),
            ),
            None => out.reject(line.number, "the line is not valid UTF-8"),
        }
    }
    out.set_lines(lines.lines_read());
    Ok(())
}

/// Turns a read failure into a [`FeedError`]: invalid data (corrupt gzip) makes the file
/// malformed, anything else is an I/O error.
fn read_error(file: &FeedFile, error: io::Error) -> FeedError {
    match error.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput => {
            FeedError::malformed(&file.path, None, error)
        }
        _ => FeedError::Io {
            path: file.path.clone(),
            source: error,
        },
    }
}

/// Calls `handle` with the fields of every CSV line and its line number. Blank lines are
/// skipped, and so are lines starting with `#` when `comments` is set.
///
/// Records are read one line at a time with [`split_csv_line`] because the feeds read this way
/// keep each record on one line. The `csv` crate (1.4) is not used: it reports a record that
/// follows skipped comment lines at the line where its read began, so rejected lines would get
/// the wrong number.
pub(crate) fn for_each_csv_record(
    file: &FeedFile,
    out: &mut Emitter,
    comments: bool,
    mut handle: impl FnMut(u64, &[&str], &mut Emitter) -> Result<(), FeedError>,
) -> Result<(), FeedError> {
    for_each_line(file, out, |number, line, out| {
        if line.trim().is_empty() || (comments && line.starts_with('#')) {
            return Ok(());
        }
        match split_csv_line(line) {
            Ok(fields) => {
                let fields: Vec<&str> = fields.iter().map(|field| field.as_ref()).collect();
                handle(number, &fields, out)
            }
            Err(error) => {
                out.reject(number, error);
                Ok(())
            }
        }
    })
}

/// A quoted CSV field without its closing quote.
#[derive(Debug, thiserror::Error)]
#[error("invalid CSV record: the quoted field starting at byte {start} is not closed on this line")]
pub(crate) struct UnclosedQuote {
    start: usize,
}

/// Splits one CSV line into fields (RFC 4180): commas separate fields, a field in double quotes
/// may contain commas, and `""` inside it is one quote. Text between a closing quote and the
/// next comma is kept as part of the field.
pub(crate) fn split_csv_line(line: &str) -> Result<Vec<Cow<'_, str>>, UnclosedQuote> {
    let mut fields = Vec::new();
    let mut position = 0;
    loop {
        let rest = &line[position..];
        if !rest.starts_with('"') {
            let end = rest.find(',').unwrap_or(rest.len());
            fields.push(Cow::Borrowed(&rest[..end]));
            if end == rest.len() {
                return Ok(fields);
            }
            position += end + 1;
            continue;
        }
        let (value, consumed) = quoted_field(rest).ok_or(UnclosedQuote { start: position })?;
        fields.push(Cow::Owned(value));
        position += consumed;
        if position >= line.len() {
            return Ok(fields);
        }
        position += 1;
    }
}

/// Reads a quoted field at the start of `text` up to the comma that ends it. Returns the value
/// and the bytes consumed before that comma, or `None` when the closing quote is missing.
fn quoted_field(text: &str) -> Option<(String, usize)> {
    let mut value = String::new();
    let mut position = 1;
    loop {
        let close = position + text[position..].find('"')?;
        value.push_str(&text[position..close]);
        if text[close + 1..].starts_with('"') {
            value.push('"');
            position = close + 2;
            continue;
        }
        let after = &text[close + 1..];
        let end = close + 1 + after.find(',').unwrap_or(after.len());
        value.push_str(&text[close + 1..end]);
        return Some((value, end));
    }
}

/// Counts the lines of a text read whole: newline characters, plus one for a last line without.
pub(crate) fn count_lines(content: &[u8]) -> u64 {
    let newlines = content.iter().filter(|&&byte| byte == b'\n').count() as u64;
    match content.last() {
        None => 0,
        Some(b'\n') => newlines,
        Some(_) => newlines + 1,
    }
}

/// Finds the lines of values in a text read whole, searching forward from the last match so
/// that values seen in file order cost one pass over the text.
pub(crate) struct LineLocator<'a> {
    text: &'a str,
    offset: usize,
    line: u64,
}

impl<'a> LineLocator<'a> {
    pub(crate) fn new(text: &'a str) -> LineLocator<'a> {
        LineLocator {
            text,
            offset: 0,
            line: 1,
        }
    }

    /// Returns the 1-based line of the next occurrence of `needle`, searching again from the
    /// start when it does not occur after the previous match.
    pub(crate) fn find(&mut self, needle: &str) -> Option<u64> {
        if needle.is_empty() {
            return None;
        }
        if let Some(found) = self.text[self.offset..].find(needle) {
            return Some(self.advance_to(self.offset + found));
        }
        let found = self.text.find(needle)?;
        self.offset = 0;
        self.line = 1;
        Some(self.advance_to(found))
    }

    fn advance_to(&mut self, position: usize) -> u64 {
        let skipped = &self.text.as_bytes()[self.offset..position];
        self.line += skipped.iter().filter(|&&byte| byte == b'\n').count() as u64;
        self.offset = position;
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Vec<String> {
        split_csv_line(line)
            .unwrap()
            .into_iter()
            .map(Cow::into_owned)
            .collect()
    }

    #[test]
    fn csv_fields() {
        assert_eq!(split("a,b,c"), ["a", "b", "c"]);
        assert_eq!(split(r#""a,1",b"#), ["a,1", "b"]);
        assert_eq!(split(r#""say ""hi""",x"#), [r#"say "hi""#, "x"]);
        assert_eq!(split("a,,"), ["a", "", ""]);
        assert_eq!(split(r#""""#), [""]);
        assert_eq!(split(r#""ab"c,d"#), ["abc", "d"]);
        assert!(split_csv_line(r#"a,"open"#).is_err());
    }

    #[test]
    fn line_locator_counts_lines() {
        let text = "{\n \"list\": [\n  \"a\",\n  \"b\",\n  \"a\"\n ]\n}";
        let mut locator = LineLocator::new(text);
        assert_eq!(locator.find("\"list\""), Some(2));
        assert_eq!(locator.find("\"a\""), Some(3));
        assert_eq!(locator.find("\"b\""), Some(4));
        assert_eq!(locator.find("\"a\""), Some(5));
        assert_eq!(locator.find("\"list\""), Some(2));
        assert_eq!(locator.find("\"missing\""), None);
    }

    #[test]
    fn line_count_of_text() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"a\nb\n"), 2);
        assert_eq!(count_lines(b"a\nb"), 2);
    }
}
