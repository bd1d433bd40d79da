//! Import: files and directories into the store, one source at a time, never losing data.
//!
//! Files are inspected first (format from content, source from `tiq-feeds`), then grouped by
//! source: one feed spread over several files (ESET's `samples.md5`, `.sha1` and `.sha256`)
//! is replaced as a whole. Each group is written in one transaction, which is committed only
//! when every file parsed, at most [`MAX_REJECTED_SHARE`] of the lines were rejected, and
//! the source kept at least [`MIN_KEPT_SHARE`] of its earlier records. Otherwise the earlier
//! records stay as they were and the import table gives the reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tiq_feeds::{FeedFile, Format, Sink, SinkError};
use tiq_model::{AllowEntry, AsnRange, Sighting};
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
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Replace a source even when the new files hold far fewer records than before.
    pub accept_shrink: bool,
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
    let mut store = Store::open(data_dir)?;
    let mut outcomes = Vec::new();
    let mut groups: BTreeMap<String, Vec<FeedFile>> = BTreeMap::new();

    for path in expand(paths, &mut outcomes) {
        match tiq_feeds::inspect(&path) {
            Ok(file) => groups
                .entry(file.source.name.clone())
                .or_default()
                .push(file),
            Err(unsupported) => outcomes.push(FileOutcome {
                status: FileStatus::Unsupported(unsupported.reason.to_string()),
                ..FileOutcome::empty(path)
            }),
        }
    }
    for files in groups.values_mut() {
        // A plain list carries fewer details than the structured form of the same feed
        // (Spamhaus `drop.txt` beside `drop_v4.json`), and the first copy of a record is
        // the one stored, so structured files go first.
        files.sort_by_key(|file| (file.format == Format::IpList, file.path.clone()));
        let group = if files[0].format == Format::MaxMindDb {
            let mut group = import_mmdb(&mut store, data_dir, &files[0]);
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
        } else {
            import_group(&mut store, files, options)?
        };
        outcomes.extend(group);
    }

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

fn source_meta(file: &FeedFile, origin: String, copy: Option<String>) -> SourceMeta {
    SourceMeta {
        name: file.source.name.clone(),
        provider: file.source.provider.clone(),
        title: file.source.title.clone(),
        format: file.format.name().to_string(),
        reference: file.source.reference.clone(),
        origin,
        file: copy,
    }
}

/// Writes every file of one source in one transaction.
fn import_group(
    store: &mut Store,
    files: &[FeedFile],
    options: &ImportOptions,
) -> Result<Vec<FileOutcome>, StoreError> {
    let origin = files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut writer = store.begin_replace(&source_meta(&files[0], origin, None))?;
    let mut outcomes: Vec<FileOutcome> = Vec::new();
    let mut failure: Option<String> = None;

    for file in files {
        let mut outcome = FileOutcome::for_file(file);
        let before = writer.records();
        let mut sink = WriterSink {
            writer: &mut writer,
            rejected_lines: Vec::new(),
            rejected: 0,
        };
        let result = tiq_feeds::parse(file, &mut sink);
        outcome.rejected = sink.rejected;
        outcome.rejected_lines = sink.rejected_lines;
        outcome.records = writer.records() - before;
        match result {
            Ok(stats) => outcome.skipped = stats.skipped,
            Err(error) => {
                outcome.status = FileStatus::Failed(error.to_string());
                failure = Some(format!("{} failed", file.path.display()));
            }
        }
        outcomes.push(outcome);
    }

    let decision = failure.or_else(|| rejection_reason(&writer, &outcomes, options));
    match decision {
        Some(reason) => {
            drop(writer);
            tracing::warn!(source = %files[0].source.name, %reason, "did not replace the records of a source");
            for outcome in outcomes
                .iter_mut()
                .filter(|o| o.status == FileStatus::Imported)
            {
                outcome.status = FileStatus::Kept(reason.clone());
            }
        }
        None => {
            let rejected = outcomes.iter().map(|o| o.rejected).sum();
            writer.commit(rejected)?;
        }
    }
    Ok(outcomes)
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
    if lines > 0 && rejected as f64 / lines as f64 > MAX_REJECTED_SHARE {
        return Some(format!(
            "{rejected} of {lines} lines were rejected, over the limit of {:.0} %; earlier records kept",
            MAX_REJECTED_SHARE * 100.0
        ));
    }
    let previous = writer.previous_records().unwrap_or(0);
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
fn import_mmdb(store: &mut Store, data_dir: &Path, file: &FeedFile) -> Vec<FileOutcome> {
    let mut outcome = FileOutcome::for_file(file);
    if let Err(reason) = copy_mmdb(store, data_dir, file) {
        outcome.status = FileStatus::Failed(reason);
    }
    vec![outcome]
}

fn copy_mmdb(store: &mut Store, data_dir: &Path, file: &FeedFile) -> Result<(), String> {
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

    let meta = source_meta(file, file.path.display().to_string(), Some(relative));
    let writer = store.begin_replace(&meta).map_err(|e| e.to_string())?;
    writer.commit(0).map_err(|e| e.to_string())?;
    Ok(())
}

/// Feeds parsed records into an open source replacement.
struct WriterSink<'w, 'c> {
    writer: &'w mut SourceWriter<'c>,
    rejected_lines: Vec<(u64, String)>,
    rejected: u64,
}

impl Sink for WriterSink<'_, '_> {
    fn sighting(&mut self, sighting: Sighting) -> Result<(), SinkError> {
        Ok(self.writer.sighting(&sighting)?)
    }

    fn allow(&mut self, entry: AllowEntry) -> Result<(), SinkError> {
        Ok(self.writer.allow(&entry)?)
    }

    fn asn_range(&mut self, range: AsnRange) -> Result<(), SinkError> {
        Ok(self.writer.asn_range(&range)?)
    }

    fn reject(&mut self, line: u64, reason: String) {
        self.rejected += 1;
        if self.rejected_lines.len() < REJECTED_LINES_KEPT {
            self.rejected_lines.push((line, reason));
        }
    }
}
