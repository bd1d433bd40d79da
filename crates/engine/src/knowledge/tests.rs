use super::*;

#[test]
fn normalize_joins_spellings() {
    for name in [
        "cobaltstrike",
        "Cobalt Strike",
        "win.cobalt_strike",
        "Cobalt-Strike",
    ] {
        assert_eq!(normalize(name), "cobaltstrike", "{name}");
    }
    assert_eq!(normalize("APT 28"), "apt28");
    // A dot that is not a Malpedia platform prefix stays part of the name.
    assert_eq!(normalize("Trojan.Example"), "trojanexample");
    assert_eq!(normalize("win. example"), "winexample");
    assert_eq!(normalize("  "), "");
}

#[test]
fn attack_id_forms() {
    for id in [
        "G0007",
        "S0154",
        "T1059",
        "T1059.001",
        "TA0011",
        "C0010",
        "M1036",
    ] {
        assert!(is_attack_id(id), "{id}");
    }
    for id in ["G007", "T1059.1", "X0001", "win.emotet", "TA00111", ""] {
        assert!(!is_attack_id(id), "{id}");
    }
}

#[test]
fn empty_index_finds_nothing() {
    let knowledge = Knowledge::default();
    assert!(knowledge.find("Example", &[]).is_empty());
    assert!(knowledge.resolve("Example", ThreatKind::Family).is_none());
    let links = knowledge.report_links(&[("Example".to_string(), false)]);
    assert_eq!(links.families, [tiq_model::KnowledgeRef::named("Example")]);
}

#[test]
fn malpedia_id_forms() {
    for id in [
        "win.cobalt_strike",
        "elf.mirai",
        "apk.xrat",
        "win.unidentified_001",
    ] {
        assert!(is_malpedia_id(id), "{id}");
    }
    for id in [
        "Win.Cobalt_Strike",
        "Trojan.Example",
        "win.",
        "win. example",
        "cobaltstrike",
    ] {
        assert!(!is_malpedia_id(id), "{id}");
    }
}
