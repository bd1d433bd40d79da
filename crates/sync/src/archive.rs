//! Zip archives, as code hosts serve whole repositories.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// Unpacks the files of `archive` under the folders in `keep` (all files when empty) into
/// `dest`. A single top folder shared by every member, as in repository archives, is
/// dropped. Unpacking stops with an error past `max_bytes` in total.
pub fn unpack(archive: &Path, dest: &Path, keep: &[&str], max_bytes: u64) -> Result<(), String> {
    // The archive sits in a staging folder, an internal detail: errors name the file only.
    let file_name = archive
        .file_name()
        .unwrap_or(archive.as_os_str())
        .to_owned();
    let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", Path::new(&file_name).display());
    let file = File::open(archive).map_err(|e| fail(&e))?;
    let mut zip =
        zip::ZipArchive::new(file).map_err(|e| fail(&format!("not a usable zip archive: {e}")))?;

    let names: Vec<Option<PathBuf>> = (0..zip.len())
        .map(|i| zip.by_index_raw(i).ok().and_then(|m| m.enclosed_name()))
        .collect();
    let dirs: Vec<bool> = (0..zip.len())
        .map(|i| zip.by_index_raw(i).is_ok_and(|m| m.is_dir()))
        .collect();
    let top = shared_top(&names, &dirs);
    let keep: Vec<PathBuf> = keep.iter().map(PathBuf::from).collect();

    let mut total = 0u64;
    let mut kept = 0usize;
    for (index, name) in names.iter().enumerate() {
        let Some(name) = name else {
            let raw = zip
                .by_index_raw(index)
                .ok()
                .and_then(|member| member.name().ok().map(|name| name.to_string()))
                .unwrap_or_default();
            return Err(fail(&format!(
                "member {raw:?} has an unsafe path (absolute or with ..); the archive is refused"
            )));
        };
        let relative = match &top {
            Some(top) => name.strip_prefix(top).unwrap_or(name).to_path_buf(),
            None => name.clone(),
        };
        if !keep.is_empty() && !keep.iter().any(|k| relative.starts_with(k)) {
            continue;
        }
        let mut member = zip.by_index(index).map_err(|e| fail(&e))?;
        if member.is_dir() || relative.as_os_str().is_empty() {
            continue;
        }
        let target = dest.join(&relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| fail(&e))?;
        }
        let mut out = File::create(&target).map_err(|e| fail(&e))?;
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = member
                .read(&mut buffer)
                .map_err(|e| fail(&format!("{}: {e}", relative.display())))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > max_bytes {
                return Err(fail(&format!(
                    "unpacks to more than the limit of {max_bytes} bytes; raise sync.max_download_mb to allow it"
                )));
            }
            out.write_all(&buffer[..n]).map_err(|e| fail(&e))?;
        }
        kept += 1;
    }
    if kept == 0 {
        let wanted = if keep.is_empty() {
            "any file".to_string()
        } else {
            format!(
                "a file under {}",
                keep.iter()
                    .map(|k| k.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        return Err(fail(&format!("the archive holds no {wanted}")));
    }
    Ok(())
}

/// Returns the first path component every member shares, if there is exactly one.
fn shared_top(names: &[Option<PathBuf>], dirs: &[bool]) -> Option<PathBuf> {
    let mut top: Option<PathBuf> = None;
    for (name, is_dir) in names.iter().zip(dirs) {
        let Some(name) = name else { continue };
        let first = match name.components().next() {
            Some(Component::Normal(first)) => PathBuf::from(first),
            _ => return None,
        };
        // A file at the top level, such as README.md, means there is no shared folder.
        if name.components().count() == 1 && !is_dir {
            return None;
        }
        match &top {
            None => top = Some(first),
            Some(seen) if *seen == first => {}
            Some(_) => return None,
        }
    }
    top
}
