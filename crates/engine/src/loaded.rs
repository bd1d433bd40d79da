//! Data the engine keeps in memory: geolocation databases, pattern allow-lists, the IP
//! index, the source list and a memo of recent reports, read at open and again by every
//! reload.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tiq_store::{ScanScope, SourceRow, Store, StoreError};

use crate::ip_index::IpIndex;
use crate::memo::ReportMemo;
use crate::{OpenError, geo, knowledge, lookup, vuln};

/// One load of the data directory.
pub(crate) struct Loaded {
    pub geo: geo::GeoDatabases,
    pub patterns: lookup::AllowPatterns,
    /// The whole IP index once it is built, or `None` when the build failed.
    pub ip_index: OnceLock<Option<IpIndex>>,
    /// The sources as they were when this was read.
    pub sources: Vec<SourceVersion>,
    /// Latest import time of the sources (RFC 3339).
    pub latest_import: Option<Arc<str>>,
    /// Sources whose kept files the knowledge index reads.
    knowledge_sources: Vec<SourceRow>,
    /// Read on first use, because only reports that name a family and `describe_threat` need
    /// it. Building it takes a large part of a second, so it is read from the cache in the
    /// data directory when that was built from the same sources.
    knowledge: OnceLock<Arc<knowledge::Knowledge>>,
    /// Built on first use from a full scan of the family-carrying sightings.
    families: OnceLock<Arc<knowledge::FamilyIndex>>,
    /// Indicators, actors and families that name a CVE, built on the first vulnerability
    /// search.
    mentions: OnceLock<Arc<vuln::CveMentions>>,
    /// Recent reports, which are valid as long as this copy of the data is current.
    pub reports: ReportMemo,
}

/// Name, import time, record count and weight of a source, which an import or a new
/// configured weight changes.
pub(crate) type SourceVersion = (String, String, u64, f64);

pub(crate) fn versions(sources: Vec<SourceRow>) -> Vec<SourceVersion> {
    sources
        .into_iter()
        .map(|s| (s.name, s.imported_at, s.records, s.weight))
        .collect()
}

impl Loaded {
    /// Reads everything but the IP index, which [`Loaded::build_ip_index`] adds. Returns
    /// the number of sources too.
    pub fn read(data_dir: &Path, store: &Store) -> Result<(Loaded, usize), OpenError> {
        let sources = store.sources()?;
        let geo = geo::GeoDatabases::load(data_dir, &sources)?;
        let patterns = lookup::AllowPatterns::load(store)?;
        let count = sources.len();
        let latest_import = sources.iter().map(|s| s.imported_at.as_str()).max();
        let latest_import = latest_import.map(Arc::from);
        let knowledge_sources = sources
            .iter()
            .filter(|s| knowledge::is_knowledge_format(&s.format))
            .cloned()
            .collect();
        let loaded = Loaded {
            geo,
            patterns,
            ip_index: OnceLock::new(),
            sources: versions(sources),
            latest_import,
            knowledge_sources,
            knowledge: OnceLock::new(),
            families: OnceLock::new(),
            mentions: OnceLock::new(),
            reports: ReportMemo::new(),
        };
        Ok((loaded, count))
    }

    pub fn knowledge(&self, data_dir: &Path) -> &Arc<knowledge::Knowledge> {
        self.knowledge.get_or_init(|| {
            Arc::new(knowledge::Knowledge::load_cached(
                data_dir,
                &self.knowledge_sources,
            ))
        })
    }

    pub fn families(
        &self,
        data_dir: &Path,
        store: &Store,
    ) -> Result<&Arc<knowledge::FamilyIndex>, StoreError> {
        if let Some(index) = self.families.get() {
            return Ok(index);
        }
        let index = knowledge::FamilyIndex::build(store, self.knowledge(data_dir))?;
        Ok(self.families.get_or_init(|| Arc::new(index)))
    }

    pub fn mentions(
        &self,
        data_dir: &Path,
        store: &Store,
    ) -> Result<&Arc<vuln::CveMentions>, StoreError> {
        if let Some(mentions) = self.mentions.get() {
            return Ok(mentions);
        }
        let mentions = vuln::CveMentions::build(store, self.knowledge(data_dir))?;
        Ok(self.mentions.get_or_init(|| Arc::new(mentions)))
    }

    /// Builds the whole IP index from `store`. A failure is logged, and IP lookups then go
    /// on reading their rows from the store.
    pub fn build_ip_index(&self, store: &Store) {
        let started = Instant::now();
        let index = match IpIndex::build(store, ScanScope::All) {
            Ok(index) => {
                let sizes = index.sizes();
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    addresses = sizes.addresses,
                    networks = sizes.networks,
                    allow_networks = sizes.allow_networks,
                    asn_ranges = sizes.asn_ranges,
                    "built the IP index"
                );
                Some(index)
            }
            Err(error) => {
                tracing::error!(%error, "cannot build the IP index; IP lookups read the store");
                None
            }
        };
        // Only this load's one build sets it, so the value is never already there.
        let _ = self.ip_index.set(index);
    }
}

/// Builds the IP index of `loaded` on a thread of its own, over a connection of its own.
/// The slot of the index is set even when the build fails or panics (to `None`), so
/// [`crate::Engine::wait_for_ip_index`] always returns.
pub(crate) fn build_in_background(data_dir: &Path, loaded: Arc<Loaded>) {
    let data_dir = data_dir.to_path_buf();
    let spawned = std::thread::Builder::new()
        .name("tiq-ip-index".to_string())
        .spawn({
            let loaded = loaded.clone();
            move || {
                let built =
                    std::panic::catch_unwind(AssertUnwindSafe(|| {
                        match Store::open_read_only(&data_dir) {
                            Ok(store) => loaded.build_ip_index(&store),
                            Err(error) => tracing::error!(
                                %error,
                                "cannot build the IP index; IP lookups read the store"
                            ),
                        }
                    }));
                if built.is_err() {
                    tracing::error!("the IP index build panicked; IP lookups read the store");
                }
                // Does nothing when the build has set the index.
                let _ = loaded.ip_index.set(None);
            }
        });
    if let Err(error) = spawned {
        tracing::error!(%error, "cannot start building the IP index; IP lookups read the store");
        let _ = loaded.ip_index.set(None);
    }
}
