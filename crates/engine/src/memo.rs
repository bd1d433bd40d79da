//! A memo of recent reports, so a repeated question skips the lookups and scoring.

use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use quick_cache::Equivalent;
use tiq_model::{IndicatorKind, Lang, Report};

/// Maximum number of reports the memo keeps. A report with its evidence takes a few
/// kilobytes (an estimate), so a full memo takes some megabytes.
pub(crate) const ENTRIES: usize = 4096;

/// Maximum input length, in bytes, whose report the memo keeps, so a few long URLs cannot
/// fill it.
const MAX_INPUT: usize = 512;

/// Number of slots for the hashes of recently missed questions: twice the memo's entries,
/// so a question asked again within a few thousand others is found.
const SEEN_SLOTS: usize = 2 * ENTRIES;

/// Reports by indicator type, language and input as the caller wrote it. Each report
/// carries the day it was made on, because claims age by day. A report is kept only when
/// its question was requested before, so a stream of distinct questions does not pay for
/// copying reports that are not requested again.
pub(crate) struct ReportMemo {
    reports: quick_cache::sync::Cache<Key, Arc<(time::Date, Report)>>,
    seen: Box<[AtomicU64]>,
    hasher: RandomState,
}

#[derive(Hash, PartialEq, Eq)]
struct Key {
    kind: IndicatorKind,
    lang: Lang,
    input: String,
}

/// A question to look up without copying its input.
#[derive(Hash)]
pub(crate) struct Question<'a> {
    kind: IndicatorKind,
    lang: Lang,
    input: &'a str,
}

impl Equivalent<Key> for Question<'_> {
    fn equivalent(&self, key: &Key) -> bool {
        self.kind == key.kind && self.lang == key.lang && self.input == key.input
    }
}

impl<'a> Question<'a> {
    /// Returns the question, or `None` when its input is too long to keep.
    pub(crate) fn new(kind: IndicatorKind, lang: Lang, input: &'a str) -> Option<Question<'a>> {
        (input.len() <= MAX_INPUT).then_some(Question { kind, lang, input })
    }
}

impl ReportMemo {
    /// Creates an empty memo.
    pub(crate) fn new() -> ReportMemo {
        ReportMemo {
            reports: quick_cache::sync::Cache::new(ENTRIES),
            seen: (0..SEEN_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            hasher: RandomState::new(),
        }
    }

    /// Returns the report made today for the question, if one is kept.
    pub(crate) fn get(&self, question: &Question<'_>, today: time::Date) -> Option<Report> {
        let entry = self.reports.get(question)?;
        (entry.0 == today).then(|| entry.1.clone())
    }

    /// Keeps a report made today when its question was missed before.
    pub(crate) fn offer(&self, question: &Question<'_>, today: time::Date, report: &Report) {
        let hash = self.hasher.hash_one(question);
        let slot = &self.seen[(hash % SEEN_SLOTS as u64) as usize];
        if slot.swap(hash, Ordering::Relaxed) != hash {
            return;
        }
        let key = Key {
            kind: question.kind,
            lang: question.lang,
            input: question.input.to_string(),
        };
        self.reports.insert(key, Arc::new((today, report.clone())));
    }
}
