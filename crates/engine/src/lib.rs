//! Analysis and import: the only crate that talks to both the feed parsers and the store.
//!
//! - [`import`] walks files, detects their formats with `tiq-feeds` and replaces each
//!   source's records in the store, keeping earlier data when a file is bad.
//! - [`Engine`] serves the analysis tools: it looks an indicator up ([`lookup`]), weighs
//!   the evidence ([`score`]) and explains the verdict in English or Chinese ([`text`]).
//!
//! Every surface (MCP, REST, CLI) calls the same [`Engine::analyze`], so all of them return
//! the same report for the same data.

pub mod evaluate;
mod geo;
pub mod import;
mod ip_index;
mod loaded;
mod lookup;
mod scope;
pub mod score;
pub mod text;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use tiq_model::indicator::UrlHost;
use tiq_model::{Indicator, IndicatorKind, Lang, ParseError, Report};
use tiq_store::{ScanScope, Store, StoreError};

use loaded::Loaded;

pub use import::{FileOutcome, FileStatus, ImportOptions, ImportSummary};
pub use scope::{AddressScope, address_scope};
pub use tiq_store::{DB_FILE, SourceRow};

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
        let first = Store::open(data_dir)?;
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
        })
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
        let findings = match indicator {
            // Address lookups read memory only, so they take no connection from the pool.
            Indicator::Ip(ip) => lookup::Findings::for_ip(&lookups, *ip),
            _ => {
                let store = self.checkout()?;
                let result = lookup::Findings::collect(&store, &lookups, indicator);
                self.checkin(store);
                result?
            }
        };
        let today = time::OffsetDateTime::now_utc().date();
        Ok(score::build_report(
            input,
            indicator,
            findings,
            lang,
            &self.ageing,
            today,
        ))
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
