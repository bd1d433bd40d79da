//! Scopes: the tool families a key may call.

use std::fmt;
use std::str::FromStr;

/// One family of tools. Each key has a set of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Ip,
    Domain,
    Url,
    Hash,
    Vul,
    Text,
    Knowledge,
    Batch,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 9] = [
        Scope::Ip,
        Scope::Domain,
        Scope::Url,
        Scope::Hash,
        Scope::Vul,
        Scope::Text,
        Scope::Knowledge,
        Scope::Batch,
        Scope::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Ip => "ip",
            Scope::Domain => "domain",
            Scope::Url => "url",
            Scope::Hash => "hash",
            Scope::Vul => "vul",
            Scope::Text => "text",
            Scope::Knowledge => "knowledge",
            Scope::Batch => "batch",
            Scope::Admin => "admin",
        }
    }

    /// Returns the scope that the tool with this MCP name needs, or `None` for a name that
    /// is not a tool.
    pub fn of_tool(tool: &str) -> Option<Scope> {
        Some(match tool {
            "analyze_ip" => Scope::Ip,
            "analyze_domain" => Scope::Domain,
            "analyze_url" => Scope::Url,
            "analyze_file_hash" => Scope::Hash,
            "search_vul" => Scope::Vul,
            "analyze_text" => Scope::Text,
            "describe_threat" => Scope::Knowledge,
            "analyze_batch" => Scope::Batch,
            _ => return None,
        })
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scope name that tiq does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}: use {names}", names = ScopeSet::all().to_string())]
pub struct UnknownScope(pub String);

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(text: &str) -> Result<Scope, UnknownScope> {
        let text = text.trim().to_ascii_lowercase();
        Scope::ALL
            .into_iter()
            .find(|scope| scope.name() == text)
            .ok_or(UnknownScope(text))
    }
}

/// A set of scopes, written as comma-separated names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScopeSet(u16);

impl ScopeSet {
    pub fn all() -> ScopeSet {
        Scope::ALL.into_iter().collect()
    }

    /// Returns every scope but `admin`, the default set for a key created without scopes.
    pub fn lookups() -> ScopeSet {
        Scope::ALL
            .into_iter()
            .filter(|scope| *scope != Scope::Admin)
            .collect()
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .into_iter()
            .filter(move |scope| self.contains(scope.to_owned()))
    }

    /// Parses `ip,domain,url`; `all` names every scope. An empty list is an error.
    pub fn parse(text: &str) -> Result<ScopeSet, UnknownScope> {
        let mut set = ScopeSet::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part.eq_ignore_ascii_case("all") {
                set = ScopeSet::all();
            } else {
                set = set.with(part.parse()?);
            }
        }
        if set == ScopeSet::default() {
            return Err(UnknownScope(text.to_string()));
        }
        Ok(set)
    }

    pub fn with(self, scope: Scope) -> ScopeSet {
        ScopeSet(self.0 | scope.bit())
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> ScopeSet {
        iter.into_iter()
            .fold(ScopeSet::default(), |set, scope| set.with(scope))
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::name).collect();
        f.write_str(&names.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_parse_and_print() {
        let set = ScopeSet::parse("ip, Domain,batch").unwrap();
        assert!(set.contains(Scope::Ip));
        assert!(set.contains(Scope::Domain));
        assert!(!set.contains(Scope::Url));
        assert_eq!(set.to_string(), "ip,domain,batch");
        assert_eq!(ScopeSet::parse("all").unwrap(), ScopeSet::all());
        assert!(!ScopeSet::lookups().contains(Scope::Admin));
        let error = ScopeSet::parse("ip,ipv6").unwrap_err();
        assert!(error.to_string().contains("\"ipv6\""), "{error}");
        assert!(error.to_string().contains("knowledge"), "{error}");
        assert!(ScopeSet::parse(" , ").is_err());
    }

    #[test]
    fn tools_map_to_scopes() {
        assert_eq!(Scope::of_tool("analyze_file_hash"), Some(Scope::Hash));
        assert_eq!(Scope::of_tool("describe_threat"), Some(Scope::Knowledge));
        assert_eq!(Scope::of_tool("tools/list"), None);
    }
}
