use std::net::IpAddr;
use std::time::Duration;

use rusqlite::Connection;
use time::macros::datetime;

use super::*;
use crate::audit::{AuditFilter, AuditLog, ChainBreak};

const CLIENT: &str = "192.0.2.10";

fn client() -> Option<IpAddr> {
    Some(CLIENT.parse().unwrap())
}

fn new_key(name: &str, scopes: &str) -> NewKey {
    NewKey {
        name: name.to_string(),
        scopes: ScopeSet::parse(scopes).unwrap(),
        rate_per_minute: None,
        daily_quota: None,
        expires: None,
    }
}

fn clock() -> Clock {
    Clock::manual(datetime!(2026-05-01 23:58 UTC))
}

fn entry(access: &Access, tool: &str, query: &str) -> AuditEntry {
    AuditEntry {
        time: access.clock().now_utc(),
        request_id: format!("req-{query}"),
        key_id: None,
        client: Some(CLIENT.to_string()),
        surface: Surface::Rest,
        tool: tool.to_string(),
        query: Some(query.to_string()),
        verdict: Some("malicious".to_string()),
        status: 200,
        latency: Duration::from_micros(120),
    }
}

#[test]
fn key_required_once_a_key_exists() {
    let dir = tempfile::tempdir().unwrap();
    let access = Access::open_with_clock(dir.path(), AccessSettings::default(), clock()).unwrap();
    assert!(!access.has_keys());
    let caller = access.authenticate(None, client()).unwrap();
    assert_eq!(caller.key_id(), None);
    let ahead = access
        .authenticate(Some("tiq_configured_ahead"), client())
        .unwrap();
    assert_eq!(ahead.key_id(), None);
    assert!(access.admit(&caller, Scope::Admin, 1).is_ok());

    let mut keys = Keys::open(dir.path()).unwrap();
    let (record, secret) = keys
        .create(&new_key("soc", "ip,domain"), access.clock().now_utc())
        .unwrap();
    access.reload_keys();
    assert!(access.has_keys());
    assert_eq!(
        access.authenticate(None, client()).unwrap_err(),
        Denial::MissingKey
    );
    let caller = access.authenticate(Some(&secret), client()).unwrap();
    assert_eq!(caller.key_id(), Some(record.id.as_str()));
    assert!(access.admit(&caller, Scope::Ip, 1).is_ok());
    let denial = access.admit(&caller, Scope::Hash, 1).unwrap_err();
    assert_eq!(denial, Denial::MissingScope { scope: Scope::Hash });
    assert_eq!(denial.status(), 403);
    assert!(denial.message(Lang::En).contains("`hash`"));
    assert!(denial.message(Lang::ZhCn).contains("`hash`"));

    let anonymous = AccessSettings {
        allow_anonymous: true,
        ..AccessSettings::default()
    };
    let open = Access::open_with_clock(dir.path(), anonymous, clock()).unwrap();
    assert!(open.authenticate(None, client()).is_ok());
    assert_eq!(
        open.authenticate(Some("tiq_wrong"), client()).unwrap_err(),
        Denial::InvalidKey
    );
}

#[test]
fn wrong_revoked_and_expired_keys_are_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let access =
        Access::open_with_clock(dir.path(), AccessSettings::default(), clock.clone()).unwrap();
    let mut keys = Keys::open(dir.path()).unwrap();
    let now = clock.now_utc();
    let (_, revoked) = keys.create(&new_key("old", "all"), now).unwrap();
    let mut expiring = new_key("temp", "all");
    expiring.expires = Some(now + Duration::from_secs(60));
    let (temp, temp_secret) = keys.create(&expiring, now).unwrap();
    keys.revoke("old", now).unwrap();
    access.reload_keys();

    let revoked_id = key::id_of(&revoked).unwrap().to_string();
    assert_eq!(
        access.authenticate(Some(&revoked), client()).unwrap_err(),
        Denial::RevokedKey { id: revoked_id }
    );
    // The same id with another secret is just invalid.
    let forged = key::regenerate(key::id_of(&temp_secret).unwrap()).unwrap();
    assert_eq!(
        access.authenticate(Some(&forged), client()).unwrap_err(),
        Denial::InvalidKey
    );
    assert!(access.authenticate(Some(&temp_secret), client()).is_ok());
    clock.advance(Duration::from_secs(61));
    match access
        .authenticate(Some(&temp_secret), client())
        .unwrap_err()
    {
        Denial::ExpiredKey { id, expired } => {
            assert_eq!(id, temp.id);
            assert_eq!(expired, "2026-05-01T23:59:00.000000Z");
        }
        other => panic!("expected an expired key, got {other:?}"),
    }
}

#[test]
fn rotation_replaces_the_secret_and_keeps_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let access = Access::open_with_clock(dir.path(), AccessSettings::default(), clock()).unwrap();
    let mut keys = Keys::open(dir.path()).unwrap();
    let now = access.clock().now_utc();
    let (record, old) = keys.create(&new_key("playbook", "ip"), now).unwrap();
    let (rotated, new) = keys.rotate(&record.id, now).unwrap();
    assert_eq!(rotated.id, record.id);
    assert_ne!(old, new);
    access.reload_keys();
    assert_eq!(
        access.authenticate(Some(&old), client()).unwrap_err(),
        Denial::InvalidKey
    );
    assert_eq!(
        access.authenticate(Some(&new), client()).unwrap().key_id(),
        Some(record.id.as_str())
    );

    assert!(matches!(
        keys.create(&new_key("playbook", "ip"), now),
        Err(AccessError::DuplicateName(name)) if name == "playbook"
    ));
    assert!(matches!(
        keys.revoke("nothing", now),
        Err(AccessError::NoSuchKey(_))
    ));
    keys.revoke("playbook", now).unwrap();
    assert!(matches!(
        keys.rotate("playbook", now),
        Err(AccessError::Revoked(_))
    ));
    assert!(matches!(
        keys.create(&new_key("  ", "ip"), now),
        Err(AccessError::BadName(_))
    ));
}

#[test]
fn failed_attempts_lock_out_the_address_only() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let settings = AccessSettings {
        failed_auth_per_minute: 3,
        ..AccessSettings::default()
    };
    let access = Access::open_with_clock(dir.path(), settings, clock.clone()).unwrap();
    let mut keys = Keys::open(dir.path()).unwrap();
    let (_, secret) = keys
        .create(&new_key("soc", "all"), clock.now_utc())
        .unwrap();
    access.reload_keys();

    for _ in 0..3 {
        assert_eq!(
            access
                .authenticate(Some("tiq_guess"), client())
                .unwrap_err(),
            Denial::InvalidKey
        );
    }
    let denial = access
        .authenticate(Some("tiq_guess"), client())
        .unwrap_err();
    assert!(
        matches!(denial, Denial::TooManyFailures { .. }),
        "{denial:?}"
    );
    assert_eq!(denial.status(), 429);

    // Even the right key waits, so guessing gains nothing.
    assert!(matches!(
        access.authenticate(Some(&secret), client()),
        Err(Denial::TooManyFailures { .. })
    ));
    let other = Some("198.51.100.20".parse().unwrap());
    assert!(access.authenticate(Some(&secret), other).is_ok());

    clock.advance(Duration::from_secs(61));
    assert!(access.authenticate(Some(&secret), client()).is_ok());
}

#[test]
fn rate_limit_refills_with_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let access =
        Access::open_with_clock(dir.path(), AccessSettings::default(), clock.clone()).unwrap();
    let mut keys = Keys::open(dir.path()).unwrap();
    let mut limited = new_key("slow", "all");
    limited.rate_per_minute = Some(6);
    let (_, secret) = keys.create(&limited, clock.now_utc()).unwrap();
    access.reload_keys();

    let caller = access.authenticate(Some(&secret), client()).unwrap();
    for _ in 0..6 {
        access.admit(&caller, Scope::Ip, 1).unwrap();
    }
    let denial = access.admit(&caller, Scope::Ip, 1).unwrap_err();
    assert_eq!(
        denial,
        Denial::RateLimited {
            rate: 6,
            retry_after: 10
        }
    );
    assert_eq!(denial.limit(), Some("rate"));

    clock.advance(Duration::from_secs(10));
    access.admit(&caller, Scope::Ip, 1).unwrap();

    // A batch counts each item, and one larger than the bucket can never pass.
    clock.advance(Duration::from_secs(60));
    assert!(access.admit(&caller, Scope::Batch, 5).is_ok());
    assert!(matches!(
        access.admit(&caller, Scope::Batch, 2),
        Err(Denial::RateLimited { .. })
    ));
    assert_eq!(
        access.admit(&caller, Scope::Batch, 7).unwrap_err(),
        Denial::OverRate { rate: 6, cost: 7 }
    );
}

#[test]
fn daily_quota_survives_restart_until_midnight() {
    let dir = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut keys = Keys::open(dir.path()).unwrap();
    let mut capped = new_key("capped", "all");
    capped.daily_quota = Some(5);
    let (_, secret) = keys.create(&capped, clock.now_utc()).unwrap();

    {
        let access =
            Access::open_with_clock(dir.path(), AccessSettings::default(), clock.clone()).unwrap();
        let caller = access.authenticate(Some(&secret), client()).unwrap();
        access.admit(&caller, Scope::Batch, 3).unwrap();
        access.flush();
    }

    let access =
        Access::open_with_clock(dir.path(), AccessSettings::default(), clock.clone()).unwrap();
    let caller = access.authenticate(Some(&secret), client()).unwrap();
    access.admit(&caller, Scope::Ip, 2).unwrap();
    let denial = access.admit(&caller, Scope::Ip, 1).unwrap_err();
    assert_eq!(
        denial,
        Denial::QuotaExhausted {
            cost: 1,
            quota: 5,
            used: 5,
            retry_after: 120,
            resets_at: "2026-05-02T00:00:00.000000Z".to_string()
        }
    );
    assert_eq!(denial.limit(), Some("daily_quota"));

    clock.advance(Duration::from_secs(120));
    access.admit(&caller, Scope::Ip, 5).unwrap();
}

#[test]
fn audit_entries_chain_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let access = Access::open_with_clock(dir.path(), AccessSettings::default(), clock()).unwrap();
    for (tool, query) in [
        ("analyze_ip", "192.0.2.1"),
        ("analyze_domain", "example.com"),
        ("analyze_ip", "192.0.2.2"),
    ] {
        access.record(entry(&access, tool, query));
        access.clock().advance(Duration::from_secs(60));
    }
    access.flush();

    let log = AuditLog::open(dir.path()).unwrap();
    let all = log.entries(&AuditFilter::default()).unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(all[0].prev, audit::GENESIS);
    assert_eq!(all[1].prev, all[0].hash);
    assert_eq!(all[2].seq, 3);

    let ips = log
        .entries(&AuditFilter {
            tool: Some("analyze_ip".into()),
            ..AuditFilter::default()
        })
        .unwrap();
    assert_eq!(
        ips.iter()
            .map(|r| r.query.as_deref().unwrap())
            .collect::<Vec<_>>(),
        ["192.0.2.1", "192.0.2.2"]
    );
    let late = log
        .entries(&AuditFilter {
            since: Some(datetime!(2026-05-01 23:59 UTC)),
            ..AuditFilter::default()
        })
        .unwrap();
    assert_eq!(late.len(), 2);

    let newest = log
        .entries(&AuditFilter {
            limit: Some(1),
            ..AuditFilter::default()
        })
        .unwrap();
    assert_eq!(newest[0].seq, 3);

    let verification = log.verify().unwrap();
    assert_eq!(verification.checked, 3);
    assert_eq!(verification.first_break, None);
}

/// Writes `count` entries and returns the log's directory.
fn chain(count: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let access = Access::open_with_clock(dir.path(), AccessSettings::default(), clock()).unwrap();
    for n in 0..count {
        access.record(entry(&access, "analyze_ip", &format!("192.0.2.{n}")));
        access.clock().advance(Duration::from_secs(1));
    }
    access.flush();
    dir
}

/// Opens the database the way someone tampering with it would, without the trigger.
fn tamper(dir: &Path, sql: &str) {
    let conn = Connection::open(dir.join(DB_FILE)).unwrap();
    conn.execute_batch("DROP TRIGGER IF EXISTS audit_append_only;")
        .unwrap();
    conn.execute_batch(sql).unwrap();
}

fn first_break(dir: &Path) -> Option<ChainBreak> {
    AuditLog::open(dir).unwrap().verify().unwrap().first_break
}

#[test]
fn edited_entry_is_found() {
    let dir = chain(10);
    let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let rejected = conn.execute("UPDATE audit SET verdict = 'benign' WHERE seq = 4", []);
    assert!(rejected.unwrap_err().to_string().contains("append-only"));
    drop(conn);
    tamper(
        dir.path(),
        "UPDATE audit SET verdict = 'benign' WHERE seq = 4;",
    );
    assert_eq!(first_break(dir.path()), Some(ChainBreak::Edited { seq: 4 }));
}

#[test]
fn rehashed_edit_breaks_next_link() {
    let dir = chain(10);
    let log = AuditLog::open(dir.path()).unwrap();
    let mut record = log.entries(&AuditFilter::default()).unwrap().remove(5);
    record.query = Some("203.0.113.9".into());
    record.hash = record.compute_hash();
    tamper(
        dir.path(),
        &format!(
            "UPDATE audit SET query = '203.0.113.9', hash = X'{}' WHERE seq = 6;",
            record.hash
        ),
    );
    assert_eq!(
        first_break(dir.path()),
        Some(ChainBreak::Unlinked { seq: 7 })
    );
}

#[test]
fn entries_removed_from_the_middle_are_found() {
    let dir = chain(10);
    tamper(dir.path(), "DELETE FROM audit WHERE seq IN (5, 6);");
    let found = first_break(dir.path()).unwrap();
    assert_eq!(
        found,
        ChainBreak::Missing {
            seq: 7,
            expected: 5
        }
    );
    assert!(
        found.message(Lang::En).contains("entries 5 to 6"),
        "{}",
        found.message(Lang::En)
    );
}

#[test]
fn reordered_entries_are_found() {
    let dir = chain(10);
    tamper(
        dir.path(),
        "UPDATE audit SET seq = 100 WHERE seq = 3;
         UPDATE audit SET seq = 3 WHERE seq = 8;
         UPDATE audit SET seq = 8 WHERE seq = 100;",
    );
    assert_eq!(first_break(dir.path()).map(|b| b.seq()), Some(3));
}

#[test]
fn pruning_keeps_the_rest_verifiable() {
    let dir = chain(10);
    let access = Access::open_with_clock(dir.path(), AccessSettings::default(), clock()).unwrap();
    // The manual clock restarted at the first entry's time; entries are a second apart.
    access.clock().advance(Duration::from_secs(10));
    assert_eq!(access.prune_audit(Duration::from_millis(5500)).unwrap(), 5);
    access.record(entry(&access, "analyze_url", "https://example.com/x"));
    access.flush();
    let log = AuditLog::open(dir.path()).unwrap();
    let verification = log.verify().unwrap();
    assert_eq!(verification.anchor, 5);
    assert_eq!(verification.checked, 6);
    assert_eq!(verification.last, Some(11));
    assert_eq!(verification.first_break, None);
    // Removing the oldest remaining entry is still found after pruning.
    tamper(dir.path(), "DELETE FROM audit WHERE seq = 6;");
    assert_eq!(
        first_break(dir.path()),
        Some(ChainBreak::Missing {
            seq: 7,
            expected: 6
        })
    );
}

#[test]
fn long_queries_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let access = Access::open_with_clock(dir.path(), AccessSettings::default(), clock()).unwrap();
    let long = format!("https://example.com/{}", "a".repeat(2000));
    access.record(entry(&access, "analyze_url", &long));
    access.flush();
    let records = AuditLog::open(dir.path())
        .unwrap()
        .entries(&AuditFilter::default())
        .unwrap();
    let query = records[0].query.as_deref().unwrap();
    assert_eq!(query.chars().count(), audit::MAX_QUERY_CHARS + 1);
    assert!(query.ends_with('…'));
}

#[test]
fn partial_quota_names_what_is_left() {
    let denial = Denial::QuotaExhausted {
        cost: 3,
        quota: 5,
        used: 3,
        retry_after: 60,
        resets_at: "2026-05-02T00:00:00.000000Z".to_string(),
    };
    let message = denial.message(Lang::En);
    assert!(
        message.contains("only 2 of the daily quota of 5"),
        "{message}"
    );
    assert!(denial.message(Lang::ZhCn).contains("只剩 2 次"));
}

#[test]
fn recheck_catches_keys_revoked_or_rotated_after_admission() {
    let dir = tempfile::tempdir().unwrap();
    let access = Access::open_with_clock(dir.path(), AccessSettings::default(), clock()).unwrap();
    let mut keys = Keys::open(dir.path()).unwrap();
    let now = access.clock().now_utc();
    let (record, secret) = keys.create(&new_key("stream", "all"), now).unwrap();
    let (_, other) = keys.create(&new_key("other", "all"), now).unwrap();
    access.reload_keys();
    let caller = access.authenticate(Some(&secret), client()).unwrap();
    let second = access.authenticate(Some(&other), client()).unwrap();
    assert_eq!(access.recheck(&caller), Ok(()));

    keys.rotate("other", now).unwrap();
    keys.revoke(&record.id, now).unwrap();
    access.reload_keys();
    assert_eq!(
        access.recheck(&caller),
        Err(Denial::RevokedKey {
            id: record.id.clone()
        })
    );
    assert_eq!(access.recheck(&second), Err(Denial::InvalidKey));
}
