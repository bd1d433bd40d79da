use serde_json::json;

use super::*;

fn record(value: serde_json::Value) -> Affected {
    serde_json::from_value(value).expect("valid affected entry")
}

fn assert_statuses(affected: &Affected, cases: &[(&str, Status)]) {
    for (version, expected) in cases {
        assert_eq!(
            status_of(affected, version),
            *expected,
            "status of {version}"
        );
    }
}

fn assert_fixes(affected: &Affected, cases: &[(Option<&str>, Option<&str>)]) {
    for (version, expected) in cases {
        assert_eq!(
            first_fixed(affected, *version).as_deref(),
            *expected,
            "first fixed version above {version:?}"
        );
    }
}

use Status::{Affected as A, Unaffected as U, Unknown as N};

/// Pairs (lower, higher) covering every version form the module orders.
const ORDERED_PAIRS: &[(&str, &str)] = &[
    ("2.4.5", "2.4.49"),
    ("2.4.49", "2.4.50"),
    ("1.9", "1.10"),
    ("1.1.1", "1.1.1a"),
    ("1.1.1a", "1.1.1b"),
    ("1.1.1b", "1.1.1k"),
    ("1.1.1k", "1.1.1l"),
    ("1.1.1l", "1.1.2"),
    ("0.9.8z", "0.9.8za"),
    ("9.0.0-M1", "9.0.0-M2"),
    ("9.0.0-M2", "9.0.0-M10"),
    ("9.0.0-M22", "9.0.0"),
    ("8.5.99", "9.0.0-M1"),
    ("1.2.3-alpha", "1.2.3-beta.2"),
    ("1.2.3-beta", "1.2.3-beta.1"),
    ("1.2.3-beta.2", "1.2.3-rc.1"),
    ("1.2.3-rc.1", "1.2.3"),
    ("1.2.3-SNAPSHOT", "1.2.3"),
    ("1.0.dev1", "1.0a1"),
    ("1.0a1", "1.0b1"),
    ("3.12.0rc1", "3.12.0"),
    ("9.0.16", "9.0.16-h3"),
    ("9.0.16-h3", "9.0.16-h10"),
    ("9.0.16-h10", "9.0.17"),
    ("2.4.0", "2.4.0-1"),
    ("2.4.0-1", "2.4.1"),
    ("3.0.0.4.388_23925", "3.0.0.4.388_24609"),
    ("r41p0", "r43p0"),
    ("0:1.0", "1:0.5"),
    ("4.18.0", "0:4.18.0-513.el8"),
    ("99999999999999999999", "100000000000000000000"),
    ("5.10.999", "5.10.*"),
    ("5.10.*", "5.11"),
    ("2024.1", "*"),
    ("1.0", "unspecified"),
];

/// Pairs of spellings of one version.
const EQUAL_PAIRS: &[(&str, &str)] = &[
    ("v1.2", "1.2"),
    ("V2.0", "2.0"),
    ("1.2", "1.2.0"),
    ("1.2.0.0", "1.2"),
    ("01.002", "1.2"),
    ("1.2.3+build.5", "1.2.3"),
    ("9.0.0-m1", "9.0.0-M1"),
    ("1.0-rc1", "1.0.0-rc.1"),
    ("1.0a1", "1.0alpha1"),
    (" 1.2 ", "1.2"),
    ("Latest", "latest"),
];

#[test]
fn compare_orders_each_form() {
    for (lower, higher) in ORDERED_PAIRS {
        assert_eq!(
            compare_versions(lower, higher),
            Ordering::Less,
            "{lower} < {higher}"
        );
        assert_eq!(
            compare_versions(higher, lower),
            Ordering::Greater,
            "{higher} > {lower}"
        );
    }
}

#[test]
fn compare_equal_spellings() {
    for (a, b) in EQUAL_PAIRS {
        assert_eq!(compare_versions(a, b), Ordering::Equal, "{a} == {b}");
        assert_eq!(compare_versions(b, a), Ordering::Equal, "{b} == {a}");
    }
}

#[test]
fn compare_is_a_total_order() {
    let mut versions: Vec<&str> = ORDERED_PAIRS
        .iter()
        .chain(EQUAL_PAIRS)
        .flat_map(|(a, b)| [*a, *b])
        .chain(["a87cb3e48ee8", "1.2 beta", ""])
        .collect();
    versions.sort_unstable();
    versions.dedup();
    for a in &versions {
        for b in &versions {
            let forward = compare_versions(a, b);
            assert_eq!(forward, compare_versions(b, a).reverse(), "{a:?} vs {b:?}");
            for c in &versions {
                if forward.is_le() && compare_versions(b, c).is_le() {
                    assert!(compare_versions(a, c).is_le(), "{a:?} <= {b:?} <= {c:?}");
                }
            }
        }
    }
}

#[test]
fn compare_puts_unorderable_last() {
    assert_eq!(compare_versions("latest", "1.0"), Ordering::Greater);
    assert_eq!(compare_versions("1.0", "3.50 build 7"), Ordering::Less);
    assert_eq!(compare_versions("alpha", "beta"), Ordering::Less);
}

#[test]
fn check_accepts_version_forms() {
    for version in [
        "2.4.49",
        "1.1.1l",
        "9.0.0-M1",
        "v1.2.3-rc.1",
        "1.2.3+build.7",
        "0:4.18.0-513.el8",
        "3.0.0.4.388_24609",
        "r41p0",
        "20240814",
        " 1.2 ",
    ] {
        assert!(check_version(version).is_ok(), "{version:?} is accepted");
    }
}

#[test]
fn check_rejects_with_reason() {
    let too_long = "1.".repeat(40);
    let cases = [
        ("", "empty"),
        ("   ", "empty"),
        ("1.2 beta", "whitespace"),
        ("1.2\u{7}", "control character"),
        ("1.2\n3", "control character"),
        (too_long.as_str(), "longer than 64 characters"),
        ("latest", "no digit"),
        ("a87cb3e48ee8", "commit id"),
        ("*", "'*'"),
        ("5.10.*", "'*'"),
        ("<2.0", "'<'"),
        ("15.2(4)M", "'('"),
        ("1..2", "two separators"),
        ("1.2.", "ends with a separator"),
        ("-1.2", "start with a letter or a digit"),
        ("x:1.0", "epoch"),
        ("1:2:3", "more than one ':'"),
        ("+build", "no version number"),
    ];
    for (version, reason) in cases {
        let error = check_version(version).expect_err(version);
        assert!(
            error.reason.contains(reason),
            "{version:?}: {:?} should mention {reason:?}",
            error.reason
        );
    }
}

#[test]
fn error_names_value_and_forms() {
    let message = check_version("1.2 beta").unwrap_err().to_string();
    assert!(message.contains("\"1.2 beta\""), "{message}");
    assert!(message.contains("whitespace"), "{message}");
    assert!(message.contains("9.0.0-M1"), "{message}");
}

#[test]
fn error_escapes_control_characters() {
    let message = check_version("1.2\u{1b}[31m").unwrap_err().to_string();
    assert!(!message.contains('\u{1b}'), "{message:?}");
    assert!(message.contains("\\u{1b}"), "{message:?}");
}

#[test]
fn error_shortens_long_values() {
    let version = "9".repeat(1000);
    let message = check_version(&version).unwrap_err().to_string();
    assert!(message.len() < 300, "{} characters", message.len());
    assert_eq!(check_version(&version).unwrap_err().version, version);
}

#[test]
fn less_than_boundaries() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Server", "defaultStatus": "unaffected",
        "versions": [
            {"version": "2.4.0", "lessThan": "2.4.50", "status": "affected", "versionType": "semver"}
        ]
    }));
    assert_statuses(
        &affected,
        &[
            ("2.3.9", U),
            ("2.4.0", A),
            ("2.4.5", A),
            ("2.4.49", A),
            ("2.4.50-rc1", A),
            ("2.4.50", U),
            ("2.4.51", U),
        ],
    );
    assert_fixes(
        &affected,
        &[
            (Some("2.4.0"), Some("2.4.50")),
            (Some("2.4.49"), Some("2.4.50")),
            (Some("2.4.50"), None),
            (Some("2.3.9"), None),
            (None, Some("2.4.50")),
        ],
    );
}

#[test]
fn less_than_or_equal_boundaries() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example TLS", "defaultStatus": "unaffected",
        "versions": [
            {"version": "0", "lessThanOrEqual": "1.1.1k", "status": "affected", "versionType": "custom"}
        ]
    }));
    assert_statuses(
        &affected,
        &[
            ("0.9.8", A),
            ("1.1.1", A),
            ("1.1.1j", A),
            ("1.1.1k", A),
            ("1.1.1l", U),
            ("1.1.2", U),
        ],
    );
    // The record does not name the version after 1.1.1k.
    assert_fixes(&affected, &[(Some("1.1.1k"), None), (None, None)]);
}

#[test]
fn change_after_inclusive_end() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Remote Desktop", "defaultStatus": "unaffected",
        "versions": [{
            "version": "0", "lessThanOrEqual": "23.9.7", "status": "affected",
            "changes": [{"at": "23.9.8", "status": "unaffected"}], "versionType": "custom"
        }]
    }));
    assert_statuses(
        &affected,
        &[
            ("23.9.6", A),
            ("23.9.7", A),
            ("23.9.8", U),
            ("23.9.9", U),
            ("23.10", U),
        ],
    );
    assert_fixes(
        &affected,
        &[
            (Some("1.0"), Some("23.9.8")),
            (Some("23.9.7"), Some("23.9.8")),
            (Some("23.9.8"), None),
            (None, Some("23.9.8")),
        ],
    );
}

#[test]
fn changes_inside_range_in_any_order() {
    // Affected from 9.0.0-M1, fixed in 9.0.31, affected again from 10.0.0. The changes are
    // listed out of order, which the schema allows.
    let affected = record(json!({
        "vendor": "Example", "product": "Example Servlet Container", "defaultStatus": "unaffected",
        "versions": [{
            "version": "9.0.0-M1", "lessThan": "*", "status": "affected", "versionType": "maven",
            "changes": [
                {"at": "10.0.0", "status": "affected"},
                {"at": "9.0.31", "status": "unaffected"}
            ]
        }]
    }));
    assert_statuses(
        &affected,
        &[
            ("8.5.99", U),
            ("9.0.0-M1", A),
            ("9.0.0", A),
            ("9.0.30", A),
            ("9.0.31", U),
            ("9.0.32", U),
            ("10.0.0-M1", U),
            ("10.0.0", A),
            ("11.0.2", A),
        ],
    );
    assert_fixes(
        &affected,
        &[
            (Some("9.0.0-M1"), Some("9.0.31")),
            (Some("9.0.30"), Some("9.0.31")),
            (Some("10.0.0"), None),
            (None, None),
        ],
    );
}

#[test]
fn default_status_outside_entries() {
    let entries = json!([{"version": "2.0", "status": "affected"}]);
    let cases = [
        (Some("affected"), A),
        (Some("unaffected"), U),
        (Some("unknown"), N),
        (None, N),
    ];
    for (default, expected) in cases {
        let mut value = json!({"vendor": "Example", "product": "Example App", "versions": entries});
        if let Some(default) = default {
            value["defaultStatus"] = json!(default);
        }
        let affected = record(value);
        assert_eq!(
            status_of(&affected, "2.0"),
            A,
            "2.0 with default {default:?}"
        );
        assert_eq!(
            status_of(&affected, "2.1"),
            expected,
            "2.1 with default {default:?}"
        );
    }
}

#[test]
fn default_affected_with_fixed_branches() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Kernel", "defaultStatus": "affected",
        "versions": [
            {"version": "5.10", "status": "affected"},
            {"version": "0", "lessThan": "5.10", "status": "unaffected", "versionType": "semver"},
            {"version": "5.10.200", "lessThanOrEqual": "5.10.*", "status": "unaffected", "versionType": "semver"},
            {"version": "6.1.60", "lessThanOrEqual": "6.1.*", "status": "unaffected", "versionType": "semver"},
            {"version": "6.7", "lessThanOrEqual": "*", "status": "unaffected", "versionType": "semver"}
        ]
    }));
    assert_statuses(
        &affected,
        &[
            ("5.9.9", U),
            ("5.10", A),
            ("5.10.199", A),
            ("5.10.200", U),
            ("5.10.250", U),
            ("5.11", A),
            ("6.1.59", A),
            ("6.1.60", U),
            ("6.6.30", A),
            ("6.7", U),
            ("6.8", U),
        ],
    );
    assert_fixes(
        &affected,
        &[
            (Some("5.10.199"), Some("5.10.200")),
            (Some("6.1.59"), Some("6.1.60")),
            (Some("6.2"), Some("6.7")),
            (Some("5.9.9"), None),
            (None, Some("6.7")),
        ],
    );
}

#[test]
fn open_lower_bounds() {
    for lower in ["0", "*", "-", "all", "earlier", "n/a", "Unspecified"] {
        let affected = record(json!({
            "vendor": "Example", "product": "Example Plugin", "defaultStatus": "unaffected",
            "versions": [
                {"version": lower, "lessThanOrEqual": "2.1.9", "status": "affected", "versionType": "semver"}
            ]
        }));
        for (version, expected) in [("0.0.1-alpha", A), ("0.1", A), ("2.1.9", A), ("2.1.10", U)] {
            assert_eq!(
                status_of(&affected, version),
                expected,
                "{version} from {lower:?}"
            );
        }
    }
}

#[test]
fn open_upper_bound() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Agent", "defaultStatus": "unaffected",
        "versions": [
            {"version": "4.0", "lessThan": "*", "status": "affected", "versionType": "semver"}
        ]
    }));
    assert_statuses(
        &affected,
        &[("3.9", U), ("4.0", A), ("4.0.1", A), ("99.0", A)],
    );
    assert_fixes(&affected, &[(Some("4.0"), None), (None, None)]);
}

#[test]
fn wildcard_bound_is_never_a_fix() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Agent", "defaultStatus": "unaffected",
        "versions": [
            {"version": "5.10", "lessThan": "5.10.*", "status": "affected", "versionType": "semver"}
        ]
    }));
    assert_statuses(&affected, &[("5.10.0", A), ("5.10.999", A), ("5.11", U)]);
    assert_fixes(&affected, &[(Some("5.10.3"), None), (None, None)]);
}

#[test]
fn single_wildcard_covers_every_version() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Agent", "defaultStatus": "unaffected",
        "versions": [{"version": "*", "status": "affected"}]
    }));
    assert_statuses(&affected, &[("0.1", A), ("12.4.2", A)]);
}

#[test]
fn upper_bound_without_default() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Browser",
        "versions": [
            {"version": "unspecified", "lessThan": "128", "status": "affected", "versionType": "custom"}
        ]
    }));
    assert_statuses(&affected, &[("127.0.1", A), ("128", N), ("128.0.1", N)]);
    assert_fixes(
        &affected,
        &[(Some("127.0.1"), Some("128")), (None, Some("128"))],
    );
}

#[test]
fn single_version_beats_range() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Server", "defaultStatus": "unaffected",
        "versions": [
            {"version": "0", "lessThanOrEqual": "9.2.4", "status": "affected", "versionType": "semver"},
            {"version": "9.2.3", "status": "unaffected"}
        ]
    }));
    assert_statuses(&affected, &[("9.2.2", A), ("9.2.3", U), ("9.2.4", A)]);
}

#[test]
fn single_unaffected_beats_single_affected() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Server",
        "versions": [
            {"version": "3.0", "status": "affected"},
            {"version": "3.0.0", "status": "unaffected"}
        ]
    }));
    assert_eq!(status_of(&affected, "3.0"), U);
}

#[test]
fn single_affected_beats_unaffected_range() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Server",
        "versions": [
            {"version": "0", "lessThan": "*", "status": "unaffected", "versionType": "semver"},
            {"version": "2.5", "status": "affected"}
        ]
    }));
    assert_statuses(&affected, &[("2.4", U), ("2.5", A), ("2.5.1", U)]);
}

#[test]
fn affected_range_beats_unaffected_range() {
    let unaffected = json!({"version": "1.0", "lessThan": "2.0", "status": "unaffected", "versionType": "semver"});
    let affected =
        json!({"version": "0", "lessThan": "3.0", "status": "affected", "versionType": "semver"});
    for versions in [json!([unaffected, affected]), json!([affected, unaffected])] {
        let record =
            record(json!({"vendor": "Example", "product": "Example App", "versions": versions}));
        assert_statuses(&record, &[("0.5", A), ("1.5", A), ("2.5", A), ("3.0", N)]);
    }
}

#[test]
fn unknown_range_beats_unaffected_range() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example App", "defaultStatus": "affected",
        "versions": [
            {"version": "0", "lessThan": "3.0", "status": "unaffected", "versionType": "semver"},
            {"version": "2.0", "lessThan": "2.5", "status": "unknown", "versionType": "semver"}
        ]
    }));
    assert_statuses(&affected, &[("1.0", U), ("2.1", N), ("2.5", U), ("3.0", A)]);
}

#[test]
fn branches_with_named_fixes() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Gateway", "defaultStatus": "unaffected",
        "versions": [
            {"version": "0", "lessThanOrEqual": "8.1.8", "status": "affected", "versionType": "semver"},
            {"version": "0", "lessThanOrEqual": "9.2.4", "status": "affected", "versionType": "semver"},
            {"version": "9.2.5", "status": "unaffected"},
            {"version": "8.1.9", "status": "unaffected"}
        ]
    }));
    // 8.1.10 lies in the second range as written, whatever branch it belongs to.
    assert_statuses(
        &affected,
        &[
            ("8.1.8", A),
            ("8.1.9", U),
            ("8.1.10", A),
            ("9.2.4", A),
            ("9.2.5", U),
            ("9.2.6", U),
        ],
    );
    assert_fixes(
        &affected,
        &[
            (Some("8.1.8"), Some("8.1.9")),
            (Some("8.1.10"), Some("9.2.5")),
            (Some("9.2.4"), Some("9.2.5")),
            (None, Some("9.2.5")),
        ],
    );
}

#[test]
fn overlapping_less_than_ranges() {
    // Two branches written as ranges from 0: 115.14 is still in the second range.
    let affected = record(json!({
        "vendor": "Example", "product": "Example Browser ESR", "defaultStatus": "unknown",
        "versions": [
            {"version": "0", "lessThan": "115.14", "status": "affected", "versionType": "custom"},
            {"version": "0", "lessThan": "128.1", "status": "affected", "versionType": "custom"}
        ]
    }));
    assert_statuses(&affected, &[("115.13", A), ("115.14", A), ("128.1", N)]);
    assert_fixes(&affected, &[(Some("115.13"), Some("128.1"))]);
}

#[test]
fn commit_range_gives_unknown() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Library", "defaultStatus": "unaffected",
        "versions": [
            {"version": "1f3a9c0d2b7e", "lessThan": "8e4b2a61c0d9", "status": "affected", "versionType": "git"}
        ]
    }));
    assert_statuses(&affected, &[("1.2.3", N), ("0.1", N)]);
    assert_fixes(&affected, &[(Some("1.2.3"), None), (None, None)]);
}

#[test]
fn free_text_bound_gives_unknown() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Controller", "defaultStatus": "unaffected",
        "versions": [
            {"version": "0", "lessThan": "3.50 build 7", "status": "affected", "versionType": "custom"}
        ]
    }));
    assert_statuses(&affected, &[("1.0", N), ("4.0", N)]);
}

#[test]
fn free_text_change_gives_unknown() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Controller", "defaultStatus": "unaffected",
        "versions": [{
            "version": "1.0", "lessThan": "*", "status": "affected", "versionType": "custom",
            "changes": [{"at": "2.0 hotfix", "status": "unaffected"}]
        }]
    }));
    assert_statuses(&affected, &[("0.9", N), ("1.5", N)]);
}

#[test]
fn affected_range_beside_undecidable_range() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Library", "defaultStatus": "unaffected",
        "versions": [
            {"version": "0", "lessThan": "2.0", "status": "affected", "versionType": "semver"},
            {"version": "1f3a9c0d2b7e", "lessThan": "8e4b2a61c0d9", "status": "affected", "versionType": "git"}
        ]
    }));
    assert_statuses(&affected, &[("1.5", A), ("2.5", N)]);
    // The commit range may cover 2.0, so 2.0 is not known to be fixed.
    assert_fixes(&affected, &[(Some("1.5"), None)]);
}

#[test]
fn tag_ranges_under_git_type() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Parser", "defaultStatus": "unknown",
        "versions": [{
            "version": "0", "lessThanOrEqual": "3.0.2", "status": "affected", "versionType": "git",
            "changes": [{"at": "3.0.3", "status": "unaffected"}]
        }]
    }));
    // The change lies after the range, so no entry covers 3.0.3 and the default applies.
    // It still names 3.0.3 as the fix.
    assert_statuses(&affected, &[("3.0.2", A), ("3.0.3", N), ("3.1.0", N)]);
    assert_fixes(&affected, &[(Some("3.0.2"), Some("3.0.3"))]);
}

#[test]
fn unorderable_version_matches_text() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Router OS", "defaultStatus": "unaffected",
        "versions": [{"version": "15.2(4)M", "status": "affected"}]
    }));
    assert_statuses(&affected, &[("15.2(4)m", A), ("15.2(4)M1", U), ("15.2", U)]);
    assert_fixes(&affected, &[(Some("15.2(4)M"), None)]);
}

#[test]
fn unorderable_version_against_range() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Server", "defaultStatus": "unaffected",
        "versions": [{"version": "0", "lessThan": "2.0", "status": "affected"}]
    }));
    assert_statuses(&affected, &[("latest", N), ("", N)]);
}

#[test]
fn status_values_ignore_case() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example App", "defaultStatus": "Unaffected",
        "versions": [
            {"version": "1.0", "status": "Affected"},
            {"version": "2.0", "status": "fixed"}
        ]
    }));
    assert_statuses(&affected, &[("1.0", A), ("2.0", N), ("3.0", U)]);
}

#[test]
fn fix_keeps_record_spelling() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Firewall", "defaultStatus": "unaffected",
        "versions": [{
            "version": "9.0.0", "lessThan": "9.0.17-H4", "status": "affected", "versionType": "custom",
            "changes": [{"at": "9.0.17-H4", "status": "unaffected"}]
        }]
    }));
    assert_statuses(&affected, &[("9.0.17-h3", A), ("9.0.17-h4", U)]);
    assert_fixes(&affected, &[(Some("9.0.17"), Some("9.0.17-H4"))]);
}

#[test]
fn reads_camel_case_and_ignores_other_fields() {
    let affected = record(json!({
        "vendor": "Example", "product": "Example Server",
        "collectionURL": "https://packages.example.org", "packageName": "example-server",
        "cpes": ["cpe:2.3:a:example:example_server:*:*:*:*:*:*:*:*"],
        "platforms": ["Linux"], "defaultStatus": "unaffected",
        "versions": [{
            "version": "0", "lessThanOrEqual": "1.4", "status": "affected", "versionType": "semver",
            "changes": [{"at": "1.5", "status": "unaffected"}]
        }]
    }));
    assert_eq!(affected.product.as_deref(), Some("Example Server"));
    assert_eq!(affected.default_status.as_deref(), Some("unaffected"));
    let entry = &affected.versions[0];
    assert_eq!(entry.version_type.as_deref(), Some("semver"));
    assert_eq!(entry.less_than_or_equal.as_deref(), Some("1.4"));
    assert_eq!(entry.less_than, None);
    assert_eq!(entry.changes[0].at, "1.5");

    let written = serde_json::to_value(&affected).unwrap();
    assert_eq!(written["versions"][0]["lessThanOrEqual"], "1.4");
    assert_eq!(record(written), affected);
}

#[test]
fn reads_entry_without_versions() {
    let affected =
        record(json!({"vendor": "Example", "product": "Example App", "defaultStatus": "affected"}));
    assert!(affected.versions.is_empty());
    assert_eq!(status_of(&affected, "1.0"), A);
    assert_eq!(first_fixed(&affected, Some("1.0")), None);
}
