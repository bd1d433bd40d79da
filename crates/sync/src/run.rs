//! One sync of one feed: fetch, check, import, then swap the files in.
//!
//! Downloads go to a staging folder beside the feed's current files. Nothing is parsed when
//! every file is unchanged. Otherwise the staged files are checked against the formats the
//! catalog expects and imported, source by source, each in one transaction. Only when every
//! source took its new records do the staged files replace the current ones and the new
//! validators get stored. A failed download or a rejected file leaves the earlier records,
//! files and validators as they were, so the next sync tries again in full.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use tiq_engine::{FileStatus, ImportOptions};
use tiq_store::{Store, SyncRecord, Validators};

use crate::fetch::{Fetched, Fetcher};
use crate::settings::FeedSettings;

/// Folder of the data directory that contains each feed's current files.
pub const FEEDS_DIR: &str = "feeds";
/// Attempts at a feed's lock before a sync gives up on it.
const LOCK_ATTEMPTS: usize = 5;
/// Rejected lines listed per feed; all of them are counted.
pub const REJECTED_LINES_LISTED: usize = 100;

/// Outcome of syncing one feed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SyncStatus {
    /// The publisher had nothing new; nothing was parsed.
    Unchanged,
    /// New data replaced the feed's sources.
    Updated {
        records: u64,
        rejected: u64,
        sources: usize,
    },
    /// The earlier records are kept, and `error` gives the reason.
    Failed { error: String },
}

/// Result of syncing one feed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedOutcome {
    pub feed: String,
    #[serde(flatten)]
    pub status: SyncStatus,
    pub bytes: u64,
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
    /// The first rejected lines of the feed's files, whether or not they were applied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected_lines: Vec<RejectedLine>,
}

/// A line of a downloaded file that was rejected, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RejectedLine {
    /// Path of the file inside the feed's folder.
    pub file: String,
    pub line: u64,
    pub reason: String,
}

/// Figures a sync run gathers besides its status.
#[derive(Default)]
struct Tally {
    bytes: u64,
    rejected_lines: Vec<RejectedLine>,
}

fn millis<S: serde::Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(value.as_millis() as u64)
}

/// Options of one sync run.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Replace a source even when the new data has far fewer records than before.
    pub accept_shrink: bool,
    /// Download everything again, ignoring stored validators.
    pub force: bool,
}

/// Receives progress of a sync run. Every method has an empty default.
pub trait Progress: Send + Sync {
    fn started(&self, _feed: &str) {}
    fn bytes(&self, _feed: &str, _received: u64, _total: Option<u64>) {}
    fn importing(&self, _feed: &str) {}
    /// Records stored so far by the feed's import.
    fn records(&self, _feed: &str, _stored: u64) {}
    fn finished(&self, _outcome: &FeedOutcome) {}
}

/// Progress that goes nowhere.
pub struct Silent;
impl Progress for Silent {}

/// Syncs one feed into the store in `data_dir`.
pub fn sync_feed(
    data_dir: &Path,
    fetcher: &Fetcher,
    feed: &FeedSettings,
    options: &SyncOptions,
    progress: &dyn Progress,
) -> FeedOutcome {
    let started = Instant::now();
    progress.started(feed.name());
    let mut tally = Tally::default();
    let status = match run(data_dir, fetcher, feed, options, progress, &mut tally) {
        Ok(status) => status,
        Err(error) => SyncStatus::Failed { error },
    };
    let outcome = FeedOutcome {
        feed: feed.name().to_string(),
        status,
        bytes: tally.bytes,
        elapsed: started.elapsed(),
        rejected_lines: tally.rejected_lines,
    };
    match &outcome.status {
        SyncStatus::Failed { error } => {
            tracing::warn!(feed = feed.name(), %error, "sync failed")
        }
        SyncStatus::Unchanged => tracing::info!(feed = feed.name(), "feed unchanged"),
        SyncStatus::Updated {
            records, sources, ..
        } => tracing::info!(
            feed = feed.name(),
            records,
            sources,
            bytes = outcome.bytes,
            elapsed_ms = outcome.elapsed.as_millis() as u64,
            "feed updated"
        ),
    }
    progress.finished(&outcome);
    outcome
}

fn run(
    data_dir: &Path,
    fetcher: &Fetcher,
    feed: &FeedSettings,
    options: &SyncOptions,
    progress: &dyn Progress,
    tally: &mut Tally,
) -> Result<SyncStatus, String> {
    let name = feed.name();
    let mut store = Store::open(data_dir).map_err(|e| e.to_string())?;
    let feeds_dir = data_dir.join(FEEDS_DIR);
    std::fs::create_dir_all(&feeds_dir)
        .map_err(|e| format!("cannot create {}: {e}", feeds_dir.display()))?;
    let _lock = lock(&feeds_dir, name)?;

    let result = fetch_and_import(
        &mut store, &feeds_dir, fetcher, feed, options, progress, tally,
    );
    let record = match &result {
        Ok(Step::Unchanged) => SyncRecord::Unchanged,
        Ok(Step::Imported { records, as_of, .. }) => SyncRecord::Changed {
            records: *records,
            bytes: tally.bytes,
            data_as_of: as_of.map(rfc3339),
        },
        Err(error) => SyncRecord::Failed(error.clone()),
    };
    let validators = match &result {
        Ok(Step::Imported { validators, .. }) => validators.clone(),
        _ => Vec::new(),
    };
    store
        .record_sync(name, &record, &validators)
        .map_err(|e| e.to_string())?;
    result.map(|step| match step {
        Step::Unchanged => SyncStatus::Unchanged,
        Step::Imported {
            records,
            rejected,
            sources,
            ..
        } => SyncStatus::Updated {
            records,
            rejected,
            sources,
        },
    })
}

enum Step {
    Unchanged,
    Imported {
        records: u64,
        rejected: u64,
        sources: usize,
        as_of: Option<SystemTime>,
        validators: Vec<(String, Validators)>,
    },
}

fn fetch_and_import(
    store: &mut Store,
    feeds_dir: &Path,
    fetcher: &Fetcher,
    feed: &FeedSettings,
    options: &SyncOptions,
    progress: &dyn Progress,
    tally: &mut Tally,
) -> Result<Step, String> {
    let name = feed.name();
    let current = feeds_dir.join(name);
    let staging = feeds_dir.join(format!(".{name}.partial"));
    remove_dir(&staging)?;
    std::fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;
    let cleanup = RemoveOnDrop(staging.clone());

    let mut changed = false;
    let mut as_of: Option<SystemTime> = None;
    let mut validators = Vec::new();
    let mut unchanged = Vec::new();
    for (download, location) in feed.feed.downloads.iter().zip(&feed.locations) {
        let stored_as = stored_path(download.file);
        let known = if options.force || !current.join(&stored_as).exists() {
            Validators::default()
        } else {
            store
                .validators(name, location)
                .map_err(|e| e.to_string())?
        };
        let target = staging.join(download.file);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let fetched = fetcher
            .fetch(location, &known, &target, &|received, total| {
                progress.bytes(name, tally.bytes + received, total)
            })
            .map_err(|e| e.to_string())?;
        match fetched {
            Fetched::NotModified => {
                unchanged.push(stored_as);
                validators.push((location.clone(), known));
            }
            Fetched::Body {
                bytes: received,
                validators: found,
                modified,
            } => {
                changed = true;
                tally.bytes += received;
                if let Some(modified) = modified {
                    as_of = Some(as_of.map_or(modified, |t| t.max(modified)));
                }
                if download.file.ends_with(".zip") {
                    crate::archive::unpack(
                        &target,
                        &staging.join(&stored_as),
                        download.keep,
                        fetcher.max_bytes(),
                    )?;
                    std::fs::remove_file(&target)
                        .map_err(|e| format!("cannot remove {}: {e}", target.display()))?;
                }
                validators.push((location.clone(), found));
            }
        }
    }
    if !changed {
        return Ok(Step::Unchanged);
    }
    // The unchanged files join the new ones only now, so an unchanged feed costs no copy.
    for stored_as in unchanged {
        copy_tree(&current.join(&stored_as), &staging.join(&stored_as))?;
    }

    check_formats(feed, &staging)?;
    let previous_total = store.feed_records(name).map_err(|e| e.to_string())?;
    progress.importing(name);
    let stored = |records| progress.records(name, records);
    let summary = tiq_engine::import::import(
        store_dir(feeds_dir),
        std::slice::from_ref(&staging),
        &ImportOptions {
            accept_shrink: options.accept_shrink,
            progress: Some(&stored),
            feed: Some((name, feed.weight)),
        },
    )
    .map_err(|e| e.to_string())?;

    let mut sources: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    for file in &summary.files {
        let relative = file.path.strip_prefix(&staging).unwrap_or(&file.path);
        for (line, reason) in &file.rejected_lines {
            if tally.rejected_lines.len() < REJECTED_LINES_LISTED {
                tally.rejected_lines.push(RejectedLine {
                    file: relative.display().to_string(),
                    line: *line,
                    reason: reason.clone(),
                });
            }
        }
        match &file.status {
            FileStatus::Imported => {
                if let Some(source) = &file.source
                    && !sources.contains(source)
                {
                    sources.push(source.clone());
                }
            }
            FileStatus::Failed(reason) | FileStatus::Kept(reason) => {
                // Reasons may name the staged file; the folder is an internal detail.
                let reason = reason.replace(&format!("{}/", staging.display()), "");
                problems.push(format!("{}: {reason}", relative.display()));
            }
            FileStatus::Unsupported(_) => {}
        }
    }
    store
        .assign_feed(
            name,
            &sources,
            feed.weight,
            &feed
                .locations
                .iter()
                .map(|location| crate::fetch::redact(location))
                .collect::<Vec<_>>()
                .join(", "),
        )
        .map_err(|e| e.to_string())?;
    if !problems.is_empty() {
        let listed = problems.iter().take(3).cloned().collect::<Vec<_>>();
        let more = problems.len().saturating_sub(listed.len());
        let mut text = listed.join("; ");
        if more > 0 {
            text.push_str(&format!(" (and {more} more files not applied)"));
        }
        // Each source is replaced on its own, so the sources whose files were good already
        // have their new records, and the message names them.
        if !sources.is_empty() {
            let mut names = sources
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if sources.len() > 3 {
                names.push_str(", …");
            }
            text = format!(
                "partly applied: {} updated ({names}); not applied: {text}",
                sources.len()
            );
        }
        return Err(text);
    }
    if sources.is_empty() {
        return Err("the download held no file tiq could import".to_string());
    }
    // Each source passed its own shrink check; sources missing from the download (a renamed
    // folder in an archive) are checked here, before they are retired.
    let new_total = summary.records();
    let shrinks = (new_total as f64) < previous_total as f64 * tiq_engine::import::MIN_KEPT_SHARE;
    if shrinks && !options.accept_shrink {
        return Err(format!(
            "the feed would shrink from {previous_total} to {new_total} records because sources it \
             had are missing from the download; their earlier records are kept (pass \
             --accept-shrink to apply it)"
        ));
    }
    let retired = store
        .retire_feed_sources(name, &sources)
        .map_err(|e| e.to_string())?;
    if retired > 0 {
        tracing::info!(
            feed = name,
            retired,
            "removed sources the feed no longer publishes"
        );
    }

    swap_in(&staging, &current)?;
    drop(cleanup);
    let rejected = summary
        .files
        .iter()
        .filter(|f| f.status == FileStatus::Imported)
        .map(|f| f.rejected)
        .sum();
    Ok(Step::Imported {
        records: summary.records(),
        rejected,
        sources: sources.len(),
        as_of,
        validators,
    })
}

/// Returns the data directory that contains `feeds_dir`.
fn store_dir(feeds_dir: &Path) -> &Path {
    feeds_dir.parent().unwrap_or(feeds_dir)
}

/// Returns the path of a download inside the feed folder: the file itself, or for an archive, the
/// folder it unpacks to.
fn stored_path(file: &str) -> PathBuf {
    match file.strip_suffix(".zip") {
        Some(stem) => PathBuf::from(stem),
        None => PathBuf::from(file),
    }
}

/// Fails unless every staged file has one of the formats the catalog names for the feed.
/// Archives may hold other files (read-me files, rules, other formats): those are removed
/// before the import.
fn check_formats(feed: &FeedSettings, staging: &Path) -> Result<(), String> {
    let (files, errors) = tiq_feeds::walk_each(&[staging.to_path_buf()]);
    if let Some(error) = errors.first() {
        return Err(error.to_string());
    }
    let expected = feed.feed.formats.join(" or ");
    let mut matched = 0;
    for path in &files {
        let relative = path.strip_prefix(staging).unwrap_or(path);
        match tiq_feeds::inspect(path) {
            Ok(file) if feed.feed.formats.contains(&file.format.name()) => matched += 1,
            Ok(file) if !feed.feed.is_archive() => {
                return Err(format!(
                    "{}: expected {expected}, but the file is {}",
                    relative.display(),
                    file.format.name()
                ));
            }
            Err(unsupported) if !feed.feed.is_archive() => {
                return Err(format!(
                    "{}: expected {expected}, but the file is not usable: {}",
                    relative.display(),
                    unsupported.reason
                ));
            }
            _ => std::fs::remove_file(path)
                .map_err(|e| format!("cannot remove {}: {e}", path.display()))?,
        }
    }
    if matched == 0 {
        return Err(format!("the download held no {expected} file"));
    }
    Ok(())
}

/// Takes the per-feed lock, so two syncs of one feed (a server's and a command's) never
/// share a staging folder.
/// Returns whether a sync of feed `name` holds its lock in `data_dir` now.
pub(crate) fn is_syncing(data_dir: &Path, name: &str) -> bool {
    let path = data_dir.join(FEEDS_DIR).join(format!(".{name}.lock"));
    let Ok(file) = File::open(&path) else {
        return false;
    };
    matches!(
        file.try_lock_shared(),
        Err(std::fs::TryLockError::WouldBlock)
    )
}

fn lock(feeds_dir: &Path, name: &str) -> Result<File, String> {
    let path = feeds_dir.join(format!(".{name}.lock"));
    let file = File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    // `is_syncing` holds the lock for an instant, so a few short retries tell its probe
    // apart from a sync that is really running.
    for _ in 0..LOCK_ATTEMPTS {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => std::thread::sleep(Duration::from_millis(20)),
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!("cannot lock {}: {e}", path.display()));
            }
        }
    }
    Err("another sync of this feed is running; try again when it ends".to_string())
}

/// Replaces `current` with `staging`: the old folder is renamed aside first, so a crash
/// in between leaves one complete copy.
fn swap_in(staging: &Path, current: &Path) -> Result<(), String> {
    let old = current.with_extension("old");
    remove_dir(&old)?;
    if current.exists() {
        std::fs::rename(current, &old)
            .map_err(|e| format!("cannot move {} aside: {e}", current.display()))?;
    }
    std::fs::rename(staging, current)
        .map_err(|e| format!("cannot move {} into place: {e}", staging.display()))?;
    remove_dir(&old)
}

fn remove_dir(path: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
    }
}

/// Copies a file or a folder tree.
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot copy {}: {e}", from.display());
    if from.is_dir() {
        std::fs::create_dir_all(to).map_err(fail)?;
        for entry in std::fs::read_dir(from).map_err(fail)? {
            let entry = entry.map_err(fail)?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(fail)?;
        }
        std::fs::copy(from, to).map(|_| ()).map_err(fail)
    }
}

struct RemoveOnDrop(PathBuf);
impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn rfc3339(time: SystemTime) -> String {
    time::OffsetDateTime::from(time)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}
