//! In-process latency of one analysis (parse, lookups, scoring, text) per indicator type.
//!
//! Uses the fixture feeds by default; set `TIQ_BENCH_FEEDS` to a feed folder (for example
//! the real samples) to measure against a realistic store.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use tiq_engine::{Engine, ImportOptions, import};
use tiq_model::{IndicatorKind, Lang};

fn bench_analyze(c: &mut Criterion) {
    let feeds = std::env::var_os("TIQ_BENCH_FEEDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/feeds"));
    let data = tempfile::tempdir().expect("temporary directory");
    import::import(data.path(), &[feeds], &ImportOptions::default()).expect("fixture import");
    let engine = Engine::open(data.path()).expect("engine");

    let cases = [
        ("ip_listed", IndicatorKind::Ip, "198.51.100.10"),
        ("ip_unlisted", IndicatorKind::Ip, "8.8.4.4"),
        ("domain", IndicatorKind::Domain, "www.example.org"),
        (
            "url",
            IndicatorKind::Url,
            "http://198.51.100.20:50140/bin.sh",
        ),
        (
            "hash",
            IndicatorKind::Hash,
            "0a4479f7ab080e8504c4f00b29a67068aa4479f7ab080e8504c4f00b29a67068",
        ),
    ];
    let mut group = c.benchmark_group("analyze");
    for (name, kind, value) in cases {
        group.bench_function(name, |b| {
            b.iter(|| engine.analyze(kind, value, Lang::En).expect("report"))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_analyze);
criterion_main!(benches);
