//! The audit log: one entry per call on every surface, appended to `access.db` by one
//! writer thread in batches. Each entry carries the SHA-256 of the entry before it, and its
//! own hash covers its fields and that link, so `verify` finds the first entry that was
//! edited, removed or moved. Pruning removes the oldest entries and keeps the last removed
//! one's hash as the anchor the chain continues from.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::db;
use crate::error::AccessError;
use crate::timefmt;

/// Interface through which a call arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// MCP over streamable HTTP at `/mcp`.
    Mcp,
    /// MCP over HTTP+SSE at `/sse` and `/messages`.
    Sse,
    /// MCP over standard input and output (`tiq mcp`).
    Stdio,
    /// The `/api/v1` REST routes.
    Rest,
    /// `POST /api/v3/ti`.
    V3,
    /// A lookup from the command line.
    Cli,
}

impl Surface {
    pub fn name(self) -> &'static str {
        match self {
            Surface::Mcp => "mcp",
            Surface::Sse => "sse",
            Surface::Stdio => "stdio",
            Surface::Rest => "rest",
            Surface::V3 => "v3",
            Surface::Cli => "cli",
        }
    }
}

/// Maximum number of characters kept of an indicator or query in an entry. A longer one is
/// cut to this length and gets a trailing `…`.
pub const MAX_QUERY_CHARS: usize = 512;

/// One call, as the surfaces report it.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub time: OffsetDateTime,
    pub request_id: String,
    pub key_id: Option<String>,
    /// The client's address, or `local` for the command line and stdio.
    pub client: Option<String>,
    pub surface: Surface,
    /// The tool or action called, such as `analyze_ip`, or what failed, such as `auth`.
    pub tool: String,
    pub query: Option<String>,
    pub verdict: Option<String>,
    /// HTTP-style status: 200, 400 for bad input, 401, 403, 429, 500.
    pub status: u16,
    pub latency: Duration,
}

/// One stored entry, with its place in the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub seq: i64,
    pub time: String,
    pub request_id: String,
    pub key_id: Option<String>,
    pub client: Option<String>,
    pub surface: String,
    pub tool: String,
    pub query: Option<String>,
    pub verdict: Option<String>,
    pub status: u16,
    pub latency_us: i64,
    pub prev: String,
    pub hash: String,
}

/// The hash before the first entry of a log that was never pruned.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl AuditRecord {
    /// SHA-256 over the entry's fields and the previous hash, each length-prefixed so no
    /// two entries share an encoding.
    pub fn compute_hash(&self) -> String {
        hex(&self.digest())
    }

    fn digest(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        let fields: [&str; 13] = [
            &self.seq.to_string(),
            &self.time,
            &self.request_id,
            self.key_id.as_deref().unwrap_or("\u{0}"),
            self.client.as_deref().unwrap_or("\u{0}"),
            &self.surface,
            &self.tool,
            self.query.as_deref().unwrap_or("\u{0}"),
            self.verdict.as_deref().unwrap_or("\u{0}"),
            &self.status.to_string(),
            &self.latency_us.to_string(),
            &self.prev,
            "tiq-audit-1",
        ];
        for field in fields {
            hasher.update((field.len() as u64).to_be_bytes());
            hasher.update(field.as_bytes());
        }
        hasher.finalize().into()
    }
}

/// Reads 64 hex digits back into a hash; anything else gives zeros, which match nothing.
fn unhex(text: &str) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    if text.len() == 64 {
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16).unwrap_or(0);
        }
    }
    bytes
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    }
    text
}

pub(crate) enum Message {
    Entry(AuditEntry),
    Quota {
        key_id: String,
        day: String,
        used: u32,
    },
    Flush(mpsc::Sender<()>),
}

/// Messages waiting for the writer. Senders only push and wake the writer when the queue
/// was empty, so a busy server pays one wake-up per batch, not one per call.
#[derive(Default)]
struct Queue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    messages: Vec<Message>,
    closed: bool,
}

/// The writer thread and the queue to it.
pub(crate) struct Writer {
    queue: Arc<Queue>,
    thread: Option<JoinHandle<()>>,
}

/// Maximum number of messages written in one transaction.
const BATCH: usize = 4096;

/// Time the writer waits after a first message for more, so a busy server writes a batch
/// per transaction instead of one entry each.
const LINGER: Duration = Duration::from_millis(10);

impl Writer {
    pub(crate) fn start(conn: Connection) -> Writer {
        let queue = Arc::new(Queue::default());
        let shared = queue.clone();
        let thread = std::thread::Builder::new()
            .name("tiq-audit".to_string())
            .spawn(move || write_loop(conn, &shared))
            .expect("the audit thread starts");
        Writer {
            queue,
            thread: Some(thread),
        }
    }

    pub(crate) fn send(&self, message: Message) {
        let urgent = matches!(message, Message::Flush(_));
        let mut state = lock(&self.queue.state);
        state.messages.push(message);
        let first = state.messages.len() == 1;
        drop(state);
        if first || urgent {
            self.queue.ready.notify_one();
        }
    }

    /// Waits until everything sent before is written.
    pub(crate) fn flush(&self) {
        let (done, wait) = mpsc::channel();
        self.send(Message::Flush(done));
        let _ = wait.recv_timeout(Duration::from_secs(30));
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        lock(&self.queue.state).closed = true;
        self.queue.ready.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Pushing and taking messages leave the queue consistent, so a poisoned lock is usable.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Takes the next batch. Waits for a first message, then up to [`LINGER`] for more unless
/// one of them requests a flush. Returns `None` once the writer is closed and drained.
fn next_batch(queue: &Queue) -> Option<Vec<Message>> {
    let mut state = lock(&queue.state);
    while state.messages.is_empty() {
        if state.closed {
            return None;
        }
        state = queue
            .ready
            .wait(state)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
    }
    let deadline = std::time::Instant::now() + LINGER;
    loop {
        let flushing = state
            .messages
            .iter()
            .any(|m| matches!(m, Message::Flush(_)));
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if flushing || state.closed || state.messages.len() >= BATCH || left.is_zero() {
            break;
        }
        state = queue
            .ready
            .wait_timeout(state, left)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .0;
    }
    Some(std::mem::take(&mut state.messages))
}

fn write_loop(mut conn: Connection, queue: &Queue) {
    while let Some(batch) = next_batch(queue) {
        let mut entries = Vec::new();
        // Only the highest count of each key and day needs writing.
        let mut quotas: HashMap<(String, String), u32> = HashMap::new();
        let mut flushes = Vec::new();
        for message in batch {
            match message {
                Message::Entry(entry) => entries.push(entry),
                Message::Quota { key_id, day, used } => {
                    let count = quotas.entry((key_id, day)).or_default();
                    *count = (*count).max(used);
                }
                Message::Flush(done) => flushes.push(done),
            }
        }
        let quotas: Vec<(String, String, u32)> = quotas
            .into_iter()
            .map(|((key_id, day), used)| (key_id, day, used))
            .collect();
        let written = entries.len();
        if let Err(error) = write_batch(&mut conn, entries, &quotas) {
            tracing::error!(%error, entries = written, "cannot write to the audit log");
        }
        for done in flushes {
            let _ = done.send(());
        }
    }
}

fn write_batch(
    conn: &mut Connection,
    entries: Vec<AuditEntry>,
    quotas: &[(String, String, u32)],
) -> Result<(), AccessError> {
    if entries.is_empty() && quotas.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    append(&tx, entries)?;
    for (key_id, day, used) in quotas {
        tx.prepare_cached(
            "INSERT INTO quota_use (key_id, day, used) VALUES (?1, ?2, ?3)
             ON CONFLICT (key_id, day) DO UPDATE SET used = max(used, excluded.used)",
        )?
        .execute(params![key_id, day, used])?;
    }
    tx.commit()?;
    Ok(())
}

/// Appends entries after the last one in the table (or the anchor), inside the caller's
/// transaction, which must hold the write lock so two processes cannot fork the chain.
fn append(conn: &Connection, entries: Vec<AuditEntry>) -> Result<(), AccessError> {
    if entries.is_empty() {
        return Ok(());
    }
    let (mut seq, mut prev) = head(conn)?;
    let mut prev_digest = unhex(&prev);
    let mut insert = conn.prepare_cached(
        "INSERT INTO audit (seq, time, request_id, key_id, client, surface, tool, query,
                            verdict, status, latency_us, prev, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    for entry in entries {
        seq += 1;
        let mut record = AuditRecord {
            seq,
            time: timefmt::format(entry.time),
            request_id: entry.request_id,
            key_id: entry.key_id,
            client: entry.client,
            surface: entry.surface.name().to_string(),
            tool: entry.tool,
            query: entry.query.map(|q| truncate(&q)),
            verdict: entry.verdict,
            status: entry.status,
            latency_us: i64::try_from(entry.latency.as_micros()).unwrap_or(i64::MAX),
            prev,
            hash: String::new(),
        };
        let digest = record.digest();
        record.hash = hex(&digest);
        insert.execute(params![
            record.seq,
            record.time,
            record.request_id,
            record.key_id,
            record.client,
            record.surface,
            record.tool,
            record.query,
            record.verdict,
            record.status,
            record.latency_us,
            prev_digest.as_slice(),
            digest.as_slice(),
        ])?;
        prev_digest = digest;
        prev = record.hash;
    }
    Ok(())
}

fn truncate(query: &str) -> String {
    match query.char_indices().nth(MAX_QUERY_CHARS) {
        Some((end, _)) => format!("{}…", &query[..end]),
        None => query.to_string(),
    }
}

/// Returns the sequence number and hash that the next entry links to: those of the last
/// entry, else those of the anchor, else 0 and [`GENESIS`].
fn head(conn: &Connection) -> Result<(i64, String), AccessError> {
    let last = conn
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |row| Ok((row.get(0)?, hex(&row.get::<_, Vec<u8>>(1)?))),
        )
        .optional()?;
    if let Some(last) = last {
        return Ok(last);
    }
    Ok(anchor(conn)?.unwrap_or((0, GENESIS.to_string())))
}

fn anchor(conn: &Connection) -> Result<Option<(i64, String)>, AccessError> {
    Ok(conn
        .query_row(
            "SELECT seq, hash FROM audit_anchor WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?)
}

/// Conditions that select the entries `tiq audit` shows.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub key_id: Option<String>,
    pub tool: Option<String>,
    /// Maximum number of entries, keeping the newest. `None` returns all of them.
    pub limit: Option<usize>,
}

/// First break in the chain that `verify` finds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// The entry's fields no longer give its hash: it was edited.
    Edited { seq: i64 },
    /// Entries are missing before this one: it should have been `expected`.
    Missing { seq: i64, expected: i64 },
    /// The entry does not follow the one before it: entries were moved or replaced.
    Unlinked { seq: i64 },
}

impl ChainBreak {
    pub fn seq(&self) -> i64 {
        match self {
            ChainBreak::Edited { seq }
            | ChainBreak::Missing { seq, .. }
            | ChainBreak::Unlinked { seq } => *seq,
        }
    }

    pub fn message(&self, lang: tiq_model::Lang) -> String {
        use tiq_model::Lang;
        match (self, lang) {
            (ChainBreak::Edited { seq }, Lang::En) => {
                format!("entry {seq} was edited or moved: its content does not match its hash")
            }
            (ChainBreak::Edited { seq }, Lang::ZhCn) => {
                format!("第 {seq} 条记录被修改或移动：内容与其哈希不符")
            }
            (ChainBreak::Missing { seq, expected }, Lang::En) => format!(
                "entries {expected} to {} are missing: entry {seq} follows a gap",
                seq - 1
            ),
            (ChainBreak::Missing { seq, expected }, Lang::ZhCn) => format!(
                "第 {expected} 至 {} 条记录缺失：第 {seq} 条记录之前有缺口",
                seq - 1
            ),
            (ChainBreak::Unlinked { seq }, Lang::En) => format!(
                "entry {seq} does not follow the entry before it: entries were reordered, replaced or removed"
            ),
            (ChainBreak::Unlinked { seq }, Lang::ZhCn) => {
                format!("第 {seq} 条记录与前一条记录不相连：记录被重排、替换或删除")
            }
        }
    }
}

/// The result of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// Entries checked.
    pub checked: u64,
    /// The sequence number the chain starts after (0, or the anchor left by pruning).
    pub anchor: i64,
    pub last: Option<i64>,
    pub first_break: Option<ChainBreak>,
}

/// Reading, checking and pruning the audit log, for the command line and the server.
pub struct AuditLog {
    conn: Connection,
}

impl AuditLog {
    pub fn open(data_dir: &Path) -> Result<AuditLog, AccessError> {
        Ok(AuditLog {
            conn: db::open(data_dir)?,
        })
    }

    /// Returns the entries that match `filter`, oldest first. With a limit, only the newest
    /// `limit` of them.
    pub fn entries(&self, filter: &AuditFilter) -> Result<Vec<AuditRecord>, AccessError> {
        let mut sql = String::from(
            "SELECT seq, time, request_id, key_id, client, surface, tool, query, verdict,
                    status, latency_us, prev, hash FROM audit WHERE 1 = 1",
        );

        let mut values: Vec<String> = Vec::new();
        if let Some(since) = filter.since {
            values.push(timefmt::format(since));
            sql.push_str(&format!(" AND time >= ?{}", values.len()));
        }
        if let Some(until) = filter.until {
            values.push(timefmt::format(until));
            sql.push_str(&format!(" AND time < ?{}", values.len()));
        }
        if let Some(key) = &filter.key_id {
            values.push(key.clone());
            sql.push_str(&format!(" AND key_id = ?{}", values.len()));
        }
        if let Some(tool) = &filter.tool {
            values.push(tool.clone());
            sql.push_str(&format!(" AND tool = ?{}", values.len()));
        }
        sql.push_str(" ORDER BY seq DESC");
        if let Some(limit) = filter.limit {
            sql.push_str(&format!(" LIMIT {}", limit.min(i64::MAX as usize)));
        }

        let mut statement = self.conn.prepare(&sql)?;
        let mut records = statement
            .query_map(rusqlite::params_from_iter(values.iter()), read_record)?
            .collect::<Result<Vec<_>, _>>()?;
        records.reverse();
        Ok(records)
    }

    /// Walks the chain from its anchor and stops at the first break.
    pub fn verify(&self) -> Result<Verification, AccessError> {
        let (anchor, mut prev) = anchor(&self.conn)?.unwrap_or((0, GENESIS.to_string()));
        let mut expected = anchor + 1;
        let mut checked = 0;
        let mut last = None;
        let mut statement = self.conn.prepare(
            "SELECT seq, time, request_id, key_id, client, surface, tool, query, verdict,
                    status, latency_us, prev, hash FROM audit ORDER BY seq",
        )?;
        let mut rows = statement.query([])?;
        while let Some(row) = rows.next()? {
            let record = read_record(row)?;
            checked += 1;
            last = Some(record.seq);
            let problem = if record.compute_hash() != record.hash {
                Some(ChainBreak::Edited { seq: record.seq })
            } else if record.seq != expected && record.prev != prev {
                Some(ChainBreak::Missing {
                    seq: record.seq,
                    expected,
                })
            } else if record.prev != prev || record.seq != expected {
                Some(ChainBreak::Unlinked { seq: record.seq })
            } else {
                None
            };
            if problem.is_some() {
                return Ok(Verification {
                    checked,
                    anchor,
                    last,
                    first_break: problem,
                });
            }
            prev = record.hash;
            expected = record.seq + 1;
        }
        Ok(Verification {
            checked,
            anchor,
            last,
            first_break: None,
        })
    }

    /// Removes entries older than `before` and records the last one removed as the anchor,
    /// so the rest still verifies. Returns how many were removed.
    pub fn prune(&mut self, before: OffsetDateTime) -> Result<usize, AccessError> {
        prune(&mut self.conn, before)
    }

    /// Appends entries at once, for the command line, which writes one entry per run.
    pub fn append(&mut self, entries: Vec<AuditEntry>) -> Result<(), AccessError> {
        write_batch(&mut self.conn, entries, &[])
    }
}

pub(crate) fn prune(conn: &mut Connection, before: OffsetDateTime) -> Result<usize, AccessError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let cutoff = timefmt::format(before);
    let last: Option<(i64, String, String)> = tx
        .query_row(
            "SELECT seq, hash, time FROM audit WHERE time < ?1 ORDER BY seq DESC LIMIT 1",
            [&cutoff],
            |row| Ok((row.get(0)?, hex(&row.get::<_, Vec<u8>>(1)?), row.get(2)?)),
        )
        .optional()?;
    let Some((seq, hash, time)) = last else {
        return Ok(0);
    };
    let removed = tx.execute("DELETE FROM audit WHERE seq <= ?1", [seq])?;
    tx.execute(
            "INSERT INTO audit_anchor (id, seq, hash, time) VALUES (1, ?1, ?2, ?3)
             ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, time = excluded.time",
            params![seq, hash, time],
        )?;
    tx.commit()?;
    tracing::info!(removed, before = %cutoff, "pruned the audit log");
    Ok(removed)
}

fn read_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<AuditRecord> {
    Ok(AuditRecord {
        seq: row.get(0)?,
        time: row.get(1)?,
        request_id: row.get(2)?,
        key_id: row.get(3)?,
        client: row.get(4)?,
        surface: row.get(5)?,
        tool: row.get(6)?,
        query: row.get(7)?,
        verdict: row.get(8)?,
        status: row.get(9)?,
        latency_us: row.get(10)?,
        prev: hex(&row.get::<_, Vec<u8>>(11)?),
        hash: hex(&row.get::<_, Vec<u8>>(12)?),
    })
}
