//! Background sync for a running server: each enabled feed on its cadence, one at a time.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tiq_store::{Store, SyncState};
use tokio_util::sync::CancellationToken;

use crate::fetch::Fetcher;
use crate::run::{Progress, SyncOptions, sync_feed};
use crate::settings::{FeedSettings, SyncSettings};

/// Maximum sleep between two checks of the schedule.
const TICK: Duration = Duration::from_secs(60);
/// First wait after a failed attempt; it doubles with each failure, up to the cadence.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(300);

/// Syncs every enabled feed when it is due until `shutdown` is cancelled. Lookups go on
/// meanwhile: each source is replaced in its own transaction, which readers never see half
/// done. Called once at server start, so a fresh data directory fills itself.
pub async fn run(
    data_dir: PathBuf,
    settings: Arc<SyncSettings>,
    progress: Arc<dyn Progress>,
    shutdown: CancellationToken,
) {
    tracing::info!(
        feeds = settings.feeds.iter().filter(|f| f.enabled).count(),
        "background sync started"
    );
    loop {
        let due = {
            let data_dir = data_dir.clone();
            let settings = settings.clone();
            tokio::task::spawn_blocking(move || due_feeds(&data_dir, &settings)).await
        };
        let due = match due {
            Ok(Ok(due)) => due,
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot read the sync schedule");
                Vec::new()
            }
            Err(error) => {
                tracing::warn!(%error, "the sync schedule task failed");
                Vec::new()
            }
        };
        for name in due {
            if shutdown.is_cancelled() {
                return;
            }
            let data_dir = data_dir.clone();
            let settings = settings.clone();
            let progress = progress.clone();
            let task = tokio::task::spawn_blocking(move || {
                let Some(feed) = settings.feed(&name) else {
                    return;
                };
                match Fetcher::new(&settings) {
                    Ok(fetcher) => {
                        sync_feed(
                            &data_dir,
                            &fetcher,
                            feed,
                            &SyncOptions::default(),
                            &*progress,
                        );
                    }
                    Err(error) => tracing::warn!(%error, "cannot start a download"),
                }
            });
            tokio::select! {
                _ = task => {}
                _ = shutdown.cancelled() => return,
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

fn due_feeds(
    data_dir: &std::path::Path,
    settings: &SyncSettings,
) -> Result<Vec<String>, tiq_store::StoreError> {
    let states = Store::open(data_dir)?.sync_states()?;
    let now = OffsetDateTime::now_utc();
    Ok(settings
        .feeds
        .iter()
        .filter(|feed| feed.enabled)
        .filter(|feed| is_due(feed, states.iter().find(|s| s.feed == feed.name()), now))
        .map(|feed| feed.name().to_string())
        .collect())
}

/// Returns whether a feed is due at `now` (see [`next_attempt`]).
pub fn is_due(feed: &FeedSettings, state: Option<&SyncState>, now: OffsetDateTime) -> bool {
    next_attempt(feed, state).is_none_or(|next| now >= next)
}

/// Returns when a feed is next due, or `None` if it has never been tried: its cadence after
/// the last attempt, or sooner after a failure, with a wait that doubles per failure.
pub fn next_attempt(feed: &FeedSettings, state: Option<&SyncState>) -> Option<OffsetDateTime> {
    let state = state?;
    let last = state
        .last_attempt
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok())?;
    let wait = if state.failures > 0 {
        RETRY_AFTER_FAILURE
            .saturating_mul(2u32.saturating_pow(state.failures.saturating_sub(1).min(16)))
            .min(feed.cadence)
    } else {
        feed.cadence
    };
    Some(last + wait)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::SyncSettings;

    fn state(attempt: &str, failures: u32) -> SyncState {
        SyncState {
            feed: "ipsum".to_string(),
            last_attempt: Some(attempt.to_string()),
            failures,
            ..SyncState::default()
        }
    }

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).unwrap()
    }

    #[test]
    fn feed_due_after_cadence_or_backoff() {
        let settings = SyncSettings::resolve(None, |_| None);
        let ipsum = settings.feed("ipsum").unwrap(); // daily
        assert!(is_due(ipsum, None, at("2026-12-01T00:00:00Z")));

        let ok = state("2026-12-01T00:00:00Z", 0);
        assert!(!is_due(ipsum, Some(&ok), at("2026-12-01T23:59:00Z")));
        assert!(is_due(ipsum, Some(&ok), at("2026-12-02T00:00:00Z")));

        // 5 minutes after one failure, 10 after two, never longer than the cadence.
        let once = state("2026-12-01T00:00:00Z", 1);
        assert!(!is_due(ipsum, Some(&once), at("2026-12-01T00:04:00Z")));
        assert!(is_due(ipsum, Some(&once), at("2026-12-01T00:05:00Z")));
        let twice = state("2026-12-01T00:00:00Z", 2);
        assert!(!is_due(ipsum, Some(&twice), at("2026-12-01T00:09:00Z")));
        assert!(is_due(ipsum, Some(&twice), at("2026-12-01T00:10:00Z")));
        let many = state("2026-12-01T00:00:00Z", 30);
        assert!(is_due(ipsum, Some(&many), at("2026-12-02T00:00:00Z")));
    }
}
