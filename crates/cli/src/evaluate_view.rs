//! `tiq evaluate`: verdict quality measured on the imported data.

use std::path::Path;
use std::process::ExitCode;

use tiq_engine::IpIndexing;
use tiq_engine::evaluate::{EvaluateOptions, Evaluation, Miss};
use tiq_model::Lang;

use crate::args::EvaluateArgs;
use crate::config::Config;
use crate::render::{outln, table};

/// Share of sampled malicious indicators tiq should flag.
const RECALL_TARGET: f64 = 0.95;
/// Share of known-benign indicators tiq may flag.
const FALSE_POSITIVE_TARGET: f64 = 0.005;

pub fn evaluate(
    data_dir: &Path,
    config: &Config,
    args: &EvaluateArgs,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    let engine = crate::open_existing(data_dir, config, IpIndexing::Background, lang)?;
    let options = EvaluateOptions {
        sample: args.sample,
        seed: args.seed,
        hold_out: args.hold_out.clone(),
    };
    let evaluation = engine
        .evaluate(&options)
        .map_err(|e| anyhow::anyhow!(e.message(lang)))?;
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&evaluation)?);
    } else {
        render(&evaluation, lang);
    }
    Ok(ExitCode::SUCCESS)
}

fn percent(share: f64) -> String {
    format!("{:.2} %", share * 100.0)
}

fn render(evaluation: &Evaluation, lang: Lang) {
    let recall = &evaluation.recall;
    let header = [
        lang.pick("MEASURE", "指标"),
        lang.pick("SAMPLED", "样本"),
        lang.pick("FLAGGED", "判为恶意或可疑"),
        lang.pick("SHARE", "比例"),
        lang.pick("TARGET", "目标"),
    ];
    let mut rows = vec![vec![
        lang.pick("recall (malicious feeds)", "检出率（恶意情报源）")
            .to_string(),
        recall.sampled.to_string(),
        recall.flagged.to_string(),
        percent(recall.share()),
        format!("≥ {}", percent(RECALL_TARGET)),
    ]];
    for set in &evaluation.benign {
        let name = set.category.name();
        rows.push(vec![
            match lang {
                Lang::En => format!("false positives ({name})"),
                Lang::ZhCn => format!("误报（{name}）"),
            },
            set.sampled.to_string(),
            set.flagged.to_string(),
            percent(set.share()),
            String::new(),
        ]);
    }
    let sampled: usize = evaluation.benign.iter().map(|s| s.sampled).sum();
    let flagged: usize = evaluation.benign.iter().map(|s| s.flagged).sum();
    rows.push(vec![
        lang.pick("false positives (all benign sets)", "误报（全部良性集合）")
            .to_string(),
        sampled.to_string(),
        flagged.to_string(),
        percent(evaluation.false_positive_share()),
        format!("≤ {}", percent(FALSE_POSITIVE_TARGET)),
    ]);
    table(&header, &rows, "");

    if let Some(hold_out) = evaluation.hold_out.as_ref().filter(|h| h.sampled == 0) {
        outln!(
            "\n{}",
            match lang {
                Lang::En => format!(
                    "No indicator of a source named {:?}; `tiq sources` lists the names.",
                    hold_out.source
                ),
                Lang::ZhCn => format!(
                    "没有名为 {:?} 的来源的指标；`tiq sources` 列出全部名称。",
                    hold_out.source
                ),
            }
        );
    } else if let Some(hold_out) = &evaluation.hold_out {
        outln!();
        let share = percent(if hold_out.sampled == 0 {
            0.0
        } else {
            hold_out.known_elsewhere as f64 / hold_out.sampled as f64
        });
        match lang {
            Lang::En => outln!(
                "Held out {}: {} of {} sampled indicators ({share}) are listed by other sources.",
                hold_out.source,
                hold_out.known_elsewhere,
                hold_out.sampled
            ),
            Lang::ZhCn => outln!(
                "留出 {}：抽样的 {} 个指标中有 {} 个（{share}）也被其他来源收录。",
                hold_out.source,
                hold_out.sampled,
                hold_out.known_elsewhere
            ),
        }
    }

    let overridden: Vec<&Miss> = recall
        .misses
        .iter()
        .filter(|miss| !miss.benign_lists.is_empty())
        .collect();
    if !overridden.is_empty() {
        outln!(
            "\n{}",
            lang.pick(
                "Misses a known-benign list overrides:",
                "被良性名单覆盖而未判为恶意的指标："
            )
        );
        for miss in overridden {
            outln!(
                "  {}  ({})  {}: {}",
                miss.indicator,
                miss.source,
                lang.pick("lists", "名单"),
                miss.benign_lists.join(", ")
            );
        }
    }
    let other = recall.misses.len()
        - recall
            .misses
            .iter()
            .filter(|m| !m.benign_lists.is_empty())
            .count();
    if other > 0 {
        outln!(
            "\n{}",
            match lang {
                Lang::En => format!("{other} other misses; --json lists them."),
                Lang::ZhCn => format!("另有 {other} 个未检出的指标；--json 可列出全部。"),
            }
        );
    }
    for set in evaluation
        .benign
        .iter()
        .filter(|s| !s.flagged_indicators.is_empty())
    {
        outln!(
            "\n{} ({}):",
            lang.pick(
                "Flagged known-benign indicators",
                "被判为恶意或可疑的良性指标"
            ),
            set.category.name()
        );
        for flagged in &set.flagged_indicators {
            outln!(
                "  {}  {:?}  {}",
                flagged.indicator,
                flagged.verdict,
                flagged.source
            );
        }
    }
}
