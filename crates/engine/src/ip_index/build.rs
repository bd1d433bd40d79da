//! Building an [`IpIndex`] from the rows of a store scan.

use std::collections::HashMap;
use std::net::IpAddr;

use tiq_model::ClaimKind;
use tiq_store::{
    AddressMatch, AddressVisitor, AllowView, AsnView, ScannedSource, SightingView, StoreError,
    parse_labels,
};

use super::keys::KeyDirectory;
use super::networks::{NetworkRecord, NetworkTable, Ordered};
use super::{
    AddressEntry, AllowRecord, AsnRecord, HostedUrl, IndexedSource, IpIndex, SightingRecord, TextId,
};
use crate::lookup::HOSTED_ROWS;

/// Collector of the scanned rows, which [`Builder::finish`] sorts and groups.
#[derive(Default)]
pub struct Builder {
    /// Rank by name of each source id.
    ranks: HashMap<i64, u32>,
    sources: Vec<IndexedSource>,
    texts: Texts,
    label_ids: HashMap<TextId, u32>,
    label_lists: Vec<Vec<String>>,
    address_sightings: Vec<(IpAddr, Ordered<SightingRecord>)>,
    networks: Vec<NetworkRecord<SightingRecord>>,
    address_allows: Vec<(IpAddr, Ordered<AllowRecord>)>,
    allow_networks: Vec<NetworkRecord<AllowRecord>>,
    asn_ranges: Vec<AsnRecord>,
    hosted_urls: Vec<(IpAddr, HostedRow)>,
}

/// A URL row on an address, with what orders it: its URL, then source name, then row.
struct HostedRow {
    value: Box<str>,
    source_rank: u32,
    row: i64,
    claim: ClaimKind,
}

/// Texts stored once each; id 0 is the empty text and stands for none.
struct Texts {
    ids: HashMap<Box<str>, TextId>,
    texts: Vec<Box<str>>,
}

impl Default for Texts {
    fn default() -> Texts {
        Texts {
            ids: HashMap::new(),
            texts: vec!["".into()],
        }
    }
}

impl Texts {
    fn id(&mut self, text: &str) -> TextId {
        if let Some(id) = self.ids.get(text) {
            return *id;
        }
        let id = self.texts.len() as TextId;
        self.texts.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    fn optional_id(&mut self, text: Option<&str>) -> TextId {
        text.map_or(0, |text| self.id(text))
    }
}

impl AddressVisitor for Builder {
    fn sources(&mut self, mut sources: Vec<ScannedSource>) -> Result<(), StoreError> {
        sources.sort_by(|a, b| a.name.cmp(&b.name));
        for (rank, source) in sources.into_iter().enumerate() {
            self.ranks.insert(source.id, rank as u32);
            self.sources.push(IndexedSource {
                name: source.name.into(),
                provider: source.provider,
                reference: source.reference,
                imported_at: source.imported_at,
                weight: source.weight,
            });
        }
        Ok(())
    }

    fn sighting(&mut self, row: SightingView<'_>) -> Result<(), StoreError> {
        // The store's queries join each row to its source, so a row without one never
        // matched.
        let Some(&source_rank) = self.ranks.get(&row.source_id) else {
            return Ok(());
        };
        if let AddressMatch::UrlHost(host) = row.matched {
            let url = HostedRow {
                value: row.value.into(),
                source_rank,
                row: row.row,
                claim: row.claim,
            };
            self.hosted_urls.push((host, url));
            return Ok(());
        }
        let record = self.sighting_record(&row, source_rank)?;
        let ordered = Ordered {
            source_rank,
            row: row.row,
            record,
        };
        match row.matched {
            AddressMatch::Exact(address) => self.address_sightings.push((address, ordered)),
            AddressMatch::Network { key, prefix } => self.networks.push(NetworkRecord {
                key,
                prefix,
                ordered,
            }),
            AddressMatch::UrlHost(_) => unreachable!("URL rows are kept above"),
        }
        Ok(())
    }

    fn allow(&mut self, row: AllowView<'_>) -> Result<(), StoreError> {
        let Some(&source_rank) = self.ranks.get(&row.source_id) else {
            return Ok(());
        };
        let record = AllowRecord {
            source: source_rank,
            match_kind: self.texts.id(row.match_kind),
            value: row.value.into(),
            category: row.category,
            rank: row.rank,
        };
        let ordered = Ordered {
            source_rank,
            row: row.row,
            record,
        };
        match row.matched {
            AddressMatch::Network { key, prefix } => self.allow_networks.push(NetworkRecord {
                key,
                prefix,
                ordered,
            }),
            AddressMatch::Exact(address) | AddressMatch::UrlHost(address) => {
                self.address_allows.push((address, ordered))
            }
        }
        Ok(())
    }

    fn asn_range(&mut self, row: AsnView<'_>) -> Result<(), StoreError> {
        let Some(&source) = self.ranks.get(&row.source_id) else {
            return Ok(());
        };
        let record = AsnRecord {
            start: row.start,
            end: row.end,
            asn: row.asn,
            organization: self.texts.id(row.organization),
            source,
        };
        self.asn_ranges.push(record);
        Ok(())
    }
}

impl Builder {
    fn sighting_record(
        &mut self,
        row: &SightingView<'_>,
        source_rank: u32,
    ) -> Result<SightingRecord, StoreError> {
        let source_weight = self.sources[source_rank as usize].weight;
        let value = match row.matched {
            AddressMatch::Exact(_) => None,
            _ => Some(row.value.into()),
        };
        Ok(SightingRecord {
            source: source_rank,
            kind: self.texts.id(row.kind),
            value,
            claim: row.claim,
            threat: row.threat,
            labels: self.labels(row.labels)?,
            family: self.texts.optional_id(row.family),
            first_seen: self.texts.optional_id(row.first_seen),
            last_seen: self.texts.optional_id(row.last_seen),
            reference: self.texts.optional_id(row.reference),
            weight: row.weight * source_weight,
        })
    }

    /// Index of the label list stored as `json`, parsed the first time it is seen.
    fn labels(&mut self, json: &str) -> Result<u32, StoreError> {
        let text = self.texts.id(json);
        if let Some(id) = self.label_ids.get(&text) {
            return Ok(*id);
        }
        let id = self.label_lists.len() as u32;
        self.label_lists.push(parse_labels(json)?);
        self.label_ids.insert(text, id);
        Ok(id)
    }

    pub fn finish(mut self) -> IpIndex {
        let mut addresses: HashMap<IpAddr, AddressEntry> = HashMap::new();

        // Every entry of one address has the same value, its canonical text, so the order
        // is source name, then row.
        self.address_sightings
            .sort_unstable_by_key(|(ip, r)| (*ip, r.source_rank, r.row));
        let address_sightings = group(self.address_sightings, &mut addresses, |entry| {
            &mut entry.sightings
        });
        self.address_allows
            .sort_unstable_by_key(|(ip, r)| (*ip, r.source_rank, r.row));
        let address_allows = group(self.address_allows, &mut addresses, |entry| {
            &mut entry.allows
        });
        let hosted_urls = first_hosted_rows(self.hosted_urls, &mut addresses);

        // Ranges arrive in row-id order, and the sort is stable.
        self.asn_ranges.sort_by_key(|r| r.start);
        let ranges = &self.asn_ranges;
        let asn_directory = KeyDirectory::new(|i| ranges[i].start, ranges.len());

        IpIndex {
            sources: self.sources,
            texts: self.texts.texts,
            label_lists: self.label_lists,
            addresses,
            address_sightings: address_sightings
                .into_iter()
                .map(|ordered| ordered.record)
                .collect(),
            address_allows: address_allows
                .into_iter()
                .map(|ordered| ordered.record)
                .collect(),
            hosted_urls,
            networks: NetworkTable::build(self.networks),
            allow_networks: NetworkTable::build(self.allow_networks),
            asn_ranges: self.asn_ranges,
            asn_directory,
        }
    }
}

/// Keeps the first [`HOSTED_ROWS`] URL rows of each address, by URL, then source name, then
/// row, as the store's lookup by URL host reads them.
fn first_hosted_rows(
    mut rows: Vec<(IpAddr, HostedRow)>,
    addresses: &mut HashMap<IpAddr, AddressEntry>,
) -> Vec<HostedUrl> {
    rows.sort_unstable_by(|(a, x), (b, y)| {
        (a, &x.value, x.source_rank, x.row).cmp(&(b, &y.value, y.source_rank, y.row))
    });
    let mut kept = Vec::new();
    let mut current = None;
    let mut taken = 0;
    for (host, row) in rows {
        if current != Some(host) {
            current = Some(host);
            taken = 0;
        }
        if taken == HOSTED_ROWS {
            continue;
        }
        taken += 1;
        let url = HostedUrl {
            value: row.value,
            claim: row.claim,
        };
        kept.push((host, url));
    }
    group(kept, addresses, |entry| &mut entry.hosted_urls)
}

/// Moves rows sorted by address into one vector, and records each address's range of it
/// in the field of its entry that `range_of` picks.
fn group<R>(
    rows: Vec<(IpAddr, R)>,
    addresses: &mut HashMap<IpAddr, AddressEntry>,
    range_of: impl Fn(&mut AddressEntry) -> &mut std::ops::Range<u32>,
) -> Vec<R> {
    let mut grouped = Vec::with_capacity(rows.len());
    let mut current: Option<IpAddr> = None;
    for (ip, row) in rows {
        let position = grouped.len() as u32;
        let range = range_of(addresses.entry(ip).or_default());
        if current != Some(ip) {
            *range = position..position;
            current = Some(ip);
        }
        range.end = position + 1;
        grouped.push(row);
    }
    grouped
}
