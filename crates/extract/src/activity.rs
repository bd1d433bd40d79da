//! Per-client activity in a log: the requests of each client address, and the behaviour
//! worth flagging (bursts of failed logins, of login form posts and of missing pages, and
//! WAF alerts).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use std::hash::BuildHasher;

use crate::log::LineInfo;

/// The hasher of tally values. A tally holds at most 20 values, so a fixed seed is safe.
static HASHER: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x7469_7174);
use crate::timefmt;

/// Maximum distinct methods, paths, statuses or WAF rules kept per address. Further values
/// are counted under `other`.
const MAX_DISTINCT: usize = 20;

/// Number of events within a time window at which behaviour is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threshold {
    /// Minimum events within the window.
    pub events: usize,
    pub window_seconds: i64,
}

/// Thresholds of the behaviours flagged by count. WAF alerts are flagged from the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    pub failed_logins: Threshold,
    pub login_posts: Threshold,
    pub not_found: Threshold,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            failed_logins: Threshold {
                events: 5,
                window_seconds: 600,
            },
            login_posts: Threshold {
                events: 10,
                window_seconds: 300,
            },
            not_found: Threshold {
                events: 20,
                window_seconds: 60,
            },
        }
    }
}

/// The kind of behaviour a log shows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BehaviourKind {
    /// Many failed logins (SSH, PAM, or authentication events) in a short window.
    FailedLogins,
    /// Successful logins, anywhere in the log, from an address whose failed logins were
    /// flagged.
    LoginAfterFailures,
    /// Many POSTs to a login path in a short window.
    LoginPosts,
    /// Many requests for missing pages in a short window, typical of scanners.
    NotFoundBurst,
    /// Alerts a web application firewall raised for the address.
    WafAlerts,
}

impl BehaviourKind {
    pub fn name(self) -> &'static str {
        match self {
            BehaviourKind::FailedLogins => "failed_logins",
            BehaviourKind::LoginAfterFailures => "login_after_failures",
            BehaviourKind::LoginPosts => "login_posts",
            BehaviourKind::NotFoundBurst => "not_found_burst",
            BehaviourKind::WafAlerts => "waf_alerts",
        }
    }
}

/// Behaviour the log shows for one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Behaviour {
    pub kind: BehaviourKind,
    /// Events in the busiest window, or in the whole log when none of them had a time.
    /// For `login_after_failures` and `waf_alerts`, all such events in the log.
    pub events: u64,
    /// Length of the threshold window. Absent when the events had no time, and for
    /// behaviour without a window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_seconds: Option<u64>,
    /// Time of the first event in the busiest window, RFC 3339 in UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Time of the last event in the busiest window, RFC 3339 in UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Rule ids or messages of WAF alerts, most frequent first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

/// A value with its number of occurrences.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Counted {
    pub value: String,
    pub count: u64,
}

/// Activity of one client address in a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Activity {
    /// Lines in which the address was the client.
    pub lines: u64,
    /// Web requests among them.
    pub requests: u64,
    /// Request methods, most frequent first. Past 20 distinct values, the rest are counted
    /// under `other`, as for paths and statuses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<Counted>,
    /// Request paths without their query string or fragment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<Counted>,
    /// Response status codes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub statuses: Vec<Counted>,
    pub failed_logins: u64,
    pub accepted_logins: u64,
    pub waf_alerts: u64,
    /// Flagged behaviour in a fixed order: login after failures, failed logins, login
    /// posts, WAF alerts, then missing pages.
    pub behaviours: Vec<Behaviour>,
}

/// Counts of up to [`MAX_DISTINCT`] distinct values, with the rest under `other`.
#[derive(Debug, Default)]
struct Tally {
    values: Vec<(String, u64)>,
    /// The hash of each value, compared before the value.
    keys: [u64; MAX_DISTINCT],
    /// One bit per value, chosen by its hash, so that most values not in the tally are
    /// ruled out without reading `keys`.
    bits: u64,
    other: u64,
}

impl Tally {
    fn add(&mut self, value: &str) {
        let key = HASHER.hash_one(value);
        let bit = 1u64 << (key % 64);
        let found = if self.bits & bit == 0 {
            None
        } else {
            self.keys[..self.values.len()]
                .iter()
                .zip(&self.values)
                .position(|(k, (v, _))| *k == key && v == value)
        };
        if let Some(index) = found {
            self.values[index].1 += 1;
        } else if self.values.len() < MAX_DISTINCT {
            self.keys[self.values.len()] = key;
            self.values.push((value.to_string(), 1));
            self.bits |= bit;
        } else {
            self.other += 1;
        }
    }

    fn into_counted(mut self) -> Vec<Counted> {
        self.values
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut counted: Vec<Counted> = self
            .values
            .into_iter()
            .map(|(value, count)| Counted { value, count })
            .collect();
        if self.other > 0 {
            counted.push(Counted {
                value: "other".to_string(),
                count: self.other,
            });
        }
        counted
    }
}

/// Number of slots per window, so the busiest window is located to within a tenth of its
/// length.
const SLOTS: usize = 10;

/// One slot of a [`Burst`]: a tenth of a window, with its events and the time of the first.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// Index of the slot's span of time: the Unix time divided by the slot width.
    id: i64,
    events: u32,
    first: i64,
}

/// A slot that has counted nothing yet.
const EMPTY: Slot = Slot {
    id: i64::MIN,
    events: 0,
    first: 0,
};

/// Busiest window of one kind of event, found in fixed memory. Events are counted in ten
/// slots of a tenth of the window each, and a window is the last ten slots.
#[derive(Debug)]
struct Burst {
    slots: [Slot; SLOTS],
    /// All events, with or without a time.
    total: u64,
    /// Events in the busiest window so far.
    best: u64,
    best_from: i64,
    best_to: i64,
}

impl Default for Burst {
    fn default() -> Self {
        Burst {
            slots: [EMPTY; SLOTS],
            total: 0,
            best: 0,
            best_from: 0,
            best_to: 0,
        }
    }
}

impl Burst {
    /// Counts one event at `time`, in Unix seconds, for a window of `window` seconds.
    fn add(&mut self, time: Option<i64>, window: i64) {
        self.total += 1;
        let Some(time) = time else {
            return;
        };
        let width = (window / SLOTS as i64).max(1);
        let id = time.div_euclid(width);
        let slot = &mut self.slots[id.rem_euclid(SLOTS as i64) as usize];
        if slot.id > id {
            // The slot already counts a later span, so the event is out of order by more than
            // a window. It still counts in `total`.
            return;
        }
        if slot.id < id {
            *slot = Slot {
                id,
                events: 0,
                first: time,
            };
        }
        slot.events = slot.events.saturating_add(1);
        slot.first = slot.first.min(time);

        let oldest = id - SLOTS as i64 + 1;
        let live = self.slots.iter().filter(|s| s.id >= oldest && s.id <= id);
        let (events, from) = live.fold((0u64, time), |(events, from), s| {
            (events + u64::from(s.events), from.min(s.first))
        });
        if events > self.best {
            self.best = events;
            self.best_from = from;
            self.best_to = time;
        }
    }

    /// Returns `kind` as flagged behaviour when the busiest window reaches `threshold`, or
    /// when all events do if none had a time.
    fn flagged(&self, kind: BehaviourKind, threshold: Threshold) -> Option<Behaviour> {
        let (events, window, from, to) = if self.best > 0 {
            (
                self.best,
                Some(threshold.window_seconds as u64),
                timefmt::rfc3339(self.best_from),
                timefmt::rfc3339(self.best_to),
            )
        } else {
            (self.total, None, None, None)
        };
        (events >= threshold.events as u64).then_some(Behaviour {
            kind,
            events,
            window_seconds: window,
            from,
            to,
            rules: Vec::new(),
        })
    }
}

/// Builder of the [`Activity`] of one address, fed line by line.
#[derive(Debug, Default)]
pub(crate) struct Tracker {
    lines: u64,
    requests: u64,
    methods: Tally,
    paths: Tally,
    statuses: Tally,
    failed_logins: Burst,
    accepted_logins: u64,
    /// Accepted logins read after the failed ones had reached their threshold.
    accepted_after_failures: u64,
    login_posts: Burst,
    not_found: Burst,
    waf_alerts: u64,
    waf_rules: Tally,
}

impl Tracker {
    /// Counts one line in which the address is the client.
    pub(crate) fn add(&mut self, info: &LineInfo<'_>, thresholds: &Thresholds) {
        self.lines += 1;
        if let Some(method) = &info.method {
            self.requests += 1;
            self.methods.add(method);
            if let Some(path) = &info.path {
                let path =
                    &path[..memchr::memchr2(b'?', b'#', path.as_bytes()).unwrap_or(path.len())];
                self.paths.add(path);
                if method == "POST" && is_login_path(path) {
                    self.login_posts
                        .add(info.time, thresholds.login_posts.window_seconds);
                }
            }
        }
        if let Some(status) = info.status {
            let mut digits = [0u8; 5];
            self.statuses.add(status_text(status, &mut digits));
            if status == 404 {
                self.not_found
                    .add(info.time, thresholds.not_found.window_seconds);
            }
        }
        if info.failed_login {
            self.failed_logins
                .add(info.time, thresholds.failed_logins.window_seconds);
        }
        if info.accepted_login {
            self.accepted_logins += 1;
            if self.failed_logins.total >= thresholds.failed_logins.events as u64 {
                self.accepted_after_failures += 1;
            }
        }
        if let Some(rule) = &info.waf {
            self.waf_alerts += 1;
            if let Some(rule) = rule {
                self.waf_rules.add(rule);
            }
        }
    }

    /// Returns the activity, with the behaviour that reaches `thresholds`.
    pub(crate) fn finish(self, thresholds: &Thresholds) -> Activity {
        let mut behaviours = Vec::new();
        let failed = self
            .failed_logins
            .flagged(BehaviourKind::FailedLogins, thresholds.failed_logins);
        if failed.is_some() && self.accepted_after_failures > 0 {
            behaviours.push(Behaviour {
                kind: BehaviourKind::LoginAfterFailures,
                events: self.accepted_after_failures,
                window_seconds: None,
                from: None,
                to: None,
                rules: Vec::new(),
            });
        }
        behaviours.extend(failed);
        behaviours.extend(
            self.login_posts
                .flagged(BehaviourKind::LoginPosts, thresholds.login_posts),
        );
        // The rules past the tally's capacity are counted as `other`, which names no rule.
        let cut = self.waf_rules.other > 0;
        let mut waf_rules: Vec<String> = self
            .waf_rules
            .into_counted()
            .into_iter()
            .map(|counted| counted.value)
            .collect();
        if cut {
            waf_rules.pop();
        }
        if self.waf_alerts > 0 {
            behaviours.push(Behaviour {
                kind: BehaviourKind::WafAlerts,
                events: self.waf_alerts,
                window_seconds: None,
                from: None,
                to: None,
                rules: waf_rules,
            });
        }
        behaviours.extend(
            self.not_found
                .flagged(BehaviourKind::NotFoundBurst, thresholds.not_found),
        );
        Activity {
            lines: self.lines,
            requests: self.requests,
            methods: self.methods.into_counted(),
            paths: self.paths.into_counted(),
            statuses: self.statuses.into_counted(),
            failed_logins: self.failed_logins.total,
            accepted_logins: self.accepted_logins,
            waf_alerts: self.waf_alerts,
            behaviours,
        }
    }
}

/// Returns whether `path` looks like a login form or token endpoint that password guessers
/// post to.
fn is_login_path(path: &str) -> bool {
    const LOGIN: [&str; 10] = [
        "login",
        "signin",
        "sign-in",
        "sign_in",
        "logon",
        "xmlrpc.php",
        "/auth",
        "/session",
        "/token",
        "j_security_check",
    ];
    let lower = path.to_ascii_lowercase();
    LOGIN.iter().any(|marker| lower.contains(marker))
}

/// Writes `status` in decimal into `buffer`, without allocating.
fn status_text(status: u16, buffer: &mut [u8; 5]) -> &str {
    let mut at = buffer.len();
    let mut rest = status;
    loop {
        at -= 1;
        buffer[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    std::str::from_utf8(&buffer[at..]).unwrap_or("0")
}
