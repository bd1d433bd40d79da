//! Indicator types, canonical parsing and the shapes every other tiq crate exchanges.
//!
//! This crate owns these things and does no I/O:
//! - [`indicator`]: parsing user input (IPs, domains, URLs, hashes, CVE ids, defanged forms)
//!   into one canonical [`Indicator`], with errors that name the value and the accepted forms;
//! - [`record`]: what a feed parser hands to a sink ([`Sighting`], [`AllowEntry`], [`AsnRange`]);
//! - [`report`]: the common report returned by every surface, and [`Lang`] for its text;
//! - [`batch`]: the request items and the result of a batch analysis.
//! - [`scan`]: the result of scanning a text or a log, built on `tiq-extract`'s findings.
//!
//! The feed parsers, the store and the engine all depend on it; it depends on none of them.

pub mod batch;
pub mod indicator;
pub mod lang;
pub mod record;
pub mod report;
pub mod scan;
pub mod threat;
pub mod vuln;

pub use indicator::{HashKind, Indicator, IndicatorKind, ParseError, refang};
pub use lang::Lang;
pub use record::{
    AllowCategory, AllowEntry, AllowMatch, AsnRange, ClaimKind, Sighting, Subject, ThreatType,
};
pub use report::{
    BenignMatch, Evidence, IndicatorRef, KnowledgeRef, Profile, Related, Report, Tag, ThreatLevel,
    Verdict,
};
pub use threat::{IndicatorCount, KnowledgeMatch, ThreatDescription, ThreatKind};
pub use vuln::{VulnQueryKind, VulnSearch, Vulnerability};
