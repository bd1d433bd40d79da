//! Vulnerability intelligence: the index built from the kept CVE, KEV, EPSS, Exploit-DB and
//! alias files, matching product versions against CVE records, and `search_vul`.

mod index;
mod render;
mod search;
pub mod version;

pub use index::ensure_index;
pub use render::CveMentions;
pub use search::{
    DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_PAGES, SearchError, VulnQuery, VulnSort, search,
};
