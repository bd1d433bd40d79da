//! Lookups the engine makes while analysing one indicator.

use rusqlite::{Params, Row, params_from_iter};
use tiq_model::{AllowCategory, ClaimKind, ThreatType};

use crate::Store;
use crate::error::StoreError;

/// A sighting as stored, with the source it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSighting {
    pub source: String,
    pub provider: String,
    pub source_reference: Option<String>,
    pub imported_at: String,
    /// `ip`, `network`, `domain`, `url`, `md5`, `sha1` or `sha256`.
    pub kind: String,
    pub value: String,
    pub claim: ClaimKind,
    pub threat: ThreatType,
    pub labels: Vec<String>,
    pub family: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    pub weight: f64,
    pub reference: Option<String>,
}

/// An allow-list entry as stored, with the list it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAllow {
    pub source: String,
    /// `network`, `hostname`, `exact`, `substring` or `regex`.
    pub match_kind: String,
    pub value: String,
    pub category: AllowCategory,
    pub rank: Option<u32>,
}

/// One imported source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    pub name: String,
    pub provider: String,
    pub title: String,
    pub format: String,
    pub reference: Option<String>,
    pub origin: String,
    pub file: Option<String>,
    pub imported_at: String,
    pub records: u64,
    pub rejected: u64,
    /// Catalog feed the source was synced as, if any.
    pub feed: Option<String>,
    /// Reliability weight every sighting of the source is multiplied by.
    pub weight: f64,
}

const SIGHTING_COLUMNS: &str = "s.name, s.provider, s.reference, s.imported_at, g.kind, g.value, g.claim, g.threat, \
     g.labels, g.family, g.first_seen, g.last_seen, g.weight * s.weight, g.reference";

impl Store {
    /// Sightings whose canonical value is one of `values` (IPs, domains, URLs, hashes).
    pub fn sightings_by_values(
        &self,
        values: &[String],
    ) -> Result<Vec<StoredSighting>, StoreError> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {SIGHTING_COLUMNS} FROM sightings g JOIN sources s ON s.id = g.source_id
             WHERE g.value IN ({}) AND g.kind != 'network' ORDER BY s.name, g.value",
            placeholders(values.len())
        );
        self.query_sightings(&sql, values)
    }

    /// URL sightings whose host is one of `hosts`, at most `limit`.
    pub fn sightings_by_url_host(
        &self,
        hosts: &[String],
        limit: usize,
    ) -> Result<Vec<StoredSighting>, StoreError> {
        if hosts.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {SIGHTING_COLUMNS} FROM sightings g JOIN sources s ON s.id = g.source_id
             WHERE g.host IN ({}) ORDER BY g.value, s.name LIMIT {limit}",
            placeholders(hosts.len())
        );
        self.query_sightings(&sql, hosts)
    }

    /// Other sightings of the given source, at most `limit`: indicators reported together.
    pub fn sightings_by_source(
        &self,
        source: &str,
        limit: usize,
    ) -> Result<Vec<StoredSighting>, StoreError> {
        let sql = format!(
            "SELECT {SIGHTING_COLUMNS} FROM sightings g JOIN sources s ON s.id = g.source_id
             WHERE s.name = ?1 ORDER BY g.kind, g.value LIMIT {limit}"
        );
        self.query_sightings(&sql, &[source.to_string()])
    }

    /// Calls `visit` with the value and the labels (a JSON array) of every sighting whose
    /// labels mention a CVE. A full scan: callers cache what they build from it.
    pub fn for_each_cve_label(&self, mut visit: impl FnMut(&str, &str)) -> Result<(), StoreError> {
        let mut statement = self
            .conn
            .prepare("SELECT value, labels FROM sightings WHERE labels LIKE '%cve-%'")?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let value = row.get_ref(0)?.as_str().unwrap_or_default();
            let labels = row.get_ref(1)?.as_str().unwrap_or_default();
            visit(value, labels);
        }
        Ok(())
    }

    /// Distinct URLs on `host`.
    pub fn count_url_host_values(&self, host: &str) -> Result<u64, StoreError> {
        self.count(
            "SELECT COUNT(DISTINCT value) FROM sightings WHERE host = ?1",
            &[host],
        )
    }

    /// Distinct domains under the registered domain `registered`, other than `except`.
    pub fn count_registered_domain_values(
        &self,
        registered: &str,
        except: &str,
    ) -> Result<u64, StoreError> {
        self.count(
            "SELECT COUNT(DISTINCT value) FROM sightings
             WHERE registered = ?1 AND kind = 'domain' AND value != ?2",
            &[registered, except],
        )
    }

    /// Distinct values of the source named `source`, other than `except`.
    pub fn count_source_values(&self, source: &str, except: &str) -> Result<u64, StoreError> {
        self.count(
            "SELECT COUNT(DISTINCT g.value) FROM sightings g JOIN sources s ON s.id = g.source_id
             WHERE s.name = ?1 AND g.value != ?2",
            &[source, except],
        )
    }

    fn count(&self, sql: &str, values: &[&str]) -> Result<u64, StoreError> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let count: i64 = statement.query_row(params_from_iter(values.iter()), |row| row.get(0))?;
        Ok(count as u64)
    }

    /// Calls `visit` with every malicious or suspicious sighting that names a family or
    /// actor, as `(family, kind, value, threat, last_seen)`. A full scan: callers cache what
    /// they build from it.
    pub fn for_each_family_sighting(
        &self,
        mut visit: impl FnMut(&str, &str, &str, &str, Option<&str>),
    ) -> Result<(), StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT family, kind, value, threat, last_seen FROM sightings
             WHERE family IS NOT NULL AND claim IN ('malicious', 'suspicious')",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let family = row.get_ref(0)?.as_str().unwrap_or_default();
            let kind = row.get_ref(1)?.as_str().unwrap_or_default();
            let value = row.get_ref(2)?.as_str().unwrap_or_default();
            let threat = row.get_ref(3)?.as_str().unwrap_or_default();
            let last_seen = row.get_ref(4)?.as_str_or_null().unwrap_or_default();
            visit(family, kind, value, threat, last_seen);
        }
        Ok(())
    }

    /// Domain sightings of subdomains of `name` (under the registered domain `registered`),
    /// at most `limit`, sorted by value.
    pub fn domains_under(
        &self,
        registered: &str,
        name: &str,
        limit: usize,
    ) -> Result<Vec<StoredSighting>, StoreError> {
        // A canonical domain cannot contain `%`. It may contain `_`, which LIKE reads as a
        // wildcard, so `_` is escaped.
        let pattern = format!("%.{}", name.replace('_', "\\_"));
        let sql = format!(
            "SELECT {SIGHTING_COLUMNS} FROM sightings g JOIN sources s ON s.id = g.source_id
             WHERE g.registered = ?1 AND g.kind = 'domain' AND g.value LIKE ?2 ESCAPE '\\'
             ORDER BY g.value, s.name LIMIT {limit}"
        );
        self.query_sightings(&sql, &[registered.to_string(), pattern])
    }

    /// Domain sightings whose registered domain is `registered`, at most `limit`.
    pub fn sightings_by_registered_domain(
        &self,
        registered: &str,
        limit: usize,
    ) -> Result<Vec<StoredSighting>, StoreError> {
        let sql = format!(
            "SELECT {SIGHTING_COLUMNS} FROM sightings g JOIN sources s ON s.id = g.source_id
             WHERE g.registered = ?1 ORDER BY g.value, s.name LIMIT {limit}"
        );
        self.query_sightings(&sql, &[registered.to_string()])
    }

    /// Returns up to `limit` sightings with the given claim, of single indicators (not
    /// networks), in an order fixed by `seed` that spreads them over every source: a
    /// repeatable sample for evaluations.
    pub fn sample_sightings(
        &self,
        claim: &str,
        limit: usize,
        seed: u64,
    ) -> Result<Vec<StoredSighting>, StoreError> {
        let sql = format!(
            "SELECT {SIGHTING_COLUMNS} FROM sightings g JOIN sources s ON s.id = g.source_id
             WHERE g.claim = ?1 AND g.kind != 'network'
             ORDER BY (g.rowid * 1103515245 + ?2) % 2147483647 LIMIT {limit}"
        );
        let seed = (seed % 2_147_483_647) as i64;
        self.query_rows(
            &sql,
            rusqlite::params![claim, seed],
            |_| Ok(true),
            sighting_from_row,
        )
    }

    /// Returns up to `limit` network, hostname and exact allow-list entries of `category`, in
    /// an order fixed by `seed`. With `max_rank`, entries ranked lower are left out; entries
    /// without a rank (MISP warninglists carry none) are kept.
    pub fn sample_allow(
        &self,
        category: &str,
        max_rank: Option<u32>,
        limit: usize,
        seed: u64,
    ) -> Result<Vec<StoredAllow>, StoreError> {
        let sql = format!(
            "SELECT s.name, a.match_kind, a.value, a.category, a.rank FROM allow_entries a
             JOIN sources s ON s.id = a.source_id
             WHERE a.category = ?1 AND a.match_kind IN ('network', 'hostname', 'exact')
               AND (?2 IS NULL OR a.rank IS NULL OR a.rank <= ?2)
             ORDER BY (a.rowid * 1103515245 + ?3) % 2147483647 LIMIT {limit}"
        );
        let seed = (seed % 2_147_483_647) as i64;
        self.query_rows(
            &sql,
            rusqlite::params![category, max_rank, seed],
            |_| Ok(true),
            allow_from_row,
        )
    }

    /// Hostname and exact allow-list entries whose value is one of `values`.
    pub fn allow_by_values(&self, values: &[String]) -> Result<Vec<StoredAllow>, StoreError> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT s.name, a.match_kind, a.value, a.category, a.rank FROM allow_entries a
             JOIN sources s ON s.id = a.source_id
             WHERE a.value IN ({}) AND a.match_kind IN ('hostname', 'exact') ORDER BY s.name, a.value",
            placeholders(values.len())
        );
        self.query_rows(
            &sql,
            params_from_iter(values.iter()),
            |_| Ok(true),
            allow_from_row,
        )
    }

    /// Substring and regular-expression allow-list entries, which the caller matches itself.
    pub fn allow_patterns(&self) -> Result<Vec<StoredAllow>, StoreError> {
        let sql = "SELECT s.name, a.match_kind, a.value, a.category, a.rank FROM allow_entries a
             JOIN sources s ON s.id = a.source_id WHERE a.match_kind IN ('substring', 'regex')
             ORDER BY s.name, a.value";
        self.query_rows(sql, [], |_| Ok(true), allow_from_row)
    }

    /// Lists every imported source, by name.
    pub fn sources(&self) -> Result<Vec<SourceRow>, StoreError> {
        let mut statement = self.conn.prepare_cached(
            "SELECT name, provider, title, format, reference, origin, file, imported_at, records, rejected, feed, weight
             FROM sources ORDER BY name",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(SourceRow {
                name: row.get(0)?,
                provider: row.get(1)?,
                title: row.get(2)?,
                format: row.get(3)?,
                reference: row.get(4)?,
                origin: row.get(5)?,
                file: row.get(6)?,
                imported_at: row.get(7)?,
                records: row.get::<_, i64>(8)? as u64,
                rejected: row.get::<_, i64>(9)? as u64,
                feed: row.get(10)?,
                weight: row.get(11)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn query_sightings(
        &self,
        sql: &str,
        values: &[String],
    ) -> Result<Vec<StoredSighting>, StoreError> {
        self.query_rows(
            sql,
            params_from_iter(values.iter()),
            |_| Ok(true),
            sighting_from_row,
        )
    }

    /// Runs a query and converts the rows that `keep` accepts.
    fn query_rows<T>(
        &self,
        sql: &str,
        params: impl Params,
        keep: impl Fn(&Row<'_>) -> rusqlite::Result<bool>,
        convert: impl Fn(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let mut rows = statement.query(params)?;
        let mut found = Vec::new();
        while let Some(row) = rows.next()? {
            if keep(row)? {
                found.push(convert(row)?);
            }
        }
        Ok(found)
    }
}

fn placeholders(count: usize) -> String {
    vec!["?"; count].join(", ")
}

fn sighting_from_row(row: &Row<'_>) -> Result<StoredSighting, StoreError> {
    let claim: String = row.get(6)?;
    let threat: String = row.get(7)?;
    let labels: String = row.get(8)?;
    Ok(StoredSighting {
        source: row.get(0)?,
        provider: row.get(1)?,
        source_reference: row.get(2)?,
        imported_at: row.get(3)?,
        kind: row.get(4)?,
        value: row.get(5)?,
        claim: ClaimKind::from_name(&claim).ok_or(StoreError::Corrupt {
            column: "sightings.claim",
            value: claim,
        })?,
        threat: ThreatType::from_name(&threat).ok_or(StoreError::Corrupt {
            column: "sightings.threat",
            value: threat,
        })?,
        labels: serde_json::from_str(&labels).map_err(|_| StoreError::Corrupt {
            column: "sightings.labels",
            value: labels.clone(),
        })?,
        family: row.get(9)?,
        first_seen: row.get(10)?,
        last_seen: row.get(11)?,
        weight: row.get(12)?,
        reference: row.get(13)?,
    })
}

fn allow_from_row(row: &Row<'_>) -> Result<StoredAllow, StoreError> {
    let category: String = row.get(3)?;
    Ok(StoredAllow {
        source: row.get(0)?,
        match_kind: row.get(1)?,
        value: row.get(2)?,
        category: AllowCategory::from_name(&category).ok_or(StoreError::Corrupt {
            column: "allow_entries.category",
            value: category,
        })?,
        rank: row.get(4)?,
    })
}
