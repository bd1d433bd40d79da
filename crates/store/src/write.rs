//! Writing: one source's records replaced in one transaction.

mod rows;

use rusqlite::{Connection, OptionalExtension, params};
use tiq_model::{AllowEntry, AsnRange, Sighting};

use crate::Store;
use crate::error::StoreError;
use rows::StoredRow;

pub use rows::RowBatch;

/// Tables whose rows belong to one source through `source_id`. A new table that refers to
/// `sources` needs to be listed here, because a replacement does not rely on the foreign
/// keys' cascade to delete a source's earlier rows.
const SOURCE_TABLES: [&str; 3] = ["sightings", "allow_entries", "asn_ranges"];

/// Rows per multi-row `INSERT`. The widest row has 15 columns, so a statement binds 960
/// parameters, well under SQLite's default limit of 32,766.
const ROWS_PER_INSERT: usize = 64;

/// Description of a source, stored with its records.
#[derive(Debug, Clone, PartialEq)]
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
    /// Catalog feed the source is synced as, with its reliability weight. `None` keeps
    /// what an earlier import of the source recorded.
    pub feed: Option<(String, f64)>,
}

/// Open replacement of one source. Dropping it without [`SourceWriter::commit`] rolls back,
/// leaving the source's earlier records as they were.
///
/// While it is open, foreign keys are not enforced on its connection. Every row it inserts
/// carries the id of the source row it has just inserted, so the check cannot fail. With
/// enforcement on, SQLite would keep a statement journal (a copy of each page the statement
/// changes) for every multi-row insert. The earlier rows are deleted table by table instead
/// of by the cascade.
pub struct SourceWriter<'a> {
    conn: &'a Connection,
    /// `foreign_keys` as it was before the replacement, restored when it ends.
    foreign_keys: bool,
    source_id: i64,
    previous_records: Option<u64>,
    records: u64,
}

impl Store {
    /// Starts replacing the records of `meta.name`: the earlier records are deleted inside
    /// the transaction, so they come back if the replacement is not committed.
    pub fn begin_replace(&mut self, meta: &SourceMeta) -> Result<SourceWriter<'_>, StoreError> {
        let conn = &self.conn;
        let foreign_keys = conn.pragma_query_value(None, "foreign_keys", |row| row.get(0))?;
        // The pragma has no effect inside a transaction, so it is set before BEGIN.
        conn.pragma_update(None, "foreign_keys", false)?;
        let mut writer = SourceWriter {
            conn,
            foreign_keys,
            source_id: 0,
            previous_records: None,
            records: 0,
        };
        conn.execute_batch("BEGIN IMMEDIATE")?;
        // A replacement keeps the feed a source was synced as and its weight, so importing a
        // synced source by hand does not detach it from its feed.
        let previous: Option<(i64, i64, Option<String>, f64)> = conn
            .query_row(
                "SELECT id, records, feed, weight FROM sources WHERE name = ?1",
                [&meta.name],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
            )
            .optional()?;
        let (feed, weight) = match &meta.feed {
            Some((feed, weight)) => (Some(feed.clone()), *weight),
            None => previous
                .as_ref()
                .map_or((None, 1.0), |(_, _, feed, weight)| (feed.clone(), *weight)),
        };
        if let Some((id, records, ..)) = previous {
            for table in SOURCE_TABLES {
                conn.execute(&format!("DELETE FROM {table} WHERE source_id = ?1"), [id])?;
            }
            conn.execute("DELETE FROM sources WHERE id = ?1", [id])?;
            writer.previous_records = Some(records as u64);
        }
        conn.execute(
            "INSERT INTO sources (name, provider, title, format, reference, origin, file, imported_at, records, rejected, feed, weight)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, 0, ?9, ?10)",
            params![
                meta.name,
                meta.provider,
                meta.title,
                meta.format,
                meta.reference,
                meta.origin,
                meta.file,
                now_rfc3339(),
                feed,
                weight
            ],
        )?;
        writer.source_id = conn.last_insert_rowid();
        Ok(writer)
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

    /// Inserts every row of the batch. A row whose key the source already has is skipped,
    /// so the first copy of a record is the one stored. Returns the number of rows stored.
    pub fn insert(&mut self, batch: &RowBatch) -> Result<u64, StoreError> {
        let inserted = insert_rows(self.conn, self.source_id, &batch.sightings)?
            + insert_rows(self.conn, self.source_id, &batch.allow_entries)?
            + insert_rows(self.conn, self.source_id, &batch.asn_ranges)?;
        self.records += inserted;
        Ok(inserted)
    }

    pub fn sighting(&mut self, sighting: &Sighting) -> Result<(), StoreError> {
        let mut batch = RowBatch::new();
        batch.push_sighting(sighting.clone());
        self.insert(&batch).map(drop)
    }

    pub fn allow(&mut self, entry: &AllowEntry) -> Result<(), StoreError> {
        let mut batch = RowBatch::new();
        batch.push_allow(entry.clone());
        self.insert(&batch).map(drop)
    }

    pub fn asn_range(&mut self, range: &AsnRange) -> Result<(), StoreError> {
        let mut batch = RowBatch::new();
        batch.push_asn_range(range.clone());
        self.insert(&batch).map(drop)
    }

    /// Records the counts and makes the replacement visible.
    pub fn commit(self, rejected: u64) -> Result<u64, StoreError> {
        self.conn.execute(
            "UPDATE sources SET records = ?1, rejected = ?2 WHERE id = ?3",
            params![self.records as i64, rejected as i64, self.source_id],
        )?;
        self.conn.execute_batch("COMMIT")?;
        Ok(self.records)
    }
}

impl Drop for SourceWriter<'_> {
    /// Rolls back unless committed, then enforces foreign keys again if they were before.
    fn drop(&mut self) {
        if !self.conn.is_autocommit()
            && let Err(error) = self.conn.execute_batch("ROLLBACK")
        {
            tracing::warn!(%error, source_id = self.source_id, "rollback of a source replacement failed");
        }
        if let Err(error) = self
            .conn
            .pragma_update(None, "foreign_keys", self.foreign_keys)
        {
            tracing::warn!(%error, "cannot restore foreign key enforcement after a source replacement");
        }
    }
}

/// Inserts rows with one statement per [`ROWS_PER_INSERT`] rows, which saves the per-statement
/// work of SQLite's virtual machine; the rest go one at a time. Returns the rows stored.
fn insert_rows<R: StoredRow>(
    conn: &Connection,
    source_id: i64,
    rows: &[R],
) -> Result<u64, StoreError> {
    let mut inserted = 0;
    let mut chunks = rows.chunks_exact(ROWS_PER_INSERT);
    if rows.len() >= ROWS_PER_INSERT {
        let mut statement = conn.prepare_cached(&insert_sql::<R>(ROWS_PER_INSERT))?;
        for chunk in &mut chunks {
            for (index, row) in chunk.iter().enumerate() {
                row.bind(&mut statement, index * R::COLUMNS + 1, source_id)?;
            }
            inserted += statement.raw_execute()? as u64;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut statement = conn.prepare_cached(&insert_sql::<R>(1))?;
        for row in rest {
            row.bind(&mut statement, 1, source_id)?;
            inserted += statement.raw_execute()? as u64;
        }
    }
    Ok(inserted)
}

/// `INSERT` of `rows` rows of `R`, with numbered parameters.
fn insert_sql<R: StoredRow>(rows: usize) -> String {
    let mut sql = String::from(R::INSERT);
    for row in 0..rows {
        sql.push_str(if row == 0 { " (" } else { ", (" });
        for column in 0..R::COLUMNS {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("?{}", row * R::COLUMNS + column + 1));
        }
        sql.push(')');
    }
    sql
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

    use tiq_model::{AllowCategory, AllowMatch, ClaimKind, Subject, ThreatType};

    fn meta(name: &str) -> SourceMeta {
        SourceMeta {
            name: name.to_string(),
            provider: "test".to_string(),
            title: "Test feed".to_string(),
            format: "ip-list".to_string(),
            reference: None,
            origin: format!("/feeds/{name}.txt"),
            file: None,
            feed: None,
        }
    }

    fn ip_sighting(ip: &str, weight: f32) -> Sighting {
        let subject = Subject::Ip(ip.parse().unwrap());
        Sighting::new(subject, ClaimKind::Malicious, ThreatType::Abuse, weight)
    }

    fn foreign_keys(store: &Store) -> bool {
        store
            .conn
            .pragma_query_value(None, "foreign_keys", |row| row.get(0))
            .unwrap()
    }

    #[test]
    fn import_time_is_rfc3339_utc() {
        let now = now_rfc3339();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.ends_with('Z'), "{now}");
    }

    #[test]
    fn sorted_batch_keeps_first_copy() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut batch = RowBatch::new();
        batch.push_sighting(ip_sighting("198.51.100.9", 0.25));
        batch.push_sighting(ip_sighting("192.0.2.1", 0.5));
        batch.push_sighting(ip_sighting("198.51.100.9", 0.75));
        batch.sort();

        let mut writer = store.begin_replace(&meta("feed")).unwrap();
        assert_eq!(writer.insert(&batch).unwrap(), 2);
        writer.commit(0).unwrap();

        let found = store
            .sightings_by_values(&["198.51.100.9".to_string()])
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].weight, 0.25);
    }

    #[test]
    fn multi_row_insert_counts_stored_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut batch = RowBatch::new();
        for i in 0..(ROWS_PER_INSERT * 2 + 5) {
            let ip = format!("10.0.{}.{}", i / 256, i % 256);
            batch.push_sighting(ip_sighting(&ip, 0.5));
            // Every address twice: the second copy is not stored.
            batch.push_sighting(ip_sighting(&ip, 0.5));
        }
        batch.sort();

        let mut writer = store.begin_replace(&meta("feed")).unwrap();
        let stored = writer.insert(&batch).unwrap();
        assert_eq!(stored, (ROWS_PER_INSERT * 2 + 5) as u64);
        assert_eq!(writer.records(), stored);
        writer.commit(0).unwrap();
        assert_eq!(store.sources().unwrap()[0].records, stored);
    }

    #[test]
    fn replace_keeps_feed_and_weight() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        store
            .begin_replace(&meta("ipsum"))
            .unwrap()
            .commit(0)
            .unwrap();
        store
            .assign_feed("ipsum", &["ipsum".to_string()], 0.5, "mirror")
            .unwrap();

        store
            .begin_replace(&meta("ipsum"))
            .unwrap()
            .commit(0)
            .unwrap();
        let source = store.sources().unwrap().remove(0);
        assert_eq!(source.feed.as_deref(), Some("ipsum"));
        assert_eq!(source.weight, 0.5);
        assert_eq!(store.set_feed_weights(&[("ipsum", 0.25)]).unwrap(), 1);
        assert_eq!(store.set_feed_weights(&[("ipsum", 0.25)]).unwrap(), 0);
    }

    #[test]
    fn replace_deletes_rows_of_every_table() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let mut writer = store.begin_replace(&meta("mixed")).unwrap();
        writer.sighting(&ip_sighting("192.0.2.1", 0.5)).unwrap();
        let entry = AllowEntry {
            matcher: AllowMatch::Hostname("example.org".into()),
            category: AllowCategory::TopSite,
            rank: None,
        };
        writer.allow(&entry).unwrap();
        let range = AsnRange {
            start: "192.0.2.0".parse().unwrap(),
            end: "192.0.2.255".parse().unwrap(),
            asn: 64500,
            organization: "Example Net".into(),
        };
        writer.asn_range(&range).unwrap();
        writer.commit(0).unwrap();

        let mut writer = store.begin_replace(&meta("mixed")).unwrap();
        assert_eq!(writer.previous_records(), Some(3));
        writer.sighting(&ip_sighting("198.51.100.1", 0.5)).unwrap();
        writer.commit(0).unwrap();

        let old = store
            .sightings_by_values(&["192.0.2.1".to_string()])
            .unwrap();
        assert!(old.is_empty());
        let allowed = store.allow_by_values(&["example.org".to_string()]);
        assert!(allowed.unwrap().is_empty());
        let ranges: i64 = store
            .conn
            .query_row("SELECT count(*) FROM asn_ranges", [], |row| row.get(0))
            .unwrap();
        assert_eq!(ranges, 0);
        assert_eq!(store.sources().unwrap()[0].records, 1);
    }

    #[test]
    fn foreign_keys_enforced_after_replace() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        assert!(foreign_keys(&store));

        let writer = store.begin_replace(&meta("feed")).unwrap();
        let during: bool = writer
            .conn
            .pragma_query_value(None, "foreign_keys", |row| row.get(0))
            .unwrap();
        assert!(!during, "during the replacement");
        writer.commit(0).unwrap();
        assert!(foreign_keys(&store), "after a commit");

        let mut writer = store.begin_replace(&meta("feed")).unwrap();
        writer.sighting(&ip_sighting("192.0.2.1", 0.5)).unwrap();
        drop(writer);
        assert!(foreign_keys(&store), "after a rollback");
        assert_eq!(store.sources().unwrap()[0].records, 0);
    }
}
