//! The one time source of access control: rate buckets, daily quotas, key expiry and audit
//! timestamps all read it, so tests can move time for all of them at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::nanos::Nanos;
use time::OffsetDateTime;

/// Time source: the system clock, or a manual clock that moves only when a test advances it.
#[derive(Debug, Clone)]
pub struct Clock {
    start: Instant,
    start_wall: OffsetDateTime,
    /// Nanoseconds since `start` for a manual clock; `None` for the system clock.
    manual: Option<Arc<AtomicU64>>,
}

impl Clock {
    pub fn system() -> Clock {
        Clock {
            start: Instant::now(),
            start_wall: OffsetDateTime::now_utc(),
            manual: None,
        }
    }

    /// Creates a clock that stays at `at` until [`Clock::advance`] moves it.
    pub fn manual(at: OffsetDateTime) -> Clock {
        Clock {
            start: Instant::now(),
            start_wall: at,
            manual: Some(Arc::new(AtomicU64::new(0))),
        }
    }

    /// Moves a manual clock forward. The system clock ignores this call.
    pub fn advance(&self, by: Duration) {
        if let Some(manual) = &self.manual {
            let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
            manual.fetch_add(nanos, Ordering::AcqRel);
        }
    }

    fn elapsed(&self) -> Duration {
        match &self.manual {
            Some(manual) => Duration::from_nanos(manual.load(Ordering::Acquire)),
            None => self.start.elapsed(),
        }
    }

    /// Returns the current time, in UTC.
    pub fn now_utc(&self) -> OffsetDateTime {
        self.start_wall + self.elapsed()
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

impl governor::clock::Clock for Clock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.elapsed())
    }
}
