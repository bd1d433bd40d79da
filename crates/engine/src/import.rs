//! Import: files and directories into the store, one source at a time, never losing data.
//!
//! Files are inspected first (format from content, source from `tiq-feeds`), then grouped by
//! source: one feed spread over several files (ESET's `samples.md5`, `.sha1` and `.sha256`)
//! is replaced as a whole. Each group is written in one transaction, which is committed only
//! when every file parsed, at most [`MAX_REJECTED_SHARE`] of the lines were rejected, and
//! the source kept at least [`MIN_KEPT_SHARE`] of its earlier records. Otherwise the earlier
//! records stay as they were and the import table gives the reason.

mod checkpoint;
mod kept;
mod pipeline;

use std::collections::BTreeMap;
use std::num::NonZero;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use tiq_feeds::{FeedFile, Format, Unsupported};
use tiq_store::{SourceMeta, SourceWriter, Store, StoreError};

/// Largest share of rejected lines a source may have and still replace its earlier records.
pub const MAX_REJECTED_SHARE: f64 = 0.10;
/// Smallest share of its earlier record count a source must keep, unless shrinking is accepted.
pub const MIN_KEPT_SHARE: f64 = 0.10;
/// Rejected lines kept per file for the report; all of them are counted.
pub const REJECTED_LINES_KEPT: usize = 1000;
/// Folder of the data directory that contains copies of MaxMind DB files.
const GEO_DIR: &str = "geo";

/// Options of an import run.
#[derive(Clone, Copy, Default)]
pub struct ImportOptions<'a> {
    /// Replace a source even when the new files hold far fewer records than before.
    pub accept_shrink: bool,
    /// Called after each batch of rows is written, with the run's stored records so far
    /// (including those of a source that is later kept back).
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
    /// Catalog feed the files were synced as, and its weight, stored with each source in
    /// the same transaction as its records.
    pub feed: Option<(&'a str, f64)>,
}

impl std::fmt::Debug for ImportOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("accept_shrink", &self.accept_shrink)
            .field("progress", &self.progress.is_some())
            .field("feed", &self.feed)
            .finish()
    }
}

/// Outcome of importing one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    Imported,
    /// The format is not one tiq reads. The reason names the format the file resembles.
    Unsupported(String),
    /// The file could not be read or parsed; earlier records of its source are kept.
    Failed(String),
    /// The file parsed but was not applied; earlier records of its source are kept.
    Kept(String),
}

/// Result of importing one file.
#[derive(Debug, Clone)]
pub struct FileOutcome {
    pub path: PathBuf,
    pub format: Option<String>,
    pub source: Option<String>,
    pub records: u64,
    pub rejected: u64,
    /// Well-formed entries tiq has no lookup for (path-only trails, SHA-512 hashes).
    pub skipped: u64,
    /// The first rejected lines, as (line number, reason).
    pub rejected_lines: Vec<(u64, String)>,
    pub status: FileStatus,
}

/// Result of an import run.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    pub files: Vec<FileOutcome>,
    pub elapsed: Duration,
}

impl ImportSummary {
    /// Records stored by the files that were imported.
    pub fn records(&self) -> u64 {
        self.files
            .iter()
            .filter(|f| f.status == FileStatus::Imported)
            .map(|f| f.records)
            .sum()
    }

    /// Number of files with the given kind of status.
    pub fn count(&self, predicate: impl Fn(&FileStatus) -> bool) -> usize {
        self.files.iter().filter(|f| predicate(&f.status)).count()
    }
}

/// Fatal errors of an import run; problems with single files are reported per file instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no files to import: {0}")]
    NoPaths(String),
}

/// Imports every file under `paths` into the store in `data_dir`.
pub fn import(
    data_dir: &Path,
    paths: &[PathBuf],
    options: &ImportOptions,
) -> Result<ImportSummary, ImportError> {
    if paths.is_empty() {
        return Err(ImportError::NoPaths(
            "give at least one file or directory".to_string(),
        ));
    }
    let started = Instant::now();
    let mut store = Store::open_for_import(data_dir)?;
    let mut outcomes = Vec::new();
    let groups = inspect_groups(paths, &mut outcomes);
    outcomes.extend(pipeline::run(&mut store, data_dir, &groups, options)?);
    crate::vuln::ensure_index(&mut store, data_dir)?;
    // Closing the last connection copies what is left in the WAL into the database file,
    // which is part of the import's time.
    drop(store);

    outcomes.sort_by(|a, b| a.path.cmp(&b.path));
    let summary = ImportSummary {
        files: outcomes,
        elapsed: started.elapsed(),
    };
    tracing::info!(
        files = summary.files.len(),
        imported = summary.count(|s| *s == FileStatus::Imported),
        records = summary.records(),
        elapsed_ms = summary.elapsed.as_millis() as u64,
        "import finished"
    );
    Ok(summary)
}

/// Inspects every file under `paths` and groups the importable ones by source, in source
/// name order; files that cannot be imported are reported in `outcomes`.
fn inspect_groups(paths: &[PathBuf], outcomes: &mut Vec<FileOutcome>) -> Vec<Vec<FeedFile>> {
    let mut groups: BTreeMap<String, Vec<FeedFile>> = BTreeMap::new();
    for inspected in inspect_all(&expand(paths, outcomes)) {
        match inspected {
            Ok(file) => groups
                .entry(file.source.name.clone())
                .or_default()
                .push(file),
            Err(unsupported) => outcomes.push(FileOutcome {
                status: FileStatus::Unsupported(unsupported.reason.to_string()),
                ..FileOutcome::empty(unsupported.path)
            }),
        }
    }
    let mut groups: Vec<Vec<FeedFile>> = groups.into_values().collect();
    for files in &mut groups {
        // A plain list carries fewer details than the structured form of the same feed
        // (Spamhaus `drop.txt` beside `drop_v4.json`), and the first copy of a record is
        // the one stored, so structured files go first.
        files.sort_by_key(|file| (file.format == Format::IpList, file.path.clone()));
    }
    groups
}

/// Inspects the files on as many threads as there are cores, because detection reads each
/// JSON document through. Returns the results in the order of `paths`.
fn inspect_all(paths: &[PathBuf]) -> Vec<Result<FeedFile, Unsupported>> {
    let next = AtomicUsize::new(0);
    let inspect_next = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = paths.get(index) else {
                return done;
            };
            done.push((index, tiq_feeds::inspect(path)));
        }
    };
    let threads = thread::available_parallelism().map_or(1, NonZero::get);
    let mut results = thread::scope(|scope| {
        let helpers: Vec<_> = (1..threads).map(|_| scope.spawn(inspect_next)).collect();
        let mut results = inspect_next();
        for helper in helpers {
            match helper.join() {
                Ok(done) => results.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    });
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

/// Returns whether a group's files are copied whole rather than parsed: MaxMind DB files
/// and the vulnerability and knowledge files ([`Format::is_kept_file`]).
fn is_copied_group(files: &[FeedFile]) -> bool {
    files[0].format.is_kept_file()
}

/// Checks and copies a group of files kept whole.
fn import_copied_group(
    store: &mut Store,
    data_dir: &Path,
    files: &[FeedFile],
    options: &ImportOptions,
) -> Result<Vec<FileOutcome>, StoreError> {
    if files[0].format == Format::MaxMindDb {
        Ok(import_mmdb_group(store, data_dir, files, options))
    } else {
        kept::import_kept_group(store, data_dir, files, options)
    }
}

/// Copies the first MaxMind DB file of a group; the others share its source name and fail.
fn import_mmdb_group(
    store: &mut Store,
    data_dir: &Path,
    files: &[FeedFile],
    options: &ImportOptions,
) -> Vec<FileOutcome> {
    let mut group = import_mmdb(store, data_dir, &files[0], options);
    for extra in &files[1..] {
        let reason = format!(
            "{} is also named {}: rename one of the two MaxMind DB files",
            files[0].path.display(),
            extra.source.name
        );
        group.push(FileOutcome {
            status: FileStatus::Failed(reason),
            ..FileOutcome::for_file(extra)
        });
    }
    group
}

/// Expands the paths; each path or entry that cannot be read is reported and the rest go on.
fn expand(paths: &[PathBuf], outcomes: &mut Vec<FileOutcome>) -> Vec<PathBuf> {
    let (files, errors) = tiq_feeds::walk_each(paths);
    for error in errors {
        let path = match &error {
            tiq_feeds::FeedError::Io { path, .. }
            | tiq_feeds::FeedError::Malformed { path, .. } => path.clone(),
            _ => PathBuf::new(),
        };
        outcomes.push(FileOutcome {
            status: FileStatus::Failed(error.to_string()),
            ..FileOutcome::empty(path)
        });
    }
    files
}

impl FileOutcome {
    fn empty(path: PathBuf) -> FileOutcome {
        FileOutcome {
            path,
            format: None,
            source: None,
            records: 0,
            rejected: 0,
            skipped: 0,
            rejected_lines: Vec::new(),
            status: FileStatus::Imported,
        }
    }

    fn for_file(file: &FeedFile) -> FileOutcome {
        FileOutcome {
            format: Some(file.format.name().to_string()),
            source: Some(file.source.name.clone()),
            ..FileOutcome::empty(file.path.clone())
        }
    }
}

fn source_meta(
    file: &FeedFile,
    origin: String,
    copy: Option<String>,
    options: &ImportOptions,
) -> SourceMeta {
    SourceMeta {
        name: file.source.name.clone(),
        provider: file.source.provider.clone(),
        title: file.source.title.clone(),
        format: file.format.name().to_string(),
        reference: file.source.reference.clone(),
        origin,
        file: copy,
        feed: options
            .feed
            .map(|(feed, weight)| (feed.to_string(), weight)),
    }
}

/// Returns the reason a fully parsed source must not replace its earlier records, or `None`.
fn rejection_reason(
    writer: &SourceWriter<'_>,
    outcomes: &[FileOutcome],
    options: &ImportOptions,
) -> Option<String> {
    let records = writer.records();
    let rejected: u64 = outcomes.iter().map(|o| o.rejected).sum();
    let lines = records + rejected;
    let previous = writer.previous_records().unwrap_or(0);
    if lines > 0 && rejected as f64 / lines as f64 > MAX_REJECTED_SHARE {
        let kept = match previous {
            0 => "nothing stored",
            _ => "earlier records kept",
        };
        return Some(format!(
            "{rejected} of {lines} lines were rejected, over the limit of {:.0} %; {kept}",
            MAX_REJECTED_SHARE * 100.0
        ));
    }
    if !options.accept_shrink && previous > 0 && (records as f64) < previous as f64 * MIN_KEPT_SHARE
    {
        return Some(format!(
            "the source would shrink from {previous} to {records} records; earlier records kept \
             (pass --accept-shrink to replace them anyway)"
        ));
    }
    None
}

/// Copies a MaxMind DB file into the data directory and records it as a source. Its
/// networks stay in the file, so the source counts no records in the database.
fn import_mmdb(
    store: &mut Store,
    data_dir: &Path,
    file: &FeedFile,
    options: &ImportOptions,
) -> Vec<FileOutcome> {
    let mut outcome = FileOutcome::for_file(file);
    if let Err(reason) = copy_mmdb(store, data_dir, file, options) {
        outcome.status = FileStatus::Failed(reason);
    }
    vec![outcome]
}

fn copy_mmdb(
    store: &mut Store,
    data_dir: &Path,
    file: &FeedFile,
    options: &ImportOptions,
) -> Result<(), String> {
    tiq_feeds::mmdb_info(&file.path).map_err(|e| e.to_string())?;
    let file_name: String = file
        .source
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let relative = format!("{GEO_DIR}/{file_name}.mmdb");
    let target = data_dir.join(&relative);
    let partial = data_dir.join(format!("{relative}.partial"));

    let copy = || -> std::io::Result<()> {
        std::fs::create_dir_all(data_dir.join(GEO_DIR))?;
        std::fs::copy(&file.path, &partial)?;
        std::fs::rename(&partial, &target)
    };
    copy().map_err(|e| format!("cannot copy into {}: {e}", target.display()))?;

    let meta = source_meta(
        file,
        file.path.display().to_string(),
        Some(relative),
        options,
    );
    let writer = store.begin_replace(&meta).map_err(|e| e.to_string())?;
    writer.commit(0).map_err(|e| e.to_string())?;
    Ok(())
}
