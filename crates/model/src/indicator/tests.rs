use super::*;

fn ip(input: &str) -> String {
    parse_ip(input)
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string()
}

#[test]
fn ipv4_forms() {
    assert_eq!(ip("192.0.2.1"), "192.0.2.1");
    assert_eq!(ip(" 192.0.2.1 "), "192.0.2.1");
    assert_eq!(ip("192.0.2.1:8080"), "192.0.2.1");
    assert_eq!(ip("192.0.2[.]1"), "192.0.2.1");
    assert_eq!(ip("192(.)0(.)2(.)1"), "192.0.2.1");
}

#[test]
fn ipv4_leading_zeros_are_decimal() {
    assert_eq!(ip("010.001.002.003"), "10.1.2.3");
    assert_eq!(ip("192.000.002.010"), "192.0.2.10");
}

#[test]
fn ipv4_rejections() {
    let err = parse_ip("300.1.1.1").unwrap_err();
    assert_eq!(err.reason, Reason::OctetOverflow("300".into()));
    assert!(err.to_string().contains("\"300.1.1.1\""), "{err}");
    assert!(err.to_string().contains("octet 300 is over 255"), "{err}");
    assert!(parse_ip("1.2.3").is_err());
    assert!(parse_ip("0x7f.0.0.1").is_err());
    assert!(parse_ip("1.2.3.4.5").is_err());
    assert!(parse_ip("1234.1.1.1").is_err());
    assert_eq!(parse_ip("").unwrap_err().reason, Reason::Empty);
}

#[test]
fn ipv6_forms() {
    assert_eq!(ip("2001:db8::1"), "2001:db8::1");
    assert_eq!(ip("2001:0DB8:0000:0000:0000:0000:0000:0001"), "2001:db8::1");
    assert_eq!(ip("[2001:db8::1]"), "2001:db8::1");
    assert_eq!(ip("[2001:db8::1]:443"), "2001:db8::1");
    assert_eq!(ip("fe80::1%eth0"), "fe80::1");
    assert_eq!(ip("2001:db8[:]:1"), "2001:db8::1");
}

#[test]
fn ipv4_mapped_becomes_ipv4() {
    assert_eq!(ip("::ffff:192.0.2.7"), "192.0.2.7");
    assert_eq!(ip("::ffff:c000:0207"), "192.0.2.7");
}

#[test]
fn domain_canonical_form() {
    let d = parse_domain("WWW.Example.COM.").unwrap();
    assert_eq!(d.name, "www.example.com");
    assert_eq!(d.registered.as_deref(), Some("example.com"));
    assert_eq!(d.suffix, "com");

    let d = parse_domain("a.b.example.co.uk").unwrap();
    assert_eq!(d.registered.as_deref(), Some("example.co.uk"));
    assert_eq!(d.suffix, "co.uk");

    assert_eq!(parse_domain("example[.]org").unwrap().name, "example.org");
}

#[test]
fn domain_idn_to_punycode() {
    let d = parse_domain("例子.测试").unwrap();
    assert_eq!(d.name, "xn--fsqu00a.xn--0zwm56d");
    let d = parse_domain("Bücher.example").unwrap();
    assert_eq!(d.name, "xn--bcher-kva.example");
    assert_eq!(
        parse_domain("xn--bcher-kva.example").unwrap().name,
        "xn--bcher-kva.example"
    );
}

#[test]
fn domain_rejections() {
    assert_eq!(
        parse_domain("localhost").unwrap_err().reason,
        Reason::SingleLabel
    );
    assert!(matches!(
        parse_domain("exa mple.com").unwrap_err().reason,
        Reason::BadDomainChar(' ')
    ));
    assert!(matches!(
        parse_domain("a..com").unwrap_err().reason,
        Reason::BadLabel(_)
    ));
    assert!(matches!(
        parse_domain("192.0.2.1").unwrap_err().reason,
        Reason::NumericTld(_)
    ));
    assert!(parse_domain("https://example.com/").is_err());
    let long_label = format!("{}.com", "a".repeat(64));
    assert!(matches!(
        parse_domain(&long_label).unwrap_err().reason,
        Reason::BadLabel(_)
    ));
}

#[test]
fn url_forms() {
    let u = parse_url("hxxps://Example[.]COM/Login?a=1").unwrap();
    assert_eq!(u.url, "https://example.com/Login?a=1");
    assert!(
        matches!(&u.host, UrlHost::Domain(d) if d.registered.as_deref() == Some("example.com"))
    );

    let u = parse_url("http://192.0.2.5:8080/bin.sh").unwrap();
    assert_eq!(u.url, "http://192.0.2.5:8080/bin.sh");
    assert!(matches!(u.host, UrlHost::Ip(_)));

    assert_eq!(
        parse_url("example.net/path").unwrap().url,
        "http://example.net/path"
    );
    assert_eq!(
        parse_url("HXXP://example.org:80/").unwrap().url,
        "http://example.org/"
    );
    assert_eq!(
        parse_url("http://[2001:db8::5]/x").unwrap().url,
        "http://[2001:db8::5]/x"
    );
}

#[test]
fn url_rejections() {
    assert!(matches!(
        parse_url("ftp://example.com/").unwrap_err().reason,
        Reason::BadScheme(_)
    ));
    assert!(parse_url("http://").is_err());
    assert!(parse_url("http://exa mple.com/").is_err());
}

#[test]
fn hash_forms() {
    let md5 = "D41D8CD98F00B204E9800998ECF8427E";
    assert_eq!(
        parse_hash(md5).unwrap(),
        (HashKind::Md5, md5.to_ascii_lowercase())
    );
    assert_eq!(parse_hash(&"a".repeat(40)).unwrap().0, HashKind::Sha1);
    assert_eq!(parse_hash(&"B".repeat(64)).unwrap().0, HashKind::Sha256);
    assert_eq!(
        parse_hash(&"a".repeat(33)).unwrap_err().reason,
        Reason::HashLength(33)
    );
    assert_eq!(
        parse_hash(&"g".repeat(32)).unwrap_err().reason,
        Reason::NotHex('g')
    );
}

#[test]
fn cve_forms() {
    assert_eq!(parse_cve("cve-2021-44228").unwrap(), "CVE-2021-44228");
    assert_eq!(parse_cve("CVE-2024-1234567").unwrap(), "CVE-2024-1234567");
    assert!(parse_cve("CVE-21-44228").is_err());
    assert!(parse_cve("CVE-2021-123").is_err());
}

#[test]
fn parse_any_picks_type() {
    assert_eq!(
        Indicator::parse_any("192.0.2.1").unwrap().kind(),
        IndicatorKind::Ip
    );
    assert_eq!(
        Indicator::parse_any("example.com").unwrap().kind(),
        IndicatorKind::Domain
    );
    assert_eq!(
        Indicator::parse_any("hxxp://example.com/a").unwrap().kind(),
        IndicatorKind::Url
    );
    assert_eq!(
        Indicator::parse_any(&"0".repeat(64)).unwrap().kind(),
        IndicatorKind::Hash
    );
    assert_eq!(
        Indicator::parse_any("cve-2021-44228").unwrap().kind(),
        IndicatorKind::Cve
    );
    let err = Indicator::parse_any("not an indicator").unwrap_err();
    assert_eq!(err.reason, Reason::Unrecognised);
    assert!(err.to_string().contains("\"not an indicator\""));
}

#[test]
fn error_message_in_chinese() {
    let err = parse_ip("300.1.1.1").unwrap_err();
    let zh = err.message(Lang::ZhCn);
    assert!(zh.contains("无效的 IP 地址"), "{zh}");
    assert!(zh.contains("300.1.1.1"), "{zh}");
}

#[test]
fn refang_leaves_plain_values_alone() {
    assert_eq!(refang("2001:db8::/32"), "2001:db8::/32");
    assert_eq!(refang("http://example.com/[x]"), "http://example.com/[x]");
    assert_eq!(refang("hXXps://example[.]com"), "https://example.com");
}

#[test]
fn ip_brackets_ports_and_zones_are_checked() {
    for bad in [
        "[::1",
        "::1]",
        "[2001:db8::1]x",
        "192.0.2.1:99999",
        "192.0.2.1:0",
        "192.0.2.1:",
        "2001:db8::1%",
        "fe80::1%eth0%eth1",
        "fe80::1%e th0",
        "192.0.2.1%eth0",
        "1::2::3",
    ] {
        assert!(parse_ip(bad).is_err(), "{bad} must be rejected");
    }
    assert!(matches!(
        parse_ip("192.0.2.1:99999").unwrap_err().reason,
        Reason::BadPort(_)
    ));
    assert_eq!(ip("192.0.2.1:65535"), "192.0.2.1");
    assert_eq!(ip("fe80::1%3"), "fe80::1");
}

#[test]
fn url_numeric_host_follows_ip_rules() {
    assert_eq!(
        parse_url("http://010.001.002.003/").unwrap().url,
        "http://10.1.2.3/"
    );
    assert_eq!(
        parse_url("http://user@001.020.178.157:8080/x").unwrap().url,
        "http://1.20.178.157:8080/x"
    );
    for bad in [
        "http://0x7f.0.0.1/",
        "http://2130706433/",
        "http://127.1/",
        "http://1.2.3/",
    ] {
        assert!(
            matches!(parse_url(bad).unwrap_err().reason, Reason::BadUrlAddress(_)),
            "{bad}"
        );
    }
}

#[test]
fn url_other_schemes_are_named() {
    for (bad, scheme) in [
        ("mailto:a@example.com", "mailto"),
        ("javascript:alert(1)", "javascript"),
        ("data:text/html,hi", "data"),
    ] {
        assert_eq!(
            parse_url(bad).unwrap_err().reason,
            Reason::BadScheme(scheme.into()),
            "{bad}"
        );
    }
    assert_eq!(
        parse_url("example.com:8080/x").unwrap().url,
        "http://example.com:8080/x"
    );
}

#[test]
fn domain_label_rules() {
    assert!(matches!(
        parse_domain("example-.com").unwrap_err().reason,
        Reason::HyphenEdge(_)
    ));
    assert!(matches!(
        parse_domain("-example.com").unwrap_err().reason,
        Reason::HyphenEdge(_)
    ));
    assert_eq!(
        parse_domain("xn--zz.com").unwrap_err().reason,
        Reason::BadIdn
    );
    assert!(parse_domain("xn--.com").is_err());
}

#[test]
fn chinese_reason_is_translated() {
    let zh = parse_ip("300.1.1.1").unwrap_err().message(Lang::ZhCn);
    assert!(zh.contains("超过 255"), "{zh}");
    assert!(!zh.contains("is over"), "{zh}");
}

#[test]
fn url_canonical_form_drops_fragment_and_user() {
    let canonical = "http://192.0.2.9:8080/i";
    for form in [
        "http://192.0.2.9:8080/i#frag",
        "http://192.0.2.9:8080/i?",
        "http://user:pw@192.0.2.9:8080/i",
    ] {
        assert_eq!(parse_url(form).unwrap().url, canonical, "{form}");
    }
    let mapped = parse_url("http://[::ffff:192.0.2.9]/x").unwrap();
    assert_eq!(mapped.url, "http://192.0.2.9/x");
    assert!(matches!(mapped.host, UrlHost::Ip(IpAddr::V4(_))));
    assert!(matches!(
        parse_url("http://192.0.2.9:0/").unwrap_err().reason,
        Reason::BadPort(_)
    ));
    assert_eq!(
        parse_url("http:\\\\example.com\\x").unwrap().url,
        "http://example.com/x"
    );
}

#[test]
fn url_numeric_host_rule_covers_every_spelling() {
    // Each host is a hexadecimal, integer or shortened IPv4 form once the URL parser has
    // dropped control characters, read `\` or a run of slashes as `/`, percent-decoded it
    // or mapped it with IDNA, and parse_ip rejects all of them.
    for bad in [
        "http:0xc0.0.2.1",
        "http:\\\\0xc0.0.2.1\\",
        "http:3221225985/",
        "https:92.//example.org:443/",
        "//27.23",
        "http://0xc0.0.2.%31/",
        "http://0xc0.0.2.1\t/",
        "http://0xc0.0.2.１/",
        "http://0xc0.0.2.1。/",
        "2\0\0\0",
    ] {
        let result = parse_url(bad);
        assert!(result.is_err(), "{bad:?} was accepted as {result:?}");
    }
}

#[test]
fn url_leading_zero_host_is_decimal() {
    for (form, canonical) in [
        ("http://192.000.002.010/", "http://192.0.2.10/"),
        ("http:192.000.002.010/", "http://192.0.2.10/"),
        ("http:\\\\192.000.002.010\\x", "http://192.0.2.10/x"),
    ] {
        let url = parse_url(form).map(|u| u.url);
        assert_eq!(url, Ok(canonical.to_string()), "{form:?}");
    }
    let encoded = parse_url("http://192.000.002.01%30/").map(|u| u.url);
    assert_ne!(
        encoded,
        Ok("http://192.0.2.8/".to_string()),
        "the host must not be read as octal"
    );
}

#[test]
fn url_canonical_form_is_fixed_point() {
    for form in [
        "http:example.0xyz/",
        "/e[.]0Xet/payln",
        "http://example.com/[[:]]",
        "http://example.com/a[\n.]b",
        "http://192.0.2.1/(\t.)",
        "http://example.com/?q={\t.}",
        "http://example.org/(.\n)",
    ] {
        // Rejecting the form is also correct: only an accepted URL needs a fixed point.
        let Ok(parsed) = parse_url(form) else {
            continue;
        };
        let canonical = parsed.url;
        let again = parse_url(&canonical).map(|u| u.url);
        assert_eq!(
            again,
            Ok(canonical.clone()),
            "{form:?} became {canonical:?}"
        );
    }
}

#[test]
fn url_leftover_spelling_is_escaped() {
    let url = parse_url("http://example.com/[[:]]?q=((.))").unwrap().url;
    assert_eq!(url, "http://example.com/%5B:]?q=%28.)");
    let tab_split = parse_url("hxxp://example[\t.]com/a[\n.]b").unwrap().url;
    assert_eq!(tab_split, "http://example.com/a.b");
}

#[test]
fn url_host_is_its_domain() {
    for form in [
        "http://example({.})com/",
        "http://example(\t.)com/",
        "http://example.com({.})example.net/",
        "C0Nle.lee(\r.)fr",
    ] {
        // Rejecting the form is also correct: only an accepted URL must agree with its host.
        let Ok(parsed) = parse_url(form) else {
            continue;
        };
        let UrlHost::Domain(domain) = &parsed.host else {
            panic!("{form:?}: the host of {:?} is not a domain", parsed.url);
        };
        let prefix = format!("http://{}/", domain.name);
        assert!(
            parsed.url.starts_with(&prefix),
            "{form:?}: {:?} is not on its domain {:?}",
            parsed.url,
            domain.name
        );
    }
}

#[test]
fn domain_nested_punycode_is_rejected() {
    // The last label decodes to "xn--fъdxn--xn-", which starts with xn-- again.
    let unicode = "dab.b.xn--fъdxn--xn-";
    assert_eq!(parse_domain(unicode).unwrap_err().reason, Reason::BadIdn);
    let punycode = parse_domain("dab.b.xn--xn--fdxn--xn--fdl").map_err(|e| e.reason);
    assert_eq!(
        punycode,
        Err(Reason::BadIdn),
        "the punycode form of {unicode:?}"
    );
}
