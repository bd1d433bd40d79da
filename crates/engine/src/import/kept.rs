//! Kept files: vulnerability and knowledge files checked entry by entry and copied whole
//! into `<data-dir>/files/<source>/`, where the search and knowledge features read them.
//!
//! The same rules as for streamed sources apply: a file that cannot be read through, more
//! than [`MAX_REJECTED_SHARE`] bad entries, or a shrink below [`MIN_KEPT_SHARE`] of the
//! earlier count leaves the earlier copy and its description as they were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tiq_feeds::FeedFile;
use tiq_store::{Store, StoreError};

use super::{
    FileOutcome, FileStatus, ImportOptions, MAX_REJECTED_SHARE, MIN_KEPT_SHARE, REJECTED_LINES_KEPT,
};

/// Folder of the data directory that contains kept files, one folder per source.
pub const FILES_DIR: &str = "files";

/// Checks and copies every file of one kept-file source.
pub(super) fn import_kept_group(
    store: &mut Store,
    data_dir: &Path,
    files: &[FeedFile],
    options: &ImportOptions,
) -> Result<Vec<FileOutcome>, StoreError> {
    let mut outcomes = Vec::new();
    let mut failed = false;
    for file in files {
        let mut outcome = FileOutcome::for_file(file);
        let mut lines = Vec::new();
        let mut rejected = 0u64;
        let result = tiq_feeds::validate(file, &mut |line, reason| {
            rejected += 1;
            if lines.len() < REJECTED_LINES_KEPT {
                lines.push((line, reason));
            }
        });
        outcome.rejected = rejected;
        outcome.rejected_lines = lines;
        match result {
            Ok(stats) => {
                outcome.records = stats.records;
                outcome.skipped = stats.skipped;
            }
            Err(error) => {
                outcome.status = FileStatus::Failed(error.to_string());
                failed = true;
            }
        }
        outcomes.push(outcome);
    }

    let name = &files[0].source.name;
    let (records, rejected) = entry_counts(&outcomes);
    let reason = if failed {
        Some("another file of this source failed; earlier copy kept".to_string())
    } else {
        let lines = records + rejected;
        let previous = store.source_records(name)?.unwrap_or(0);
        if lines > 0 && rejected as f64 / lines as f64 > MAX_REJECTED_SHARE {
            let kept = match previous {
                0 => "nothing stored",
                _ => "earlier copy kept",
            };
            Some(format!(
                "{rejected} of {lines} entries were rejected, over the limit of {:.0} %; {kept}",
                MAX_REJECTED_SHARE * 100.0
            ))
        } else if !options.accept_shrink
            && previous > 0
            && (records as f64) < previous as f64 * MIN_KEPT_SHARE
        {
            Some(format!(
                "the source would shrink from {previous} to {records} entries; earlier copy kept \
                 (pass --accept-shrink to replace it anyway)"
            ))
        } else {
            None
        }
    };
    if let Some(reason) = reason {
        tracing::warn!(source = %name, %reason, "did not replace a kept-file source");
        for outcome in outcomes
            .iter_mut()
            .filter(|o| o.status == FileStatus::Imported)
        {
            outcome.status = FileStatus::Kept(reason.clone());
        }
        return Ok(outcomes);
    }

    let relative = format!("{FILES_DIR}/{}", folder_name(name));
    if let Err(reason) = copy_group(data_dir, &relative, files) {
        for outcome in &mut outcomes {
            outcome.status = FileStatus::Failed(reason.clone());
        }
        return Ok(outcomes);
    }
    let origin = files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let meta = super::source_meta(&files[0], origin, Some(relative), options);
    store.replace_kept_source(&meta, records, rejected)?;
    Ok(outcomes)
}

/// Returns the entries and rejections of a source. Files of one format add up (one CVE record
/// per file). Files of different formats are copies of one list (the CISA KEV catalog as
/// JSON and as CSV), so the format with the most entries gives the counts.
fn entry_counts(outcomes: &[FileOutcome]) -> (u64, u64) {
    let mut by_format: BTreeMap<Option<&str>, (u64, u64)> = BTreeMap::new();
    for outcome in outcomes {
        let counts = by_format.entry(outcome.format.as_deref()).or_default();
        counts.0 += outcome.records;
        counts.1 += outcome.rejected;
    }
    by_format
        .into_values()
        .max_by_key(|(records, _)| *records)
        .unwrap_or_default()
}

/// Returns a source name as one folder name: `cve-json5/records` becomes `cve-json5_records`.
fn folder_name(source: &str) -> String {
    source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Copies the files into a staging folder, then swaps it in for the earlier copy.
fn copy_group(data_dir: &Path, relative: &str, files: &[FeedFile]) -> Result<(), String> {
    let target = data_dir.join(relative);
    let staging = data_dir.join(format!("{relative}.partial"));
    let old = data_dir.join(format!("{relative}.old"));
    let fail = |path: &Path, e: std::io::Error| format!("cannot copy into {}: {e}", path.display());
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).map_err(|e| fail(&staging, e))?;
    let mut used = std::collections::HashSet::new();
    for (index, file) in files.iter().enumerate() {
        let base = file
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("file-{index}"));
        // Two files with one name from different folders stay apart.
        let name = if used.insert(base.clone()) {
            base
        } else {
            format!("{index}-{base}")
        };
        let to: PathBuf = staging.join(&name);
        std::fs::copy(&file.path, &to).map_err(|e| fail(&to, e))?;
    }
    let _ = std::fs::remove_dir_all(&old);
    if target.exists() {
        std::fs::rename(&target, &old).map_err(|e| fail(&target, e))?;
    }
    std::fs::rename(&staging, &target).map_err(|e| fail(&target, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}
