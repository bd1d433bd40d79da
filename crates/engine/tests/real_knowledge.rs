//! The knowledge index built from the real MITRE ATT&CK bundle and MISP galaxies in the shared
//! real-data folder. Ignored by default because the folder lives outside the repository; run
//! with `cargo test -p tiq-engine --test real_knowledge -- --ignored --nocapture`.
//!
//! The folder is `$TIQ_SHARED_DATA`, or else `shared/data` beside the workspace. Its
//! `05-context` folder (ATT&CK and galaxies) is imported once into a temporary data directory
//! shared by all tests.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tiq_engine::knowledge::Knowledge;
use tiq_engine::{Engine, ImportOptions, import};
use tiq_model::{Lang, ThreatDescription};

fn data_dir() -> PathBuf {
    let dir = match std::env::var_os("TIQ_SHARED_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    };
    assert!(
        dir.is_dir(),
        "real-data folder {} not found: set TIQ_SHARED_DATA to the folder that holds the shared \
         feed samples (05-context holds ATT&CK and the MISP galaxies)",
        dir.display()
    );
    dir
}

struct Imported {
    _dir: tempfile::TempDir,
    engine: Engine,
    knowledge: Knowledge,
    bundle: PathBuf,
    malpedia: PathBuf,
}

fn imported() -> &'static Imported {
    static IMPORTED: OnceLock<Imported> = OnceLock::new();
    IMPORTED.get_or_init(|| {
        let context = data_dir().join("05-context");
        let dir = tempfile::tempdir().unwrap();
        import::import(
            dir.path(),
            std::slice::from_ref(&context),
            &ImportOptions::default(),
        )
        .unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        let knowledge = Knowledge::load(dir.path(), &engine.sources().unwrap());
        let bundle = std::fs::read_dir(context.join("mitre-attack"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|path| path.to_string_lossy().contains("enterprise-attack"))
            .expect("05-context/mitre-attack holds the Enterprise ATT&CK bundle");
        Imported {
            _dir: dir,
            engine,
            knowledge,
            bundle,
            malpedia: context.join("misp-galaxy/clusters/malpedia.json"),
        }
    })
}

fn describe(query: &str) -> ThreatDescription {
    imported().engine.describe_threat(query, Lang::En).unwrap()
}

fn entry_id(description: &ThreatDescription) -> Option<&str> {
    description.entry.as_ref()?.id.as_deref()
}

#[test]
#[ignore = "reads the shared real-data folder"]
fn every_attack_id_finds_its_object() {
    let objects = tiq_feeds::knowledge::read_stix_bundle(&imported().bundle).unwrap();
    let kinds = [
        "intrusion-set",
        "malware",
        "tool",
        "campaign",
        "attack-pattern",
        "x-mitre-tactic",
    ];
    let mut checked = 0;
    let mut wrong = Vec::new();
    for object in &objects {
        if !kinds.contains(&object.kind.as_str()) || object.is_withdrawn() {
            continue;
        }
        let Some(id) = object.attack_id() else {
            continue;
        };
        checked += 1;
        let d = describe(id);
        let name_matches = d
            .entry
            .as_ref()
            .is_some_and(|entry| entry.name.ends_with(object.name.trim()));
        if entry_id(&d) != Some(id) || !name_matches {
            wrong.push(format!("{id} {} -> {:?}", object.name, d.entry));
        }
    }
    println!(
        "{} of {checked} ATT&CK ids find their own object",
        checked - wrong.len()
    );
    assert!(checked > 1000, "only {checked} ATT&CK objects read");
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
#[ignore = "reads the shared real-data folder"]
fn one_name_finds_every_sub_technique() {
    let d = describe("Digital Certificates");
    let mut ids: Vec<&str> = std::iter::once(entry_id(&d))
        .chain(d.other_matches.iter().map(|m| m.id.as_deref()))
        .flatten()
        .collect();
    ids.sort();
    assert_eq!(ids, ["T1587.003", "T1588.004", "T1596.003"]);
}

#[test]
#[ignore = "reads the shared real-data folder"]
fn every_malpedia_id_finds_its_family() {
    let clusters = tiq_feeds::knowledge::read_galaxy_clusters(&imported().malpedia).unwrap();
    let knowledge = &imported().knowledge;
    let prefix = "https://malpedia.caad.fkie.fraunhofer.de/details/";
    let mut checked = 0;
    let mut wrong = Vec::new();
    for cluster in &clusters.values {
        let Some(id) = cluster
            .meta
            .refs
            .first()
            .and_then(|r| r.strip_prefix(prefix))
        else {
            continue;
        };
        checked += 1;
        let best = knowledge
            .find(id, &[])
            .first()
            .map(|&i| knowledge.entity(i));
        if best.and_then(|entity| entity.malpedia_id.as_deref()) != Some(id) {
            let found = best.map(|entity| (&entity.id, &entity.name));
            wrong.push(format!("{id} {} -> {found:?}", cluster.value));
        }
    }
    println!(
        "{} of {checked} Malpedia ids find their own family",
        checked - wrong.len()
    );
    assert!(checked > 1000, "only {checked} Malpedia clusters read");
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
#[ignore = "reads the shared real-data folder"]
fn group_names_on_software_find_the_group() {
    for name in ["Sofacy", "sednit"] {
        assert_eq!(entry_id(&describe(name)), Some("G0007"), "{name}");
        let links = imported()
            .knowledge
            .report_links(&[(name.to_string(), false)]);
        let ids: Vec<Option<&str>> = links.actors.iter().map(|a| a.id.as_deref()).collect();
        assert_eq!(ids, [Some("G0007")], "{name}");
    }
}

#[test]
#[ignore = "reads the shared real-data folder"]
fn one_letter_finds_nothing() {
    for query in ["x", "b"] {
        let d = describe(query);
        assert!(!d.found, "{query}: {:?}", d.entry);
    }
}

#[test]
#[ignore = "reads the shared real-data folder"]
fn entries_are_clean() {
    let knowledge = &imported().knowledge;
    let mut problems = Vec::new();
    for entity in knowledge.entities() {
        for alias in &entity.aliases {
            let own_id = [&entity.id, &entity.malpedia_id]
                .into_iter()
                .flatten()
                .any(|id| id.eq_ignore_ascii_case(alias));
            if own_id {
                problems.push(format!("{}: alias {alias}", entity.name));
            }
        }
        if entity.description.contains("<code>") {
            problems.push(format!("{}: <code> in description", entity.name));
        }
        let mut pages: Vec<&str> = entity
            .references
            .iter()
            .map(|r| r.trim_end_matches('/'))
            .collect();
        pages.sort();
        pages.dedup();
        if pages.len() != entity.references.len() {
            problems.push(format!("{}: repeated references", entity.name));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
#[ignore = "reads the shared real-data folder"]
fn widely_used_family_adds_no_campaigns() {
    let links = imported()
        .knowledge
        .report_links(&[("Cobalt Strike".to_string(), false)]);
    assert_eq!(links.families[0].id.as_deref(), Some("S0154"));
    assert!(links.campaigns.is_empty(), "{:?}", links.campaigns);

    let links = imported().knowledge.report_links(&[
        ("Cobalt Strike".to_string(), false),
        ("APT29".to_string(), true),
    ]);
    let ids: Vec<Option<&str>> = links.campaigns.iter().map(|c| c.id.as_deref()).collect();
    assert!(ids.contains(&Some("C0024")), "{ids:?}");
}
