//! Access control and auditing: which caller may call which tool and how often, and a
//! record of every call.
//!
//! - API keys (`tiq_<id>_<secret>`), stored as SHA-256 hashes in `<data-dir>/access.db`,
//!   each with scopes, a rate per minute, a daily quota and an expiry ([`db::Keys`]).
//! - [`Access`], which a running server shares between its surfaces: it authenticates a
//!   presented key (refusing an address after repeated failures), admits a call against
//!   the key's scopes and limits, and hands audit entries to a writer thread.
//! - The hash-chained audit log ([`audit::AuditLog`]): listing, verification, pruning.
//!
//! The crate uses no HTTP or MCP library. The server turns a [`Denial`] into the response
//! of each surface.

pub mod audit;
mod clock;
pub mod db;
mod error;
pub mod key;
mod limit;
pub mod scope;
pub mod timefmt;

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use rusqlite::Connection;
use tiq_model::Lang;

pub use audit::{AuditEntry, Surface};
pub use clock::Clock;
pub use db::{DB_FILE, Keys, NewKey};
pub use error::AccessError;
pub use key::KeyRecord;
pub use limit::DEFAULT_FAILED_AUTH_PER_MINUTE;
pub use scope::{Scope, ScopeSet};

/// Settings for access control and auditing.
#[derive(Debug, Clone)]
pub struct AccessSettings {
    /// Serve requests that carry no key even when keys exist (a presented key is still
    /// checked).
    pub allow_anonymous: bool,
    /// Failed authentications per client address and minute before the address is rejected.
    pub failed_auth_per_minute: u32,
    /// Whether calls are written to the audit log.
    pub audit: bool,
}

impl Default for AccessSettings {
    fn default() -> AccessSettings {
        AccessSettings {
            allow_anonymous: false,
            failed_auth_per_minute: DEFAULT_FAILED_AUTH_PER_MINUTE,
            audit: true,
        }
    }
}

/// Party making a call: its key, or no key on a server that allows anonymous calls, and
/// its address.
#[derive(Debug, Clone)]
pub struct Caller {
    key: Option<Arc<KeyRecord>>,
    pub client: Option<IpAddr>,
}

impl Caller {
    /// Creates a caller without a key, allowed every tool without limits.
    pub fn anonymous(client: Option<IpAddr>) -> Caller {
        Caller { key: None, client }
    }

    pub fn key(&self) -> Option<&KeyRecord> {
        self.key.as_deref()
    }

    pub fn key_id(&self) -> Option<&str> {
        self.key.as_deref().map(|key| key.id.as_str())
    }

    pub fn scopes(&self) -> ScopeSet {
        self.key
            .as_deref()
            .map_or_else(ScopeSet::all, |key| key.scopes)
    }
}

/// Reason a call is rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    MissingKey,
    /// No such key, or the wrong secret. The two cases get the same denial.
    InvalidKey,
    RevokedKey {
        id: String,
    },
    ExpiredKey {
        id: String,
        expired: String,
    },
    /// Too many failed authentications from this address.
    TooManyFailures {
        retry_after: u64,
    },
    MissingScope {
        scope: Scope,
    },
    RateLimited {
        rate: u32,
        retry_after: u64,
    },
    /// One call costs more than the key's bucket can contain (a batch larger than the rate).
    OverRate {
        rate: u32,
        cost: u32,
    },
    QuotaExhausted {
        /// Requests this call counts.
        cost: u32,
        quota: u32,
        used: u32,
        retry_after: u64,
        resets_at: String,
    },
}

impl Denial {
    /// Returns the HTTP status: 401, 403 or 429.
    pub fn status(&self) -> u16 {
        match self {
            Denial::MissingKey
            | Denial::InvalidKey
            | Denial::RevokedKey { .. }
            | Denial::ExpiredKey { .. } => 401,
            Denial::MissingScope { .. } => 403,
            Denial::TooManyFailures { .. }
            | Denial::RateLimited { .. }
            | Denial::OverRate { .. }
            | Denial::QuotaExhausted { .. } => 429,
        }
    }

    /// Returns a stable code for the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Denial::MissingKey => "missing_key",
            Denial::InvalidKey => "invalid_key",
            Denial::RevokedKey { .. } => "revoked_key",
            Denial::ExpiredKey { .. } => "expired_key",
            Denial::TooManyFailures { .. } => "too_many_failed_attempts",
            Denial::MissingScope { .. } => "missing_scope",
            Denial::RateLimited { .. } | Denial::OverRate { .. } => "rate_limited",
            Denial::QuotaExhausted { .. } => "quota_exhausted",
        }
    }

    /// Seconds to wait before trying again, for the Retry-After header.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Denial::TooManyFailures { retry_after }
            | Denial::RateLimited { retry_after, .. }
            | Denial::QuotaExhausted { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// Returns the id of the key a refusal names, for a revoked or expired key.
    pub fn key_id(&self) -> Option<&str> {
        match self {
            Denial::RevokedKey { id } | Denial::ExpiredKey { id, .. } => Some(id),
            _ => None,
        }
    }

    /// Returns the limit that rejected the call: `rate`, `daily_quota` or `failed_auth`.
    pub fn limit(&self) -> Option<&'static str> {
        match self {
            Denial::RateLimited { .. } | Denial::OverRate { .. } => Some("rate"),
            Denial::QuotaExhausted { .. } => Some("daily_quota"),
            Denial::TooManyFailures { .. } => Some("failed_auth"),
            _ => None,
        }
    }

    /// When the limit resets, as an RFC 3339 time, for the daily quota.
    pub fn resets_at(&self) -> Option<&str> {
        match self {
            Denial::QuotaExhausted { resets_at, .. } => Some(resets_at),
            _ => None,
        }
    }

    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (Denial::MissingKey, Lang::En) => "an API key is required: send it as \"Authorization: Bearer tiq_…\" or \"X-API-Key: tiq_…\" (or ?key= on /mcp and /sse URLs, c_appkey in v3 bodies); create one with `tiq key create`".to_string(),
            (Denial::MissingKey, Lang::ZhCn) => "需要 API 密钥：请以 \"Authorization: Bearer tiq_…\" 或 \"X-API-Key: tiq_…\" 发送（/mcp 和 /sse 的 URL 可用 ?key=，v3 请求体用 c_appkey）；用 `tiq key create` 创建密钥".to_string(),
            (Denial::InvalidKey, Lang::En) => "the API key is not valid: check that it was copied whole (it starts with tiq_), or create a new one with `tiq key create`".to_string(),
            (Denial::InvalidKey, Lang::ZhCn) => "API 密钥无效：请确认完整复制了密钥（以 tiq_ 开头），或用 `tiq key create` 创建新密钥".to_string(),
            (Denial::RevokedKey { id }, Lang::En) => format!("API key {id} has been revoked: ask the operator for a new key"),
            (Denial::RevokedKey { id }, Lang::ZhCn) => format!("API 密钥 {id} 已被吊销：请向管理员申请新密钥"),
            (Denial::ExpiredKey { id, expired }, Lang::En) => format!("API key {id} expired at {expired}: ask the operator for a new key"),
            (Denial::ExpiredKey { id, expired }, Lang::ZhCn) => format!("API 密钥 {id} 已于 {expired} 过期：请向管理员申请新密钥"),
            (Denial::TooManyFailures { retry_after }, Lang::En) => format!("too many failed authentication attempts from this address: retry in {retry_after} s with a valid key"),
            (Denial::TooManyFailures { retry_after }, Lang::ZhCn) => format!("此地址认证失败次数过多：请在 {retry_after} 秒后用有效密钥重试"),
            (Denial::MissingScope { scope }, Lang::En) => format!("this API key lacks the scope `{scope}`: use a key created with --scopes {scope} (or add it when creating a new key)"),
            (Denial::MissingScope { scope }, Lang::ZhCn) => format!("此 API 密钥没有 `{scope}` 权限范围：请使用以 --scopes {scope} 创建的密钥"),
            (Denial::RateLimited { rate, retry_after }, Lang::En) => format!("rate limit of {rate} requests per minute reached: retry in {retry_after} s"),
            (Denial::RateLimited { rate, retry_after }, Lang::ZhCn) => format!("已达到每分钟 {rate} 次请求的速率限制：请在 {retry_after} 秒后重试"),
            (Denial::OverRate { rate, cost }, Lang::En) => format!("this call counts {cost} requests, more than the key's rate of {rate} per minute allows at once: split it into parts of at most {rate}"),
            (Denial::OverRate { rate, cost }, Lang::ZhCn) => format!("此调用计为 {cost} 次请求，超过密钥每分钟 {rate} 次的速率一次所能容纳的数量：请拆分为每份不超过 {rate} 个"),
            (Denial::QuotaExhausted { quota, used, resets_at, .. }, Lang::En) if used >= quota => format!("daily quota of {quota} requests used up ({used} used today): it resets at {resets_at}"),
            (Denial::QuotaExhausted { quota, used, resets_at, .. }, Lang::ZhCn) if used >= quota => format!("每日 {quota} 次请求的配额已用完（今日已用 {used} 次）：将于 {resets_at} 重置"),
            (Denial::QuotaExhausted { quota, used, cost, resets_at, .. }, Lang::En) => format!("this call counts {cost} requests but only {} of the daily quota of {quota} remain: send at most {}, or wait until {resets_at}", quota - used, quota - used),
            (Denial::QuotaExhausted { quota, used, cost, resets_at, .. }, Lang::ZhCn) => format!("此调用计为 {cost} 次请求，但每日 {quota} 次的配额只剩 {} 次：请最多发送 {} 个，或等到 {resets_at}", quota - used, quota - used),
        }
    }
}

/// Keys seen by the server, reloaded from the database once a second and on a miss.
struct KeyCache {
    by_id: HashMap<String, Arc<KeyRecord>>,
    /// Whether any key was ever created, revoked ones included.
    any: bool,
    loaded: Instant,
}

/// How long the key cache is trusted: a revocation reaches a running server within it.
pub const KEY_RELOAD: Duration = Duration::from_secs(1);
const MISS_RELOAD: Duration = Duration::from_millis(100);

/// Access control and audit for a running server.
pub struct Access {
    conn: Mutex<Connection>,
    keys: RwLock<KeyCache>,
    limits: limit::Limits,
    writer: audit::Writer,
    clock: Clock,
    settings: AccessSettings,
}

impl Access {
    /// Opens the access database in `data_dir` with the system clock.
    pub fn open(data_dir: &Path, settings: AccessSettings) -> Result<Access, AccessError> {
        Access::open_with_clock(data_dir, settings, Clock::system())
    }

    pub fn open_with_clock(
        data_dir: &Path,
        settings: AccessSettings,
        clock: Clock,
    ) -> Result<Access, AccessError> {
        let conn = db::open(data_dir)?;
        let writer = audit::Writer::start(db::open(data_dir)?);
        let limits = limit::Limits::new(clock.clone(), settings.failed_auth_per_minute);
        let today = timefmt::day(clock.now_utc());
        limits.restore(&today, db::quota_use(&conn, &today)?);
        let keys = db::load_keys(&conn)?;
        let access = Access {
            keys: RwLock::new(KeyCache {
                any: !keys.is_empty(),
                by_id: keys
                    .into_iter()
                    .map(|key| (key.id.clone(), Arc::new(key)))
                    .collect(),
                loaded: Instant::now(),
            }),
            conn: Mutex::new(conn),
            limits,
            writer,
            clock,
            settings,
        };
        Ok(access)
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Returns whether any key exists. Revoked keys count, because revoking the last key
    /// must not open the server to everyone.
    pub fn has_keys(&self) -> bool {
        self.refresh(KEY_RELOAD);
        read(&self.keys).any
    }

    /// Returns whether a request without a key is served.
    pub fn anonymous_allowed(&self) -> bool {
        self.settings.allow_anonymous || !self.has_keys()
    }

    /// Reloads the keys now.
    pub fn reload_keys(&self) {
        self.refresh(Duration::ZERO);
    }

    fn refresh(&self, older_than: Duration) {
        if read(&self.keys).loaded.elapsed() < older_than {
            return;
        }
        let loaded = {
            let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
            db::load_keys(&conn)
        };
        match loaded {
            Ok(keys) => {
                let mut cache = self.keys.write().unwrap_or_else(|p| p.into_inner());
                cache.any = !keys.is_empty();
                cache.by_id = keys
                    .into_iter()
                    .map(|key| (key.id.clone(), Arc::new(key)))
                    .collect();
                cache.loaded = Instant::now();
            }
            Err(error) => {
                tracing::error!(%error, "cannot reload API keys; keeping the loaded ones");
                let mut cache = self.keys.write().unwrap_or_else(|p| p.into_inner());
                cache.loaded = Instant::now();
            }
        }
    }

    /// Checks a presented key (from a header, a query parameter or a v3 body).
    pub fn authenticate(
        &self,
        presented: Option<&str>,
        client: Option<IpAddr>,
    ) -> Result<Caller, Denial> {
        if let Some(retry_after) = client.and_then(|ip| self.limits.blocked(ip)) {
            return Err(Denial::TooManyFailures { retry_after });
        }

        self.refresh(KEY_RELOAD);
        let any_key = read(&self.keys).any;
        // With no key defined there is nothing to check a key against, so a client
        // configured with one ahead of time is served like any other.
        let presented = presented
            .map(str::trim)
            .filter(|presented| !presented.is_empty() && any_key);
        let Some(presented) = presented else {
            return if self.settings.allow_anonymous || !any_key {
                Ok(Caller::anonymous(client))
            } else {
                Err(Denial::MissingKey)
            };
        };

        let found = key::id_of(presented).and_then(|id| {
            let cached = read(&self.keys).by_id.get(id).cloned();
            cached.or_else(|| {
                self.refresh(MISS_RELOAD);
                read(&self.keys).by_id.get(id).cloned()
            })
        });
        let denial = match found {
            Some(key) if key.matches(presented) => {
                let now = self.clock.now_utc();
                if key.revoked.is_some() {
                    Denial::RevokedKey { id: key.id.clone() }
                } else if key.is_expired(now) {
                    Denial::ExpiredKey {
                        id: key.id.clone(),
                        expired: key.expires.map(timefmt::format).unwrap_or_default(),
                    }
                } else {
                    return Ok(Caller {
                        key: Some(key),
                        client,
                    });
                }
            }
            _ => Denial::InvalidKey,
        };

        if let Some(ip) = client
            && let Some(retry_after) = self.limits.failed(ip)
        {
            tracing::warn!(client = %ip, retry_after, "rejecting an address after repeated failed authentication");
            return Err(Denial::TooManyFailures { retry_after });
        }
        Err(denial)
    }

    /// Checks that the key of a caller admitted earlier (an SSE session's) is still valid:
    /// not revoked, expired or rotated since.
    pub fn recheck(&self, caller: &Caller) -> Result<(), Denial> {
        let Some(key) = caller.key() else {
            return Ok(());
        };
        self.refresh(KEY_RELOAD);
        let current = read(&self.keys).by_id.get(&key.id).cloned();
        match current {
            Some(current) if current.revoked.is_some() => Err(Denial::RevokedKey {
                id: current.id.clone(),
            }),
            Some(current) if current.is_expired(self.clock.now_utc()) => Err(Denial::ExpiredKey {
                id: current.id.clone(),
                expired: current.expires.map(timefmt::format).unwrap_or_default(),
            }),
            Some(current) if current.hash == key.hash => Ok(()),
            _ => Err(Denial::InvalidKey),
        }
    }

    /// Admits a call that needs `scope` and counts `cost` requests (a batch counts each
    /// item) against the caller's rate and daily quota.
    pub fn admit(&self, caller: &Caller, scope: Scope, cost: u32) -> Result<(), Denial> {
        let Some(key) = caller.key() else {
            return Ok(());
        };
        if !key.scopes.contains(scope) {
            return Err(Denial::MissingScope { scope });
        }
        if let Some(counted) = self.limits.admit(key, cost)? {
            self.writer.send(audit::Message::Quota {
                key_id: counted.key_id,
                day: counted.day,
                used: counted.used,
            });
        }
        Ok(())
    }

    /// Queues an audit entry. The writer thread stores entries in order, usually within
    /// milliseconds.
    pub fn record(&self, entry: AuditEntry) {
        if !self.settings.audit {
            return;
        }
        self.writer.send(audit::Message::Entry(entry));
    }

    /// Waits until every queued audit entry is written.
    pub fn flush(&self) {
        self.writer.flush();
    }

    /// Removes audit entries older than `retention`, keeping the chain verifiable.
    pub fn prune_audit(&self, retention: Duration) -> Result<usize, AccessError> {
        self.flush();
        let before = self.clock.now_utc() - retention;
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        audit::prune(&mut conn, before)
    }
}

impl std::fmt::Debug for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Access")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

fn read(cache: &RwLock<KeyCache>) -> std::sync::RwLockReadGuard<'_, KeyCache> {
    cache
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests;
