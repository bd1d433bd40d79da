//! Analysis and import: the only crate that talks to both the feed parsers and the store.
//!
//! - [`import`] walks files, detects their formats with `tiq-feeds` and replaces each
//!   source's records in the store, keeping earlier data when a file is bad.
//! - [`Engine`] serves the analysis tools: it looks an indicator up ([`lookup`]), weighs
//!   the evidence ([`score`]) and explains the verdict in English or Chinese ([`text`]).
//! - [`knowledge`] merges MITRE ATT&CK and the MISP galaxies into one index of actors,
//!   families, campaigns and techniques (`describe_threat`).
//! - [`batch`] analyses up to 1,000 indicators of mixed types in one call.
//! - [`vuln`] builds the vulnerability index and runs `search_vul`; [`vuln::version`]
//!   decides whether a product version is affected by a CVE record.
//!
//! Every surface (MCP, REST, CLI) calls the same [`Engine::analyze`], so all of them return
//! the same report for the same data.

pub mod batch;
pub mod blocklist;
pub mod evaluate;
mod geo;
pub mod import;
mod ip_index;
pub mod knowledge;
mod loaded;
mod lookup;
mod memo;
pub mod scan;
mod scope;
pub mod score;
pub mod text;
pub mod vuln;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use tiq_model::indicator::UrlHost;
use tiq_model::{Indicator, IndicatorKind, Lang, ParseError, Report, ThreatDescription};
use tiq_store::{ScanScope, Store, StoreError};

use loaded::Loaded;

pub use import::{FileOutcome, FileStatus, ImportOptions, ImportSummary};
pub use knowledge::DescribeError;
pub use scope::{AddressScope, address_scope};
pub use tiq_store::{DB_FILE, SourceRow};

/// Returns the empty knowledge index that a report without family names uses.
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

/// When the engine builds its in-memory IP index. Reports are the same either way: without
/// the whole index, an IP lookup builds an index of the rows that can match its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IpIndexing {
    /// Build the whole index on a background thread at open, and again inside every
    /// reload. IP lookups made before the first build ends read their rows from the store.
    #[default]
    Background,
    /// Never build the whole index. Suits a process that serves one query, for which the
    /// build (about a second for a store of 1.6 million records) would cost more than it saves.
    Off,
}

/// The analysis engine over one data directory. Cheap to share behind an `Arc`.
pub struct Engine {
    readers: Mutex<Vec<Store>>,
    data_dir: PathBuf,
    loaded: RwLock<Arc<Loaded>>,
    ageing: score::Ageing,
    ip_indexing: IpIndexing,
    /// Whether data read on first use is read in the background after each load.
    keep_warm: bool,
}

impl Engine {
    /// Opens the store in `data_dir` (creating an empty one when missing), loads the
    /// geolocation databases and pattern allow-lists into memory, and starts building the
    /// IP index in the background.
    pub fn open(data_dir: &Path) -> Result<Engine, OpenError> {
        Engine::open_with(data_dir, IpIndexing::Background)
    }

    /// Opens the engine like [`Engine::open`], building the IP index as `ip_indexing` sets.
    pub fn open_with(data_dir: &Path, ip_indexing: IpIndexing) -> Result<Engine, OpenError> {
        let mut first = Store::open(data_dir)?;
        // A store imported by an older build has no vulnerability index yet.
        if let Err(error) = vuln::ensure_index(&mut first, data_dir) {
            tracing::warn!(%error, "failed to build the vulnerability index; search_vul uses the previous one");
        }
        let (loaded, sources) = Loaded::read(data_dir, &first)?;
        let loaded = Arc::new(loaded);
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
        if ip_indexing == IpIndexing::Background {
            loaded::build_in_background(data_dir, loaded.clone());
        }
        Ok(Engine {
            readers: Mutex::new(readers),
            data_dir: data_dir.to_path_buf(),
            loaded: RwLock::new(loaded),
            ageing: score::Ageing::default(),
            ip_indexing,
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

    /// Waits until the current IP index is built, and returns whether it is: `false` when
    /// the build failed or [`IpIndexing::Off`] keeps it from being built.
    pub fn wait_for_ip_index(&self) -> bool {
        if self.ip_indexing == IpIndexing::Off {
            return false;
        }
        self.loaded().ip_index.wait().is_some()
    }

    /// Returns whether an analysis of `kind` reads memory only, so it can run on an async
    /// thread. It does for addresses once the IP index is built.
    pub fn analyzes_in_memory(&self, kind: IndicatorKind) -> bool {
        kind == IndicatorKind::Ip && matches!(self.loaded().ip_index.get(), Some(Some(_)))
    }

    /// Reads the geolocation databases, pattern allow-lists and IP index again, after an
    /// import or a sync changed them. Analyses running meanwhile finish with the earlier copy.
    pub fn reload(&self) -> Result<(), OpenError> {
        let store = self.checkout()?;
        let result = Loaded::read(&self.data_dir, &store);
        if let (Ok((loaded, _)), IpIndexing::Background) = (&result, self.ip_indexing) {
            loaded.build_ip_index(&store);
        }
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

    /// Reloads like [`Engine::reload`] when a source was imported, replaced, reweighted or
    /// removed since the last load, by this process or another one (`tiq import` or
    /// `tiq sync` beside a running server). Returns whether it reloaded.
    pub fn reload_if_changed(&self) -> Result<bool, OpenError> {
        let store = self.checkout()?;
        let current = store.sources().map(loaded::versions);
        self.checkin(store);
        if current? == self.loaded().sources {
            return Ok(false);
        }
        self.reload()?;
        Ok(true)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Parses `input` as an indicator of `kind` and returns its report. A request repeated on
    /// the same day returns the memo's copy until the data changes and the engine reloads.
    pub fn analyze(
        &self,
        kind: IndicatorKind,
        input: &str,
        lang: Lang,
    ) -> Result<Report, AnalyzeError> {
        let loaded = self.loaded();
        let today = time::OffsetDateTime::now_utc().date();
        let question = memo::Question::new(kind, lang, input);
        if let Some(report) = question
            .as_ref()
            .and_then(|question| loaded.reports.get(question, today))
        {
            return Ok(report);
        }
        let indicator = Indicator::parse_as(kind, input)?;
        let report = self.analyze_indicator(input, &indicator, lang)?;
        // A report made just after midnight has aged one day more than `today` implies.
        let same_day = time::OffsetDateTime::now_utc().date() == today;
        if let Some(question) = question.filter(|_| same_day) {
            loaded.reports.offer(&question, today, &report);
        }
        Ok(report)
    }

    /// Returns the report for an already parsed indicator.
    pub fn analyze_indicator(
        &self,
        input: &str,
        indicator: &Indicator,
        lang: Lang,
    ) -> Result<Report, AnalyzeError> {
        let loaded = self.loaded();
        let address_index;
        let index = match (loaded.ip_index.get(), indicator_address(indicator)) {
            (Some(Some(index)), _) => index,
            (_, Some(ip)) => {
                address_index = self.address_index(ip)?;
                &address_index
            }
            (_, None) => {
                address_index = ip_index::IpIndex::default();
                &address_index
            }
        };
        let lookups = lookup::Lookups {
            index,
            geo: &loaded.geo,
            patterns: &loaded.patterns,
            sources_total: loaded.sources.len() as u64,
            latest_import: loaded.latest_import.clone(),
        };
        let mut findings = match indicator {
            // Address lookups read memory only, so they take no connection from the pool.
            Indicator::Ip(ip) => lookup::Findings::for_ip(&lookups, *ip),
            _ => {
                let store = self.checkout()?;
                let result = lookup::Findings::collect(&store, &lookups, indicator);
                self.checkin(store);
                result?
            }
        };
        if matches!(indicator, Indicator::Ip(_)) && findings.in_misp_event() {
            let store = self.checkout()?;
            let result = findings.add_reported_together(&store, &indicator.value());
            self.checkin(store);
            result?;
        }
        let knowledge = self.link_families(&loaded, indicator, &mut findings)?;
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

    /// Returns the knowledge index when the findings name a family or actor (an empty one
    /// otherwise, so most reports never read it), and links a hash to the C2 servers of its
    /// families.
    fn link_families(
        &self,
        loaded: &Loaded,
        indicator: &Indicator,
        findings: &mut lookup::Findings,
    ) -> Result<Arc<knowledge::Knowledge>, StoreError> {
        let names: Vec<String> = findings
            .sightings
            .iter()
            .filter_map(|m| m.sighting.family.clone())
            .collect();
        if names.is_empty() {
            return Ok(empty_knowledge());
        }
        let knowledge = loaded.knowledge(&self.data_dir).clone();
        if matches!(indicator, Indicator::Hash { .. }) {
            let store = self.checkout()?;
            let families = loaded.families(&self.data_dir, &store).cloned();
            self.checkin(store);
            findings.add_family_c2(&knowledge, &*families?, &names);
        }
        Ok(knowledge)
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

    /// Builds an IP index of the rows that can match `ip`, for a lookup made while the
    /// whole index is not there.
    fn address_index(&self, ip: IpAddr) -> Result<ip_index::IpIndex, StoreError> {
        let store = self.checkout()?;
        let result = ip_index::IpIndex::build(&store, ScanScope::Address(ip));
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

/// Returns the address an analysis of `indicator` looks up: the IP itself, or a URL's host.
fn indicator_address(indicator: &Indicator) -> Option<IpAddr> {
    match indicator {
        Indicator::Ip(ip) => Some(*ip),
        Indicator::Url(url) => match url.host {
            UrlHost::Ip(ip) => Some(ip),
            UrlHost::Domain(_) => None,
        },
        _ => None,
    }
}
