//! Feeds from their publishers into the store.
//!
//! This crate owns the built-in [`catalog`] of open feeds, their [`settings`] after
//! configuration, the download side ([`fetch`], zip archives), one sync of one feed
//! ([`run::sync_feed`]), the background [`schedule`] of a running server, and the
//! [`status`] report. Parsing and storing are the engine's import. This crate hands it the
//! downloaded files and swaps them in only when every source took its new records.

mod archive;
pub mod catalog;
pub mod fetch;
pub mod run;
pub mod schedule;
pub mod settings;
pub mod status;

pub use catalog::{CATALOG, Category, Feed};
pub use fetch::{FetchError, Fetcher};
pub use run::{
    FEEDS_DIR, FeedOutcome, Progress, REJECTED_LINES_LISTED, RejectedLine, Silent, SyncOptions,
    SyncStatus, sync_feed,
};
pub use settings::{FeedOverride, FeedSettings, Mirror, SyncSettings};
pub use status::{FeedState, FeedStatus, Status, status};
