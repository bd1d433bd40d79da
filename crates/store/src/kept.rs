//! Sources whose files are kept whole in the data directory (vulnerability and knowledge
//! files): the store keeps their description and record count, not their rows.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::Store;
use crate::error::StoreError;
use crate::write::{SourceMeta, now_rfc3339};

impl Store {
    /// Records held by the source named `name`, if it exists.
    pub fn source_records(&self, name: &str) -> Result<Option<u64>, StoreError> {
        let found: Option<i64> = self
            .conn
            .query_row(
                "SELECT records FROM sources WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .optional()?;
        Ok(found.map(|n| n as u64))
    }

    /// Replaces the description of a kept-file source in one transaction. The files must
    /// already be in place under `meta.file`.
    pub fn replace_kept_source(
        &mut self,
        meta: &SourceMeta,
        records: u64,
        rejected: u64,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        // The feed a source was synced as and its weight stay, as in `begin_replace`.
        let (feed, weight): (Option<String>, f64) = match &meta.feed {
            Some((feed, weight)) => (Some(feed.clone()), *weight),
            None => tx
                .query_row(
                    "SELECT feed, weight FROM sources WHERE name = ?1",
                    [&meta.name],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()?
                .unwrap_or((None, 1.0)),
        };
        tx.execute("DELETE FROM sources WHERE name = ?1", [&meta.name])?;
        tx.execute(
            "INSERT INTO sources (name, provider, title, format, reference, origin, file, imported_at, records, rejected, feed, weight)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                meta.name,
                meta.provider,
                meta.title,
                meta.format,
                meta.reference,
                meta.origin,
                meta.file,
                now_rfc3339(),
                records as i64,
                rejected as i64,
                feed,
                weight
            ],
        )?;
        tx.commit()?;
        Ok(())
    }
}
