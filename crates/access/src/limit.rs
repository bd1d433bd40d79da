//! Per-key request rates (a token bucket with a capacity of one minute's worth) and daily
//! quotas, and the limit on failed authentication per client address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use time::OffsetDateTime;

use crate::Denial;
use crate::clock::Clock;
use crate::key::KeyRecord;
use crate::timefmt;

type Bucket = RateLimiter<NotKeyed, InMemoryState, Clock, NoOpMiddleware<Nanos>>;
type Failures = RateLimiter<IpAddr, HashMapStateStore<IpAddr>, Clock, NoOpMiddleware<Nanos>>;

/// Failed authentications allowed per client address and minute before the address is
/// rejected.
pub const DEFAULT_FAILED_AUTH_PER_MINUTE: u32 = 10;

pub(crate) struct Limits {
    clock: Clock,
    /// Per key id: its rate when the bucket was made, and the bucket.
    buckets: Mutex<HashMap<String, (u32, Arc<Bucket>)>>,
    /// Per key id: the UTC day and the requests counted on it.
    quotas: Mutex<HashMap<String, (String, u32)>>,
    failures: Failures,
    /// Addresses refused until the time given.
    blocked: Mutex<HashMap<IpAddr, OffsetDateTime>>,
}

/// A quota count to persist after an admission.
pub(crate) struct QuotaUse {
    pub key_id: String,
    pub day: String,
    pub used: u32,
}

impl Limits {
    pub(crate) fn new(clock: Clock, failed_auth_per_minute: u32) -> Limits {
        let per_minute = NonZeroU32::new(failed_auth_per_minute).unwrap_or(NonZeroU32::MIN);
        Limits {
            failures: RateLimiter::hashmap_with_clock(Quota::per_minute(per_minute), clock.clone()),
            clock,
            buckets: Mutex::new(HashMap::new()),
            quotas: Mutex::new(HashMap::new()),
            blocked: Mutex::new(HashMap::new()),
        }
    }

    /// Carries over today's counts from the database.
    pub(crate) fn restore(&self, day: &str, used: Vec<(String, u32)>) {
        let mut quotas = lock(&self.quotas);
        for (key_id, count) in used {
            quotas.insert(key_id, (day.to_string(), count));
        }
    }

    /// Counts `cost` requests against the key's quota and rate, or returns the denial that
    /// names the limit reached and when to retry. A denied call counts nothing.
    pub(crate) fn admit(&self, key: &KeyRecord, cost: u32) -> Result<Option<QuotaUse>, Denial> {
        let now = self.clock.now_utc();
        let day = timefmt::day(now);
        let mut quotas = lock(&self.quotas);
        let used = match quotas.get(&key.id) {
            Some((counted, used)) if *counted == day => *used,
            _ => 0,
        };
        if let Some(quota) = key.daily_quota
            && used.saturating_add(cost) > quota
        {
            let resets = timefmt::next_midnight(now);
            return Err(Denial::QuotaExhausted {
                cost,
                quota,
                used,
                retry_after: seconds_until(now, resets),
                resets_at: timefmt::format(resets),
            });
        }
        if let Some(rate) = key.rate_per_minute {
            let bucket = self.bucket(&key.id, rate);
            let cells = NonZeroU32::new(cost.max(1)).expect("at least one");
            match bucket.check_n(cells) {
                Ok(Ok(())) => {}
                Ok(Err(not_until)) => {
                    let wait = not_until.wait_time_from(self.clock.now());
                    return Err(Denial::RateLimited {
                        rate,
                        retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                    });
                }
                Err(_) => return Err(Denial::OverRate { rate, cost }),
            }
        }
        if key.daily_quota.is_none() {
            return Ok(None);
        }
        let used = used + cost;
        quotas.insert(key.id.clone(), (day.clone(), used));
        Ok(Some(QuotaUse {
            key_id: key.id.clone(),
            day,
            used,
        }))
    }

    fn bucket(&self, id: &str, rate: u32) -> Arc<Bucket> {
        let mut buckets = lock(&self.buckets);
        match buckets.get(id) {
            Some((made_for, bucket)) if *made_for == rate => bucket.clone(),
            _ => {
                let per_minute = NonZeroU32::new(rate).unwrap_or(NonZeroU32::MIN);
                let bucket = Arc::new(RateLimiter::direct_with_clock(
                    Quota::per_minute(per_minute),
                    self.clock.clone(),
                ));
                buckets.insert(id.to_string(), (rate, bucket.clone()));
                bucket
            }
        }
    }

    /// Seconds until `client` may try to authenticate again, if it is refused now.
    pub(crate) fn blocked(&self, client: IpAddr) -> Option<u64> {
        let now = self.clock.now_utc();
        let mut blocked = lock(&self.blocked);
        match blocked.get(&client) {
            Some(until) if *until > now => Some(seconds_until(now, *until)),
            Some(_) => {
                blocked.remove(&client);
                None
            }
            None => None,
        }
    }

    /// Counts one failed authentication from `client`; returns the seconds it is refused
    /// for when this one went over the limit.
    pub(crate) fn failed(&self, client: IpAddr) -> Option<u64> {
        match self.failures.check_key(&client) {
            Ok(()) => None,
            Err(not_until) => {
                let wait = not_until
                    .wait_time_from(self.clock.now())
                    .max(Duration::from_secs(1));
                let now = self.clock.now_utc();
                let until = now + wait;
                let mut blocked = lock(&self.blocked);
                if blocked.len() > 100_000 {
                    blocked.retain(|_, until| *until > now);
                    self.failures.retain_recent();
                }
                blocked.insert(client, until);
                Some(seconds_until(now, until))
            }
        }
    }
}

fn seconds_until(now: OffsetDateTime, then: OffsetDateTime) -> u64 {
    let seconds = (then - now).as_seconds_f64().ceil();
    if seconds < 1.0 { 1 } else { seconds as u64 }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section leaves its map consistent, so a poisoned lock is still usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
