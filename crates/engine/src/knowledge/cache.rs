//! The built knowledge index cached in `<data-dir>/cache/knowledge.json`, so that a command
//! which needs it reads one file instead of rebuilding it from ATT&CK and the galaxies.
//!
//! The cache stores a key: the knowledge sources' names, formats, import times and record
//! counts, the cache format and the tiq build. An import, a sync or a new tiq binary changes
//! the key, and a cache with another key, or one that cannot be read, is rebuilt.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use tiq_store::SourceRow;

use super::{Entity, Knowledge, is_knowledge_format};

/// Path of the cache file below the data directory.
const CACHE_FILE: &str = "cache/knowledge.json";

/// Version of the cached layout and of the build rules. Increase it when [`Entity`] or the
/// way the index is built changes; the build stamp in [`CacheKey`] covers new binaries too.
const CACHE_FORMAT: u32 = 1;

/// Inputs the cached index was built from.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct CacheKey {
    format: u32,
    /// tiq version, and the size and modification time of the executable that wrote it.
    build: String,
    /// Name, format, import time and record count of each knowledge source.
    sources: Vec<(String, String, String, u64)>,
}

impl CacheKey {
    fn of(sources: &[SourceRow]) -> CacheKey {
        let mut sources: Vec<(String, String, String, u64)> = sources
            .iter()
            .filter(|source| is_knowledge_format(&source.format))
            .map(|s| {
                (
                    s.name.clone(),
                    s.format.clone(),
                    s.imported_at.clone(),
                    s.records,
                )
            })
            .collect();
        sources.sort();
        CacheKey {
            format: CACHE_FORMAT,
            build: build_stamp(),
            sources,
        }
    }
}

/// The tiq version with the size and modification time of the running executable, so that
/// a rebuilt or upgraded binary does not read an index that older rules built.
fn build_stamp() -> String {
    let executable = std::env::current_exe().and_then(std::fs::metadata);
    let stamp = executable.ok().map(|metadata| {
        let modified = metadata
            .modified()
            .ok()
            .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|since| since.as_nanos());
        (metadata.len(), modified)
    });
    format!("{} {stamp:?}", env!("CARGO_PKG_VERSION"))
}

/// The file's content.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    key: CacheKey,
    entities: Vec<Entity>,
    maltrail: HashMap<String, Vec<String>>,
}

/// A cache file that could not be read or written.
#[derive(Debug, thiserror::Error)]
enum CacheError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("invalid cache content: {0}")]
    Json(#[from] serde_json::Error),
}

impl Knowledge {
    /// Returns the index of `sources` from the cache in `data_dir` when it was built from the
    /// same sources by the same build, and otherwise builds it with [`Knowledge::load`] and
    /// writes the cache. Failing to read or write the cache is logged and costs only time.
    pub fn load_cached(data_dir: &Path, sources: &[SourceRow]) -> Knowledge {
        let key = CacheKey::of(sources);
        if key.sources.is_empty() {
            return Knowledge::default();
        }
        let path = data_dir.join(CACHE_FILE);
        let started = std::time::Instant::now();
        match read(&path, &key) {
            Ok(Some(knowledge)) => {
                tracing::info!(
                    entries = knowledge.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "read threat knowledge from the cache"
                );
                return knowledge;
            }
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "ignored an unreadable knowledge cache; rebuilding it");
            }
        }

        let knowledge = Knowledge::load(data_dir, sources);
        if let Err(error) = write(&path, key, &knowledge) {
            tracing::warn!(path = %path.display(), %error, "cannot write the knowledge cache");
        }
        knowledge
    }
}

/// Reads the cache. Returns `None` when there is none, or when it was built from other
/// sources or by another build.
fn read(path: &Path, key: &CacheKey) -> Result<Option<Knowledge>, CacheError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let cached: CacheFile = serde_json::from_slice(&bytes)?;
    if cached.key != *key {
        tracing::debug!(path = %path.display(), "the knowledge cache is stale (other sources or another tiq build); rebuilding it");
        return Ok(None);
    }
    Ok(Some(Knowledge::from_parts(
        cached.entities,
        cached.maltrail,
    )))
}

/// Writes the cache to a temporary file beside it and renames that over it, so that readers
/// in other processes see the old file or the new one, never a part.
fn write(path: &Path, key: CacheKey, knowledge: &Knowledge) -> Result<(), CacheError> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)?;
    }
    let content = CacheFile {
        key,
        entities: knowledge.entities.clone(),
        maltrail: knowledge.maltrail.clone(),
    };
    let temporary = temporary_path(path);
    let result = (|| -> Result<(), CacheError> {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&temporary)?);
        serde_json::to_writer(&mut file, &content)?;
        file.flush()?;
        std::fs::rename(&temporary, path)?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Returns a file name beside `path` that no other process or thread writes at the same time.
fn temporary_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}-{count}.tmp", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture_sources() -> (tempfile::TempDir, Vec<SourceRow>) {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge");
        let dir = tempfile::tempdir().unwrap();
        crate::import::import(dir.path(), &[fixtures], &Default::default()).unwrap();
        let sources = tiq_store::Store::open(dir.path())
            .unwrap()
            .sources()
            .unwrap();
        (dir, sources)
    }

    fn cache_path(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join(CACHE_FILE)
    }

    /// Sets the description of the entry named `name` in the cache file.
    fn edit_cached_description(dir: &tempfile::TempDir, name: &str, description: &str) {
        let bytes = std::fs::read(cache_path(dir)).unwrap();
        let mut cached: CacheFile = serde_json::from_slice(&bytes).unwrap();
        let entity = cached.entities.iter_mut().find(|e| e.name == name).unwrap();
        entity.description = description.to_string();
        std::fs::write(cache_path(dir), serde_json::to_vec(&cached).unwrap()).unwrap();
    }

    fn description_of(knowledge: &Knowledge, name: &str) -> String {
        let index = knowledge.find(name, &[])[0];
        knowledge.entity(index).description.clone()
    }

    #[test]
    fn cache_matches_fresh_build() {
        let (dir, sources) = fixture_sources();
        let built = Knowledge::load_cached(dir.path(), &sources);
        assert!(cache_path(&dir).is_file());
        let cached = Knowledge::load_cached(dir.path(), &sources);
        assert_eq!(cached.entities, built.entities);
        assert_eq!(cached.by_key, built.by_key);
        assert_eq!(cached.by_id, built.by_id);
        assert_eq!(cached.maltrail, built.maltrail);
    }

    #[test]
    fn cache_is_read_while_sources_match() {
        let (dir, sources) = fixture_sources();
        Knowledge::load_cached(dir.path(), &sources);
        edit_cached_description(&dir, "Example Strike", "Edited in the cache.");
        let knowledge = Knowledge::load_cached(dir.path(), &sources);
        assert_eq!(
            description_of(&knowledge, "Example Strike"),
            "Edited in the cache."
        );
    }

    #[test]
    fn changed_source_rebuilds_cache() {
        let (dir, mut sources) = fixture_sources();
        Knowledge::load_cached(dir.path(), &sources);
        edit_cached_description(&dir, "Example Strike", "Edited in the cache.");
        let attack = sources
            .iter_mut()
            .find(|s| s.format == "stix-bundle")
            .unwrap();
        attack.imported_at = "2099-01-01T00:00:00Z".to_string();
        let knowledge = Knowledge::load_cached(dir.path(), &sources);
        assert_eq!(
            description_of(&knowledge, "Example Strike"),
            "Example Strike is an invented framework."
        );
        // The rebuilt index replaced the edited cache.
        let knowledge = Knowledge::load_cached(dir.path(), &sources);
        assert_eq!(
            description_of(&knowledge, "Example Strike"),
            "Example Strike is an invented framework."
        );
    }

    #[test]
    fn unreadable_cache_is_rebuilt() {
        let (dir, sources) = fixture_sources();
        Knowledge::load_cached(dir.path(), &sources);
        std::fs::write(cache_path(&dir), b"{\"key\": [").unwrap();
        let knowledge = Knowledge::load_cached(dir.path(), &sources);
        assert!(!knowledge.find("Example Strike", &[]).is_empty());
        let bytes = std::fs::read(cache_path(&dir)).unwrap();
        assert!(serde_json::from_slice::<CacheFile>(&bytes).is_ok());
        let leftovers = std::fs::read_dir(dir.path().join("cache")).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left");
    }

    #[test]
    fn no_knowledge_sources_writes_no_cache() {
        let dir = tempfile::tempdir().unwrap();
        let knowledge = Knowledge::load_cached(dir.path(), &[]);
        assert!(knowledge.is_empty());
        assert!(!cache_path(&dir).exists());
    }
}
