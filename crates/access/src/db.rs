//! `<data-dir>/access.db`: keys, the audit log, its anchor after pruning, and quota use.
//! Kept apart from the feed store, so imports and syncs do not wait on its locks, nor it on
//! theirs.
//!
//! The schema version is stored in SQLite's `user_version`. Each migration runs in its own
//! transaction. Released migrations stay unchanged, so a schema change appends a new one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;

use crate::error::AccessError;
use crate::key::{self, KeyRecord};
use crate::scope::ScopeSet;
use crate::timefmt;

/// Name of the access database in the data directory.
pub const DB_FILE: &str = "access.db";

const MIGRATIONS: &[&str] = &[
    // Version 1: keys, the audit chain, the anchor left by pruning, quota use per day.
    r#"
    CREATE TABLE keys (
        id              TEXT PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,
        hash            BLOB NOT NULL,       -- SHA-256 of the whole key
        scopes          TEXT NOT NULL,       -- comma-separated scope names
        rate_per_minute INTEGER,
        daily_quota     INTEGER,
        created         TEXT NOT NULL,
        expires         TEXT,
        revoked         TEXT,
        rotated         TEXT
    ) STRICT;

    CREATE TABLE audit (
        seq        INTEGER PRIMARY KEY,
        time       TEXT NOT NULL,            -- UTC, fixed width, so text order is time order
        request_id TEXT NOT NULL,
        key_id     TEXT,
        client     TEXT,
        surface    TEXT NOT NULL,
        tool       TEXT NOT NULL,
        query      TEXT,
        verdict    TEXT,
        status     INTEGER NOT NULL,
        latency_us INTEGER NOT NULL,
        prev       BLOB NOT NULL,            -- hash of the entry before
        hash       BLOB NOT NULL             -- SHA-256 of this entry with prev
    ) STRICT;
    CREATE INDEX audit_by_time ON audit(time);
    CREATE TRIGGER audit_append_only BEFORE UPDATE ON audit
    BEGIN
        SELECT RAISE(ABORT, 'the audit log is append-only');
    END;

    -- The last entry removed by pruning: verification starts from it.
    CREATE TABLE audit_anchor (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        seq  INTEGER NOT NULL,
        hash TEXT NOT NULL,
        time TEXT NOT NULL
    ) STRICT;

    CREATE TABLE quota_use (
        key_id TEXT NOT NULL,
        day    TEXT NOT NULL,                -- UTC date
        used   INTEGER NOT NULL,
        PRIMARY KEY (key_id, day)
    ) STRICT;
    "#,
];

/// Opens (creating and migrating as needed) the access database in `data_dir`.
pub(crate) fn open(data_dir: &Path) -> Result<Connection, AccessError> {
    std::fs::create_dir_all(data_dir).map_err(|source| AccessError::Io {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let path = data_dir.join(DB_FILE);
    let mut conn = Connection::open(&path).map_err(|source| AccessError::Open {
        path: path.clone(),
        source,
    })?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    migrate(&mut conn, &path)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), AccessError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    let version = usize::try_from(version).unwrap_or(usize::MAX);
    if version > MIGRATIONS.len() {
        return Err(AccessError::NewerSchema {
            path: PathBuf::from(path),
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another process may have migrated between the read above and this lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if usize::try_from(now).unwrap_or(usize::MAX) > index {
            continue;
        }
        tx.execute_batch(migration)?;
        tx.pragma_update(None, "user_version", (index + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

/// Name, scopes and limits of a key to create, as `tiq key create` takes them.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub scopes: ScopeSet,
    pub rate_per_minute: Option<u32>,
    pub daily_quota: Option<u32>,
    pub expires: Option<OffsetDateTime>,
}

/// Key management on the access database, for the command line.
pub struct Keys {
    conn: Connection,
}

const KEY_COLUMNS: &str =
    "id, name, hash, scopes, rate_per_minute, daily_quota, created, expires, revoked, rotated";

impl Keys {
    pub fn open(data_dir: &Path) -> Result<Keys, AccessError> {
        Ok(Keys {
            conn: open(data_dir)?,
        })
    }

    /// Creates a key and returns it with its secret, which is shown once and never stored.
    pub fn create(
        &mut self,
        new: &NewKey,
        now: OffsetDateTime,
    ) -> Result<(KeyRecord, String), AccessError> {
        let name = new.name.trim();
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(AccessError::BadName(new.name.clone()));
        }
        if self.find(name)?.is_some() {
            return Err(AccessError::DuplicateName(name.to_string()));
        }
        let (id, secret) = key::generate()?;
        let record = KeyRecord {
            id,
            name: name.to_string(),
            scopes: new.scopes,
            rate_per_minute: new.rate_per_minute,
            daily_quota: new.daily_quota,
            created: now,
            expires: new.expires,
            revoked: None,
            rotated: None,
            hash: key::digest(&secret),
        };
        self.conn.execute(
            &format!("INSERT INTO keys ({KEY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, NULL)"),
            params![
                record.id,
                record.name,
                record.hash.as_slice(),
                record.scopes.to_string(),
                record.rate_per_minute,
                record.daily_quota,
                timefmt::format(record.created),
                record.expires.map(timefmt::format),
            ],
        )?;
        tracing::info!(key = %record.id, name = %record.name, "created an API key");
        Ok((record, secret))
    }

    /// Lists every key, revoked ones included, newest first.
    pub fn list(&self) -> Result<Vec<KeyRecord>, AccessError> {
        load_keys(&self.conn)
    }

    /// Finds a key by id or by name.
    pub fn find(&self, id_or_name: &str) -> Result<Option<KeyRecord>, AccessError> {
        let mut statement = self.conn.prepare(&format!(
            "SELECT {KEY_COLUMNS} FROM keys WHERE id = ?1 OR name = ?1"
        ))?;
        Ok(statement
            .query_row([id_or_name.trim()], read_key)
            .optional()?)
    }

    fn existing(&self, id_or_name: &str) -> Result<KeyRecord, AccessError> {
        self.find(id_or_name)?
            .ok_or_else(|| AccessError::NoSuchKey(id_or_name.to_string()))
    }

    /// Revokes a key at once; a revoked key stays listed so the audit log can name it.
    pub fn revoke(
        &mut self,
        id_or_name: &str,
        now: OffsetDateTime,
    ) -> Result<KeyRecord, AccessError> {
        let mut record = self.existing(id_or_name)?;
        if record.revoked.is_some() {
            return Err(AccessError::Revoked(record.id));
        }
        record.revoked = Some(now);
        self.conn.execute(
            "UPDATE keys SET revoked = ?2 WHERE id = ?1",
            params![record.id, timefmt::format(now)],
        )?;
        tracing::info!(key = %record.id, name = %record.name, "revoked an API key");
        Ok(record)
    }

    /// Replaces a key's secret, keeping its id, name, scopes and limits; the old secret
    /// stops working at once. Returns the new secret.
    pub fn rotate(
        &mut self,
        id_or_name: &str,
        now: OffsetDateTime,
    ) -> Result<(KeyRecord, String), AccessError> {
        let mut record = self.existing(id_or_name)?;
        if record.revoked.is_some() {
            return Err(AccessError::Revoked(record.id));
        }
        let secret = key::regenerate(&record.id)?;
        record.hash = key::digest(&secret);
        record.rotated = Some(now);
        self.conn.execute(
            "UPDATE keys SET hash = ?2, rotated = ?3 WHERE id = ?1",
            params![record.id, record.hash.as_slice(), timefmt::format(now)],
        )?;
        tracing::info!(key = %record.id, name = %record.name, "rotated an API key");
        Ok((record, secret))
    }

    /// Returns the time of the newest audit entry of the key `id`, or `None` if it has none.
    pub fn last_used(&self, id: &str) -> Result<Option<String>, AccessError> {
        Ok(self.conn.query_row(
            "SELECT max(time) FROM audit WHERE key_id = ?1",
            [id],
            |row| row.get(0),
        )?)
    }
}

pub(crate) fn load_keys(conn: &Connection) -> Result<Vec<KeyRecord>, AccessError> {
    let mut statement = conn.prepare(&format!(
        "SELECT {KEY_COLUMNS} FROM keys ORDER BY created DESC, id"
    ))?;
    let keys = statement
        .query_map([], read_key)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(keys)
}

fn read_key(row: &rusqlite::Row<'_>) -> rusqlite::Result<KeyRecord> {
    let hash: Vec<u8> = row.get(2)?;
    let scopes: String = row.get(3)?;
    let time = |index: usize| -> rusqlite::Result<Option<OffsetDateTime>> {
        let text: Option<String> = row.get(index)?;
        Ok(text.as_deref().and_then(timefmt::parse))
    };
    Ok(KeyRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        // A hash of the wrong length matches no presented key.
        hash: hash.try_into().unwrap_or([0; 32]),
        // Scopes written by a newer tiq that this one does not know are dropped.
        scopes: scopes
            .split(',')
            .filter_map(|name| name.parse().ok())
            .collect(),
        rate_per_minute: row.get(4)?,
        daily_quota: row.get(5)?,
        created: time(6)?.unwrap_or(OffsetDateTime::UNIX_EPOCH),
        expires: time(7)?,
        revoked: time(8)?,
        rotated: time(9)?,
    })
}

/// Today's quota use per key, to carry counts over a restart.
pub(crate) fn quota_use(conn: &Connection, day: &str) -> Result<Vec<(String, u32)>, AccessError> {
    let mut statement = conn.prepare("SELECT key_id, used FROM quota_use WHERE day = ?1")?;
    let rows = statement
        .query_map([day], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
