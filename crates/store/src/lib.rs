//! The embedded store: one SQLite file, `<data-dir>/tiq.db`, with every record feeds gave.
//!
//! This crate owns the schema and its migrations ([`schema`]), the replacement of one
//! source's records in a single transaction ([`Store::begin_replace`]) and the lookups the
//! engine needs ([`read`]). It has no notion of feed formats or scoring: the engine passes it
//! model records and runs its lookups.

mod error;
mod kept;
mod key;
pub mod read;
pub mod scan;
mod schema;
mod sync_state;
mod vuln;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

pub use error::StoreError;
pub use read::{SourceRow, StoredAllow, StoredSighting};
pub use scan::{
    AddressMatch, AddressVisitor, AllowView, AsnView, ScanScope, ScannedSource, SightingView,
    parse_labels,
};
pub use schema::SCHEMA_VERSION;
pub use sync_state::{SyncRecord, SyncState, Validators};
pub use vuln::{COUNT_CAP, RANK_WINDOW, VulnFilter, VulnOrder, VulnRow};
pub use write::{RowBatch, SourceMeta, SourceWriter};

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

    /// Opens the store like [`Store::open`], with the connection set up for writing many
    /// records: a larger page cache, and checkpoints left to [`Store::checkpoint`] on another
    /// connection up to a size limit (see [`configure_import`]).
    pub fn open_for_import(data_dir: &Path) -> Result<Store, StoreError> {
        let store = Store::open(data_dir)?;
        configure_import(&store.conn)?;
        Ok(store)
    }

    /// Copies the pages committed to the WAL into the database file, without waiting for
    /// readers or writers (a passive checkpoint). The WAL is synced first, so this is where
    /// the disk writes of earlier commits happen.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        Ok(())
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
    // Takes effect only when the database file is created. Pages larger than SQLite's 4 KiB
    // default make inserts into the large indexes split fewer pages; lookups measured as fast.
    conn.pragma_update(None, "page_size", PAGE_SIZE)?;
    // WAL lets a running server keep serving lookups while an import writes.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

/// Page size of a new database, in bytes.
const PAGE_SIZE: i64 = 16 * 1024;
/// Page cache of an importing connection, in KiB.
const IMPORT_CACHE_KIB: i64 = 64 * 1024;
/// WAL size at which an importing connection checkpoints by itself, in bytes: a limit for
/// when no other connection runs [`Store::checkpoint`] often enough.
const IMPORT_CHECKPOINT_BYTES: i64 = 256 * 1024 * 1024;
/// Size the WAL file is cut back to when it is reused after a checkpoint, in bytes.
const WAL_SIZE_LIMIT: i64 = 128 * 1024 * 1024;

/// Sets up a connection for bulk inserts.
///
/// - With SQLite's default cache of 2 MiB, inserts into large indexes read pages back from
///   the file and spill dirty pages into the WAL before the commit.
/// - A checkpoint fsyncs the WAL and the database file. Left to the connection that commits,
///   it stalls the import for every fsync, so the importer runs it on another connection.
///
/// Durability is unchanged: `synchronous` stays `NORMAL`.
fn configure_import(conn: &Connection) -> Result<(), StoreError> {
    conn.pragma_update(None, "cache_size", -IMPORT_CACHE_KIB)?;
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |row| row.get(0))?;
    conn.pragma_update(
        None,
        "wal_autocheckpoint",
        IMPORT_CHECKPOINT_BYTES / page_size,
    )?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    Ok(())
}

#[cfg(test)]
mod tests;
