//! IP-to-ASN ranges as CSV, as published by ip-location-db.
//!
//! Feed: <https://github.com/sapics/ip-location-db> `asn` (CC BY 4.0: attribution to DB-IP,
//! RouteViews and NRO). Format: no header, one
//! `range_start,range_end,asn,organization` row per inclusive range, IPv4 and IPv6 in separate
//! files, often gzip-compressed. The organisation is quoted when it contains a comma.
//!
//! Each row becomes an [`AsnRange`]. The source is `asn-ipv4` or `asn-ipv6` by the address
//! family of the first row, with provider `ip-location-db`. A slice of a file (such as its first
//! 5,000 rows) therefore has the same source as the whole file, and importing both replaces one
//! with the other. A row whose start is after its end, or whose ends are of different families,
//! is rejected.

use std::net::IpAddr;

use tiq_model::AsnRange;
use tiq_model::indicator::parse_ip;

use crate::error::FeedError;
use crate::formats::field;
use crate::input::{Head, for_each_csv_record};
use crate::sink::Emitter;
use crate::source::{FeedFile, SourceInfo};
use crate::values::ValueError;

const HOMEPAGE: &str = "https://github.com/sapics/ip-location-db";

/// Returns the start, end and ASN of a row, read with the standard parsers so that detection
/// does not accept the loose forms `parse_ip` allows.
fn row_shape(line: &str) -> Option<(IpAddr, IpAddr, u32)> {
    let mut fields = line.splitn(4, ',');
    let start = fields.next()?.parse().ok()?;
    let end = fields.next()?.parse().ok()?;
    let asn = fields.next()?.parse().ok()?;
    fields.next()?;
    Some((start, end, asn))
}

pub(crate) fn matches(head: &Head) -> bool {
    let rows: Vec<&str> = head.data_lines(&[]).take(50).collect();
    !rows.is_empty() && rows.iter().all(|row| row_shape(row).is_some())
}

pub(crate) fn source(head: &Head) -> SourceInfo {
    let first = head.data_lines(&[]).next().and_then(row_shape);
    match first {
        Some((IpAddr::V6(_), _, _)) => SourceInfo::new(
            "asn-ipv6",
            "ip-location-db",
            "IP to ASN ranges (IPv6)",
            Some(HOMEPAGE),
        ),
        _ => SourceInfo::new(
            "asn-ipv4",
            "ip-location-db",
            "IP to ASN ranges (IPv4)",
            Some(HOMEPAGE),
        ),
    }
}

pub(crate) fn parse(file: &FeedFile, out: &mut Emitter) -> Result<(), FeedError> {
    for_each_csv_record(file, out, false, |line, fields, out| {
        if fields.iter().all(|value| value.trim().is_empty()) {
            return Ok(());
        }
        match parse_row(fields) {
            Ok(range) => out.asn_range(line, range),
            Err(error) => {
                out.reject(line, error);
                Ok(())
            }
        }
    })
}

fn parse_row(fields: &[&str]) -> Result<AsnRange, ValueError> {
    if fields.len() != 4 {
        return Err(ValueError::FieldCount {
            expected: 4,
            found: fields.len(),
        });
    }
    let start = parse_ip(field(fields, 0, 4)?)?;
    let end = parse_ip(field(fields, 1, 4)?)?;
    let asn_text = field(fields, 2, 4)?;
    let asn: u32 = asn_text
        .parse()
        .map_err(|_| ValueError::field("ASN", asn_text, "an integer from 0 to 4294967295"))?;
    if start.is_ipv4() != end.is_ipv4() {
        let range = format!("{start}-{end}");
        return Err(ValueError::field(
            "range",
            &range,
            "two addresses of one family",
        ));
    }
    if start > end {
        let range = format!("{start}-{end}");
        return Err(ValueError::field(
            "range",
            &range,
            "a start that is not after the end",
        ));
    }
    Ok(AsnRange {
        start,
        end,
        asn,
        organization: field(fields, 3, 4)?.to_string(),
    })
}
