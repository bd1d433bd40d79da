//! State of each feed: records, last sync, last error, age of its data.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tiq_store::{Store, StoreError};

use crate::catalog::Category;
use crate::settings::SyncSettings;

/// Summary state of a feed, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedState {
    /// A sync of the feed is running now, in this process or another.
    Syncing,
    /// The last attempt failed; the earlier data, if any, is still served.
    Failing,
    /// The last successful sync is older than twice the feed's cadence.
    Stale,
    /// Enabled, but never synced successfully.
    NeverSynced,
    Ok,
    Disabled,
}

/// Status of one catalog feed.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FeedStatus {
    pub name: String,
    pub title: String,
    pub category: Category,
    pub enabled: bool,
    pub state: FeedState,
    pub records: u64,
    pub last_success: Option<String>,
    pub last_attempt: Option<String>,
    pub last_error: Option<String>,
    /// When the publisher produced the data, or when it was fetched if the publisher did
    /// not state it.
    pub data_as_of: Option<String>,
    pub age_seconds: Option<u64>,
    pub cadence_seconds: u64,
    /// The last successful sync, which fetched the data or confirmed it unchanged, is older
    /// than twice the cadence. A publisher that rarely changes its data (ATT&CK, KEV) is not
    /// stale while tiq keeps confirming it; `age_seconds` shows how old the data itself is.
    pub stale: bool,
    /// When a server with background sync tries the feed next (RFC 3339); `None` when the
    /// feed is off or due now.
    pub next_attempt: Option<String>,
    pub licence: String,
}

/// A source imported by hand rather than synced from the catalog.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportedStatus {
    pub name: String,
    pub records: u64,
    pub imported_at: String,
    pub age_seconds: Option<u64>,
}

/// Status of every feed and of hand-imported sources.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub feeds: Vec<FeedStatus>,
    pub imported: Vec<ImportedStatus>,
}

/// Computes the status at `now`.
pub fn status(
    store: &Store,
    settings: &SyncSettings,
    now: OffsetDateTime,
) -> Result<Status, StoreError> {
    let states = store.sync_states()?;
    let sources = store.sources()?;
    let data_dir = store.path().parent();
    let age = |at: &Option<String>| -> Option<u64> {
        let at = OffsetDateTime::parse(at.as_deref()?, &Rfc3339).ok()?;
        Some((now - at).whole_seconds().max(0) as u64)
    };
    let feeds = settings
        .feeds
        .iter()
        .map(|feed| {
            let state = states.iter().find(|s| s.feed == feed.name());
            let records = sources
                .iter()
                .filter(|s| s.feed.as_deref() == Some(feed.name()))
                .map(|s| s.records)
                .sum();
            let data_as_of = state.and_then(|s| s.data_as_of.clone());
            let age_seconds = age(&data_as_of);
            let cadence_seconds = feed.cadence.as_secs();
            let last_error = state.and_then(|s| s.last_error.clone());
            let last_success = state.and_then(|s| s.last_success.clone());
            let stale = age(&last_success).is_some_and(|a| a > 2 * cadence_seconds);
            let next_attempt = crate::schedule::next_attempt(feed, state)
                .filter(|next| feed.enabled && *next > now)
                .and_then(|next| next.format(&Rfc3339).ok());
            let summary = if data_dir.is_some_and(|dir| crate::run::is_syncing(dir, feed.name())) {
                FeedState::Syncing
            } else if last_error.is_some() {
                FeedState::Failing
            } else if stale {
                FeedState::Stale
            } else if last_success.is_some() {
                FeedState::Ok
            } else if feed.enabled {
                FeedState::NeverSynced
            } else {
                FeedState::Disabled
            };
            FeedStatus {
                name: feed.name().to_string(),
                title: feed.feed.title.to_string(),
                category: feed.feed.category,
                enabled: feed.enabled,
                state: summary,
                records,
                last_success,
                last_attempt: state.and_then(|s| s.last_attempt.clone()),
                last_error,
                data_as_of,
                age_seconds,
                cadence_seconds,
                stale,
                next_attempt,
                licence: feed.feed.licence.to_string(),
            }
        })
        .collect();
    let imported = sources
        .iter()
        .filter(|s| s.feed.is_none())
        .map(|s| ImportedStatus {
            name: s.name.clone(),
            records: s.records,
            imported_at: s.imported_at.clone(),
            age_seconds: age(&Some(s.imported_at.clone())),
        })
        .collect();
    Ok(Status { feeds, imported })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tiq_store::SyncRecord;

    #[test]
    fn status_flags_unconfirmed_feed_stale() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let settings = SyncSettings::resolve(None, |_| None);
        let changed = |as_of: &str| SyncRecord::Changed {
            records: 10,
            bytes: 100,
            data_as_of: Some(as_of.to_string()),
        };
        // The data is old, but both syncs succeed now.
        store
            .record_sync("ipsum", &changed("2026-01-01T00:00:00Z"), &[])
            .unwrap();
        store
            .record_sync("tor-exits", &changed("2026-01-01T00:00:00Z"), &[])
            .unwrap();
        store
            .record_sync("urlhaus", &SyncRecord::Failed("timed out".to_string()), &[])
            .unwrap();
        let now = OffsetDateTime::now_utc() + time::Duration::hours(30);
        let status = status(&store, &settings, now).unwrap();
        let find = |name: &str| status.feeds.iter().find(|f| f.name == name).unwrap();

        let ipsum = find("ipsum"); // daily: confirmed 30 hours ago is fine
        assert_eq!((ipsum.state, ipsum.stale), (FeedState::Ok, false));
        assert!(
            ipsum.age_seconds.unwrap() > 300 * 86_400,
            "the data's own age"
        );
        let tor = find("tor-exits"); // every 6 hours: 30 hours is over twice that
        assert_eq!((tor.state, tor.stale), (FeedState::Stale, true));
        let urlhaus = find("urlhaus");
        assert_eq!(urlhaus.state, FeedState::Failing);
        assert_eq!(urlhaus.last_error.as_deref(), Some("timed out"));
        assert_eq!(find("feodotracker").state, FeedState::NeverSynced);
        assert_eq!(find("feodotracker").next_attempt, None);
        assert_eq!(find("phishtank").state, FeedState::Disabled);
        assert!(ipsum.next_attempt.is_none(), "due again after 30 hours");
    }

    #[test]
    fn feed_with_a_running_sync_is_syncing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let settings = SyncSettings::resolve(None, |_| None);
        std::fs::create_dir(dir.path().join(crate::FEEDS_DIR)).unwrap();
        let lock = std::fs::File::create(dir.path().join("feeds/.ipsum.lock")).unwrap();
        lock.lock().unwrap();

        let now = OffsetDateTime::now_utc();
        let state = |name: &str| {
            let status = status(&store, &settings, now).unwrap();
            status.feeds.iter().find(|f| f.name == name).unwrap().state
        };
        assert_eq!(state("ipsum"), FeedState::Syncing);
        assert_eq!(state("tor-exits"), FeedState::NeverSynced);
        drop(lock);
        assert_eq!(state("ipsum"), FeedState::NeverSynced);

        // A feed tried just now is next due one cadence later.
        let mut store = store;
        store
            .record_sync("ipsum", &SyncRecord::Unchanged, &[])
            .unwrap();
        let status = status(&store, &settings, now).unwrap();
        let ipsum = status.feeds.iter().find(|f| f.name == "ipsum").unwrap();
        assert!(ipsum.next_attempt.is_some());
    }
}
