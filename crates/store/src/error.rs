use std::path::PathBuf;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("no database at {path}: run `tiq import PATH` first to create it")]
    Missing { path: PathBuf },
    #[error(
        "database {path} has schema version {found}, newer than this tiq supports ({supported}): \
         upgrade tiq or use another data directory"
    )]
    TooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error(
        "database {path} has schema version {found}, older than {supported}: open it once read-write (for example with `tiq import`) to migrate it"
    )]
    TooOld {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("migration to schema version {version} failed: {source}")]
    Migration {
        version: u32,
        source: rusqlite::Error,
    },
    #[error("stored value {value:?} in column {column} is invalid")]
    Corrupt { column: &'static str, value: String },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}
