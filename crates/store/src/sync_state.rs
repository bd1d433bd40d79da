//! Feed download state in the store: the outcome of each sync and the validators
//! that make the next request conditional.

use rusqlite::{OptionalExtension, TransactionBehavior, params};

use crate::Store;
use crate::error::StoreError;
use crate::write::now_rfc3339;

/// Sync history of one catalog feed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    pub feed: String,
    pub last_attempt: Option<String>,
    pub last_success: Option<String>,
    /// Last successful sync that brought new data, as opposed to an unchanged response.
    pub last_change: Option<String>,
    pub last_error: Option<String>,
    /// Attempts that failed in a row since the last success.
    pub failures: u32,
    pub records: u64,
    pub bytes: u64,
    /// When the publisher produced the data (its Last-Modified date), if known.
    pub data_as_of: Option<String>,
}

/// Validators a server gave for one downloaded file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Result of one sync attempt, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncRecord {
    /// Every file was unchanged: nothing was parsed.
    Unchanged,
    /// New data replaced the feed's sources.
    Changed {
        records: u64,
        bytes: u64,
        data_as_of: Option<String>,
    },
    Failed(String),
}

impl Store {
    /// Sync history of every feed that was ever attempted.
    pub fn sync_states(&self) -> Result<Vec<SyncState>, StoreError> {
        let mut statement = self.conn.prepare(
            "SELECT feed, last_attempt, last_success, last_change, last_error, failures, records, bytes, data_as_of
             FROM sync_state ORDER BY feed",
        )?;
        let rows = statement.query_map([], |row| {
            Ok(SyncState {
                feed: row.get(0)?,
                last_attempt: row.get(1)?,
                last_success: row.get(2)?,
                last_change: row.get(3)?,
                last_error: row.get(4)?,
                failures: row.get(5)?,
                records: row.get::<_, i64>(6)? as u64,
                bytes: row.get::<_, i64>(7)? as u64,
                data_as_of: row.get(8)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Sync history of one feed, if it was ever attempted.
    pub fn sync_state(&self, feed: &str) -> Result<Option<SyncState>, StoreError> {
        Ok(self.sync_states()?.into_iter().find(|s| s.feed == feed))
    }

    /// Validators stored for a file of a feed.
    pub fn validators(&self, feed: &str, url: &str) -> Result<Validators, StoreError> {
        let found = self
            .conn
            .query_row(
                "SELECT etag, last_modified FROM sync_files WHERE feed = ?1 AND url = ?2",
                params![feed, url],
                |row| {
                    Ok(Validators {
                        etag: row.get(0)?,
                        last_modified: row.get(1)?,
                    })
                },
            )
            .optional()?;
        Ok(found.unwrap_or_default())
    }

    /// Records one attempt. On a change, the validators of the new files replace the earlier
    /// ones in the same transaction, so they never describe data that was not stored.
    pub fn record_sync(
        &mut self,
        feed: &str,
        record: &SyncRecord,
        validators: &[(String, Validators)],
    ) -> Result<(), StoreError> {
        let now = now_rfc3339();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO sync_state (feed) VALUES (?1) ON CONFLICT (feed) DO NOTHING",
            [feed],
        )?;
        tx.execute(
            "UPDATE sync_state SET last_attempt = ?2 WHERE feed = ?1",
            params![feed, now],
        )?;
        match record {
            SyncRecord::Unchanged => {
                tx.execute(
                    "UPDATE sync_state SET last_success = ?2, last_error = NULL, failures = 0 WHERE feed = ?1",
                    params![feed, now],
                )?;
            }
            SyncRecord::Changed {
                records,
                bytes,
                data_as_of,
            } => {
                tx.execute(
                    "UPDATE sync_state SET last_success = ?2, last_change = ?2, last_error = NULL, failures = 0,
                            records = ?3, bytes = ?4, data_as_of = coalesce(?5, ?2)
                     WHERE feed = ?1",
                    params![feed, now, *records as i64, *bytes as i64, data_as_of],
                )?;
                tx.execute("DELETE FROM sync_files WHERE feed = ?1", [feed])?;
                for (url, found) in validators {
                    tx.execute(
                        "INSERT INTO sync_files (feed, url, etag, last_modified) VALUES (?1, ?2, ?3, ?4)",
                        params![feed, url, found.etag, found.last_modified],
                    )?;
                }
            }
            SyncRecord::Failed(error) => {
                tx.execute(
                    "UPDATE sync_state SET last_error = ?2, failures = failures + 1 WHERE feed = ?1",
                    params![feed, error],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks the store sources a feed produced, with the feed's reliability weight and the
    /// locations the data came from.
    pub fn assign_feed(
        &mut self,
        feed: &str,
        sources: &[String],
        weight: f64,
        origin: &str,
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for source in sources {
            tx.execute(
                "UPDATE sources SET feed = ?1, weight = ?2, origin = ?3 WHERE name = ?4",
                params![feed, weight, origin, source],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deletes the sources a feed produced earlier but no longer does (a malware family
    /// dropped from an archive), and returns how many went.
    pub fn retire_feed_sources(
        &mut self,
        feed: &str,
        keep: &[String],
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let names: Vec<String> = {
            let mut statement = tx.prepare("SELECT name FROM sources WHERE feed = ?1")?;
            let rows = statement.query_map([feed], |row| row.get::<_, String>(0))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut removed = 0;
        for name in names.iter().filter(|n| !keep.contains(n)) {
            removed += tx.execute("DELETE FROM sources WHERE name = ?1", [name])?;
        }
        tx.commit()?;
        Ok(removed)
    }

    /// Sets the reliability weight of every source each feed produced, in one transaction.
    /// Returns the number of sources whose weight changed.
    pub fn set_feed_weights(&mut self, weights: &[(&str, f64)]) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changed = 0;
        for (feed, weight) in weights {
            changed += tx.execute(
                "UPDATE sources SET weight = ?2 WHERE feed = ?1 AND weight != ?2",
                params![feed, weight],
            )?;
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Records held by the sources a feed produced.
    pub fn feed_records(&self, feed: &str) -> Result<u64, StoreError> {
        let total: i64 = self.conn.query_row(
            "SELECT coalesce(sum(records), 0) FROM sources WHERE feed = ?1",
            [feed],
            |row| row.get(0),
        )?;
        Ok(total as u64)
    }
}
