//! Evaluation of verdicts against the imported data itself: how many indicators of the
//! malicious feeds tiq flags (recall), how many known-benign indicators it flags (false
//! positives), and, with one source held out, how many of its indicators other sources list.

use std::collections::HashSet;
use std::net::IpAddr;

use serde::Serialize;
use tiq_model::{AllowCategory, Indicator, IndicatorKind, Lang, Verdict};
use tiq_store::{StoredAllow, StoredSighting};

use crate::{AnalyzeError, Engine};

/// Highest top-site rank sampled as known-benign: the top ten thousand.
pub const TOP_SITE_RANK: u32 = 10_000;

/// The known-benign sets measured, by list category.
pub const BENIGN_SETS: [AllowCategory; 5] = [
    AllowCategory::PublicResolver,
    AllowCategory::Cloud,
    AllowCategory::Cdn,
    AllowCategory::TopSite,
    AllowCategory::Crawler,
];

/// Options of an evaluation.
#[derive(Debug, Clone)]
pub struct EvaluateOptions {
    /// Indicators sampled from the malicious feeds, and from each known-benign set.
    pub sample: usize,
    /// Fixes the samples, so two runs over the same data measure the same indicators.
    pub seed: u64,
    /// A source whose indicators are checked against the other sources only.
    pub hold_out: Option<String>,
}

/// Result of an evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub recall: Recall,
    pub benign: Vec<BenignSet>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_out: Option<HoldOut>,
}

/// Indicators from malicious claims, and how many tiq rates malicious or suspicious.
#[derive(Debug, Clone, Serialize)]
pub struct Recall {
    pub sampled: usize,
    pub flagged: usize,
    /// Every sampled indicator not flagged, with the known-benign lists that matched it.
    pub misses: Vec<Miss>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Miss {
    pub indicator: String,
    pub source: String,
    pub verdict: Verdict,
    pub benign_lists: Vec<String>,
}

/// One known-benign set and how many of its indicators tiq flags.
#[derive(Debug, Clone, Serialize)]
pub struct BenignSet {
    pub category: AllowCategory,
    pub sampled: usize,
    pub flagged: usize,
    /// The flagged indicators, with the sources that listed them.
    pub flagged_indicators: Vec<Miss>,
}

/// Indicators of the held-out source that other sources list too.
#[derive(Debug, Clone, Serialize)]
pub struct HoldOut {
    pub source: String,
    pub sampled: usize,
    pub known_elsewhere: usize,
}

impl Recall {
    pub fn share(&self) -> f64 {
        share(self.flagged, self.sampled)
    }
}

impl BenignSet {
    pub fn share(&self) -> f64 {
        share(self.flagged, self.sampled)
    }
}

impl Evaluation {
    /// Share of all sampled known-benign indicators rated malicious or suspicious.
    pub fn false_positive_share(&self) -> f64 {
        let sampled = self.benign.iter().map(|set| set.sampled).sum();
        let flagged = self.benign.iter().map(|set| set.flagged).sum();
        share(flagged, sampled)
    }
}

fn share(part: usize, whole: usize) -> f64 {
    match whole {
        0 => 0.0,
        _ => part as f64 / whole as f64,
    }
}

fn is_flagged(verdict: Verdict) -> bool {
    matches!(verdict, Verdict::Malicious | Verdict::Suspicious)
}

impl Engine {
    /// Measures recall, false positives and, with a held-out source, overlap, on samples of
    /// the imported data.
    pub fn evaluate(&self, options: &EvaluateOptions) -> Result<Evaluation, AnalyzeError> {
        let store = self.checkout()?;
        let sightings = store.sample_sightings("malicious", options.sample, options.seed);
        let mut sets = Vec::new();
        for category in BENIGN_SETS {
            let max_rank = (category == AllowCategory::TopSite).then_some(TOP_SITE_RANK);
            let entries =
                store.sample_allow(category.name(), max_rank, options.sample, options.seed);
            sets.push((category, entries));
        }
        let held_out_sample = options.hold_out.as_ref().map(|source| {
            store
                .sightings_by_source(source, options.sample)
                .map(|found| (source.clone(), found))
        });
        self.checkin(store);

        let recall = self.recall(&sightings?)?;
        let mut benign = Vec::new();
        for (category, entries) in sets {
            benign.push(self.benign_set(category, &entries?)?);
        }
        let hold_out = match held_out_sample {
            Some(found) => {
                let (source, found) = found?;
                Some(self.hold_out(source, &found)?)
            }
            None => None,
        };
        Ok(Evaluation {
            recall,
            benign,
            hold_out,
        })
    }

    fn recall(&self, sightings: &[StoredSighting]) -> Result<Recall, AnalyzeError> {
        let mut recall = Recall {
            sampled: 0,
            flagged: 0,
            misses: Vec::new(),
        };
        for sighting in sightings {
            let Some(indicator) = sighting_indicator(sighting) else {
                continue;
            };
            let report = self.analyze_indicator(&sighting.value, &indicator, Lang::En)?;
            recall.sampled += 1;
            if is_flagged(report.verdict) {
                recall.flagged += 1;
            } else {
                recall.misses.push(Miss {
                    indicator: sighting.value.clone(),
                    source: sighting.source.clone(),
                    verdict: report.verdict,
                    benign_lists: report
                        .benign_matches
                        .iter()
                        .map(|m| m.list.clone())
                        .collect(),
                });
            }
        }
        Ok(recall)
    }

    fn benign_set(
        &self,
        category: AllowCategory,
        entries: &[StoredAllow],
    ) -> Result<BenignSet, AnalyzeError> {
        let mut set = BenignSet {
            category,
            sampled: 0,
            flagged: 0,
            flagged_indicators: Vec::new(),
        };
        for entry in entries {
            let Some(indicator) = allow_indicator(entry) else {
                continue;
            };
            let value = indicator.value();
            let report = self.analyze_indicator(&value, &indicator, Lang::En)?;
            set.sampled += 1;
            if is_flagged(report.verdict) {
                set.flagged += 1;
                set.flagged_indicators.push(Miss {
                    indicator: value,
                    source: report
                        .evidence
                        .iter()
                        .map(|e| e.source.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                    verdict: report.verdict,
                    benign_lists: vec![entry.source.clone()],
                });
            }
        }
        Ok(set)
    }

    /// Counts the sampled indicators of the held-out source that a source of another
    /// provider lists: slices of one feed (ipsum and its levels) do not count as others.
    fn hold_out(&self, source: String, found: &[StoredSighting]) -> Result<HoldOut, AnalyzeError> {
        let sources = self.sources()?;
        let provider = sources
            .iter()
            .find(|row| row.name == source)
            .map(|row| row.provider.clone());
        let same_provider: HashSet<String> = sources
            .into_iter()
            .filter(|row| Some(&row.provider) == provider.as_ref())
            .map(|row| row.name)
            .collect();
        let mut hold_out = HoldOut {
            source,
            sampled: 0,
            known_elsewhere: 0,
        };
        for sighting in found {
            let Some(indicator) = sighting_indicator(sighting) else {
                continue;
            };
            let report = self.analyze_indicator(&sighting.value, &indicator, Lang::En)?;
            hold_out.sampled += 1;
            let elsewhere = report
                .evidence
                .iter()
                .any(|e| !same_provider.contains(&e.source));
            if elsewhere {
                hold_out.known_elsewhere += 1;
            }
        }
        Ok(hold_out)
    }
}

/// Returns the indicator a sighting names, unless it names a network.
fn sighting_indicator(sighting: &StoredSighting) -> Option<Indicator> {
    let kind = match sighting.kind.as_str() {
        "ip" => IndicatorKind::Ip,
        "domain" => IndicatorKind::Domain,
        "url" => IndicatorKind::Url,
        "md5" | "sha1" | "sha256" => IndicatorKind::Hash,
        _ => return None,
    };
    Indicator::parse_as(kind, &sighting.value).ok()
}

/// Returns the indicator a known-benign entry stands for: the entry itself, or for a
/// network the first address after the network address.
fn allow_indicator(entry: &StoredAllow) -> Option<Indicator> {
    match entry.match_kind.as_str() {
        "network" => {
            let net: ipnet::IpNet = entry.value.parse().ok()?;
            let address = net.hosts().next().unwrap_or(net.network());
            Some(Indicator::Ip(address as IpAddr))
        }
        "hostname" => Indicator::parse_as(IndicatorKind::Domain, &entry.value).ok(),
        _ => Indicator::parse_any(&entry.value).ok(),
    }
}
