//! Block rules for what a scan found: ready-to-apply nftables, iptables, ipset and nginx
//! text, or CSV. Only items a scan marks `block` are written: malicious, public, and on no
//! benign list. Private and other internal addresses never are. Domains are CSV rows, and
//! comments in the other formats, for a DNS resolver or a forward proxy.

use std::fmt::Write;
use std::net::IpAddr;
use std::str::FromStr;

use tiq_model::scan::{FoundKind, ScanItem, ScanReport};

/// The format of a block list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockFormat {
    Nftables,
    Iptables,
    Ipset,
    Nginx,
    Csv,
}

impl BlockFormat {
    /// Names of the formats, for messages. `nft` is also accepted for nftables.
    pub const NAMES: &'static str = "nftables, iptables, ipset, nginx, csv";
}

impl FromStr for BlockFormat {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.to_ascii_lowercase().as_str() {
            "nftables" | "nft" => Ok(BlockFormat::Nftables),
            "iptables" => Ok(BlockFormat::Iptables),
            "ipset" => Ok(BlockFormat::Ipset),
            "nginx" => Ok(BlockFormat::Nginx),
            "csv" => Ok(BlockFormat::Csv),
            _ => Err(name.to_string()),
        }
    }
}

/// Indicators of a block list, split by kind.
struct Entries<'a> {
    v4: Vec<&'a str>,
    v6: Vec<&'a str>,
    domains: Vec<&'a str>,
    /// The items of all three kinds, in report order, for CSV.
    items: Vec<&'a ScanItem>,
}

/// Collects the addresses and domains that `report` marks `block`.
fn entries(report: &ScanReport) -> Entries<'_> {
    let mut entries = Entries {
        v4: Vec::new(),
        v6: Vec::new(),
        domains: Vec::new(),
        items: Vec::new(),
    };
    for item in report.indicators.iter().filter(|i| i.block) {
        match item.kind {
            FoundKind::Ipv4 | FoundKind::Ipv6 => match item.value.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) => entries.v4.push(&item.value),
                Ok(IpAddr::V6(_)) => entries.v6.push(&item.value),
                Err(_) => continue,
            },
            FoundKind::Domain => entries.domains.push(&item.value),
            _ => continue,
        }
        entries.items.push(item);
    }
    entries
}

/// Renders the block list of `report` in `format`. `generated` (RFC 3339) and `source` go
/// into the header comment, which every format but CSV has.
pub fn render(report: &ScanReport, format: BlockFormat, generated: &str, source: &str) -> String {
    let entries = entries(report);
    let mut out = String::new();
    // A file name may contain line breaks, which would end the comment and turn the rest
    // into a rule, so control characters are replaced.
    let source: String = source
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    let header = format!(
        "tiq block list from {source}, {generated}: {} addresses, {} domains, malicious and public only",
        entries.v4.len() + entries.v6.len(),
        entries.domains.len()
    );
    match format {
        BlockFormat::Csv => csv(&mut out, &entries),
        BlockFormat::Nftables => nftables(&mut out, &entries, &header),
        BlockFormat::Iptables => iptables(&mut out, &entries, &header),
        BlockFormat::Ipset => ipset(&mut out, &entries, &header),
        BlockFormat::Nginx => nginx(&mut out, &entries, &header),
    }
    out
}

/// Lists the domains as comments, to block in a DNS resolver or a forward proxy, because
/// these formats filter addresses only.
fn domain_comments(out: &mut String, entries: &Entries<'_>) {
    if entries.domains.is_empty() {
        return;
    }
    out.push_str("# Malicious domains: block them in your DNS resolver or forward proxy.\n");
    for domain in &entries.domains {
        let _ = writeln!(out, "#   {domain}");
    }
}

fn nftables(out: &mut String, entries: &Entries<'_>, header: &str) {
    let _ = writeln!(out, "# {header}\n# Apply with: nft -f FILE");
    out.push_str("table inet tiq_block {\n");
    for (name, kind, addresses) in [
        ("blocked_v4", "ipv4_addr", &entries.v4),
        ("blocked_v6", "ipv6_addr", &entries.v6),
    ] {
        let _ = writeln!(out, "    set {name} {{\n        type {kind}");
        if !addresses.is_empty() {
            let _ = writeln!(out, "        elements = {{ {} }}", addresses.join(", "));
        }
        out.push_str("    }\n");
    }
    out.push_str(
        "    chain input {\n        type filter hook input priority filter - 10; policy accept;\n        ip saddr @blocked_v4 drop\n        ip6 saddr @blocked_v6 drop\n    }\n",
    );
    out.push_str(
        "    chain output {\n        type filter hook output priority filter - 10; policy accept;\n        ip daddr @blocked_v4 drop\n        ip6 daddr @blocked_v6 drop\n    }\n}\n",
    );
    domain_comments(out, entries);
}

fn iptables(out: &mut String, entries: &Entries<'_>, header: &str) {
    let _ = writeln!(out, "# {header}\n# Apply with: sh FILE (as root)");
    for (tool, addresses) in [("iptables", &entries.v4), ("ip6tables", &entries.v6)] {
        for address in addresses.iter() {
            let _ = writeln!(
                out,
                "{tool} -I INPUT -s {address} -m comment --comment tiq-malicious -j DROP"
            );
            let _ = writeln!(
                out,
                "{tool} -I OUTPUT -d {address} -m comment --comment tiq-malicious -j DROP"
            );
        }
    }
    domain_comments(out, entries);
}

fn ipset(out: &mut String, entries: &Entries<'_>, header: &str) {
    let _ = writeln!(
        out,
        "# {header}\n# Apply with: ipset restore -exist < FILE, then for example:\n#   iptables -I INPUT -m set --match-set tiq-block-v4 src -j DROP\n#   ip6tables -I INPUT -m set --match-set tiq-block-v6 src -j DROP"
    );
    for (set, family, addresses) in [
        ("tiq-block-v4", "inet", &entries.v4),
        ("tiq-block-v6", "inet6", &entries.v6),
    ] {
        let _ = writeln!(out, "create {set} hash:ip family {family}");
        for address in addresses.iter() {
            let _ = writeln!(out, "add {set} {address}");
        }
    }
    domain_comments(out, entries);
}

fn nginx(out: &mut String, entries: &Entries<'_>, header: &str) {
    let _ = writeln!(
        out,
        "# {header}\n# Include in an http, server or location block: include FILE;"
    );
    for address in entries.v4.iter().chain(&entries.v6) {
        let _ = writeln!(out, "deny {address};");
    }
    domain_comments(out, entries);
}

fn csv(out: &mut String, entries: &Entries<'_>) {
    out.push_str("kind,value,verdict,threat_level,confidence,count,first_seen,last_seen,summary\n");
    for item in &entries.items {
        let report = item.report.as_deref();
        let fields = [
            item.kind.name().to_string(),
            item.value.clone(),
            item.verdict.map_or("", |v| v.name()).to_string(),
            report.map_or(String::new(), |r| r.threat_level.level.to_string()),
            report.map_or(String::new(), |r| format!("{:.2}", r.confidence)),
            item.count.to_string(),
            item.first_seen.clone().unwrap_or_default(),
            item.last_seen.clone().unwrap_or_default(),
            report.map_or(String::new(), |r| r.summary.clone()),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
}

/// Quotes a CSV field that contains a comma, quote or line break, and prefixes `'` to one
/// that starts like a spreadsheet formula (`=`, `+`, `-`, `@`).
pub fn csv_field(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@']) {
        format!("'{field}")
    } else {
        field.to_string()
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}
