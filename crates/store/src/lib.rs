//! The embedded store: one SQLite file, `<data-dir>/tiq.db`, with every record feeds gave.
//!
//! This crate owns the schema and its migrations ([`schema`]), the replacement of one
//! source's records in a single transaction ([`Store::begin_replace`]) and the lookups the
//! engine needs ([`read`]). It has no notion of feed formats or scoring: the engine passes it
//! model records and runs its lookups.

mod error;
mod key;
pub mod read;
mod schema;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use error::StoreError;
pub use read::{AsnMatch, SourceRow, StoredAllow, StoredSighting};
pub use schema::SCHEMA_VERSION;
pub use write::{SourceMeta, SourceWriter};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "tiq.db";

/// An open store. Each instance owns one SQLite connection; open several for parallel readers.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens the store in `data_dir`, creating the directory and the database when missing,
    /// and applies pending migrations.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        configure(&conn)?;
        schema::migrate(&mut conn, &path)?;
        Ok(Store { conn, path })
    }

    /// Opens an existing store for reading only. The schema must be current.
    pub fn open_read_only(data_dir: &Path) -> Result<Store, StoreError> {
        let path = data_dir.join(DB_FILE);
        if !path.exists() {
            return Err(StoreError::Missing { path });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        conn.busy_timeout(Duration::from_secs(5))?;
        schema::check_current(&conn, &path)?;
        Ok(Store { conn, path })
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Schema version recorded in the database.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::user_version(&self.conn)
    }
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(30))?;
    // WAL lets a running server keep serving lookups while an import writes.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

#[cfg(test)]
mod tests;
