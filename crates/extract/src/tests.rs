use super::*;

/// Extracts `text` in one call, as kind and value pairs.
fn items(text: &str) -> Vec<(Kind, String)> {
    extract(text)
        .into_iter()
        .map(|item| (item.kind, item.value))
        .collect()
}

/// Extracts `text` fed in chunks of `chunk` bytes.
fn run(text: &str, chunk: usize) -> Extraction {
    let mut extractor = Extractor::new(Options::default());
    for piece in text.as_bytes().chunks(chunk.max(1)) {
        extractor.feed(piece);
    }
    extractor.finish()
}

#[test]
fn finds_mixed_kinds_in_prose() {
    let text = "Payload from hxxps://cdn.example[.]com/a.bin (md5 D41D8CD98F00B204E9800998ECF8427E) \
                beaconed to 198.51.100.7:8443 and [2001:db8::5]:443, range 203.0.113.0/24; \
                mail admin[at]example.org about CVE-2021-44228.";
    assert_eq!(
        items(text),
        [
            (Kind::Url, "https://cdn.example.com/a.bin".to_string()),
            (Kind::Domain, "cdn.example.com".to_string()),
            (Kind::Md5, "d41d8cd98f00b204e9800998ecf8427e".to_string()),
            (Kind::Ipv4, "198.51.100.7".to_string()),
            (Kind::Ipv6, "2001:db8::5".to_string()),
            (Kind::Cidr, "203.0.113.0/24".to_string()),
            (Kind::Email, "admin@example.org".to_string()),
            (Kind::Domain, "example.org".to_string()),
            (Kind::Cve, "CVE-2021-44228".to_string()),
        ]
    );
}

#[test]
fn result_ignores_chunk_size() {
    let text = "192.0.2.1 - - [05/Dec/2026:10:00:00 +0000] \"GET /x HTTP/1.1\" 404 1 \"-\" \"-\"\n\
                hxxp://evil.example[.]net/p?q=1\r\n\
                sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
                last line without newline 198.51.100.9";
    let whole = run(text, text.len());
    for chunk in [1, 2, 3, 7, 64] {
        assert_eq!(run(text, chunk), whole, "chunk {chunk}");
    }

    assert_eq!(whole.lines, 4);
    assert_eq!(whole.indicators.len(), 5);
}

#[test]
fn long_line_is_read_in_pieces() {
    let options = Options {
        max_line: 1024,
        max_indicators: 10,
        ..Options::default()
    };
    let mut extractor = Extractor::new(options);
    let filler = "word ".repeat(100_000);
    extractor.feed(b"192.0.2.1 ");
    extractor.feed(filler.as_bytes());
    assert!(extractor.pending.len() <= 1024 + filler.len().min(1024));

    extractor.feed(b"198.51.100.2\nnext 203.0.113.3\n");
    let extraction = extractor.finish();
    assert_eq!(extraction.lines, 2);
    assert_eq!(extraction.formats, [(Format::Text, 2)]);
    let values: Vec<&str> = extraction
        .indicators
        .iter()
        .map(|f| f.value.as_str())
        .collect();
    assert_eq!(values, ["192.0.2.1", "198.51.100.2", "203.0.113.3"]);
    assert_eq!(extraction.indicators[2].first_line, 2);
}

#[test]
fn indicators_past_cap_are_dropped() {
    let options = Options {
        max_indicators: 2,
        ..Options::default()
    };
    let mut extractor = Extractor::new(options);
    extractor.feed(b"192.0.2.1 192.0.2.2 192.0.2.3 192.0.2.1 192.0.2.4");
    let extraction = extractor.finish();
    assert_eq!(extraction.indicators.len(), 2);
    assert_eq!(extraction.indicators[0].count, 2);
    assert_eq!(extraction.dropped, 2);
}

#[test]
fn flags_ssh_guessing_then_login() {
    let mut log = String::new();
    for second in 0..6 {
        log.push_str(&format!(
            "Dec  5 10:00:0{second} host sshd[9]: Failed password for root from 203.0.113.50 port 5{second}000 ssh2\n"
        ));
    }
    log.push_str("Dec  5 10:00:30 host sshd[9]: Accepted password for root from 203.0.113.50 port 6000 ssh2\n");
    log.push_str(
        "Dec  5 11:00:00 host sshd[9]: Failed password for bob from 198.51.100.8 port 7000 ssh2\n",
    );
    let extraction = run(&log, 4096);

    let guesser = &extraction.indicators[0];
    assert_eq!(guesser.value, "203.0.113.50");
    assert_eq!(guesser.count, 7);
    assert_eq!(guesser.first_seen.as_deref(), Some("2026-12-05T10:00:00Z"));
    assert_eq!(guesser.last_seen.as_deref(), Some("2026-12-05T10:00:30Z"));
    let activity = guesser.activity.as_ref().expect("activity of the client");
    assert_eq!(activity.failed_logins, 6);
    let kinds: Vec<BehaviourKind> = activity.behaviours.iter().map(|b| b.kind).collect();
    assert_eq!(
        kinds,
        [
            BehaviourKind::LoginAfterFailures,
            BehaviourKind::FailedLogins
        ]
    );
    assert_eq!(activity.behaviours[1].events, 6);
    assert_eq!(activity.behaviours[1].window_seconds, Some(600));

    let single = &extraction.indicators[1];
    assert!(single.activity.as_ref().unwrap().behaviours.is_empty());
    assert_eq!(extraction.formats, [(Format::Syslog, 8)]);
}

#[test]
fn flags_login_posts_and_counts_requests() {
    let mut log = String::new();
    for second in 0..12 {
        log.push_str(&format!(
            "192.0.2.77 - - [05/Dec/2026:10:01:{second:02} +0000] \"POST /wp-login.php HTTP/1.1\" 200 512 \"-\" \"python-requests/2.31\"\n"
        ));
    }
    log.push_str("192.0.2.77 - - [05/Dec/2026:10:09:00 +0000] \"GET /index.php?id=1 HTTP/1.1\" 404 0 \"-\" \"-\"\n");
    let extraction = run(&log, 100);

    let found = &extraction.indicators[0];
    let activity = found.activity.as_ref().unwrap();
    assert_eq!(activity.requests, 13);
    assert_eq!(
        activity.methods,
        [
            Counted {
                value: "POST".into(),
                count: 12
            },
            Counted {
                value: "GET".into(),
                count: 1
            }
        ]
    );
    assert_eq!(activity.paths[1].value, "/index.php");
    assert_eq!(activity.statuses[1].value, "404");

    assert_eq!(activity.behaviours.len(), 1);
    assert_eq!(activity.behaviours[0].kind, BehaviourKind::LoginPosts);
    assert_eq!(activity.behaviours[0].events, 12);
    assert_eq!(
        activity.behaviours[0].from.as_deref(),
        Some("2026-12-05T10:01:00Z")
    );
}

#[test]
fn false_positive_traps_give_nothing() {
    for text in [
        "open report.pdf, index.php and readme.md, then archive.zip",
        "version 1.2.3.4.5 build v10.0.19041.1 OID 1.3.6.1.4.1.311",
        "on 2026-12-05 at 10:12:13 from 00:1a:2b:3c:4d:5e",
        "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}",
        "0123456789abcdef0123456789abcdef0123456789abcdef",
        "data that dotnet attack example dot com",
    ] {
        assert_eq!(items(text), [], "{text}");
    }
}

#[test]
fn spread_out_failures_are_not_flagged() {
    let mut log = String::new();
    for minute in [0, 5, 10, 15, 20, 25] {
        log.push_str(&format!(
            "Dec  5 10:{minute:02}:00 host sshd[9]: Failed password for root from 203.0.113.60 port 4000 ssh2\n"
        ));
    }
    let extraction = run(&log, 4096);

    let activity = extraction.indicators[0].activity.as_ref().unwrap();
    assert_eq!(activity.failed_logins, 6);
    assert!(activity.behaviours.is_empty(), "{:?}", activity.behaviours);
}

#[test]
fn activity_clients_are_bounded() {
    let options = Options {
        max_indicators: 2,
        ..Options::default()
    };
    let mut extractor = Extractor::new(options);
    for host in 1..=5 {
        extractor.feed(
            format!("192.0.2.{host} - - [05/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"-\"\n")
                .as_bytes(),
        );
    }
    assert_eq!(extractor.activity.len(), 2);

    let extraction = extractor.finish();
    assert_eq!(extraction.indicators.len(), 2);
    assert!(extraction.indicators.iter().all(|f| f.activity.is_some()));
}

#[test]
fn login_before_failures_is_not_flagged() {
    let mut log = String::from(
        "Dec  5 09:00:00 host sshd[9]: Accepted password for root from 203.0.113.70 port 4000 ssh2\n",
    );
    for second in 0..6 {
        log.push_str(&format!(
            "Dec  5 10:00:0{second} host sshd[9]: Failed password for root from 203.0.113.70 port 4000 ssh2\n"
        ));
    }
    let extraction = run(&log, 4096);
    let activity = extraction.indicators[0].activity.as_ref().unwrap();
    let kinds: Vec<BehaviourKind> = activity.behaviours.iter().map(|b| b.kind).collect();
    assert_eq!(kinds, [BehaviourKind::FailedLogins]);
    assert_eq!(activity.accepted_logins, 1);
}

#[test]
fn cef_event_gets_the_configured_year() {
    let extraction = run(
        "Dec  5 10:00:00 fw1 CEF:0|Example|WAF|1.0|1001|SQL injection|8|src=192.0.2.77 act=blocked\n",
        4096,
    );
    assert_eq!(extraction.formats, [(Format::Waf, 1)]);
    let found = &extraction.indicators[0];
    assert_eq!(found.first_seen.as_deref(), Some("2026-12-05T10:00:00Z"));
}

#[test]
fn other_schemes_give_hosts_not_emails() {
    assert_eq!(
        items("get ftp://anonymous@files.example.com/pub/x"),
        [(Kind::Domain, "files.example.com".to_string())]
    );
}

#[test]
fn byte_order_mark_is_skipped() {
    let line = "192.0.2.4 - - [05/Dec/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"-\"\n";
    let plain = run(line, 4096);
    let marked = run(&format!("\u{feff}{line}"), 1);
    assert_eq!(marked.indicators, plain.indicators);
    assert_eq!(marked.formats, plain.formats);
    assert_eq!(marked.bytes, plain.bytes + 3);
    // Only the start of the input is a byte order mark.
    let later = items("198.51.100.1\n\u{feff}192.0.2.4\n");
    assert_eq!(later, [(Kind::Ipv4, "198.51.100.1".to_string())]);
}

#[test]
fn fuzz_input_with_broken_punycode() {
    // The input on which fuzzing found a host with punycode that does not decode.
    let text = "C2 at hxxps://bad[.]xn--example[.]net:8443/gate.ffffffffffffffffffffphp, drops \
                d41d8cd98f00b204e9800998ecf8427e; see CVE-2026-12345 and admin[at]example[dot]org; \
                range 198.51.100.0/24, hostort.pdf are not indicators+ sha1 \
                da39a3ee5e6b4b0d3255bfef95601890afd80709.\n";
    let found = items(text);
    assert!(
        found
            .iter()
            .all(|(_, value)| !value.contains("xn--example")),
        "{found:?}"
    );
    assert!(
        found.contains(&(Kind::Email, "admin@example.org".to_string())),
        "{found:?}"
    );
    assert!(
        found.contains(&(Kind::Cidr, "198.51.100.0/24".to_string())),
        "{found:?}"
    );
}
