//! Reads of the records about addresses, for an index the engine keeps in memory.
//!
//! [`Store::scan_addresses`] reads the sources, then the sightings, allow-list entries and
//! ASN ranges that address lookups can return, in one read transaction, so the visitor
//! receives one committed state of the store. It reads every such record, or with
//! [`ScanScope::Address`] only those that can match one address. Rows reach the visitor as
//! views that borrow their text from SQLite, so the scan allocates nothing per row.

use std::net::IpAddr;

use rusqlite::types::{FromSqlError, ValueRef};
use rusqlite::{Row, Statement, params_from_iter};
use tiq_model::{AllowCategory, ClaimKind, ThreatType};

use crate::Store;
use crate::error::StoreError;
use crate::key::{address_key, mask};

/// Set of records a scan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanScope {
    /// Every record about addresses.
    All,
    /// A superset of the records that match this address: rows whose value or URL host is
    /// its text, networks whose key is the address masked to some prefix length, and the
    /// ASN range that starts last at or before it. The visitor decides what matches.
    Address(IpAddr),
}

/// A source as the rows of a scan refer to it, by `id`.
#[derive(Debug, Clone, PartialEq)]
pub struct ScannedSource {
    pub id: i64,
    pub name: String,
    pub provider: String,
    pub reference: Option<String>,
    pub imported_at: String,
    /// Reliability weight every sighting of the source is multiplied by.
    pub weight: f64,
}

/// Kind of match between a scanned row and an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressMatch {
    /// The row's value is this address in canonical text, the text an exact lookup of the
    /// address compares with.
    Exact(IpAddr),
    /// The row names a network: its first address key and prefix length in the 128-bit
    /// key space (an IPv4 /24 has prefix 120, see `key.rs`).
    Network { key: u128, prefix: u8 },
    /// The row is a URL whose host is this address in canonical text.
    UrlHost(IpAddr),
}

/// One sighting row that an address lookup can return.
#[derive(Debug, Clone, Copy)]
pub struct SightingView<'a> {
    /// Row id, which orders rows that the lookups' `ORDER BY` leaves tied.
    pub row: i64,
    pub source_id: i64,
    pub matched: AddressMatch,
    pub kind: &'a str,
    pub value: &'a str,
    pub claim: ClaimKind,
    pub threat: ThreatType,
    /// JSON array of labels as stored, which [`parse_labels`] reads.
    pub labels: &'a str,
    pub family: Option<&'a str>,
    pub first_seen: Option<&'a str>,
    pub last_seen: Option<&'a str>,
    /// Weight of the record itself, before the source's weight.
    pub weight: f64,
    pub reference: Option<&'a str>,
}

/// One allow-list entry that an address lookup can return.
#[derive(Debug, Clone, Copy)]
pub struct AllowView<'a> {
    pub row: i64,
    pub source_id: i64,
    /// [`AddressMatch::Exact`] for `exact` and `hostname` entries, [`AddressMatch::Network`]
    /// for `network` entries.
    pub matched: AddressMatch,
    pub match_kind: &'a str,
    pub value: &'a str,
    pub category: AllowCategory,
    pub rank: Option<u32>,
}

/// One ASN range, with its bounds as 128-bit keys.
#[derive(Debug, Clone, Copy)]
pub struct AsnView<'a> {
    pub row: i64,
    pub source_id: i64,
    pub start: u128,
    pub end: u128,
    pub asn: u32,
    pub organization: &'a str,
}

/// Receives the rows of [`Store::scan_addresses`]: every source first, then sightings,
/// allow-list entries and ASN ranges. Rows of one kind of match (exact, network, URL host)
/// arrive in row-id order.
pub trait AddressVisitor {
    fn sources(&mut self, sources: Vec<ScannedSource>) -> Result<(), StoreError>;
    fn sighting(&mut self, sighting: SightingView<'_>) -> Result<(), StoreError>;
    fn allow(&mut self, entry: AllowView<'_>) -> Result<(), StoreError>;
    fn asn_range(&mut self, range: AsnView<'_>) -> Result<(), StoreError>;
}

impl Store {
    /// Reads the records about addresses in `scope`, in one read transaction.
    ///
    /// Sightings are those whose value is an address (the rows `sightings_by_values` finds
    /// for its text), network sightings, and URLs whose host is an address. Allow-list
    /// entries are `network` entries and `exact` or `hostname` entries whose value is an
    /// address. A value counts as an address only in its canonical text, the only form the
    /// lookups by text match.
    pub fn scan_addresses(
        &self,
        scope: ScanScope,
        visitor: &mut dyn AddressVisitor,
    ) -> Result<(), StoreError> {
        let transaction = self.conn.unchecked_transaction()?;
        self.scan_sources(visitor)?;
        match scope {
            ScanScope::All => {
                let mut statement = self.conn.prepare(&format!(
                    "SELECT {SIGHTING_COLUMNS} FROM sightings ORDER BY rowid"
                ))?;
                visit_sightings(&mut statement, [], visitor)?;
                let mut statement = self.conn.prepare(&format!(
                    "SELECT {ALLOW_COLUMNS} FROM allow_entries
                     WHERE match_kind IN ('network', 'hostname', 'exact') ORDER BY rowid"
                ))?;
                visit_allow_entries(&mut statement, [], visitor)?;
                let mut statement = self.conn.prepare(&format!(
                    "SELECT {ASN_COLUMNS} FROM asn_ranges ORDER BY rowid"
                ))?;
                visit_asn_ranges(&mut statement, [], visitor)?;
            }
            ScanScope::Address(ip) => self.scan_address(ip, visitor)?,
        }
        transaction.commit()?;
        Ok(())
    }

    fn scan_sources(&self, visitor: &mut dyn AddressVisitor) -> Result<(), StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id, name, provider, reference, imported_at, weight FROM sources",
        )?;
        let sources = statement.query_map([], |row| {
            Ok(ScannedSource {
                id: row.get(0)?,
                name: row.get(1)?,
                provider: row.get(2)?,
                reference: row.get(3)?,
                imported_at: row.get(4)?,
                weight: row.get(5)?,
            })
        })?;
        visitor.sources(sources.collect::<Result<_, _>>()?)
    }

    fn scan_address(&self, ip: IpAddr, visitor: &mut dyn AddressVisitor) -> Result<(), StoreError> {
        let text = ip.to_string();
        let networks = candidate_keys(ip);
        let in_networks = vec!["?"; networks.len()].join(", ");

        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {SIGHTING_COLUMNS} FROM sightings WHERE value = ?1 AND kind != 'network' ORDER BY rowid"
        ))?;
        visit_sightings(&mut statement, [&text], visitor)?;
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {SIGHTING_COLUMNS} FROM sightings WHERE net IN ({in_networks}) ORDER BY rowid"
        ))?;
        visit_sightings(&mut statement, params_from_iter(&networks), visitor)?;
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {SIGHTING_COLUMNS} FROM sightings WHERE host = ?1 ORDER BY rowid"
        ))?;
        visit_sightings(&mut statement, [&text], visitor)?;

        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {ALLOW_COLUMNS} FROM allow_entries
             WHERE value = ?1 AND match_kind IN ('hostname', 'exact') ORDER BY rowid"
        ))?;
        visit_allow_entries(&mut statement, [&text], visitor)?;
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {ALLOW_COLUMNS} FROM allow_entries WHERE net IN ({in_networks}) ORDER BY rowid"
        ))?;
        visit_allow_entries(&mut statement, params_from_iter(&networks), visitor)?;

        // Of two ranges with one start, the index lists the later row last.
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {ASN_COLUMNS} FROM asn_ranges WHERE start <= ?1
             ORDER BY start DESC, rowid DESC LIMIT 1"
        ))?;
        visit_asn_ranges(&mut statement, [&address_key(ip)[..]], visitor)
    }
}

const SIGHTING_COLUMNS: &str = "rowid, source_id, kind, value, net, prefix, host, claim, threat, \
     labels, family, first_seen, last_seen, weight, reference";
const ALLOW_COLUMNS: &str = "rowid, source_id, match_kind, value, net, prefix, category, rank";
const ASN_COLUMNS: &str = "rowid, source_id, start, end, asn, organization";

/// Keys of every network that could contain `ip`: the address masked to each prefix
/// length, from 96 (IPv4 /0) or 0 (IPv6 /0) to 128.
fn candidate_keys(ip: IpAddr) -> Vec<Vec<u8>> {
    let key = address_key(ip);
    let shortest = if ip.is_ipv4() { 96 } else { 0 };
    let mut keys: Vec<Vec<u8>> = (shortest..=128u8).map(|p| mask(key, p).to_vec()).collect();
    keys.dedup();
    keys
}

fn visit_sightings(
    statement: &mut Statement<'_>,
    params: impl rusqlite::Params,
    visitor: &mut dyn AddressVisitor,
) -> Result<(), StoreError> {
    let mut rows = statement.query(params)?;
    while let Some(row) = rows.next()? {
        let Some(matched) = sighting_match(row)? else {
            continue;
        };
        let claim = text(row, 7)?;
        let threat = text(row, 8)?;
        visitor.sighting(SightingView {
            row: row.get(0)?,
            source_id: row.get(1)?,
            matched,
            kind: text(row, 2)?,
            value: text(row, 3)?,
            claim: ClaimKind::from_name(claim).ok_or_else(|| StoreError::Corrupt {
                column: "sightings.claim",
                value: claim.to_string(),
            })?,
            threat: ThreatType::from_name(threat).ok_or_else(|| StoreError::Corrupt {
                column: "sightings.threat",
                value: threat.to_string(),
            })?,
            labels: text(row, 9)?,
            family: optional_text(row, 10)?,
            first_seen: optional_text(row, 11)?,
            last_seen: optional_text(row, 12)?,
            weight: row.get(13)?,
            reference: optional_text(row, 14)?,
        })?;
    }
    Ok(())
}

fn visit_allow_entries(
    statement: &mut Statement<'_>,
    params: impl rusqlite::Params,
    visitor: &mut dyn AddressVisitor,
) -> Result<(), StoreError> {
    let mut rows = statement.query(params)?;
    while let Some(row) = rows.next()? {
        let match_kind = text(row, 2)?;
        let value = text(row, 3)?;
        let matched = if match_kind == "network" {
            network_match(row, 4, 5)?
        } else {
            canonical_address(value).map(AddressMatch::Exact)
        };
        let Some(matched) = matched else { continue };
        let category = text(row, 6)?;
        visitor.allow(AllowView {
            row: row.get(0)?,
            source_id: row.get(1)?,
            matched,
            match_kind,
            value,
            category: AllowCategory::from_name(category).ok_or_else(|| StoreError::Corrupt {
                column: "allow_entries.category",
                value: category.to_string(),
            })?,
            rank: row.get(7)?,
        })?;
    }
    Ok(())
}

fn visit_asn_ranges(
    statement: &mut Statement<'_>,
    params: impl rusqlite::Params,
    visitor: &mut dyn AddressVisitor,
) -> Result<(), StoreError> {
    let mut rows = statement.query(params)?;
    while let Some(row) = rows.next()? {
        visitor.asn_range(AsnView {
            row: row.get(0)?,
            source_id: row.get(1)?,
            start: key(row, 2, "asn_ranges.start")?,
            end: key(row, 3, "asn_ranges.end")?,
            asn: row.get(4)?,
            organization: text(row, 5)?,
        })?;
    }
    Ok(())
}

/// Parses a stored JSON array of labels.
pub fn parse_labels(json: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(json).map_err(|_| StoreError::Corrupt {
        column: "sightings.labels",
        value: json.to_string(),
    })
}

/// Classifies a `sightings` row; `None` for rows no address lookup returns.
fn sighting_match(row: &Row<'_>) -> Result<Option<AddressMatch>, StoreError> {
    if let Some(network) = network_match(row, 4, 5)? {
        return Ok(Some(network));
    }
    if text(row, 2)? != "network"
        && let Some(address) = canonical_address(text(row, 3)?)
    {
        return Ok(Some(AddressMatch::Exact(address)));
    }
    let host = optional_text(row, 6)?.and_then(canonical_address);
    Ok(host.map(AddressMatch::UrlHost))
}

fn network_match(
    row: &Row<'_>,
    net_column: usize,
    prefix_column: usize,
) -> Result<Option<AddressMatch>, StoreError> {
    let ValueRef::Blob(net) = row.get_ref(net_column)? else {
        return Ok(None);
    };
    let key = u128::from_be_bytes(net.try_into().map_err(|_| StoreError::Corrupt {
        column: "net",
        value: format!("{net:02x?}"),
    })?);
    let prefix: i64 = row.get(prefix_column)?;
    let prefix = u8::try_from(prefix)
        .ok()
        .filter(|p| *p <= 128)
        .ok_or_else(|| StoreError::Corrupt {
            column: "prefix",
            value: prefix.to_string(),
        })?;
    Ok(Some(AddressMatch::Network { key, prefix }))
}

/// Parses `value` as an address, only when `value` is that address's canonical text.
fn canonical_address(value: &str) -> Option<IpAddr> {
    // Domains, URLs and most hashes fail on their first characters; checking the first
    // byte keeps the scan from trying to parse every one of them.
    let first = *value.as_bytes().first()?;
    if !(first.is_ascii_hexdigit() || first == b':') {
        return None;
    }
    let address: IpAddr = value.parse().ok()?;
    let canonical = match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    };
    (canonical.to_string() == value).then_some(canonical)
}

fn key(row: &Row<'_>, column: usize, name: &'static str) -> Result<u128, StoreError> {
    let ValueRef::Blob(bytes) = row.get_ref(column)? else {
        return Err(StoreError::Corrupt {
            column: name,
            value: format!("{:?}", row.get_ref(column)?),
        });
    };
    let octets: [u8; 16] = bytes.try_into().map_err(|_| StoreError::Corrupt {
        column: name,
        value: format!("{bytes:02x?}"),
    })?;
    Ok(u128::from_be_bytes(octets))
}

fn text<'a>(row: &'a Row<'_>, column: usize) -> Result<&'a str, StoreError> {
    let value = row.get_ref(column)?;
    value
        .as_str()
        .map_err(|error| not_text(column, value, error))
}

fn optional_text<'a>(row: &'a Row<'_>, column: usize) -> Result<Option<&'a str>, StoreError> {
    let value = row.get_ref(column)?;
    value
        .as_str_or_null()
        .map_err(|error| not_text(column, value, error))
}

fn not_text(column: usize, value: ValueRef<'_>, error: FromSqlError) -> StoreError {
    rusqlite::Error::FromSqlConversionFailure(column, value.data_type(), Box::new(error)).into()
}
