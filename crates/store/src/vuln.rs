//! The vulnerability index: one row per CVE with the columns queries filter and sort on, the
//! full-text tables of `search_vul`, and the CNVD and CNNVD aliases. The engine rebuilds it
//! whole from the kept vulnerability files.

use rusqlite::{OptionalExtension, TransactionBehavior, params, params_from_iter};

use crate::Store;
use crate::error::StoreError;

/// Key in `meta` of the sources the vulnerability index was built from.
const INDEX_VERSION_KEY: &str = "vuln_index_version";

/// One CVE as the index stores it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VulnRow {
    pub cve: String,
    pub published: Option<String>,
    pub cvss: Option<f64>,
    /// 0 none or unknown, 1 low, 2 medium, 3 high, 4 critical.
    pub severity: u8,
    pub in_kev: bool,
    pub exploited: bool,
    pub has_exploit: bool,
    pub epss: Option<f64>,
    /// JSON the engine reads back.
    pub data: String,
    pub title: String,
    pub description: String,
    pub vendors: String,
    pub products: String,
    /// `vendor product` of each affected entry, with the entry's JSON.
    pub products_affected: Vec<(String, String)>,
}

/// Filters of a vulnerability query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VulnFilter {
    pub min_severity: u8,
    pub kev_only: bool,
    pub exploited_only: bool,
    pub with_exploit_only: bool,
    /// Published on or after this date (`YYYY-MM-DD`).
    pub since: Option<String>,
}

/// Result order of a keyword query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VulnOrder {
    /// Full-text rank (BM25), best first.
    #[default]
    Relevance,
    /// Known exploitation first, then EPSS, then CVSS.
    Priority,
    /// Newest published first.
    Date,
}

impl Store {
    /// Replaces the whole vulnerability index in one transaction and records `version`, a
    /// digest of the sources it was built from. `rows` must come in priority order (known
    /// exploited first, then EPSS, then CVSS), which the text tables keep as their rowid
    /// order.
    pub fn replace_vulns(
        &mut self,
        version: &str,
        rows: &[VulnRow],
        aliases: &[(String, String)],
    ) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "DELETE FROM vulns; DELETE FROM vulns_text; DELETE FROM vuln_products;
             DELETE FROM vuln_aliases;",
        )?;
        {
            let mut vulns = tx.prepare(
                "INSERT INTO vulns (cve, published, cvss, severity, in_kev, exploited, has_exploit, epss, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            let mut text = tx.prepare(
                "INSERT INTO vulns_text (rowid, cve, title, description, vendor, product)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            let mut products = tx.prepare(
                "INSERT INTO vuln_products (rowid, cve, affected, name) VALUES (?1, ?2, ?3, ?4)",
            )?;
            let mut product_rowid = 0i64;
            for (position, row) in rows.iter().enumerate() {
                vulns.execute(params![
                    row.cve,
                    row.published,
                    row.cvss,
                    row.severity,
                    row.in_kev,
                    row.exploited,
                    row.has_exploit,
                    row.epss,
                    row.data
                ])?;
                text.execute(params![
                    position as i64 + 1,
                    row.cve,
                    row.title,
                    row.description,
                    row.vendors,
                    row.products
                ])?;
                for (name, affected) in &row.products_affected {
                    product_rowid += 1;
                    products.execute(params![product_rowid, row.cve, affected, name])?;
                }
            }
            let mut alias_rows =
                tx.prepare("INSERT OR IGNORE INTO vuln_aliases (alias, cve) VALUES (?1, ?2)")?;
            for (alias, cve) in aliases {
                alias_rows.execute(params![alias, cve])?;
            }
        }
        // A rebuild deletes every row and writes them again, which leaves the full-text
        // indexes in many segments that every query then merges. One merge here keeps
        // queries as fast as over a fresh index: 12 ms against 34 ms p99 for a broad keyword
        // query over 300,000 records (BENCHMARKS.md).
        tx.execute_batch(
            "INSERT INTO vulns_text (vulns_text) VALUES ('optimize');
             INSERT INTO vuln_products (vuln_products) VALUES ('optimize');",
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![INDEX_VERSION_KEY, version],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The version recorded by the last [`Store::replace_vulns`], if any.
    pub fn vuln_index_version(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = ?1",
                [INDEX_VERSION_KEY],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// Returns the stored JSON of a CVE.
    pub fn vuln(&self, cve: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT data FROM vulns WHERE cve = ?1")?
            .query_row([cve], |row| row.get(0))
            .optional()?)
    }

    /// Returns the CVEs an alias names, sorted.
    pub fn vuln_alias(&self, alias: &str) -> Result<Vec<String>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT cve FROM vuln_aliases WHERE alias = ?1 ORDER BY cve")?;
        let cves = statement
            .query_map([alias], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(cves)
    }

    /// Returns the aliases of a CVE, sorted.
    pub fn vuln_aliases_of(&self, cve: &str) -> Result<Vec<String>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached("SELECT alias FROM vuln_aliases WHERE cve = ?1 ORDER BY alias")?;
        let aliases = statement
            .query_map([cve], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(aliases)
    }

    /// Number of stored aliases.
    pub fn vuln_alias_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM vuln_aliases", [], |row| row.get(0))?;
        Ok(count as u64)
    }

    /// Runs a full-text query over title, description, vendor and product with the filters,
    /// and returns the number of matches (counted up to [`COUNT_CAP`]) and the stored JSON of
    /// one page of them.
    ///
    /// [`VulnOrder::Relevance`] ranks by BM25 the first [`RANK_WINDOW`] matches in priority
    /// order, then lists the rest in priority order. BM25 costs about 1.5 µs per match on a
    /// 2-core virtual machine (an estimate from one run), so ranking every match of a common
    /// word (150,000 of 300,000 records) would take a quarter of a second. Within the window
    /// the order is exact.
    pub fn search_vulns(
        &self,
        fts_query: &str,
        filter: &VulnFilter,
        order: VulnOrder,
        offset: usize,
        limit: usize,
    ) -> Result<(u64, Vec<String>), StoreError> {
        let (conditions, values) = filter_sql(filter);
        let join = if conditions.is_empty() {
            String::new()
        } else {
            " JOIN vulns v ON v.cve = t.cve".to_string()
        };
        let matches = format!("FROM vulns_text t{join} WHERE vulns_text MATCH ?1{conditions}");
        let mut all = vec![rusqlite::types::Value::Text(fts_query.to_string())];
        all.extend(values);
        let total: i64 = self
            .conn
            .prepare_cached(&format!(
                "SELECT COUNT(*) FROM (SELECT 1 {matches} LIMIT {COUNT_CAP})"
            ))?
            .query_row(params_from_iter(all.iter()), |row| row.get(0))?;
        let cves: Vec<String> = match order {
            VulnOrder::Relevance => self.ranked_page(&matches, &all, offset, limit)?,
            VulnOrder::Priority => {
                let sql = format!(
                    "SELECT t.cve {matches} ORDER BY t.rowid LIMIT {limit} OFFSET {offset}"
                );
                self.cves(&sql, &all)?
            }
            VulnOrder::Date => {
                let sql = format!(
                    "SELECT t.cve FROM vulns_text t JOIN vulns v ON v.cve = t.cve
                     WHERE vulns_text MATCH ?1{conditions}
                     ORDER BY v.published DESC, v.cve DESC LIMIT {limit} OFFSET {offset}"
                );
                self.cves(&sql, &all)?
            }
        };
        let mut rows = Vec::with_capacity(cves.len());
        for cve in cves {
            if let Some(data) = self.vuln(&cve)? {
                rows.push(data);
            }
        }
        Ok((total as u64, rows))
    }

    /// Returns one page in relevance order: the first [`RANK_WINDOW`] matches in priority
    /// order sorted by BM25 (title and product words weigh more than description words), then
    /// the other matches in priority order.
    fn ranked_page(
        &self,
        matches: &str,
        values: &[rusqlite::types::Value],
        offset: usize,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let sql = format!(
            "SELECT t.cve, bm25(vulns_text, 0.0, 8.0, 1.0, 4.0, 6.0) {matches}
             ORDER BY t.rowid LIMIT {RANK_WINDOW}"
        );
        let mut window: Vec<(String, f64)> = self
            .conn
            .prepare_cached(&sql)?
            .query_map(params_from_iter(values.iter()), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        // A stable sort keeps priority order among equal scores.
        window.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut page: Vec<String> = window
            .into_iter()
            .skip(offset)
            .take(limit)
            .map(|(cve, _)| cve)
            .collect();
        let page_end = offset + limit;
        if page.len() < limit && page_end > RANK_WINDOW {
            let rest_offset = offset.max(RANK_WINDOW);
            let rest_limit = page_end - rest_offset;
            let sql = format!(
                "SELECT t.cve {matches} ORDER BY t.rowid LIMIT {rest_limit} OFFSET {rest_offset}"
            );
            page.extend(self.cves(&sql, values)?);
        }
        Ok(page)
    }

    fn cves(
        &self,
        sql: &str,
        values: &[rusqlite::types::Value],
    ) -> Result<Vec<String>, StoreError> {
        let cves = self
            .conn
            .prepare_cached(sql)?
            .query_map(params_from_iter(values.iter()), |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(cves)
    }

    /// Returns `(cve, affected entry JSON)` of every affected entry whose `vendor product`
    /// name matches the full-text query and whose CVE passes the filters, in priority order.
    pub fn vuln_product_candidates(
        &self,
        fts_query: &str,
        filter: &VulnFilter,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let (conditions, values) = filter_sql(filter);
        let sql = format!(
            "SELECT p.cve, p.affected FROM vuln_products p JOIN vulns v ON v.cve = p.cve
             WHERE vuln_products MATCH ?1{conditions} ORDER BY p.rowid"
        );
        let mut all = vec![rusqlite::types::Value::Text(fts_query.to_string())];
        all.extend(values);
        let mut statement = self.conn.prepare_cached(&sql)?;
        let rows = statement
            .query_map(params_from_iter(all.iter()), |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Number of CVEs in the index.
    pub fn vuln_count(&self) -> Result<u64, StoreError> {
        let count: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM vulns", [], |row| row.get(0))?;
        Ok(count as u64)
    }
}

/// Maximum matches a keyword query counts: the 100 pages of 50 a cursor can reach. The
/// count of a broader query stops here.
pub const COUNT_CAP: usize = 5_000;

/// Matches in priority order that a relevance-ordered query ranks by BM25.
pub const RANK_WINDOW: usize = 1_000;

fn filter_sql(filter: &VulnFilter) -> (String, Vec<rusqlite::types::Value>) {
    let mut conditions = String::new();
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    if filter.min_severity > 0 {
        values.push(i64::from(filter.min_severity).into());
        conditions.push_str(&format!(" AND v.severity >= ?{}", values.len() + 1));
    }
    if filter.kev_only {
        conditions.push_str(" AND v.in_kev = 1");
    }
    if filter.exploited_only {
        conditions.push_str(" AND v.exploited = 1");
    }
    if filter.with_exploit_only {
        conditions.push_str(" AND v.has_exploit = 1");
    }
    if let Some(since) = &filter.since {
        values.push(since.clone().into());
        conditions.push_str(&format!(" AND v.published >= ?{}", values.len() + 1));
    }
    (conditions, values)
}
