//! Model records converted to the columns they are stored in.
//!
//! Converting needs no connection, so an importer can build and sort [`RowBatch`]es on one
//! thread while another thread inserts them.

use rusqlite::Statement;
use tiq_model::{AllowEntry, AllowMatch, AsnRange, Sighting, Subject};

use crate::key::{address_key, network_key};

/// Records of one source converted to stored rows, inserted together by
/// [`SourceWriter::insert`](crate::SourceWriter::insert).
#[derive(Debug, Default)]
pub struct RowBatch {
    pub(super) sightings: Vec<SightingRow>,
    pub(super) allow_entries: Vec<AllowRow>,
    pub(super) asn_ranges: Vec<AsnRow>,
}

impl RowBatch {
    pub fn new() -> RowBatch {
        RowBatch::default()
    }

    pub fn push_sighting(&mut self, sighting: Sighting) {
        self.sightings.push(SightingRow::new(sighting));
    }

    pub fn push_allow(&mut self, entry: AllowEntry) {
        self.allow_entries.push(AllowRow::new(entry));
    }

    pub fn push_asn_range(&mut self, range: AsnRange) {
        self.asn_ranges.push(AsnRow::new(range));
    }

    /// Number of rows in the batch.
    pub fn len(&self) -> usize {
        self.sightings.len() + self.allow_entries.len() + self.asn_ranges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sorts each table's rows by the unique index of that table, so inserts walk each
    /// B-tree in order instead of jumping between pages. The sort is stable: of two rows
    /// with one key, the first pushed is still inserted first and is the one kept.
    pub fn sort(&mut self) {
        self.sightings.sort_by(|a, b| a.key().cmp(&b.key()));
        self.allow_entries.sort_by(|a, b| a.key().cmp(&b.key()));
        self.asn_ranges.sort_by_key(|row| row.start);
    }
}

/// Columns of one `sightings` row except `source_id`.
#[derive(Debug)]
pub(super) struct SightingRow {
    kind: &'static str,
    value: String,
    net: Option<([u8; 16], u8)>,
    host: Option<String>,
    registered: Option<String>,
    claim: &'static str,
    threat: &'static str,
    /// JSON array of the labels, or `None` for an empty list.
    labels: Option<String>,
    family: Option<String>,
    first_seen: Option<String>,
    last_seen: Option<String>,
    weight: f32,
    reference: Option<String>,
}

impl SightingRow {
    fn new(sighting: Sighting) -> SightingRow {
        let kind = sighting.subject.kind_name();
        let (value, net, host, registered) = match sighting.subject {
            Subject::Ip(ip) => (ip.to_string(), None, None, None),
            Subject::Network(net) => (net.trunc().to_string(), Some(network_key(net)), None, None),
            Subject::Domain(name) => {
                let registered = registered_domain(&name);
                (name, None, None, registered)
            }
            Subject::Url(url) => {
                let host = url_host(&url);
                let registered = host.as_deref().and_then(registered_domain);
                (url, None, host, registered)
            }
            Subject::Hash(_, hex) => (hex, None, None, None),
        };
        let labels = match sighting.labels.is_empty() {
            true => None,
            false => {
                Some(serde_json::to_string(&sighting.labels).expect("a list of strings serialises"))
            }
        };
        SightingRow {
            kind,
            value,
            net,
            host,
            registered,
            claim: sighting.claim.name(),
            threat: sighting.threat.name(),
            labels,
            family: sighting.family,
            first_seen: sighting.first_seen,
            last_seen: sighting.last_seen,
            weight: sighting.weight,
            reference: sighting.reference,
        }
    }

    /// Key of `sightings_unique` after `source_id`.
    fn key(&self) -> (&str, &str, &str) {
        let family = self.family.as_deref().unwrap_or("");
        (&self.value, self.threat, family)
    }
}

/// Columns of one `allow_entries` row except `source_id`.
#[derive(Debug)]
pub(super) struct AllowRow {
    match_kind: &'static str,
    value: String,
    net: Option<([u8; 16], u8)>,
    category: &'static str,
    rank: Option<u32>,
}

impl AllowRow {
    fn new(entry: AllowEntry) -> AllowRow {
        let (match_kind, value, net) = match entry.matcher {
            AllowMatch::Network(net) => {
                ("network", net.trunc().to_string(), Some(network_key(net)))
            }
            AllowMatch::Hostname(name) => ("hostname", name, None),
            AllowMatch::Exact(value) => ("exact", value, None),
            AllowMatch::Substring(text) => ("substring", text, None),
            AllowMatch::Regex(pattern) => ("regex", pattern, None),
        };
        AllowRow {
            match_kind,
            value,
            net,
            category: entry.category.name(),
            rank: entry.rank,
        }
    }

    /// Key of `allow_unique` after `source_id`.
    fn key(&self) -> (&str, &str) {
        (self.match_kind, &self.value)
    }
}

/// Columns of one `asn_ranges` row except `source_id`.
#[derive(Debug)]
pub(super) struct AsnRow {
    start: [u8; 16],
    end: [u8; 16],
    asn: u32,
    organization: String,
}

impl AsnRow {
    fn new(range: AsnRange) -> AsnRow {
        AsnRow {
            start: address_key(range.start),
            end: address_key(range.end),
            asn: range.asn,
            organization: range.organization,
        }
    }
}

/// A row type and the multi-row `INSERT` that stores it.
pub(super) trait StoredRow {
    /// `INSERT OR IGNORE INTO table (columns) VALUES` up to the first value list.
    const INSERT: &'static str;
    /// Number of columns, `source_id` included.
    const COLUMNS: usize;

    /// Binds `source_id` and the row's columns to the parameters from `first` (1-based) on.
    fn bind(
        &self,
        statement: &mut Statement<'_>,
        first: usize,
        source_id: i64,
    ) -> rusqlite::Result<()>;
}

impl StoredRow for SightingRow {
    const INSERT: &'static str = "INSERT OR IGNORE INTO sightings (source_id, kind, value, net, prefix, host, registered, \
         claim, threat, labels, family, first_seen, last_seen, weight, reference) VALUES";
    const COLUMNS: usize = 15;

    fn bind(
        &self,
        statement: &mut Statement<'_>,
        first: usize,
        source_id: i64,
    ) -> rusqlite::Result<()> {
        statement.raw_bind_parameter(first, source_id)?;
        statement.raw_bind_parameter(first + 1, self.kind)?;
        statement.raw_bind_parameter(first + 2, &self.value)?;
        statement.raw_bind_parameter(first + 3, self.net.as_ref().map(|(key, _)| &key[..]))?;
        statement.raw_bind_parameter(first + 4, self.net.map(|(_, prefix)| prefix))?;
        statement.raw_bind_parameter(first + 5, &self.host)?;
        statement.raw_bind_parameter(first + 6, &self.registered)?;
        statement.raw_bind_parameter(first + 7, self.claim)?;
        statement.raw_bind_parameter(first + 8, self.threat)?;
        statement.raw_bind_parameter(first + 9, self.labels.as_deref().unwrap_or("[]"))?;
        statement.raw_bind_parameter(first + 10, &self.family)?;
        statement.raw_bind_parameter(first + 11, &self.first_seen)?;
        statement.raw_bind_parameter(first + 12, &self.last_seen)?;
        statement.raw_bind_parameter(first + 13, f64::from(self.weight))?;
        statement.raw_bind_parameter(first + 14, &self.reference)
    }
}

impl StoredRow for AllowRow {
    const INSERT: &'static str = "INSERT OR IGNORE INTO allow_entries (source_id, match_kind, value, net, prefix, \
         category, rank) VALUES";
    const COLUMNS: usize = 7;

    fn bind(
        &self,
        statement: &mut Statement<'_>,
        first: usize,
        source_id: i64,
    ) -> rusqlite::Result<()> {
        statement.raw_bind_parameter(first, source_id)?;
        statement.raw_bind_parameter(first + 1, self.match_kind)?;
        statement.raw_bind_parameter(first + 2, &self.value)?;
        statement.raw_bind_parameter(first + 3, self.net.as_ref().map(|(key, _)| &key[..]))?;
        statement.raw_bind_parameter(first + 4, self.net.map(|(_, prefix)| prefix))?;
        statement.raw_bind_parameter(first + 5, self.category)?;
        statement.raw_bind_parameter(first + 6, self.rank)
    }
}

impl StoredRow for AsnRow {
    const INSERT: &'static str =
        "INSERT OR IGNORE INTO asn_ranges (source_id, start, end, asn, organization) VALUES";
    const COLUMNS: usize = 5;

    fn bind(
        &self,
        statement: &mut Statement<'_>,
        first: usize,
        source_id: i64,
    ) -> rusqlite::Result<()> {
        statement.raw_bind_parameter(first, source_id)?;
        statement.raw_bind_parameter(first + 1, &self.start[..])?;
        statement.raw_bind_parameter(first + 2, &self.end[..])?;
        statement.raw_bind_parameter(first + 3, self.asn)?;
        statement.raw_bind_parameter(first + 4, &self.organization)
    }
}

/// Registered domain of a host name, or `None` for an address or a name the suffix list rejects.
fn registered_domain(host: &str) -> Option<String> {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    tiq_model::indicator::parse_domain(host).ok()?.registered
}

fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host.split(':').next()?
    };
    Some(host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_host_forms() {
        assert_eq!(
            url_host("http://192.0.2.1:8080/a").as_deref(),
            Some("192.0.2.1")
        );
        assert_eq!(
            url_host("https://user@Example.com/x?y").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            url_host("http://[2001:db8::1]:80/").as_deref(),
            Some("2001:db8::1")
        );
    }
}
