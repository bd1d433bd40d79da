//! Vulnerability search: matching product versions against CVE records.

pub mod version;
