//! The IP index: every record the store keeps about addresses, held in memory, so that an IP
//! lookup runs no database query.
//!
//! [`IpIndex::build`] reads the store once through [`Store::scan_addresses`]. The engine
//! builds the whole index when it opens and again on every reload, so new imports reach IP
//! lookups after a reload. Before the whole index is ready, and in processes that serve
//! one query, the engine builds an index of the rows that can match one address instead.
//! Both kinds of index run the same lookups below. Each lookup returns what the store's queries
//! by value, by network, by URL host and by ASN range returned, in the same order: by source
//! name, then by value (or network key), then by row id.
//!
//! Listed addresses are in a hash map, networks in a [`networks::NetworkTable`], ASN ranges
//! in a vector sorted by first address. Texts that repeat across rows (dates, label lists,
//! families, references, organisations) are stored once.

mod build;
mod keys;
mod networks;

use std::collections::HashMap;
use std::net::IpAddr;
use std::ops::Range;
use std::sync::Arc;

use tiq_model::{AllowCategory, ClaimKind, ThreatType};
use tiq_store::{ScanScope, Store, StoreError, StoredAllow, StoredSighting};

use keys::{KeyDirectory, address_key, is_v4_key, key_address};
use networks::{NetworkTable, Ordered};

/// Index of a text in [`IpIndex::texts`], where 0 means none.
type TextId = u32;

/// A URL that a source lists on an address, for the related indicators of a report.
#[derive(Debug, Clone, PartialEq)]
pub struct HostedUrl {
    pub value: Box<str>,
    pub claim: ClaimKind,
}

/// The ASN range containing an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsnMatch {
    pub asn: u32,
    pub organization: String,
    pub start: IpAddr,
    pub end: IpAddr,
    /// Name of the source of the range.
    pub source: Arc<str>,
}

/// Sizes of a built index, for logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexSizes {
    /// Addresses with sightings, allow-list entries or hosted URLs of their own.
    pub addresses: usize,
    pub networks: usize,
    pub allow_networks: usize,
    pub asn_ranges: usize,
}

/// Index of the store's records about addresses, as the module documentation describes.
#[derive(Debug, Default)]
pub struct IpIndex {
    /// Sources in name order; a record's `source` is its position here.
    sources: Vec<IndexedSource>,
    texts: Vec<Box<str>>,
    label_lists: Vec<Vec<String>>,
    addresses: HashMap<IpAddr, AddressEntry>,
    address_sightings: Vec<SightingRecord>,
    address_allows: Vec<AllowRecord>,
    hosted_urls: Vec<HostedUrl>,
    networks: NetworkTable<SightingRecord>,
    allow_networks: NetworkTable<AllowRecord>,
    /// Sorted by first address, then row id.
    asn_ranges: Vec<AsnRecord>,
    asn_directory: KeyDirectory,
}

/// The records of one address, as ranges of the index's vectors.
#[derive(Debug, Clone, Default)]
struct AddressEntry {
    sightings: Range<u32>,
    allows: Range<u32>,
    hosted_urls: Range<u32>,
}

#[derive(Debug, Clone)]
struct IndexedSource {
    name: Arc<str>,
    provider: String,
    reference: Option<String>,
    imported_at: String,
    weight: f64,
}

#[derive(Debug, Clone)]
struct SightingRecord {
    source: u32,
    kind: TextId,
    /// The record's value; none for a record of one address, whose value is the address's
    /// canonical text.
    value: Option<Box<str>>,
    claim: ClaimKind,
    threat: ThreatType,
    labels: u32,
    family: TextId,
    first_seen: TextId,
    last_seen: TextId,
    reference: TextId,
    /// The record's weight times its source's weight.
    weight: f64,
}

#[derive(Debug, Clone)]
struct AllowRecord {
    source: u32,
    match_kind: TextId,
    value: Box<str>,
    category: AllowCategory,
    rank: Option<u32>,
}

#[derive(Debug, Clone)]
struct AsnRecord {
    start: u128,
    end: u128,
    asn: u32,
    organization: TextId,
    source: u32,
}

impl IpIndex {
    /// Reads the address records of the store in `scope` into a new index. An index of
    /// [`ScanScope::Address`] returns for that address what the whole index would.
    pub fn build(store: &Store, scope: ScanScope) -> Result<IpIndex, StoreError> {
        let mut builder = build::Builder::default();
        store.scan_addresses(scope, &mut builder)?;
        Ok(builder.finish())
    }

    pub fn sizes(&self) -> IndexSizes {
        IndexSizes {
            addresses: self.addresses.len(),
            networks: self.networks.len(),
            allow_networks: self.allow_networks.len(),
            asn_ranges: self.asn_ranges.len(),
        }
    }

    /// Finds the sightings, allow-list entries and hosted URLs whose value or host is `ip`.
    pub fn at(&self, ip: IpAddr) -> AddressRecords<'_> {
        AddressRecords {
            index: self,
            ip,
            entry: self.addresses.get(&ip),
        }
    }

    /// Network sightings whose network contains `ip`, by source name, then network.
    pub fn sightings_in_networks(&self, ip: IpAddr) -> Vec<StoredSighting> {
        containing(&self.networks, ip)
            .into_iter()
            .map(|(_, r)| self.sighting(&r.record, ""))
            .collect()
    }

    /// `network` allow-list entries that contain `ip`, by list name, then network.
    pub fn allows_in_networks(&self, ip: IpAddr) -> Vec<StoredAllow> {
        containing(&self.allow_networks, ip)
            .into_iter()
            .map(|(_, r)| self.allow(&r.record))
            .collect()
    }

    /// Finds the ASN range of `ip`. Like the store's lookup, it takes the range that starts
    /// last at or before the address (of two with one start, the later row) and returns it
    /// only when that range also contains the address.
    pub fn asn_for(&self, ip: IpAddr) -> Option<AsnMatch> {
        let key = address_key(ip);
        let ranges = &self.asn_ranges;
        let after = self
            .asn_directory
            .count_at_or_below(key, |i| ranges[i].start, ranges.len());
        let range = &ranges[after.checked_sub(1)?];
        if range.end < key || is_v4_key(range.start) != is_v4_key(key) {
            return None;
        }
        Some(AsnMatch {
            asn: range.asn,
            organization: self.text(range.organization).to_string(),
            start: key_address(range.start),
            end: key_address(range.end),
            source: self.sources[range.source as usize].name.clone(),
        })
    }

    fn sighting(&self, record: &SightingRecord, address: &str) -> StoredSighting {
        let source = &self.sources[record.source as usize];
        StoredSighting {
            source: source.name.to_string(),
            provider: source.provider.clone(),
            source_reference: source.reference.clone(),
            imported_at: source.imported_at.clone(),
            kind: self.text(record.kind).to_string(),
            value: record.value.as_deref().unwrap_or(address).to_string(),
            claim: record.claim,
            threat: record.threat,
            labels: self.label_lists[record.labels as usize].clone(),
            family: self.optional_text(record.family),
            first_seen: self.optional_text(record.first_seen),
            last_seen: self.optional_text(record.last_seen),
            weight: record.weight,
            reference: self.optional_text(record.reference),
        }
    }

    fn allow(&self, record: &AllowRecord) -> StoredAllow {
        StoredAllow {
            source: self.sources[record.source as usize].name.to_string(),
            match_kind: self.text(record.match_kind).to_string(),
            value: record.value.to_string(),
            category: record.category,
            rank: record.rank,
        }
    }

    fn text(&self, id: TextId) -> &str {
        &self.texts[id as usize]
    }

    fn optional_text(&self, id: TextId) -> Option<String> {
        (id != 0).then(|| self.text(id).to_string())
    }
}

/// The records of one address, as [`IpIndex::at`] finds them.
pub struct AddressRecords<'a> {
    index: &'a IpIndex,
    ip: IpAddr,
    entry: Option<&'a AddressEntry>,
}

impl<'a> AddressRecords<'a> {
    /// Sightings whose value is the address, by source name.
    pub fn sightings(&self) -> Vec<StoredSighting> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        let records = &self.index.address_sightings[to_usize(&entry.sightings)];
        if records.is_empty() {
            return Vec::new();
        }
        let text = self.ip.to_string();
        records
            .iter()
            .map(|r| self.index.sighting(r, &text))
            .collect()
    }

    /// `exact` and `hostname` allow-list entries whose value is the address, by list name.
    pub fn allows(&self) -> Vec<StoredAllow> {
        let Some(entry) = self.entry else {
            return Vec::new();
        };
        let records = &self.index.address_allows[to_usize(&entry.allows)];
        records.iter().map(|r| self.index.allow(r)).collect()
    }

    /// URLs whose host is the address: the first [`crate::lookup::HOSTED_ROWS`] rows by URL,
    /// then source name.
    pub fn hosted_urls(&self) -> &'a [HostedUrl] {
        match self.entry {
            Some(entry) => &self.index.hosted_urls[to_usize(&entry.hosted_urls)],
            None => &[],
        }
    }
}

fn to_usize(range: &Range<u32>) -> Range<usize> {
    range.start as usize..range.end as usize
}

/// Records of the networks in `table` that contain `ip`, each with its network's key, by
/// source name, then network key, then row id.
fn containing<R>(table: &NetworkTable<R>, ip: IpAddr) -> Vec<(u128, &Ordered<R>)> {
    // An IPv4 address is looked up only in networks of IPv4 prefix lengths.
    let min_prefix = if ip.is_ipv4() { 96 } else { 0 };
    let mut found = Vec::new();
    table.containing(address_key(ip), min_prefix, &mut found);
    found.sort_unstable_by_key(|(key, r)| (r.source_rank, *key, r.row));
    found
}

#[cfg(test)]
mod tests;
