//! Lookups: everything the store and the geolocation databases know about one indicator.

use std::net::IpAddr;
use std::sync::Arc;

use regex::Regex;
use tiq_model::indicator::{Domain, UrlHost};
use tiq_model::{ClaimKind, Indicator, Related, ThreatKind, Verdict};
use tiq_store::{Store, StoreError, StoredAllow, StoredSighting};

use crate::geo::{GeoDatabases, Location};
use crate::ip_index::{AsnMatch, IpIndex};
use crate::knowledge::{FamilyIndex, Knowledge};
use crate::scope::{AddressScope, address_scope};

/// Most related indicators of one kind listed in a report.
const RELATED_LIMIT: usize = 20;

/// URL rows read per host: twice [`RELATED_LIMIT`], because one URL can have several rows.
pub const HOSTED_ROWS: usize = RELATED_LIMIT * 2;

/// Path by which a stored record reached the indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The record names the indicator itself.
    #[default]
    Exact,
    /// The record names a network that contains the address.
    Network,
    /// The record names a parent domain of the domain.
    ParentDomain,
    /// The record names a parent that is itself a public suffix (a dynamic-DNS or free
    /// hosting zone such as `duckdns.org`), shared by unrelated owners.
    SuffixParent,
    /// The record names the host (or its parent domain or network) of the URL.
    UrlHost,
    /// The record names the home page of the domain (`https://example.com/`), which lists
    /// the site itself.
    SiteUrl,
}

#[derive(Debug, Clone)]
pub struct SightingMatch {
    pub sighting: StoredSighting,
    pub via: Via,
}

#[derive(Debug, Clone)]
pub struct AllowHit {
    pub entry: StoredAllow,
    pub via: Via,
}

/// Everything known about one indicator, before scoring.
#[derive(Debug, Default)]
pub struct Findings {
    /// Scope of the address, or of the URL's host when it is an address.
    pub scope: Option<AddressScope>,
    pub sightings: Vec<SightingMatch>,
    pub allows: Vec<AllowHit>,
    pub asn: Option<AsnMatch>,
    pub location: Option<Location>,
    pub related: Vec<Related>,
    /// Related indicators found but cut by a list's cap.
    pub related_left_out: u64,
    /// Number of sources in the store.
    pub sources_total: u64,
    /// Latest import into the store.
    pub latest_import: Option<Arc<str>>,
}

/// Substring and regular-expression allow-list entries, compiled once.
pub struct AllowPatterns {
    substrings: Vec<StoredAllow>,
    regexes: Vec<(Regex, StoredAllow)>,
}

impl AllowPatterns {
    pub fn load(store: &Store) -> Result<AllowPatterns, StoreError> {
        let mut substrings = Vec::new();
        let mut regexes = Vec::new();
        for entry in store.allow_patterns()? {
            if entry.match_kind == "substring" {
                substrings.push(entry);
                continue;
            }
            match Regex::new(&entry.value) {
                Ok(regex) => regexes.push((regex, entry)),
                Err(error) => tracing::warn!(
                    list = %entry.source,
                    pattern = %entry.value,
                    %error,
                    "skipped an allow-list pattern that is not a valid regular expression"
                ),
            }
        }
        Ok(AllowPatterns {
            substrings,
            regexes,
        })
    }

    fn matches(&self, value: &str, via: Via) -> Vec<AllowHit> {
        let lower = value.to_ascii_lowercase();
        let by_substring = self.substrings.iter().filter(|e| lower.contains(&e.value));
        let by_regex = self
            .regexes
            .iter()
            .filter(|(r, _)| r.is_match(&lower))
            .map(|(_, e)| e);
        by_substring
            .chain(by_regex)
            .map(|entry| AllowHit {
                entry: entry.clone(),
                via,
            })
            .collect()
    }
}

/// The data held in memory that lookups read besides the store.
pub struct Lookups<'a> {
    /// The whole IP index, or one that contains at least the address being looked up.
    pub index: &'a IpIndex,
    pub geo: &'a GeoDatabases,
    pub patterns: &'a AllowPatterns,
    /// Number of sources in the store.
    pub sources_total: u64,
    /// Latest import into the store.
    pub latest_import: Option<Arc<str>>,
}

impl Findings {
    fn new(lookups: &Lookups<'_>) -> Findings {
        Findings {
            sources_total: lookups.sources_total,
            latest_import: lookups.latest_import.clone(),
            ..Findings::default()
        }
    }

    /// Collects the findings of an address from memory, without the store.
    pub fn for_ip(lookups: &Lookups<'_>, ip: IpAddr) -> Findings {
        let mut findings = Findings::new(lookups);
        findings.collect_ip(lookups, ip, Via::Exact);
        findings
    }

    pub fn collect(
        store: &Store,
        lookups: &Lookups<'_>,
        indicator: &Indicator,
    ) -> Result<Findings, StoreError> {
        let mut findings = Findings::new(lookups);
        match indicator {
            Indicator::Ip(ip) => findings.collect_ip(lookups, *ip, Via::Exact),
            Indicator::Domain(domain) => {
                findings.collect_domain(store, lookups.patterns, domain, false)?
            }
            Indicator::Url(url) => findings.collect_url(store, lookups, &url.url, &url.host)?,
            Indicator::Hash { hex, .. } => findings.collect_hash(store, hex)?,
            Indicator::Cve(_) => {}
        }
        findings.add_reported_together(store, &indicator.value())?;
        Ok(findings)
    }

    /// Returns whether a MISP event lists the indicator itself.
    pub fn in_misp_event(&self) -> bool {
        self.sightings
            .iter()
            .any(|m| m.via == Via::Exact && m.sighting.source.starts_with("misp-event/"))
    }

    /// Links the other indicators of each MISP event that lists `value` itself.
    pub(crate) fn add_reported_together(
        &mut self,
        store: &Store,
        value: &str,
    ) -> Result<(), StoreError> {
        let events: Vec<String> = self
            .sightings
            .iter()
            .filter(|m| m.via == Via::Exact && m.sighting.source.starts_with("misp-event/"))
            .map(|m| m.sighting.source.clone())
            .collect();
        let mut shown = std::collections::BTreeSet::new();
        for event in events {
            let mut total = store.count_source_values(&event, value)?;
            let mut in_event = std::collections::BTreeSet::new();
            for other in store.sightings_by_source(&event, RELATED_LIMIT + 1)? {
                // A value listed twice in one event is counted once.
                if other.value == value || !in_event.insert(other.value.clone()) {
                    continue;
                }
                if shown.contains(&other.value) {
                    // Listed already for another event.
                    total = total.saturating_sub(1);
                    continue;
                }
                if shown.len() >= RELATED_LIMIT {
                    break;
                }
                total = total.saturating_sub(1);
                shown.insert(other.value.clone());
                self.related.push(related(
                    &other.kind,
                    other.value,
                    "reported_together",
                    verdict_of(other.claim),
                ));
            }
            self.related_left_out += total;
        }
        Ok(())
    }

    fn collect_ip(&mut self, lookups: &Lookups<'_>, ip: IpAddr, via: Via) {
        let scope = address_scope(ip);
        self.scope = Some(scope);
        if scope.is_internal() {
            return;
        }

        let index = lookups.index;
        let at_address = index.at(ip);
        let network_via = if via == Via::Exact { Via::Network } else { via };
        self.add_sightings(at_address.sightings(), via);
        self.add_sightings(index.sightings_in_networks(ip), network_via);

        self.add_allows(at_address.allows(), via);
        for mut entry in index.allows_in_networks(ip) {
            // A list entry for a single address is shown and weighed as that address.
            let host_length = if ip.is_ipv4() { "/32" } else { "/128" };
            let entry_via = match entry.value.strip_suffix(host_length) {
                Some(address) => {
                    entry.value.truncate(address.len());
                    via
                }
                None => network_via,
            };
            self.allows.push(AllowHit {
                entry,
                via: entry_via,
            });
        }

        self.asn = index.asn_for(ip);
        // Countries for documentation and reserved ranges are artefacts of the geolocation
        // databases, not facts, so only public addresses get one.
        if scope == AddressScope::Public {
            self.location = lookups.geo.locate(ip);
        }
        if via == Via::Exact {
            let urls = at_address.hosted_urls();
            self.add_hosted_urls(urls.iter().map(|url| (&*url.value, url.claim)));
        }
    }

    fn collect_domain(
        &mut self,
        store: &Store,
        patterns: &AllowPatterns,
        domain: &Domain,
        as_url_host: bool,
    ) -> Result<(), StoreError> {
        let names = parent_names(domain);
        let via_for = |value: &str| {
            if as_url_host {
                Via::UrlHost
            } else if value == domain.name || Some(value) == domain.name.strip_prefix("www.") {
                // `www.example.org` is the same site as `example.org`.
                Via::Exact
            } else if domain
                .registered
                .as_ref()
                .is_some_and(|r| value.len() < r.len())
            {
                Via::SuffixParent
            } else {
                Via::ParentDomain
            }
        };
        for sighting in store.sightings_by_values(&names)? {
            let via = via_for(&sighting.value);
            self.sightings.push(SightingMatch { sighting, via });
        }
        for entry in store.allow_by_values(&names)? {
            // An exact-value list entry names one value, never its subdomains.
            if entry.match_kind == "exact" && entry.value != domain.name {
                continue;
            }
            let via = via_for(&entry.value);
            self.allows.push(AllowHit { entry, via });
        }
        let pattern_via = if as_url_host {
            Via::UrlHost
        } else {
            Via::Exact
        };
        self.allows
            .extend(patterns.matches(&domain.name, pattern_via));
        if !as_url_host {
            let home_pages = [
                format!("http://{}/", domain.name),
                format!("https://{}/", domain.name),
            ];
            self.add_sightings(store.sightings_by_values(&home_pages)?, Via::SiteUrl);
            let rows =
                store.sightings_by_url_host(std::slice::from_ref(&domain.name), HOSTED_ROWS)?;
            let distinct =
                self.add_hosted_urls(rows.iter().map(|row| (row.value.as_str(), row.claim)));
            if rows.len() == HOSTED_ROWS {
                // The rows stopped at the limit, so more URLs may be on the host.
                let total = store.count_url_host_values(&domain.name)?;
                self.related_left_out += total.saturating_sub(distinct as u64);
            }
            self.add_siblings(store, domain)?;
        }
        Ok(())
    }

    fn collect_url(
        &mut self,
        store: &Store,
        lookups: &Lookups<'_>,
        url: &str,
        host: &UrlHost,
    ) -> Result<(), StoreError> {
        let patterns = lookups.patterns;
        let value = url.to_string();
        self.add_sightings(
            store.sightings_by_values(std::slice::from_ref(&value))?,
            Via::Exact,
        );
        self.add_allows(
            store.allow_by_values(std::slice::from_ref(&value))?,
            Via::Exact,
        );
        self.allows.extend(patterns.matches(url, Via::Exact));
        match host {
            UrlHost::Ip(ip) => {
                self.collect_ip(lookups, *ip, Via::UrlHost);
                self.related
                    .push(related("ip", ip.to_string(), "host", None));
            }
            UrlHost::Domain(domain) => {
                self.collect_domain(store, patterns, domain, true)?;
                self.related
                    .push(related("domain", domain.name.clone(), "host", None));
            }
        }
        Ok(())
    }

    fn collect_hash(&mut self, store: &Store, hex: &str) -> Result<(), StoreError> {
        let value = hex.to_string();
        let sightings = store.sightings_by_values(std::slice::from_ref(&value))?;
        self.add_sightings(sightings, Via::Exact);
        self.add_allows(
            store.allow_by_values(std::slice::from_ref(&value))?,
            Via::Exact,
        );
        Ok(())
    }

    fn add_sightings(&mut self, sightings: Vec<StoredSighting>, via: Via) {
        self.sightings.extend(
            sightings
                .into_iter()
                .map(|sighting| SightingMatch { sighting, via }),
        );
    }

    fn add_allows(&mut self, entries: Vec<StoredAllow>, via: Via) {
        self.allows
            .extend(entries.into_iter().map(|entry| AllowHit { entry, via }));
    }

    /// Adds the first [`RELATED_LIMIT`] distinct URLs of `rows`, URL sightings on one host
    /// ordered by URL, each with the verdict of its first row.
    /// Links the first [`RELATED_LIMIT`] distinct URLs of `rows`, counts the rest as left
    /// out, and returns how many distinct URLs `rows` held.
    fn add_hosted_urls<'r>(&mut self, rows: impl Iterator<Item = (&'r str, ClaimKind)>) -> usize {
        let mut seen = std::collections::BTreeSet::new();
        for (value, claim) in rows {
            if seen.insert(value) && seen.len() <= RELATED_LIMIT {
                self.related.push(related(
                    "url",
                    value.to_string(),
                    "hosted_on",
                    verdict_of(claim),
                ));
            }
        }
        self.related_left_out += seen.len().saturating_sub(RELATED_LIMIT) as u64;
        seen.len()
    }

    /// Links a hash to the C2 servers of its families, newest first.
    pub(crate) fn add_family_c2(
        &mut self,
        knowledge: &Knowledge,
        families: &FamilyIndex,
        names: &[String],
    ) {
        let mut done = Vec::new();
        for name in names {
            let (key, carriers) = match knowledge.resolve(name, ThreatKind::Family) {
                Some(entity) => (Some(entity), families.of_entity(entity)),
                None => (None, families.of_name(name)),
            };
            let Some(carriers) = carriers else { continue };
            let key = key.map_or_else(|| crate::knowledge::normalize(name), |e| e.to_string());
            if done.contains(&key) {
                continue;
            }
            done.push(key);
            for seen in &carriers.c2 {
                self.related.push(related(
                    &seen.kind,
                    seen.value.clone(),
                    "family_c2",
                    Some(Verdict::Malicious),
                ));
            }
            self.related_left_out += carriers.c2_total - carriers.c2.len() as u64;
        }
    }

    /// Links the listed parents of the domain (from its own findings), its listed
    /// subdomains, and other listed names under the same registered domain. Siblings are left
    /// out in a shared namespace (dynamic DNS, free hosting), where they belong to unrelated
    /// owners.
    fn add_siblings(&mut self, store: &Store, domain: &Domain) -> Result<(), StoreError> {
        let mut seen = std::collections::BTreeSet::new();
        let parents: Vec<(String, ClaimKind)> = self
            .sightings
            .iter()
            .filter(|m| matches!(m.via, Via::ParentDomain | Via::SuffixParent))
            .map(|m| (m.sighting.value.clone(), m.sighting.claim))
            .collect();
        for (value, claim) in parents {
            if seen.insert(value.clone()) {
                self.related
                    .push(related("domain", value, "parent_domain", verdict_of(claim)));
            }
        }
        let Some(registered) = &domain.registered else {
            return Ok(());
        };

        let subdomains = store.domains_under(registered, &domain.name, RELATED_LIMIT + 1)?;
        let mut listed = 0;
        for sighting in subdomains {
            if seen.insert(sighting.value.clone()) {
                listed += 1;
                if listed <= RELATED_LIMIT {
                    self.related.push(related(
                        "domain",
                        sighting.value,
                        "subdomain",
                        verdict_of(sighting.claim),
                    ));
                } else {
                    self.related_left_out += 1;
                }
            }
        }

        let shared = self
            .allows
            .iter()
            .any(|hit| hit.entry.category == tiq_model::AllowCategory::SharedNamespace);
        if shared {
            return Ok(());
        }
        let rows = store.sightings_by_registered_domain(registered, RELATED_LIMIT * 2)?;
        let full = rows.len() == RELATED_LIMIT * 2;
        let mut siblings = 0;
        for sighting in rows {
            if sighting.kind != "domain" || sighting.value == domain.name {
                continue;
            }
            if seen.insert(sighting.value.clone()) {
                siblings += 1;
                if siblings <= RELATED_LIMIT {
                    self.related.push(related(
                        "domain",
                        sighting.value,
                        "sibling_domain",
                        verdict_of(sighting.claim),
                    ));
                }
            }
        }
        let total = if full {
            store.count_registered_domain_values(registered, &domain.name)?
        } else {
            siblings as u64
        };
        self.related_left_out += total.saturating_sub(RELATED_LIMIT.min(siblings) as u64);
        Ok(())
    }
}

/// Lists the domain and its parents down to the last two labels (`a.b.example.com`,
/// `b.example.com`, `example.com`). Feeds list a zone to mean every name in it, and some
/// zones are public suffixes (`duckdns.org`), so the walk does not stop at the registered
/// domain; [`Via::SuffixParent`] marks those matches.
fn parent_names(domain: &Domain) -> Vec<String> {
    let mut names = vec![domain.name.clone()];
    let mut current = domain.name.as_str();
    while let Some((_, parent)) = current.split_once('.') {
        if !parent.contains('.') {
            break;
        }
        names.push(parent.to_string());
        current = parent;
    }
    names
}

fn verdict_of(claim: ClaimKind) -> Option<Verdict> {
    match claim {
        ClaimKind::Malicious => Some(Verdict::Malicious),
        ClaimKind::Suspicious => Some(Verdict::Suspicious),
        ClaimKind::Benign => Some(Verdict::Benign),
        ClaimKind::Context => None,
    }
}

fn related(kind: &str, value: String, relation: &str, verdict: Option<Verdict>) -> Related {
    Related {
        kind: kind.to_string(),
        value,
        relation: relation.to_string(),
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_stop_at_two_labels() {
        let domain = tiq_model::indicator::parse_domain("a.b.example.co.uk").unwrap();
        assert_eq!(
            parent_names(&domain),
            [
                "a.b.example.co.uk",
                "b.example.co.uk",
                "example.co.uk",
                "co.uk"
            ]
        );
        let domain = tiq_model::indicator::parse_domain("example.com").unwrap();
        assert_eq!(parent_names(&domain), ["example.com"]);
    }
}
