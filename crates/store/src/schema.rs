//! Schema versions and migrations.
//!
//! The version lives in SQLite's `user_version`. Each entry of [`MIGRATIONS`] moves the
//! schema one version up and runs in its own transaction, so an interrupted upgrade leaves
//! the previous version intact. Released migrations are never edited, only appended.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use crate::error::StoreError;

const MIGRATIONS: &[&str] = &[
    // Version 1: sources, sightings, allow-list entries, ASN ranges.
    r#"
    CREATE TABLE sources (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        provider    TEXT NOT NULL,
        title       TEXT NOT NULL,
        format      TEXT NOT NULL,
        reference   TEXT,
        origin      TEXT NOT NULL,   -- file the records came from
        file        TEXT,            -- copy kept in the data directory (MaxMind DB files)
        imported_at TEXT NOT NULL,   -- RFC 3339, UTC
        records     INTEGER NOT NULL,
        rejected    INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE sightings (
        source_id  INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL,    -- ip, network, domain, url, md5, sha1, sha256
        value      TEXT NOT NULL,    -- canonical text
        net        BLOB,             -- network: first address key (see key.rs)
        prefix     INTEGER,          -- network: prefix length in the 128-bit space
        host       TEXT,             -- url: host, for links between URLs and their hosts
        registered TEXT,             -- domain and url: registered domain of the name or host
        claim      TEXT NOT NULL,
        threat     TEXT NOT NULL,
        labels     TEXT NOT NULL,    -- JSON array of strings
        family     TEXT,
        first_seen TEXT,
        last_seen  TEXT,
        weight     REAL NOT NULL,
        reference  TEXT
    ) STRICT;
    CREATE INDEX sightings_by_value ON sightings(value);
    CREATE INDEX sightings_by_net ON sightings(net) WHERE net IS NOT NULL;
    CREATE INDEX sightings_by_host ON sightings(host) WHERE host IS NOT NULL;
    CREATE INDEX sightings_by_registered ON sightings(registered) WHERE registered IS NOT NULL;
    -- One claim per source, value, threat type and family: a feed that lists a value twice,
    -- or two files of one source, store it once. Also serves deletes by source.
    CREATE UNIQUE INDEX sightings_unique ON sightings(source_id, value, threat, coalesce(family, ''));

    CREATE TABLE allow_entries (
        source_id  INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        match_kind TEXT NOT NULL,    -- network, hostname, exact, substring, regex
        value      TEXT NOT NULL,
        net        BLOB,
        prefix     INTEGER,
        category   TEXT NOT NULL,
        rank       INTEGER
    ) STRICT;
    CREATE INDEX allow_by_value ON allow_entries(value) WHERE match_kind IN ('hostname', 'exact');
    CREATE INDEX allow_by_net ON allow_entries(net) WHERE net IS NOT NULL;
    CREATE UNIQUE INDEX allow_unique ON allow_entries(source_id, match_kind, value);

    CREATE TABLE asn_ranges (
        source_id    INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
        start        BLOB NOT NULL,
        end          BLOB NOT NULL,
        asn          INTEGER NOT NULL,
        organization TEXT NOT NULL
    ) STRICT;
    CREATE INDEX asn_by_start ON asn_ranges(start);
    CREATE UNIQUE INDEX asn_unique ON asn_ranges(source_id, start);
    "#,
    // Version 2: per-source reliability weight and the state of feed downloads.
    r#"
    ALTER TABLE sources ADD COLUMN weight REAL NOT NULL DEFAULT 1.0;
    -- Catalog source this store source was synced as, if any.
    ALTER TABLE sources ADD COLUMN feed TEXT;

    CREATE TABLE sync_state (
        feed         TEXT PRIMARY KEY,  -- catalog source name
        last_attempt TEXT,              -- RFC 3339, UTC
        last_success TEXT,
        last_change  TEXT,              -- last sync that brought new data
        last_error   TEXT,
        failures     INTEGER NOT NULL DEFAULT 0,  -- attempts failed in a row
        records      INTEGER NOT NULL DEFAULT 0,
        bytes        INTEGER NOT NULL DEFAULT 0,
        data_as_of   TEXT               -- when the publisher produced the data, if known
    ) STRICT;

    -- Validators of each downloaded file, for conditional requests.
    CREATE TABLE sync_files (
        feed          TEXT NOT NULL,
        url           TEXT NOT NULL,
        etag          TEXT,
        last_modified TEXT,             -- HTTP date as the server sent it
        PRIMARY KEY (feed, url)
    ) STRICT;
    "#,
    // Version 3: the vulnerability index, rebuilt from the kept vulnerability files.
    r#"
    CREATE TABLE vulns (
        cve         TEXT PRIMARY KEY,
        published   TEXT,            -- RFC 3339 or date, for `since` and sorting by date
        cvss        REAL,            -- CVSS v3 base score
        severity    INTEGER NOT NULL, -- 0 none or unknown, 1 low, 2 medium, 3 high, 4 critical
        in_kev      INTEGER NOT NULL,
        exploited   INTEGER NOT NULL, -- in KEV or SSVC exploitation active
        has_exploit INTEGER NOT NULL, -- public exploit code is referenced
        epss        REAL,
        data        TEXT NOT NULL    -- JSON of the engine's stored vulnerability
    ) STRICT;
    -- Rows are written in priority order (known exploited, EPSS, CVSS), so rowid order is
    -- priority order. The Porter stemmer lets "executions" match "execution".
    CREATE VIRTUAL TABLE vulns_text USING fts5(
        cve UNINDEXED, title, description, vendor, product,
        tokenize = 'porter unicode61 remove_diacritics 2'
    );
    -- One row per affected entry with its JSON, for product queries, in priority order.
    CREATE VIRTUAL TABLE vuln_products USING fts5(
        cve UNINDEXED, affected UNINDEXED, name,
        tokenize = 'unicode61 remove_diacritics 2'
    );
    -- One CNVD or CNNVD id may name several CVEs.
    CREATE TABLE vuln_aliases (
        alias TEXT NOT NULL,         -- upper-case CNVD or CNNVD id
        cve   TEXT NOT NULL,
        PRIMARY KEY (alias, cve)
    ) STRICT;
    CREATE INDEX vuln_aliases_by_cve ON vuln_aliases(cve);
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;
    "#,
];

/// Schema version this build reads and writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

pub fn user_version(conn: &Connection) -> Result<u32, StoreError> {
    Ok(conn.pragma_query_value(None, "user_version", |row| row.get(0))?)
}

/// Applies every migration above the database's version.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let found = user_version(conn)?;
    if found > SCHEMA_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as u32 + 1;
        // The write lock is taken first and the version read again under it, so two
        // processes opening an old store at once apply each migration once.
        let step = |conn: &mut Connection| -> rusqlite::Result<bool> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current: u32 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
            if current >= version {
                return Ok(false);
            }
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
            tx.commit()?;
            Ok(true)
        };
        let applied = step(conn).map_err(|source| StoreError::Migration { version, source })?;
        if applied {
            tracing::info!(version, path = %path.display(), "migrated store schema");
        }
    }
    Ok(())
}

/// Fails unless the database is at exactly this build's version.
pub fn check_current(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let found = user_version(conn)?;
    let path = path.to_path_buf();
    match found.cmp(&SCHEMA_VERSION) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(StoreError::TooNew {
            path,
            found,
            supported: SCHEMA_VERSION,
        }),
        std::cmp::Ordering::Less => Err(StoreError::TooOld {
            path,
            found,
            supported: SCHEMA_VERSION,
        }),
    }
}
