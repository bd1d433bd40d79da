//! Batch analysis over the fixture feeds: reports equal to single analyses, duplicates,
//! errors per item, the item limit and the time 1,000 addresses take.

use std::path::Path;
use std::time::Instant;

use serde_json::{Value, json};
use tiq_engine::{Engine, ImportOptions, import};
use tiq_model::batch::{BatchError, Detail, ItemErrorCode, ItemReport, MAX_BATCH_ITEMS};
use tiq_model::{IndicatorKind, Lang, Verdict};

fn imported() -> (tempfile::TempDir, Engine) {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds");
    import::import(dir.path(), &[fixtures], &ImportOptions::default()).unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    assert!(engine.wait_for_ip_index());
    (dir, engine)
}

#[test]
fn full_reports_equal_single_analyses() {
    let (_dir, engine) = imported();
    let items = [
        json!("198.51.100.10"),
        json!({"type": "domain", "value": "www.example.org"}),
    ];
    let batch = engine
        .analyze_batch(&items, Detail::Full, Lang::En)
        .unwrap();
    let single = [
        engine
            .analyze(IndicatorKind::Ip, "198.51.100.10", Lang::En)
            .unwrap(),
        engine
            .analyze(IndicatorKind::Domain, "www.example.org", Lang::En)
            .unwrap(),
    ];
    for (result, expected) in batch.results.iter().zip(&single) {
        let Some(ItemReport::Full(report)) = &result.report else {
            panic!("no full report: {result:?}");
        };
        assert_eq!(report.as_ref(), expected);
    }
    assert_eq!(batch.verdicts.malicious, 1);
    assert_eq!(batch.verdicts.benign, 1);
    assert!(batch.note.is_none());
}

#[test]
fn duplicates_analysed_once() {
    let (_dir, engine) = imported();
    let items = [
        json!("198.51.100.10"),
        json!("198.51.100[.]10"),
        json!({"type": "ip", "value": "198.51.100.10"}),
    ];
    let batch = engine
        .analyze_batch(&items, Detail::Compact, Lang::En)
        .unwrap();
    assert_eq!(batch.analyzed, 1);
    assert_eq!(batch.verdicts.malicious, 3);
    let inputs: Vec<&str> = batch.results.iter().map(|r| r.input.as_str()).collect();
    assert_eq!(
        inputs,
        ["198.51.100.10", "198.51.100[.]10", "198.51.100.10"]
    );
}

#[test]
fn errors_stay_with_their_item() {
    let (_dir, engine) = imported();
    let items = [json!("not a thing"), json!("198.51.100.10"), json!(null)];
    let batch = engine
        .analyze_batch(&items, Detail::Compact, Lang::ZhCn)
        .unwrap();
    assert_eq!(batch.errors, 2);
    let first = batch.results[0].error.as_ref().unwrap();
    assert_eq!(first.code, ItemErrorCode::InvalidIndicator);
    assert!(first.message.contains("not a thing"), "{}", first.message);
    assert!(first.message.contains("无效"), "{}", first.message);
    assert!(batch.results[1].report.is_some());
    assert_eq!(
        batch.results[2].error.as_ref().unwrap().code,
        ItemErrorCode::InvalidItem
    );
}

#[test]
fn over_limit_rejected() {
    let (_dir, engine) = imported();
    let items = vec![json!("192.0.2.1"); MAX_BATCH_ITEMS + 1];
    let error = engine
        .analyze_batch(&items, Detail::Compact, Lang::En)
        .unwrap_err();
    assert_eq!(
        error,
        BatchError::TooMany {
            count: 1001,
            limit: 1000
        }
    );
}

#[test]
fn empty_batch() {
    let (_dir, engine) = imported();
    let batch = engine
        .analyze_batch(&[], Detail::Compact, Lang::En)
        .unwrap();
    assert_eq!(batch.total, 0);
    assert!(batch.results.is_empty());
}

#[test]
fn batch_of_1000_ips() {
    let (_dir, engine) = imported();
    let items: Vec<Value> = (0..1000)
        .map(|i| json!(format!("198.51.{}.{}", 100 + i / 250, i % 250)))
        .collect();
    let started = Instant::now();
    let batch = engine
        .analyze_batch(&items, Detail::Compact, Lang::En)
        .unwrap();
    let elapsed = started.elapsed();
    eprintln!("1,000 distinct IP addresses: {elapsed:?}");
    assert_eq!(batch.analyzed, 1000);
    assert_eq!(batch.errors, 0);
    let counted = batch.verdicts.malicious
        + batch.verdicts.suspicious
        + batch.verdicts.benign
        + batch.verdicts.unknown;
    assert_eq!(counted, 1000);
    let listed = &batch.results[10];
    let Some(ItemReport::Compact(report)) = &listed.report else {
        panic!("{listed:?}");
    };
    assert_eq!(
        report.verdict,
        Verdict::Malicious,
        "198.51.100.10 is listed"
    );
}
