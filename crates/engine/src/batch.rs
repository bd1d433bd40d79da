//! Batch analysis: up to [`MAX_BATCH_ITEMS`] indicators of mixed types in one call, each
//! analysed by [`Engine::analyze_indicator`], so a batch item gets the same report as a
//! single request.

use std::collections::HashMap;

use serde_json::Value;
use tiq_model::batch::{
    BatchError, BatchReport, BatchResult, CompactReport, Detail, FULL_DETAIL_BUDGET_BYTES,
    ItemError, ItemErrorCode, ItemReport, MAX_BATCH_ITEMS, VerdictCounts, item_input, parse_item,
};
use tiq_model::{Indicator, IndicatorKind, Lang, Report};

use crate::Engine;

/// The outcome of one item before the reports are sized: a shared report or an error.
enum Outcome {
    Report {
        indicator: Indicator,
        slot: usize,
    },
    Error {
        kind: Option<IndicatorKind>,
        error: ItemError,
    },
}

impl Engine {
    /// Analyses every item of a batch (strings whose type is detected, or objects with `type`
    /// and `value`) and returns one result per item in request order. A value given twice is
    /// analysed once. Items that cannot be read or analysed get an error of their own; only
    /// a batch over [`MAX_BATCH_ITEMS`] fails as a whole.
    pub fn analyze_batch(
        &self,
        items: &[Value],
        detail: Detail,
        lang: Lang,
    ) -> Result<BatchReport, BatchError> {
        if items.len() > MAX_BATCH_ITEMS {
            return Err(BatchError::TooMany {
                count: items.len(),
                limit: MAX_BATCH_ITEMS,
            });
        }
        let (outcomes, reports) = self.analyze_distinct(items, lang);
        Ok(assemble(items, outcomes, &reports, detail, lang))
    }

    /// Analyses each distinct indicator once. Returns the outcome of each item, pointing into
    /// the returned list of reports.
    fn analyze_distinct(&self, items: &[Value], lang: Lang) -> (Vec<Outcome>, Vec<Report>) {
        let mut slots: HashMap<Indicator, usize> = HashMap::new();
        let mut reports: Vec<Report> = Vec::new();
        let mut outcomes = Vec::with_capacity(items.len());
        for item in items {
            let indicator = match parse_item(item) {
                Ok(indicator) => indicator,
                Err(problem) => {
                    outcomes.push(Outcome::Error {
                        kind: None,
                        error: problem.to_item_error(lang),
                    });
                    continue;
                }
            };
            if let Some(&slot) = slots.get(&indicator) {
                outcomes.push(Outcome::Report { indicator, slot });
                continue;
            }
            match self.analyze_indicator(&item_input(item), &indicator, lang) {
                Ok(report) => {
                    slots.insert(indicator.clone(), reports.len());
                    outcomes.push(Outcome::Report {
                        indicator,
                        slot: reports.len(),
                    });
                    reports.push(report);
                }
                Err(error) => {
                    tracing::error!(indicator = %indicator.value(), %error, "batch item analysis failed");
                    outcomes.push(Outcome::Error {
                        kind: Some(indicator.kind()),
                        error: ItemError {
                            code: ItemErrorCode::LookupFailed,
                            message: error.message(lang),
                        },
                    });
                }
            }
        }
        (outcomes, reports)
    }
}

/// Builds the response: counts, and a report per item, full while the full reports fit in
/// [`FULL_DETAIL_BUDGET_BYTES`] and compact after.
fn assemble(
    items: &[Value],
    outcomes: Vec<Outcome>,
    reports: &[Report],
    detail: Detail,
    lang: Lang,
) -> BatchReport {
    let mut verdicts = VerdictCounts::default();
    let mut errors = 0;
    let mut full_bytes = 0usize;
    let mut cut_down = 0u64;
    let mut results = Vec::with_capacity(items.len());
    for (index, (item, outcome)) in items.iter().zip(outcomes).enumerate() {
        let input = item_input(item);
        let mut result = BatchResult {
            index,
            input: input.clone(),
            kind: None,
            detail: None,
            report: None,
            error: None,
        };
        match outcome {
            Outcome::Error { kind, error } => {
                errors += 1;
                result.kind = kind;
                result.error = Some(error);
            }
            Outcome::Report { indicator, slot } => {
                let report = &reports[slot];
                verdicts.add(report.verdict);
                result.kind = Some(indicator.kind());
                // Once one full report does not fit, every later item is compact too, so
                // the cut is one contiguous tail of the batch.
                let mut full = false;
                if detail == Detail::Full && cut_down == 0 {
                    let size = serialized_len(report);
                    full = full_bytes + size <= FULL_DETAIL_BUDGET_BYTES;
                    full_bytes += size;
                }
                if detail == Detail::Full && !full {
                    cut_down += 1;
                }
                let (item_detail, item_report) = if full {
                    let mut report = report.clone();
                    report.input = input;
                    (Detail::Full, ItemReport::Full(Box::new(report)))
                } else {
                    let compact = CompactReport::from_report(report);
                    (Detail::Compact, ItemReport::Compact(Box::new(compact)))
                };
                result.detail = Some(item_detail);
                result.report = Some(item_report);
            }
        }
        results.push(result);
    }

    let mut batch = BatchReport {
        total: items.len(),
        analyzed: reports.len(),
        verdicts,
        errors,
        detail,
        results,
        left_out: Default::default(),
        note: None,
        lang,
    };
    if cut_down > 0 {
        batch.left_out.insert("full_reports".to_string(), cut_down);
        batch.note = Some(cut_down_note(cut_down, lang));
    }
    batch
}

fn serialized_len(report: &Report) -> usize {
    serde_json::to_vec(report).map_or(0, |bytes| bytes.len())
}

fn cut_down_note(count: u64, lang: Lang) -> String {
    let mebibytes = FULL_DETAIL_BUDGET_BYTES / (1024 * 1024);
    match lang {
        Lang::En => format!(
            "full reports are capped at {mebibytes} MiB per batch, so the last {count} items have compact reports: request them again in a smaller batch or one at a time for full detail"
        ),
        Lang::ZhCn => format!(
            "每个批次的完整报告上限为 {mebibytes} MiB，因此最后 {count} 个条目只给出精简报告：如需完整报告，请用更小的批次或逐个查询"
        ),
    }
}
