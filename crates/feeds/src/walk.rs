//! Expansion of files and folders into the list of files to inspect.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::FeedError;

/// Expands files and directories recursively into a sorted file list (skip dot-files).
///
/// Entries whose name starts with `.` are skipped inside directories; a path given directly is
/// kept whatever its name. Symbolic links are followed, and a directory reached twice is read
/// once, so a link loop ends. A path that does not exist or cannot be read fails with
/// [`FeedError::Io`] naming it.
pub fn walk(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FeedError> {
    let mut files = Vec::new();
    let mut visited = HashSet::new();
    for path in paths {
        collect(path, &mut files, &mut visited)?;
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn collect(
    path: &Path,
    files: &mut Vec<PathBuf>,
    visited: &mut HashSet<PathBuf>,
) -> Result<(), FeedError> {
    let metadata = fs::metadata(path).map_err(FeedError::io(path))?;
    if metadata.is_file() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    if !metadata.is_dir() {
        return Ok(());
    }
    let canonical = fs::canonicalize(path).map_err(FeedError::io(path))?;
    if !visited.insert(canonical) {
        return Ok(());
    }
    for entry in fs::read_dir(path).map_err(FeedError::io(path))? {
        let entry = entry.map_err(FeedError::io(path))?;
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        collect(&entry.path(), files, visited)?;
    }
    Ok(())
}
