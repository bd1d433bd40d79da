//! Latency percentiles of `search_vul` queries: by id, by keyword and by product and
//! version. Criterion reports no tail percentiles, so this harness times each query itself
//! and prints p50 and p99 over many runs.
//!
//! Uses the fixture files by default. `TIQ_BENCH_DATA` names an existing data directory (for
//! example one built by `benches/vuln-scale.sh`), and `TIQ_BENCH_QUERIES` a file of
//! `kind<TAB>query` lines to time instead of the built-in ones.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tiq_engine::vuln::VulnQuery;
use tiq_engine::{Engine, ImportOptions, import};
use tiq_model::Lang;

const RUNS: usize = 500;

fn main() {
    let (_temporary, data) = match std::env::var_os("TIQ_BENCH_DATA") {
        Some(dir) => (None, PathBuf::from(dir)),
        None => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let fixtures =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/vulnerabilities");
            import::import(dir.path(), &[fixtures], &ImportOptions::default())
                .expect("fixture import");
            let path = dir.path().to_path_buf();
            (Some(dir), path)
        }
    };
    let engine = Engine::open(&data).expect("engine");
    let queries: Vec<(String, String)> = match std::env::var_os("TIQ_BENCH_QUERIES") {
        Some(file) => std::fs::read_to_string(file)
            .expect("query file")
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .map(|(kind, query)| (kind.to_string(), query.to_string()))
            .collect(),
        None => [
            ("id", "CVE-2024-0101"),
            ("keyword", "remote code execution"),
            ("product", "Example Server 9.0.30"),
        ]
        .iter()
        .map(|(kind, query)| (kind.to_string(), query.to_string()))
        .collect(),
    };

    println!(
        "{:<10} {:<40} {:>8} {:>10} {:>10}",
        "kind", "query", "total", "p50", "p99"
    );
    for (kind, text) in &queries {
        let request = VulnQuery {
            query: text.clone(),
            ..VulnQuery::default()
        };
        // The first search builds the CVE mention index; it is not part of the figures.
        let total = engine
            .search_vulnerabilities(&request, Lang::En)
            .expect("search")
            .total;
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let started = Instant::now();
                let result = engine.search_vulnerabilities(&request, Lang::En);
                let elapsed = started.elapsed();
                std::hint::black_box(result.expect("search"));
                elapsed
            })
            .collect();
        times.sort();
        let percentile = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
        println!(
            "{kind:<10} {:<40} {total:>8} {:>10.3?} {:>10.3?}",
            text.chars().take(40).collect::<String>(),
            percentile(0.5),
            percentile(0.99)
        );
    }
}
