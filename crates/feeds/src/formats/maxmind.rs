//! MaxMind DB files (`.mmdb`), such as the ip-location-db country databases.
//!
//! Format: the binary MaxMind DB format, version 2: a search tree, a data section, and a metadata
//! map at the end of the file, after the last occurrence of the marker `\xAB\xCD\xEFMaxMind.com`. The importer
//! copies the file and looks addresses up in it, so nothing is streamed; [`mmdb_info`] reads the
//! metadata. Source `geo/<file stem>`, with the file stem as provider because each database is
//! built from its own data.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::FeedError;
use crate::formats::file_stem;
use crate::source::SourceInfo;

/// Marker that starts the metadata section.
const METADATA_MARKER: &[u8] = b"\xAB\xCD\xEFMaxMind.com";

/// Bytes at the end of a file searched for the metadata marker. The bound is this crate's
/// choice: the metadata of the ip-location-db databases takes under 200 bytes.
const METADATA_SEARCH_BYTES: u64 = 128 * 1024;

/// Metadata of a MaxMind DB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmdbInfo {
    /// Database type the producer wrote, such as `country` or `GeoLite2-City`.
    pub database_type: String,
    /// 4 for an IPv4-only tree, 6 for a tree that contains IPv6 (and IPv4) addresses.
    pub ip_version: u16,
    pub node_count: u32,
    /// Build time in seconds since the Unix epoch.
    pub build_epoch: u64,
}

/// Returns whether the metadata marker is in the last [`METADATA_SEARCH_BYTES`] of the file.
pub(crate) fn has_metadata_marker(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let length = file.metadata()?.len();
    let start = length.saturating_sub(METADATA_SEARCH_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    file.take(METADATA_SEARCH_BYTES).read_to_end(&mut tail)?;
    Ok(tail
        .windows(METADATA_MARKER.len())
        .any(|window| window == METADATA_MARKER))
}

pub(crate) fn source(path: &Path) -> SourceInfo {
    let stem = file_stem(path);
    SourceInfo::new(
        format!("geo/{stem}"),
        stem,
        format!("MaxMind DB {stem}"),
        None,
    )
}

/// Opens the database with the `maxminddb` reader, which validates the metadata, and returns it.
pub fn mmdb_info(path: &Path) -> Result<MmdbInfo, FeedError> {
    let reader = maxminddb::Reader::open_readfile(path).map_err(|source| FeedError::MaxMindDb {
        path: path.to_path_buf(),
        source,
    })?;
    let metadata = reader.metadata();
    Ok(MmdbInfo {
        database_type: metadata.database_type.clone(),
        ip_version: metadata.ip_version,
        node_count: metadata.node_count,
        build_epoch: metadata.build_epoch,
    })
}
