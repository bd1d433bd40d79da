//! Expansion of files and folders into the list of files to inspect.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::FeedError;

/// Expands files and directories recursively into a sorted file list (skip dot-files).
///
/// Entries whose name starts with `.` are skipped inside directories; a path given directly is
/// kept whatever its name. Symbolic links are followed, and a directory reached twice is read
/// once, so a link loop ends. The first path or entry that does not exist or cannot be read
/// fails with [`FeedError::Io`] naming it; [`walk_each`] goes on past such entries instead.
pub fn walk(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FeedError> {
    let (files, mut errors) = walk_each(paths);
    match errors.is_empty() {
        true => Ok(files),
        false => Err(errors.remove(0)),
    }
}

/// Expands paths like [`walk`], but collects the entries that cannot be read (a dangling
/// link, a link that loops onto itself, a folder without permission) and goes on.
pub fn walk_each(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<FeedError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut visited = HashSet::new();
    for path in paths {
        collect(path, &mut files, &mut errors, &mut visited);
    }
    files.sort();
    files.dedup();
    (files, errors)
}

fn collect(
    path: &Path,
    files: &mut Vec<PathBuf>,
    errors: &mut Vec<FeedError>,
    visited: &mut HashSet<PathBuf>,
) {
    let metadata = match fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) => return errors.push(FeedError::io(path)(error)),
    };
    if metadata.is_file() {
        // A file named twice (directly and inside a folder, or through a link) counts once.
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if visited.insert(canonical) {
            files.push(path.to_path_buf());
        }
        return;
    }
    if !metadata.is_dir() {
        let reason = "not a regular file or folder (a pipe, socket or device): save the feed to a file first";
        return errors.push(FeedError::Malformed {
            path: path.to_path_buf(),
            line: None,
            reason: reason.to_string(),
        });
    }
    let canonical = match fs::canonicalize(path) {
        Ok(canonical) => canonical,
        Err(error) => return errors.push(FeedError::io(path)(error)),
    };
    if !visited.insert(canonical) {
        return;
    }
    let entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(error) => return errors.push(FeedError::io(path)(error)),
    };
    for entry in entries {
        match entry {
            Ok(entry) if entry.file_name().to_string_lossy().starts_with('.') => {}
            Ok(entry) => collect(&entry.path(), files, errors, visited),
            Err(error) => errors.push(FeedError::io(path)(error)),
        }
    }
}
