//! Extraction throughput on a generated access log, and on threat-report prose.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

use tiq_extract::{Extractor, Options};

/// Returns `lines` lines of combined access log with documentation addresses.
fn access_log(lines: usize) -> String {
    let mut log = String::with_capacity(lines * 200);
    for n in 0..lines {
        log.push_str(&format!(
            "{}.{} - - [05/Dec/2026:10:{:02}:{:02} +0000] \"GET /shop/item.php?id={n} HTTP/1.1\" {} 5120 \"https://www.example.com/list?page={}\" \"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\"\n",
            ["192.0.2", "198.51.100", "203.0.113"][n % 3],
            n % 250 + 1,
            (n / 60) % 60,
            n % 60,
            if n % 17 == 0 { 404 } else { 200 },
            n % 9,
        ));
    }
    log
}

/// Returns `paragraphs` copies of a threat-report paragraph with defanged indicators.
fn prose(paragraphs: usize) -> String {
    "The loader fetched hxxps://cdn.example[.]com/stage2.bin (SHA-256 \
     9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08) and beaconed to \
     198.51.100.23:8443 and [2001:db8::7]:443. Exploitation of CVE-2023-4966 preceded it; \
     report to soc[at]example.org.\n"
        .repeat(paragraphs)
}

/// Extracts `input` fed in 64 KiB chunks and returns the number of indicators.
fn run(input: &str) -> usize {
    let mut extractor = Extractor::new(Options::default());
    for chunk in input.as_bytes().chunks(64 * 1024) {
        extractor.feed(chunk);
    }
    extractor.finish().indicators.len()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("extract");

    let log = access_log(50_000);
    group.throughput(Throughput::Bytes(log.len() as u64));
    group.bench_function("access_log", |b| b.iter(|| run(black_box(&log))));

    let text = prose(20_000);
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("report_prose", |b| b.iter(|| run(black_box(&text))));

    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
