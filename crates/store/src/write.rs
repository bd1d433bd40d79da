//! Writing: one source's records replaced in one transaction.

use rusqlite::{Transaction, TransactionBehavior, params};
use tiq_model::{AllowEntry, AllowMatch, AsnRange, Sighting, Subject};

use crate::Store;
use crate::error::StoreError;
use crate::key::{address_key, network_key};

/// Description of a source, stored with its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMeta {
    pub name: String,
    pub provider: String,
    pub title: String,
    pub format: String,
    pub reference: Option<String>,
    /// File the records came from, as given to the importer.
    pub origin: String,
    /// Copy of the file kept in the data directory, for formats read at lookup time.
    pub file: Option<String>,
}

/// Open replacement of one source. Dropping it without [`SourceWriter::commit`] rolls back,
/// leaving the source's earlier records as they were.
pub struct SourceWriter<'a> {
    tx: Transaction<'a>,
    source_id: i64,
    previous_records: Option<u64>,
    records: u64,
}

impl Store {
    /// Starts replacing the records of `meta.name`: the earlier records are deleted inside
    /// the transaction, so they come back if the replacement is not committed.
    pub fn begin_replace(&mut self, meta: &SourceMeta) -> Result<SourceWriter<'_>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let previous: Option<(i64, i64)> = tx
            .query_row(
                "SELECT id, records FROM sources WHERE name = ?1",
                [&meta.name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map(Some)
            .or_else(|error| match error {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                other => Err(other),
            })?;
        if let Some((id, _)) = previous {
            tx.execute("DELETE FROM sources WHERE id = ?1", [id])?;
        }
        tx.execute(
            "INSERT INTO sources (name, provider, title, format, reference, origin, file, imported_at, records, rejected)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0)",
            params![
                meta.name,
                meta.provider,
                meta.title,
                meta.format,
                meta.reference,
                meta.origin,
                meta.file,
                now_rfc3339()
            ],
        )?;
        let source_id = tx.last_insert_rowid();
        Ok(SourceWriter {
            tx,
            source_id,
            previous_records: previous.map(|(_, records)| records as u64),
            records: 0,
        })
    }
}

impl SourceWriter<'_> {
    /// Number of records the source had before this replacement, if it existed.
    pub fn previous_records(&self) -> Option<u64> {
        self.previous_records
    }

    /// Number of records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    pub fn sighting(&mut self, sighting: &Sighting) -> Result<(), StoreError> {
        let (net, prefix) = match &sighting.subject {
            Subject::Network(net) => {
                let (key, prefix) = network_key(*net);
                (Some(key.to_vec()), Some(prefix))
            }
            _ => (None, None),
        };
        let host = match &sighting.subject {
            Subject::Url(url) => url_host(url),
            _ => None,
        };
        let registered = match &sighting.subject {
            Subject::Domain(name) => registered_domain(name),
            Subject::Url(_) => host.as_deref().and_then(registered_domain),
            _ => None,
        };
        let labels = serde_json::to_string(&sighting.labels).expect("a list of strings serialises");
        let inserted = self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO sightings (source_id, kind, value, net, prefix, host, registered, claim, threat,
                                        labels, family, first_seen, last_seen, weight, reference)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                self.source_id,
                sighting.subject.kind_name(),
                sighting.subject.value(),
                net,
                prefix,
                host,
                registered,
                sighting.claim.name(),
                sighting.threat.name(),
                labels,
                sighting.family,
                sighting.first_seen,
                sighting.last_seen,
                f64::from(sighting.weight),
                sighting.reference,
            ])?;
        self.records += inserted as u64;
        Ok(())
    }

    pub fn allow(&mut self, entry: &AllowEntry) -> Result<(), StoreError> {
        let (kind, value, net, prefix) = match &entry.matcher {
            AllowMatch::Network(net) => {
                let (key, prefix) = network_key(*net);
                (
                    "network",
                    net.trunc().to_string(),
                    Some(key.to_vec()),
                    Some(prefix),
                )
            }
            AllowMatch::Hostname(name) => ("hostname", name.clone(), None, None),
            AllowMatch::Exact(value) => ("exact", value.clone(), None, None),
            AllowMatch::Substring(text) => ("substring", text.clone(), None, None),
            AllowMatch::Regex(pattern) => ("regex", pattern.clone(), None, None),
        };
        let inserted = self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO allow_entries (source_id, match_kind, value, net, prefix, category, rank)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![self.source_id, kind, value, net, prefix, entry.category.name(), entry.rank])?;
        self.records += inserted as u64;
        Ok(())
    }

    pub fn asn_range(&mut self, range: &AsnRange) -> Result<(), StoreError> {
        let inserted = self.tx
            .prepare_cached(
                "INSERT OR IGNORE INTO asn_ranges (source_id, start, end, asn, organization) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                self.source_id,
                address_key(range.start).to_vec(),
                address_key(range.end).to_vec(),
                range.asn,
                range.organization,
            ])?;
        self.records += inserted as u64;
        Ok(())
    }

    /// Records the counts and makes the replacement visible.
    pub fn commit(self, rejected: u64) -> Result<u64, StoreError> {
        self.tx.execute(
            "UPDATE sources SET records = ?1, rejected = ?2 WHERE id = ?3",
            params![self.records as i64, rejected as i64, self.source_id],
        )?;
        self.tx.commit()?;
        Ok(self.records)
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

/// Current time as RFC 3339 UTC with second precision.
pub(crate) fn now_rfc3339() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
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

    #[test]
    fn import_time_is_rfc3339_utc() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.ends_with('Z'), "{now}");
    }
}
