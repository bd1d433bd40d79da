//! Times as the access database writes them: UTC, microseconds, fixed width, so that text
//! order is time order.

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, UtcOffset};

const FORMAT: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

pub fn format(time: OffsetDateTime) -> String {
    time.to_offset(UtcOffset::UTC)
        .format(FORMAT)
        .expect("a UTC time always formats")
}

/// Parses what [`format`] writes, or any RFC 3339 time.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

/// Returns the UTC date of `time`, as `YYYY-MM-DD`.
pub fn day(time: OffsetDateTime) -> String {
    time.to_offset(UtcOffset::UTC).date().to_string()
}

/// Returns the next UTC midnight after `time`, when daily quotas reset.
pub fn next_midnight(time: OffsetDateTime) -> OffsetDateTime {
    let date = time.to_offset(UtcOffset::UTC).date();
    date.next_day().unwrap_or(date).midnight().assume_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fixed_width_and_round_trip() {
        let time = datetime!(2026-03-01 08:05:09.5 +08:00);
        let text = format(time);
        assert_eq!(text, "2026-03-01T00:05:09.500000Z");
        assert_eq!(parse(&text), Some(time));
        assert_eq!(day(time), "2026-03-01");
        assert_eq!(next_midnight(time), datetime!(2026-03-02 00:00 UTC));
    }
}
