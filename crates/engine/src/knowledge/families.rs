//! Stored indicators by family or actor: how many carry each one, and which of them are
//! command-and-control servers, for `describe_threat` and for linking a hash to its family's
//! C2 addresses.

use std::collections::{BTreeMap, HashMap};

use tiq_model::{IndicatorCount, ThreatKind};
use tiq_store::{Store, StoreError};

use super::{Knowledge, normalize};

/// Indicators kept per family as examples and as C2 links.
const KEPT: usize = 10;

/// Indicators that carry one family or actor.
#[derive(Debug, Default, Clone)]
pub(crate) struct Carriers {
    pub total: u64,
    pub by_type: BTreeMap<String, u64>,
    /// The most recently seen, as `(last_seen, type, value)`, newest first.
    pub recent: Vec<Seen>,
    pub c2_total: u64,
    /// The most recently seen C2 servers, newest first.
    pub c2: Vec<Seen>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Seen {
    pub last_seen: String,
    pub kind: String,
    pub value: String,
}

impl Carriers {
    fn add(&mut self, kind: &str, value: &str, threat: &str, last_seen: Option<&str>) {
        self.total += 1;
        *self.by_type.entry(kind.to_string()).or_default() += 1;
        let seen = || Seen {
            last_seen: last_seen.unwrap_or_default().to_string(),
            kind: kind.to_string(),
            value: value.to_string(),
        };
        keep_newest(&mut self.recent, seen());
        if threat == "c2" {
            self.c2_total += 1;
            keep_newest(&mut self.c2, seen());
        }
    }

    pub fn count(&self) -> IndicatorCount {
        let mut examples: Vec<String> = self.c2.iter().map(|s| s.value.clone()).collect();
        for seen in &self.recent {
            if examples.len() >= KEPT {
                break;
            }
            if !examples.contains(&seen.value) {
                examples.push(seen.value.clone());
            }
        }
        IndicatorCount {
            total: self.total,
            by_type: self.by_type.clone(),
            examples,
        }
    }

    fn merge(&mut self, other: &Carriers) {
        self.total += other.total;
        for (kind, count) in &other.by_type {
            *self.by_type.entry(kind.clone()).or_default() += count;
        }
        self.c2_total += other.c2_total;
        for seen in &other.recent {
            keep_newest(&mut self.recent, seen.clone());
        }
        for seen in &other.c2 {
            keep_newest(&mut self.c2, seen.clone());
        }
    }
}

/// Keeps the [`KEPT`] newest entries, each value once, newest first and then by value.
fn keep_newest(list: &mut Vec<Seen>, seen: Seen) {
    if list.iter().any(|s| s.value == seen.value) {
        return;
    }
    if list.len() == KEPT
        && list
            .last()
            .is_some_and(|last| (&seen.last_seen, &last.value) <= (&last.last_seen, &seen.value))
    {
        return;
    }
    let at = list
        .iter()
        .position(|s| (&seen.last_seen, &s.value) > (&s.last_seen, &seen.value))
        .unwrap_or(list.len());
    list.insert(at, seen);
    list.truncate(KEPT);
}

/// Indicators by the knowledge entry their family name resolves to, and by normalised name
/// for names no knowledge source describes.
#[derive(Debug, Default)]
pub(crate) struct FamilyIndex {
    by_entity: HashMap<usize, Carriers>,
    by_name: HashMap<String, Carriers>,
}

impl FamilyIndex {
    /// Scans the store's family-carrying sightings once.
    pub fn build(store: &Store, knowledge: &Knowledge) -> Result<FamilyIndex, StoreError> {
        let started = std::time::Instant::now();
        // Keyed by name and whether the source calls it an actor, as reports resolve them.
        let mut by_family: HashMap<(String, bool), Carriers> = HashMap::new();
        store.for_each_family_sighting(|family, kind, value, threat, last_seen| {
            let key = (family.to_string(), threat == "apt");
            by_family
                .entry(key)
                .or_default()
                .add(kind, value, threat, last_seen);
        })?;

        let mut index = FamilyIndex::default();
        for ((family, is_actor), carriers) in by_family {
            let prefer = if is_actor {
                ThreatKind::Actor
            } else {
                ThreatKind::Family
            };
            let target = match knowledge.resolve(&family, prefer) {
                Some(entity) => index.by_entity.entry(entity).or_default(),
                None => index.by_name.entry(normalize(&family)).or_default(),
            };
            target.merge(&carriers);
        }
        tracing::info!(
            families = index.by_entity.len() + index.by_name.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "indexed indicators by family"
        );
        Ok(index)
    }

    /// Indicators carrying the knowledge entry at `entity`.
    pub fn of_entity(&self, entity: usize) -> Option<&Carriers> {
        self.by_entity.get(&entity)
    }

    /// Indicators carrying a family name no knowledge source describes.
    pub fn of_name(&self, name: &str) -> Option<&Carriers> {
        self.by_name.get(&normalize(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(last_seen: &str, value: &str) -> Seen {
        Seen {
            last_seen: last_seen.into(),
            kind: "ip".into(),
            value: value.into(),
        }
    }

    #[test]
    fn newest_kept_first() {
        let mut list = Vec::new();
        for day in 1..=15 {
            keep_newest(
                &mut list,
                seen(&format!("2026-01-{day:02}"), &format!("192.0.2.{day}")),
            );
        }
        assert_eq!(list.len(), KEPT);
        assert_eq!(list[0].value, "192.0.2.15");
        assert_eq!(list[KEPT - 1].value, "192.0.2.6");
        keep_newest(&mut list, seen("2026-01-01", "192.0.2.99"));
        assert!(list.iter().all(|s| s.value != "192.0.2.99"));
        keep_newest(&mut list, seen("2026-02-01", "192.0.2.15"));
        assert_eq!(list.iter().filter(|s| s.value == "192.0.2.15").count(), 1);
    }
}
