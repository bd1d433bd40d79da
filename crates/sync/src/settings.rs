//! Sync settings after configuration: where each feed comes from and how it is fetched.

use std::path::PathBuf;
use std::time::Duration;

use crate::catalog::{CATALOG, Feed};

/// One place to fetch every feed from, for sites without direct internet access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirror {
    /// `<base>/<feed>/<file>` over HTTP(S).
    Url(String),
    /// `<dir>/<feed>/<file>` on a local or mounted file system.
    Dir(PathBuf),
}

/// A feed with its settings applied.
#[derive(Debug, Clone)]
pub struct FeedSettings {
    pub feed: &'static Feed,
    pub enabled: bool,
    /// Location of each of the feed's downloads: an http(s) URL, a `file://` URL or a path.
    pub locations: Vec<String>,
    pub cadence: Duration,
    pub weight: f64,
}

impl FeedSettings {
    pub fn name(&self) -> &'static str {
        self.feed.name
    }
}

/// Download behaviour, and every feed's settings.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    pub connect_timeout: Duration,
    /// Limit for a whole download, body included.
    pub timeout: Duration,
    /// Largest download, and largest total a zip archive may unpack to.
    pub max_bytes: u64,
    /// Further attempts after a server error or a timeout.
    pub retries: u32,
    /// Wait before the first retry; it doubles with each further one.
    pub retry_delay: Duration,
    pub feeds: Vec<FeedSettings>,
}

pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);
pub const DEFAULT_MAX_BYTES: u64 = 1024 * 1024 * 1024;
pub const DEFAULT_RETRIES: u32 = 3;
pub const DEFAULT_RETRY_DELAY: Duration = Duration::from_secs(2);

/// Overrides for one feed; `None` keeps the catalog's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedOverride {
    pub enabled: Option<bool>,
    /// One location per download of the feed, in catalog order.
    pub locations: Option<Vec<String>>,
    pub cadence: Option<Duration>,
    pub weight: Option<f64>,
}

impl SyncSettings {
    /// Resolves the catalog with its defaults, a mirror if given, and per-feed overrides.
    pub fn resolve<'a>(
        mirror: Option<&Mirror>,
        overrides: impl Fn(&str) -> Option<&'a FeedOverride>,
    ) -> SyncSettings {
        let feeds = CATALOG
            .iter()
            .map(|feed| {
                let custom = overrides(feed.name);
                let locations = custom.and_then(|c| c.locations.clone()).unwrap_or_else(|| {
                    feed.downloads
                        .iter()
                        .map(|d| match mirror {
                            Some(Mirror::Url(base)) => {
                                format!("{}/{}/{}", base.trim_end_matches('/'), feed.name, d.file)
                            }
                            Some(Mirror::Dir(dir)) => {
                                dir.join(feed.name).join(d.file).display().to_string()
                            }
                            None => d.url.to_string(),
                        })
                        .collect()
                });
                FeedSettings {
                    feed,
                    enabled: custom.and_then(|c| c.enabled).unwrap_or(feed.enabled),
                    locations,
                    cadence: custom.and_then(|c| c.cadence).unwrap_or(feed.cadence),
                    weight: custom.and_then(|c| c.weight).unwrap_or(feed.weight),
                }
            })
            .collect();
        SyncSettings {
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_BYTES,
            retries: DEFAULT_RETRIES,
            retry_delay: DEFAULT_RETRY_DELAY,
            feeds,
        }
    }

    /// Settings of the feed named `name`.
    pub fn feed(&self, name: &str) -> Option<&FeedSettings> {
        self.feeds.iter().find(|f| f.feed.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_url_serves_every_feed() {
        let mirror = Mirror::Url("http://127.0.0.1:9/tiq/".to_string());
        let settings = SyncSettings::resolve(Some(&mirror), |_| None);
        let ipsum = settings.feed("ipsum").unwrap();
        assert_eq!(ipsum.locations, ["http://127.0.0.1:9/tiq/ipsum/ipsum.txt"]);
    }

    #[test]
    fn override_beats_mirror() {
        let mirror = Mirror::Dir(PathBuf::from("/srv/mirror"));
        let custom = FeedOverride {
            locations: Some(vec!["http://127.0.0.1:9/a.txt".to_string()]),
            weight: Some(0.5),
            enabled: Some(false),
            ..FeedOverride::default()
        };
        let settings =
            SyncSettings::resolve(Some(&mirror), |name| (name == "ipsum").then_some(&custom));
        let ipsum = settings.feed("ipsum").unwrap();
        assert_eq!(ipsum.locations, ["http://127.0.0.1:9/a.txt"]);
        assert_eq!(ipsum.weight, 0.5);
        assert!(!ipsum.enabled);
        let tor = settings.feed("tor-exits").unwrap();
        assert_eq!(
            tor.locations,
            ["/srv/mirror/tor-exits/tor/tor-exit-nodes.lst"]
        );
    }
}
