//! Analysis and import: the only crate that talks to both the feed parsers and the store.
//!
//! - [`import`] walks files, detects their formats with `tiq-feeds` and replaces each
//!   source's records in the store, keeping earlier data when a file is bad.
//! - [`Engine`] serves the analysis tools: it looks an indicator up ([`lookup`]), weighs
//!   the evidence ([`score`]) and explains the verdict in English or Chinese ([`text`]).
//! - [`knowledge`] merges MITRE ATT&CK and the MISP galaxies into one index of actors,
//!   families, campaigns and techniques (`describe_threat`).
//! - [`vuln`] builds the vulnerability index and answers `search_vul`; [`vuln::version`]
//!   decides whether a product version is affected by a CVE record.
//!
//! Every surface (MCP, REST, CLI) calls the same [`Engine::analyze`], so all of them return
//! the same report for the same data.

pub mod evaluate;
mod geo;
pub mod import;
pub mod knowledge;
mod lookup;
mod scope;
pub mod score;
pub mod text;
pub mod vuln;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tiq_model::{Indicator, IndicatorKind, Lang, ParseError, Report, ThreatDescription};
use tiq_store::{Store, StoreError};

pub use import::{FileOutcome, FileStatus, ImportOptions, ImportSummary};
pub use knowledge::DescribeError;
pub use scope::{AddressScope, address_scope};
pub use tiq_store::{DB_FILE, SourceRow};

/// The knowledge index of a report without family names, which needs none.
fn empty_knowledge() -> Arc<knowledge::Knowledge> {
    static EMPTY: OnceLock<Arc<knowledge::Knowledge>> = OnceLock::new();
    EMPTY.get_or_init(Default::default).clone()
}

/// Errors of an analysis request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnalyzeError {
    /// The input is not a valid indicator of the requested type: the caller's mistake.
    #[error(transparent)]
    Invalid(#[from] ParseError),
    /// The store failed: the operator's problem.
    #[error("store lookup failed: {0}")]
    Store(#[from] StoreError),
}

impl AnalyzeError {
    /// Renders the error in the requested language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            AnalyzeError::Invalid(error) => error.message(lang),
            AnalyzeError::Store(error) => match lang {
                Lang::En => self.to_string(),
                Lang::ZhCn => format!("本地数据库查询失败：{error}"),
            },
        }
    }
}

/// Errors of opening the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read geolocation database {path}: {reason}")]
    Geo { path: PathBuf, reason: String },
}

/// Number of SQLite connections kept for concurrent analyses.
const READERS: usize = 4;

/// The analysis engine over one data directory. Cheap to share behind an `Arc`.
pub struct Engine {
    readers: Mutex<Vec<Store>>,
    data_dir: PathBuf,
    loaded: RwLock<Arc<Loaded>>,
    ageing: score::Ageing,
    /// Whether data read on first use is read in the background after each load.
    keep_warm: bool,
}

/// Data read into memory at open, and again by [`Engine::reload`] after new data lands.
struct Loaded {
    geo: geo::GeoDatabases,
    patterns: lookup::AllowPatterns,
    /// The sources as they were when this was read.
    sources: Vec<SourceVersion>,
    /// Sources whose kept files the knowledge index reads.
    knowledge_sources: Vec<SourceRow>,
    /// Read on first use, because only reports that name a family and `describe_threat` need
    /// it and it takes a large part of a second.
    knowledge: OnceLock<Arc<knowledge::Knowledge>>,
    /// Built on first use from a full scan of the family-carrying sightings.
    families: OnceLock<Arc<knowledge::FamilyIndex>>,
    /// Indicators, actors and families that name a CVE, built on the first vulnerability
    /// search.
    mentions: OnceLock<Arc<vuln::CveMentions>>,
}

/// Name, import time and record count of a source, which a new import changes.
type SourceVersion = (String, String, u64);

fn versions(sources: Vec<tiq_store::SourceRow>) -> Vec<SourceVersion> {
    sources
        .into_iter()
        .map(|s| (s.name, s.imported_at, s.records))
        .collect()
}

impl Loaded {
    fn read(data_dir: &Path, store: &Store) -> Result<(Loaded, usize), OpenError> {
        let sources = store.sources()?;
        let geo = geo::GeoDatabases::load(data_dir, &sources)?;
        let patterns = lookup::AllowPatterns::load(store)?;
        let count = sources.len();
        let knowledge_sources = sources
            .iter()
            .filter(|s| knowledge::is_knowledge_format(&s.format))
            .cloned()
            .collect();
        let sources = versions(sources);
        Ok((
            Loaded {
                geo,
                patterns,
                sources,
                knowledge_sources,
                knowledge: OnceLock::new(),
                families: OnceLock::new(),
                mentions: OnceLock::new(),
            },
            count,
        ))
    }

    fn knowledge(&self, data_dir: &Path) -> &Arc<knowledge::Knowledge> {
        self.knowledge.get_or_init(|| {
            Arc::new(knowledge::Knowledge::load(
                data_dir,
                &self.knowledge_sources,
            ))
        })
    }

    fn mentions(
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

    fn families(
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
}

impl Engine {
    /// Opens the store in `data_dir` (creating an empty one when missing) and loads the
    /// geolocation databases and pattern allow-lists into memory.
    pub fn open(data_dir: &Path) -> Result<Engine, OpenError> {
        let mut first = Store::open(data_dir)?;
        // A store imported by an older build has no vulnerability index yet.
        if let Err(error) = vuln::ensure_index(&mut first, data_dir) {
            tracing::warn!(%error, "cannot build the vulnerability index; search_vul answers from the last one");
        }
        let (loaded, sources) = Loaded::read(data_dir, &first)?;
        let mut readers = vec![first];
        for _ in 1..READERS {
            readers.push(Store::open(data_dir)?);
        }
        tracing::info!(
            data_dir = %data_dir.display(),
            sources,
            geo_databases = loaded.geo.len(),
            "opened engine"
        );
        Ok(Engine {
            readers: Mutex::new(readers),
            data_dir: data_dir.to_path_buf(),
            loaded: RwLock::new(Arc::new(loaded)),
            ageing: score::Ageing::default(),
            keep_warm: false,
        })
    }

    /// Reads the threat knowledge and indexes the indicators by family in a background
    /// thread now and after every reload, so no request waits for them. For servers; a
    /// command that answers one question reads them only if it needs them.
    pub fn keep_warm(mut self) -> Engine {
        self.keep_warm = true;
        self.warm_in_background();
        self
    }

    fn warm_in_background(&self) {
        let loaded = self.loaded();
        let data_dir = self.data_dir.clone();
        let spawned = std::thread::Builder::new()
            .name("tiq-warm-up".to_string())
            .spawn(move || {
                loaded.knowledge(&data_dir);
                let result = Store::open(&data_dir)
                    .and_then(|store| loaded.families(&data_dir, &store).map(|_| ()));
                if let Err(error) = result {
                    tracing::warn!(%error, "cannot index indicators by family");
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "cannot start the warm-up thread");
        }
    }

    /// Sets the half-lives with which claims age (see [`score::Ageing`]).
    pub fn with_ageing(mut self, ageing: score::Ageing) -> Engine {
        self.ageing = ageing;
        self
    }

    /// Reads the geolocation databases and pattern allow-lists again, after an import or a
    /// sync changed them. Analyses running meanwhile finish with the earlier copy.
    pub fn reload(&self) -> Result<(), OpenError> {
        let store = self.checkout()?;
        let result = Loaded::read(&self.data_dir, &store);
        self.checkin(store);
        let (loaded, sources) = result?;
        tracing::info!(
            sources,
            geo_databases = loaded.geo.len(),
            "reloaded engine data"
        );
        *self
            .loaded
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(loaded);
        if self.keep_warm {
            self.warm_in_background();
        }
        Ok(())
    }

    /// Reloads like [`Engine::reload`] when a source was imported, replaced or removed since
    /// the last load, by this process or another one (`tiq import` or `tiq sync` beside a
    /// running server). Returns whether it reloaded.
    pub fn reload_if_changed(&self) -> Result<bool, OpenError> {
        let store = self.checkout()?;
        let current = store.sources().map(versions);
        self.checkin(store);
        let loaded = self
            .loaded
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if current? == loaded.sources {
            return Ok(false);
        }
        self.reload()?;
        Ok(true)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Parses `input` as an indicator of `kind` and returns its report.
    pub fn analyze(
        &self,
        kind: IndicatorKind,
        input: &str,
        lang: Lang,
    ) -> Result<Report, AnalyzeError> {
        let indicator = Indicator::parse_as(kind, input)?;
        self.analyze_indicator(input, &indicator, lang)
    }

    /// Returns the report for an already parsed indicator.
    pub fn analyze_indicator(
        &self,
        input: &str,
        indicator: &Indicator,
        lang: Lang,
    ) -> Result<Report, AnalyzeError> {
        let loaded = self
            .loaded
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let store = self.checkout()?;
        let result = self.collect(&store, &loaded, indicator);
        self.checkin(store);
        let (findings, knowledge) = result?;
        let today = time::OffsetDateTime::now_utc().date();
        Ok(score::build_report(
            input,
            indicator,
            findings,
            lang,
            &self.ageing,
            today,
            &knowledge,
        ))
    }

    /// Looks the indicator up, and links a hash to the C2 servers of its families.
    fn collect(
        &self,
        store: &Store,
        loaded: &Loaded,
        indicator: &Indicator,
    ) -> Result<(lookup::Findings, Arc<knowledge::Knowledge>), StoreError> {
        let mut findings =
            lookup::Findings::collect(store, &loaded.geo, &loaded.patterns, indicator)?;
        let names: Vec<String> = findings
            .sightings
            .iter()
            .filter_map(|m| m.sighting.family.clone())
            .collect();
        if names.is_empty() {
            return Ok((findings, empty_knowledge()));
        }
        let knowledge = loaded.knowledge(&self.data_dir).clone();
        if matches!(indicator, Indicator::Hash { .. }) {
            let families = loaded.families(&self.data_dir, store)?;
            findings.add_family_c2(&knowledge, families, &names);
        }
        Ok((findings, knowledge))
    }

    /// Describes an actor, malware family, campaign, ATT&CK technique or tactic, named by a
    /// name, an alias or an ATT&CK id, with the stored indicators that carry it. Rejects an
    /// empty name and one over [`knowledge::MAX_NAME_CHARS`] characters.
    pub fn describe_threat(
        &self,
        query: &str,
        lang: Lang,
    ) -> Result<ThreatDescription, DescribeError> {
        DescribeError::check(query)?;
        let loaded = self.loaded();
        let knowledge = loaded.knowledge(&self.data_dir).clone();
        let store = self.checkout()?;
        let families = loaded.families(&self.data_dir, &store).cloned();
        self.checkin(store);
        Ok(knowledge::describe(
            &knowledge,
            Some(&*families?),
            query,
            lang,
        ))
    }

    /// Searches the vulnerability index (`search_vul`): by CVE, CNVD or CNNVD id, product
    /// and version, or keywords, with filters and paging.
    pub fn search_vulnerabilities(
        &self,
        request: &vuln::VulnQuery,
        lang: Lang,
    ) -> Result<tiq_model::VulnSearch, vuln::SearchError> {
        let loaded = self.loaded();
        let store = self.checkout()?;
        let result = loaded
            .mentions(&self.data_dir, &store)
            .map_err(vuln::SearchError::from)
            .cloned()
            .and_then(|mentions| vuln::search(&store, request, &mentions, lang));
        self.checkin(store);
        result
    }

    fn loaded(&self) -> Arc<Loaded> {
        self.loaded
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Lists the imported sources.
    pub fn sources(&self) -> Result<Vec<tiq_store::SourceRow>, StoreError> {
        let store = self.checkout()?;
        let result = store.sources();
        self.checkin(store);
        result
    }

    fn checkout(&self) -> Result<Store, StoreError> {
        let pooled = self
            .readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        match pooled {
            Some(store) => Ok(store),
            // Every pooled connection is busy, so this request gets one of its own.
            None => Store::open(&self.data_dir),
        }
    }

    fn checkin(&self, store: Store) {
        let mut readers = self
            .readers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if readers.len() < READERS {
            readers.push(store);
        }
    }
}
