//! Threat knowledge end to end: ATT&CK, MISP galaxy and Maltrail alias fixtures imported with
//! a ThreatFox file whose rows spell one family three ways.

use std::path::Path;

use tiq_engine::knowledge::Knowledge;
use tiq_engine::{DescribeError, Engine, FileStatus, ImportOptions, import};
use tiq_model::{IndicatorKind, KnowledgeMatch, KnowledgeRef, Lang, ThreatKind, Verdict};

const HASH: &str = "9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b";

fn imported() -> (tempfile::TempDir, Engine) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge");
    let dir = tempfile::tempdir().unwrap();
    let summary = import::import(dir.path(), &[fixtures], &ImportOptions::default()).unwrap();
    for file in &summary.files {
        assert_eq!(file.status, FileStatus::Imported, "{}", file.path.display());
    }
    let engine = Engine::open(dir.path()).unwrap();
    (dir, engine)
}

fn reference(id: &str, name: &str) -> KnowledgeRef {
    KnowledgeRef {
        id: Some(id.to_string()),
        name: name.to_string(),
    }
}

#[test]
fn spellings_name_one_family() {
    let (_dir, engine) = imported();
    for query in [
        "examplestrike",
        "Example Strike",
        "win.example_strike",
        "S9001",
        "ExBeacon",
    ] {
        let d = engine.describe_threat(query, Lang::En).unwrap();
        assert!(d.found, "{query}: {}", d.summary);
        assert_eq!(d.kind, Some(ThreatKind::Family), "{query}");
        assert_eq!(
            d.entry,
            Some(reference("S9001", "Example Strike")),
            "{query}"
        );
    }
}

#[test]
fn family_description_links_and_counts() {
    let (_dir, engine) = imported();
    let d = engine.describe_threat("Example Strike", Lang::En).unwrap();
    assert_eq!(d.description, "Example Strike is an invented framework.");
    assert_eq!(d.aliases, ["ExBeacon", "ExStrike"]);
    assert_eq!(d.actors, [reference("G9001", "Example Bear")]);
    assert_eq!(
        d.techniques,
        [reference("T9001.001", "Example Protocol: Web Example")]
    );
    assert_eq!(d.campaigns, [reference("C9001", "Operation Example")]);
    assert_eq!(d.indicators.total, 3);
    assert_eq!(d.indicators.by_type.get("ip"), Some(&2));
    assert_eq!(d.indicators.by_type.get("sha256"), Some(&1));
    assert_eq!(d.indicators.examples[0], "203.0.113.77", "newest C2 first");
    assert_eq!(
        d.sources,
        ["misp-galaxy/malpedia", "mitre-attack/enterprise"]
    );
    // The actor of the same name stays a separate entry.
    assert_eq!(
        d.other_matches,
        [KnowledgeMatch {
            kind: ThreatKind::Actor,
            id: None,
            name: "Example Strike".to_string()
        }]
    );
}

#[test]
fn citation_alone_does_not_merge() {
    let (_dir, engine) = imported();
    let d = engine.describe_threat("Other Loader", Lang::En).unwrap();
    assert_eq!(d.entry, Some(reference("win.other_loader", "Other Loader")));
    assert_eq!(d.indicators.total, 0);
}

#[test]
fn actor_merges_attack_and_galaxy() {
    let (_dir, engine) = imported();
    let d = engine.describe_threat("EXB", Lang::En).unwrap();
    assert_eq!(d.entry, Some(reference("G9001", "Example Bear")));
    assert_eq!(d.country.as_deref(), Some("ZZ"));
    assert_eq!(d.description, "Example Bear is an invented group.");
    assert_eq!(
        d.families,
        [
            reference("S9001", "Example Strike"),
            reference("S9004", "Shared Tool"),
            reference("win.sample_stealer", "Sample Stealer")
        ]
    );
    assert!(d.summary.contains("Suspected origin: ZZ"), "{}", d.summary);
}

#[test]
fn techniques_and_tactics() {
    let (_dir, engine) = imported();
    let d = engine.describe_threat("t9001.001", Lang::En).unwrap();
    assert_eq!(d.kind, Some(ThreatKind::Technique));
    assert_eq!(d.tactics, ["Command and Control"]);
    assert_eq!(d.families, [reference("S9001", "Example Strike")]);

    let d = engine.describe_threat("TA9011", Lang::En).unwrap();
    assert_eq!(d.kind, Some(ThreatKind::Tactic));
    let ids: Vec<&str> = d
        .techniques
        .iter()
        .filter_map(|t| t.id.as_deref())
        .collect();
    assert_eq!(ids, ["T9001", "T9001.001", "T9001.002"]);

    let d = engine.describe_threat("T9001", Lang::En).unwrap();
    assert_eq!(
        d.description, "Adversaries talk over an example protocol.",
        "citation removed"
    );
}

#[test]
fn withdrawn_objects_are_left_out() {
    let (_dir, engine) = imported();
    let d = engine
        .describe_threat("Withdrawn Sample", Lang::En)
        .unwrap();
    assert!(!d.found);
}

#[test]
fn maltrail_alias_and_suffix_resolve() {
    let (_dir, engine) = imported();
    let d = engine.describe_threat("samplec2", Lang::En).unwrap();
    assert_eq!(
        d.entry,
        Some(reference("win.sample_stealer", "Sample Stealer"))
    );
    assert_eq!(d.indicators.total, 2, "{:?}", d.indicators);
}

#[test]
fn unknown_name_says_so_in_both_languages() {
    let (_dir, engine) = imported();
    let d = engine.describe_threat("Nothing Known", Lang::En).unwrap();
    assert!(!d.found);
    assert!(d.summary.contains("\"Nothing Known\""), "{}", d.summary);
    let d = engine.describe_threat("Nothing Known", Lang::ZhCn).unwrap();
    assert!(d.summary.contains("知识库"), "{}", d.summary);
}

#[test]
fn empty_store_points_at_sync() {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open(dir.path()).unwrap();
    let d = engine.describe_threat("Example Strike", Lang::En).unwrap();
    assert!(!d.found);
    assert!(
        d.summary.contains("tiq sync mitre-attack misp-galaxy"),
        "{}",
        d.summary
    );
}

#[test]
fn hash_report_names_family_and_links_c2() {
    let (_dir, engine) = imported();
    let report = engine.analyze(IndicatorKind::Hash, HASH, Lang::En).unwrap();
    assert_eq!(report.verdict, Verdict::Malicious);
    assert_eq!(report.families, [reference("S9001", "Example Strike")]);
    assert_eq!(
        report.techniques,
        [reference("T9001.001", "Example Protocol: Web Example")]
    );
    assert_eq!(report.campaigns, [reference("C9001", "Operation Example")]);
    let c2: Vec<&str> = report
        .related
        .iter()
        .filter(|r| r.relation == "family_c2")
        .map(|r| r.value.as_str())
        .collect();
    assert_eq!(c2, ["203.0.113.77", "192.0.2.77"]);
    assert!(
        report.summary.contains("Example Strike"),
        "{}",
        report.summary
    );
}

#[test]
fn ip_report_uses_canonical_family() {
    let (_dir, engine) = imported();
    let report = engine
        .analyze(IndicatorKind::Ip, "192.0.2.77", Lang::En)
        .unwrap();
    assert_eq!(report.families, [reference("S9001", "Example Strike")]);
    // C2 links are made for hashes only.
    assert!(report.related.iter().all(|r| r.relation != "family_c2"));
}

#[test]
fn domain_links_event_payloads_once() {
    let (_dir, engine) = imported();
    let report = engine
        .analyze(IndicatorKind::Domain, "payload.example.net", Lang::En)
        .unwrap();
    let links: Vec<(&str, &str)> = report
        .related
        .iter()
        .map(|r| (r.value.as_str(), r.relation.as_str()))
        .collect();
    assert!(
        links.contains(&(
            "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f",
            "reported_together"
        )),
        "{links:?}"
    );
    let url = "http://payload.example.net/drop.bin";
    assert_eq!(
        links.iter().filter(|(value, _)| *value == url).count(),
        1,
        "{links:?}"
    );
    assert!(links.contains(&(url, "hosted_on")), "{links:?}");
    assert!(report.left_out.is_empty(), "{:?}", report.left_out);
}

#[test]
fn capped_related_list_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds");
    std::fs::create_dir(&feeds).unwrap();
    let urls: String = (1..=25)
        .map(|n| format!("http://198.51.100.88/payload{n}.bin\n"))
        .collect();
    std::fs::write(feeds.join("malware_urls.txt"), urls).unwrap();
    let data = dir.path().join("data");
    import::import(&data, &[feeds], &ImportOptions::default()).unwrap();
    let engine = Engine::open(&data).unwrap();

    let report = engine
        .analyze(IndicatorKind::Ip, "198.51.100.88", Lang::En)
        .unwrap();
    let hosted = report
        .related
        .iter()
        .filter(|r| r.relation == "hosted_on")
        .count();
    assert_eq!(hosted, 20);
    assert_eq!(
        report.left_out.get("related"),
        Some(&5),
        "{:?}",
        report.left_out
    );
}

#[test]
fn sub_techniques_sharing_a_name_stay_apart() {
    let (_dir, engine) = imported();
    for (id, name) in [
        ("T9001.002", "Example Protocol: Shared Name"),
        ("T9002.001", "Example Discovery: Shared Name"),
    ] {
        let d = engine.describe_threat(id, Lang::En).unwrap();
        assert_eq!(d.entry, Some(reference(id, name)), "{id}");
    }
    let d = engine.describe_threat("Shared Name", Lang::En).unwrap();
    let mut ids: Vec<Option<String>> = std::iter::once(d.entry.unwrap().id)
        .chain(d.other_matches.into_iter().map(|m| m.id))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        [Some("T9001.002".to_string()), Some("T9002.001".to_string())]
    );
}

#[test]
fn galaxy_cluster_keeps_groups_apart() {
    let (_dir, engine) = imported();
    let d = engine.describe_threat("G9003", Lang::En).unwrap();
    assert_eq!(d.entry, Some(reference("G9003", "Sample Kitten")));
    assert_eq!(
        d.description,
        "Sample Kitten is an invented group that a vendor reports as part of Sample Panda."
    );
    let d = engine.describe_threat("G9002", Lang::En).unwrap();
    assert_eq!(d.entry, Some(reference("G9002", "Sample Panda")));
    assert_eq!(
        d.sources,
        ["misp-galaxy/threat-actor", "mitre-attack/enterprise"],
        "the cluster of the same name merges"
    );
}

#[test]
fn malpedia_ids_with_one_name_stay_apart() {
    let (_dir, engine) = imported();
    for id in ["win.twin_bot", "elf.twin_bot", "ELF.Twin_Bot"] {
        let d = engine.describe_threat(id, Lang::En).unwrap();
        assert_eq!(
            d.entry,
            Some(reference(&id.to_lowercase(), "Twin Bot")),
            "{id}"
        );
        assert_eq!(d.other_matches.len(), 1, "{id}");
    }
}

#[test]
fn exact_malpedia_id_ranks_first() {
    let (_dir, engine) = imported();
    let d = engine
        .describe_threat("win.sample_locker", Lang::En)
        .unwrap();
    assert_eq!(
        d.entry,
        Some(reference("win.sample_locker", "Sample Locker (Windows)"))
    );
    let d = engine.describe_threat("Sample Locker", Lang::En).unwrap();
    assert_eq!(d.entry, Some(KnowledgeRef::named("Sample Locker")));
    // A family with an ATT&CK id keeps its Malpedia id for lookups.
    let d = engine
        .describe_threat("WIN.example_strike", Lang::En)
        .unwrap();
    assert_eq!(d.entry, Some(reference("S9001", "Example Strike")));
}

/// The index of the imported fixtures, for calls below `Engine`.
fn knowledge_of(dir: &tempfile::TempDir, engine: &Engine) -> Knowledge {
    Knowledge::load(dir.path(), &engine.sources().unwrap())
}

#[test]
fn alias_only_match_prefers_actor() {
    let (dir, engine) = imported();
    let d = engine.describe_threat("sednex", Lang::En).unwrap();
    assert_eq!(d.entry, Some(reference("G9001", "Example Bear")));
    assert_eq!(
        d.other_matches
            .iter()
            .map(|m| m.id.as_deref())
            .collect::<Vec<_>>(),
        [Some("S9003")]
    );

    let knowledge = knowledge_of(&dir, &engine);
    let links = knowledge.report_links(&[("Sednex".to_string(), false)]);
    assert_eq!(links.actors, [reference("G9001", "Example Bear")]);
    assert!(links.families.is_empty(), "{:?}", links.families);
}

#[test]
fn canonical_match_keeps_kind_preference() {
    let (dir, engine) = imported();
    let knowledge = knowledge_of(&dir, &engine);
    for (prefer, expected) in [
        (ThreatKind::Family, ThreatKind::Family),
        (ThreatKind::Actor, ThreatKind::Actor),
    ] {
        let index = knowledge.resolve("Example Strike", prefer).unwrap();
        assert_eq!(knowledge.entity(index).kind, expected, "{prefer:?}");
    }
    // A canonical name outranks an actor's alias.
    let d = engine.describe_threat("Sample Dropper", Lang::En).unwrap();
    assert_eq!(d.entry, Some(reference("S9003", "Sample Dropper")));
}

#[test]
fn family_word_needs_four_characters() {
    let (_dir, engine) = imported();
    for query in ["z", "zed"] {
        let d = engine.describe_threat(query, Lang::En).unwrap();
        assert!(!d.found, "{query}: {:?}", d.entry);
    }
    for query in ["zedd", "zed rat"] {
        let d = engine.describe_threat(query, Lang::En).unwrap();
        assert_eq!(
            d.entry,
            Some(reference("win.zed_remote", "Zed Remote")),
            "{query}"
        );
    }
}

#[test]
fn aliases_leave_out_ids() {
    let (_dir, engine) = imported();
    let d = engine.describe_threat("G9001", Lang::En).unwrap();
    assert_eq!(d.aliases, ["EXB", "Sample Team", "Sednex"]);
    let d = engine.describe_threat("Sample Locker", Lang::En).unwrap();
    assert_eq!(d.aliases, ["Locker Sample"]);
    // Proofpoint names actors TA and a number; such names are not tactic ids.
    let d = engine.describe_threat("G9002", Lang::En).unwrap();
    assert_eq!(d.aliases, ["Sample Kitten", "TA9901"]);
}

#[test]
fn references_ignore_trailing_slash() {
    let (_dir, engine) = imported();
    let d = engine.describe_threat("Example Bear", Lang::En).unwrap();
    assert_eq!(d.references, ["https://attack.mitre.org/groups/G9001"]);
}

#[test]
fn report_campaigns_need_a_specific_link() {
    let (dir, engine) = imported();
    let knowledge = knowledge_of(&dir, &engine);
    let names = |list: &[(&str, bool)]| -> Vec<(String, bool)> {
        list.iter()
            .map(|&(n, actor)| (n.to_string(), actor))
            .collect()
    };

    // Two groups use Shared Tool, so its campaign says nothing about this evidence.
    let links = knowledge.report_links(&names(&[("Shared Tool", false)]));
    assert_eq!(links.families, [reference("S9004", "Shared Tool")]);
    assert!(links.campaigns.is_empty(), "{:?}", links.campaigns);

    // With the actor the campaign is attributed to, it is listed.
    let links = knowledge.report_links(&names(&[("Shared Tool", false), ("Sample Panda", true)]));
    assert_eq!(links.campaigns, [reference("C9002", "Operation Shared")]);

    // Example Strike has one user, so its campaign is listed without an actor.
    let links = knowledge.report_links(&names(&[("Example Strike", false)]));
    assert_eq!(links.campaigns, [reference("C9001", "Operation Example")]);
}

#[test]
fn chinese_summary_names_indicator_types() {
    let (_dir, engine) = imported();
    let d = engine
        .describe_threat("Example Strike", Lang::ZhCn)
        .unwrap();
    assert!(d.summary.contains("2 个 IP 地址"), "{}", d.summary);
    assert!(d.summary.contains("1 个 SHA-256"), "{}", d.summary);
    assert!(!d.summary.contains("ip"), "{}", d.summary);
    let d = engine
        .describe_threat("Sample Stealer", Lang::ZhCn)
        .unwrap();
    assert!(d.summary.contains("1 个域名"), "{}", d.summary);
    assert!(d.summary.contains("1 个 MD5"), "{}", d.summary);
}

#[test]
fn empty_or_long_name_is_rejected() {
    let (_dir, engine) = imported();
    for name in ["", "  \t"] {
        let error = engine.describe_threat(name, Lang::En).unwrap_err();
        assert!(matches!(error, DescribeError::Empty), "{name:?}: {error}");
        assert!(error.is_invalid_request());
        assert!(error.message(Lang::ZhCn).contains("名称为空"), "{error}");
    }
    let error = engine
        .describe_threat(&"a".repeat(201), Lang::En)
        .unwrap_err();
    assert!(matches!(error, DescribeError::TooLong { .. }), "{error}");
    assert!(error.message(Lang::En).contains("200"), "{error}");
    let d = engine.describe_threat(&"a".repeat(200), Lang::En).unwrap();
    assert!(!d.found);
}

#[test]
fn domain_links_parents_and_subdomains_first() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds");
    std::fs::create_dir(&feeds).unwrap();
    let mut list =
        String::from("# Title: Malicious Domains Blocklist\n# Source: URLhaus database export\n");
    list.push_str("zone.example.net\nsub.a.zone.example.net\n");
    for n in 0..30 {
        list.push_str(&format!("aa{n:02}.example.net\n"));
    }
    std::fs::write(feeds.join("domains.txt"), list).unwrap();
    let data = dir.path().join("data");
    import::import(&data, &[feeds], &ImportOptions::default()).unwrap();
    let engine = Engine::open(&data).unwrap();

    let report = engine
        .analyze(IndicatorKind::Domain, "a.zone.example.net", Lang::En)
        .unwrap();
    let links: Vec<(&str, &str)> = report
        .related
        .iter()
        .map(|r| (r.value.as_str(), r.relation.as_str()))
        .collect();
    assert!(
        links.contains(&("zone.example.net", "parent_domain")),
        "{links:?}"
    );
    assert!(
        links.contains(&("sub.a.zone.example.net", "subdomain")),
        "{links:?}"
    );
    let siblings = links.iter().filter(|(_, r)| *r == "sibling_domain").count();
    assert_eq!(siblings, 20);
    assert_eq!(
        report.left_out.get("related"),
        Some(&10),
        "{:?}",
        report.left_out
    );
}

#[test]
fn unlisted_host_of_listed_urls_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds");
    std::fs::create_dir(&feeds).unwrap();
    std::fs::write(
        feeds.join("malware_urls.txt"),
        "http://198.51.100.77/a.bin\nhttp://198.51.100.77/b.bin\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    import::import(&data, &[feeds], &ImportOptions::default()).unwrap();
    let engine = Engine::open(&data).unwrap();
    let report = engine
        .analyze(IndicatorKind::Ip, "198.51.100.77", Lang::En)
        .unwrap();
    assert_eq!(report.verdict, Verdict::Unknown);
    assert!(report.summary.contains("hosts 2 URL"), "{}", report.summary);
}
