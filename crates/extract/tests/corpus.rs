//! Every case of the extraction corpus gives exactly its expected indicators.

use std::collections::BTreeSet;

use serde_json::Value;

const CORPUS: &str = include_str!("corpus.jsonl");

#[test]
fn every_corpus_case_matches_exactly() {
    let mut failures = Vec::new();
    let mut cases = 0;
    for (number, line) in CORPUS.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        cases += 1;

        let case: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("corpus line {} is not valid JSON: {e}", number + 1));
        let id = case["id"].as_str().unwrap_or("?");
        let text = case["text"].as_str().expect("text");
        let expected: BTreeSet<(String, String)> = case["expect"]
            .as_array()
            .expect("expect")
            .iter()
            .map(|item| {
                (
                    item["kind"].as_str().expect("kind").to_string(),
                    item["value"].as_str().expect("value").to_string(),
                )
            })
            .collect();

        let got: BTreeSet<(String, String)> = tiq_extract::extract(text)
            .into_iter()
            .map(|item| (item.kind.name().to_string(), item.value))
            .collect();
        if got != expected {
            let missed: Vec<_> = expected.difference(&got).collect();
            let extra: Vec<_> = got.difference(&expected).collect();
            failures.push(format!("{id}: missed {missed:?}, extra {extra:?}"));
        }
    }

    assert!(cases >= 200, "the corpus has only {cases} cases");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
