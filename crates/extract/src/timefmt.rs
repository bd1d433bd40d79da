//! Unix seconds as RFC 3339 text.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Formats Unix `seconds` as RFC 3339 in UTC, such as `2026-12-05T12:00:00Z`. Returns
/// `None` when the time is out of range.
pub(crate) fn rfc3339(seconds: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()?
        .format(&Rfc3339)
        .ok()
}
