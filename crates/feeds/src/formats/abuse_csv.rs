//! The CSV layout of abuse.ch's ThreatFox and MalwareBazaar exports.
//!
//! These exports open with a `#` comment block whose last line is the quoted column list
//! (`# "first_seen_utc","ioc_id",…`), then quote every field and separate fields with a comma
//! and a space: `"2024-05-01 10:00:00", "1234567", …`. The RFC 4180 splitter of
//! [`crate::input`] reads a field that starts with a space as unquoted text, so a quoted value
//! with a comma inside (`"CobaltStrike,cobeacon"`) would be cut. [`split_fields`] allows spaces
//! around quoted fields instead.

use crate::error::FeedError;
use crate::formats::field;
use crate::input::for_each_line;
use crate::sink::Emitter;
use crate::source::FeedFile;
use crate::values::ValueError;

/// A quoted field without its closing quote.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid CSV record: the quoted field starting at byte {start} is not closed on this line; \
     a record must stay on one line"
)]
pub(crate) struct UnclosedQuote {
    start: usize,
}

/// Splits one line into trimmed fields. A field may be quoted, with `""` for a quote inside,
/// and spaces before and after the quotes are ignored.
pub(crate) fn split_fields(line: &str) -> Result<Vec<String>, UnclosedQuote> {
    let mut fields = Vec::new();
    let mut position = 0;
    loop {
        let rest = &line[position..];
        let start = position + (rest.len() - rest.trim_start().len());
        let (value, end) = match line[start..].starts_with('"') {
            true => quoted_field(line, start)?,
            false => {
                let end = line[start..].find(',').map_or(line.len(), |at| start + at);
                (line[start..end].trim_end().to_string(), end)
            }
        };
        fields.push(value);
        if end >= line.len() {
            return Ok(fields);
        }
        position = end + 1;
    }
}

/// Reads the quoted field at `start` up to the comma that ends it. Returns the value, with any
/// text between the closing quote and the comma appended, and the position of that comma or
/// the end of the line.
fn quoted_field(line: &str, start: usize) -> Result<(String, usize), UnclosedQuote> {
    let mut value = String::new();
    let mut position = start + 1;
    loop {
        let close = line[position..]
            .find('"')
            .map(|at| position + at)
            .ok_or(UnclosedQuote { start })?;
        value.push_str(&line[position..close]);
        if line[close + 1..].starts_with('"') {
            value.push('"');
            position = close + 2;
            continue;
        }
        let after = &line[close + 1..];
        let end = after.find(',').map_or(line.len(), |at| close + 1 + at);
        value.push_str(line[close + 1..end].trim());
        return Ok((value, end));
    }
}

/// Returns the column names of a commented column line such as
/// `# "first_seen_utc","sha256_hash",…` when `line` is one that starts with `first_column`.
pub(crate) fn column_line(line: &str, first_column: &str) -> Option<Vec<String>> {
    let rest = line.trim_start_matches(['#', ' ']);
    let first = rest.trim_start_matches('"');
    if !first.starts_with(first_column) {
        return None;
    }
    split_fields(rest).ok()
}

/// Column positions of a layout, found by name in the column line or taken from the documented
/// order when the file has no column line.
pub(crate) struct Columns<const N: usize> {
    positions: [usize; N],
    count: usize,
}

impl<const N: usize> Columns<N> {
    /// Returns the positions of `names` in the documented order `layout`.
    pub(crate) fn documented(layout: &[&str], names: [&'static str; N]) -> Columns<N> {
        let positions = names.map(|name| {
            layout
                .iter()
                .position(|column| *column == name)
                .expect("every column read is in the documented layout")
        });
        Columns {
            positions,
            count: layout.len(),
        }
    }

    /// Finds `names` in a column line; returns the first missing name as the error.
    pub(crate) fn from_header(
        header: &[String],
        names: [&'static str; N],
    ) -> Result<Columns<N>, &'static str> {
        let mut positions = [0; N];
        for (slot, name) in positions.iter_mut().zip(names) {
            *slot = header
                .iter()
                .position(|column| column.trim().eq_ignore_ascii_case(name))
                .ok_or(name)?;
        }
        Ok(Columns {
            positions,
            count: header.len(),
        })
    }

    /// Returns the values of the columns of a record, in the order of the names.
    pub(crate) fn values<'a>(&self, fields: &[&'a str]) -> Result<[&'a str; N], ValueError> {
        let mut values = [""; N];
        for (value, position) in values.iter_mut().zip(self.positions) {
            *value = field(fields, position, self.count)?;
        }
        Ok(values)
    }
}

/// Calls `handle` with the values of the columns `names` of every record and its line number.
///
/// The column line, commented or not, sets the positions; before it, or without it, the
/// documented order `layout` does. Other comment lines and blank lines are skipped, and a
/// record that cannot be split or is too short is rejected.
pub(crate) fn for_each_record<const N: usize>(
    file: &FeedFile,
    out: &mut Emitter,
    layout: &[&str],
    names: [&'static str; N],
    mut handle: impl FnMut(u64, [&str; N], &mut Emitter) -> Result<(), FeedError>,
) -> Result<(), FeedError> {
    let mut columns = Columns::documented(layout, names);
    for_each_line(file, out, |number, line, out| {
        let line = line.trim();
        if line.is_empty() {
            return Ok(());
        }
        if let Some(header) = column_line(line, layout[0]) {
            columns = Columns::from_header(&header, names).map_err(|missing| {
                let reason = format!("the column line has no {missing:?} column");
                FeedError::malformed(&file.path, Some(number), reason)
            })?;
            return Ok(());
        }
        if line.starts_with('#') {
            return Ok(());
        }
        let fields = match split_fields(line) {
            Ok(fields) => fields,
            Err(error) => {
                out.reject(number, error);
                return Ok(());
            }
        };
        let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
        match columns.values(&fields) {
            Ok(values) => handle(number, values, out),
            Err(error) => {
                out.reject(number, error);
                Ok(())
            }
        }
    })
}

/// Returns the value unless it is empty or one of the placeholders abuse.ch writes for a
/// missing value (`n/a`, `None`, `null`).
pub(crate) fn known(value: &str) -> Option<&str> {
    let value = value.trim();
    let missing = value.is_empty()
        || value.eq_ignore_ascii_case("n/a")
        || value.eq_ignore_ascii_case("none")
        || value.eq_ignore_ascii_case("null");
    (!missing).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_spaces_after_commas() {
        let line = r#""2024-05-01 10:00:00", "1", "CobaltStrike,cobeacon", "", "say ""hi""""#;
        let fields = split_fields(line).unwrap();
        assert_eq!(
            fields,
            [
                "2024-05-01 10:00:00",
                "1",
                "CobaltStrike,cobeacon",
                "",
                r#"say "hi""#
            ]
        );
    }

    #[test]
    fn unquoted_and_empty_fields() {
        assert_eq!(split_fields("a, b,,c ").unwrap(), ["a", "b", "", "c"]);
        assert_eq!(split_fields("").unwrap(), [""]);
        assert!(split_fields(r#""a", "open"#).is_err());
    }

    #[test]
    fn commented_column_line() {
        let line = r#"# "first_seen_utc","ioc_id","ioc_value""#;
        let columns = column_line(line, "first_seen_utc").unwrap();
        assert_eq!(columns, ["first_seen_utc", "ioc_id", "ioc_value"]);
        assert!(column_line("# Last updated: 2024-05-01", "first_seen_utc").is_none());
    }
}
