//! `tiq.toml` and the `TIQ_*` variables that override it.
//!
//! Every value is checked and every problem collected, so `tiq config check` can list them
//! all at once. Precedence, highest first: command-line flags, environment variables, the
//! file, built-in defaults.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tiq_model::Lang;
use tiq_sync::{CATALOG, FeedOverride, Mirror, SyncSettings};

/// Name of the configuration file looked for in the data directory.
pub const CONFIG_FILE: &str = "tiq.toml";

/// One thing wrong with the configuration, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Location of the problem: `tiq.toml: sync.timeout` or `TIQ_SYNC_TIMEOUT`.
    pub place: String,
    pub en: String,
    pub zh: String,
}

impl Problem {
    pub fn message(&self, lang: Lang) -> String {
        format!("{}: {}", self.place, lang.pick(&self.en, &self.zh))
    }
}

/// Settings of the sync side.
#[derive(Debug, Clone)]
pub struct SyncConfig {
    /// Whether `tiq serve` syncs feeds in the background.
    pub background: bool,
    pub mirror: Option<Mirror>,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_bytes: u64,
    pub retries: u32,
    pub retry_delay: Duration,
}

impl Default for SyncConfig {
    fn default() -> SyncConfig {
        SyncConfig {
            background: true,
            mirror: None,
            connect_timeout: tiq_sync::settings::DEFAULT_CONNECT_TIMEOUT,
            timeout: tiq_sync::settings::DEFAULT_TIMEOUT,
            max_bytes: tiq_sync::settings::DEFAULT_MAX_BYTES,
            retries: tiq_sync::settings::DEFAULT_RETRIES,
            retry_delay: tiq_sync::settings::DEFAULT_RETRY_DELAY,
        }
    }
}

/// Settings of `tiq serve` beyond the listen address.
#[derive(Debug, Clone, Default)]
pub struct ServerSection {
    /// Extra `Host` values accepted on top of the loopback names and the listen address.
    pub allowed_hosts: Vec<String>,
    /// Extra browser origins accepted on `/mcp` and `/sse`.
    pub allowed_origins: Vec<String>,
    pub max_sessions: Option<usize>,
    pub allow_anonymous: bool,
    pub max_header_bytes: Option<usize>,
    pub max_body_bytes: Option<usize>,
    /// Largest text `analyze_text` and `POST /api/v1/scan` read.
    pub max_text_bytes: Option<usize>,
    pub request_timeout: Option<Duration>,
    pub failed_auth_per_minute: Option<u32>,
}

/// Settings of the audit log.
#[derive(Debug, Clone)]
pub struct AuditSection {
    pub enabled: bool,
    /// Entries older than this are pruned by `tiq serve`, at start and daily.
    pub retention: Option<Duration>,
}

impl Default for AuditSection {
    fn default() -> AuditSection {
        AuditSection {
            enabled: true,
            retention: None,
        }
    }
}

/// The configuration after the file and the environment.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The configuration file given or found, if any, whether or not it could be read.
    pub file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub language: Option<Lang>,
    pub sync: SyncConfig,
    pub server: ServerSection,
    pub audit: AuditSection,
    pub sources: BTreeMap<String, FeedOverride>,
    /// Half-lives of claims, by indicator type.
    pub ageing: tiq_engine::score::Ageing,
}

impl Config {
    /// Returns the feed catalog with this configuration applied.
    pub fn sync_settings(&self) -> SyncSettings {
        let mut settings =
            SyncSettings::resolve(self.sync.mirror.as_ref(), |name| self.sources.get(name));
        settings.connect_timeout = self.sync.connect_timeout;
        settings.timeout = self.sync.timeout;
        settings.max_bytes = self.sync.max_bytes;
        settings.retries = self.sync.retries;
        settings.retry_delay = self.sync.retry_delay;
        settings
    }
}

/// A value from the file or from a variable; variables are text and are parsed as such.
#[derive(Clone, Copy)]
enum Input<'a> {
    Toml(&'a toml::Value),
    Env(&'a str),
}

struct Loader {
    config: Config,
    problems: Vec<Problem>,
}

/// Reads the configuration. `explicit` is the `--config` path, which must exist; otherwise
/// `tiq.toml` in `data_dir` is read when present. `env` contains the process's variables.
pub fn load(
    explicit: Option<&Path>,
    data_dir: &Path,
    env: &[(String, String)],
) -> (Config, Vec<Problem>) {
    let mut loader = Loader {
        config: Config::default(),
        problems: Vec::new(),
    };
    let path = match explicit {
        Some(path) => Some(path.to_path_buf()),
        None => Some(data_dir.join(CONFIG_FILE)).filter(|p| p.exists()),
    };
    if let Some(path) = path {
        let display = path.display().to_string();
        loader.config.file = Some(path.clone());
        match std::fs::read_to_string(&path) {
            Ok(text) => match text.parse::<toml::Table>() {
                Ok(table) => loader.file(&display, &table),
                Err(error) => loader.problems.push(Problem {
                    place: display.clone(),
                    en: format!("not valid TOML: {}", one_line(&error.to_string())),
                    zh: format!("不是有效的 TOML：{}", one_line(&error.to_string())),
                }),
            },
            Err(error) => loader.problems.push(Problem {
                place: display.clone(),
                en: format!(
                    "cannot read the configuration file: {error}; fix the path given to --config or TIQ_CONFIG"
                ),
                zh: format!("无法读取配置文件：{error}；请检查 --config 或 TIQ_CONFIG 指定的路径"),
            }),
        }
    }
    loader.environment(env);
    (loader.config, loader.problems)
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

const TOP_KEYS: &[&str] = &[
    "data_dir", "listen", "language", "server", "audit", "sync", "sources", "scoring",
];
const SERVER_KEYS: &[&str] = &[
    "allowed_hosts",
    "allowed_origins",
    "max_sessions",
    "allow_anonymous",
    "max_header_kb",
    "max_body_kb",
    "max_text_kb",
    "request_timeout",
    "failed_auth_per_minute",
];
const AUDIT_KEYS: &[&str] = &["enabled", "retention"];
const SYNC_KEYS: &[&str] = &[
    "background",
    "mirror",
    "connect_timeout",
    "timeout",
    "max_download_mb",
    "retries",
    "retry_delay",
];
const SOURCE_KEYS: &[&str] = &["enabled", "url", "urls", "cadence", "weight"];
const SCORING_KEYS: &[&str] = &[
    "half_life_ip",
    "half_life_domain",
    "half_life_url",
    "half_life_hash",
];

/// Applies one key of a section such as `[sync]`.
type SectionKey = fn(&mut Loader, &str, &str, Input<'_>);

impl Loader {
    fn problem(&mut self, place: String, en: String, zh: String) {
        self.problems.push(Problem { place, en, zh });
    }

    fn unknown(&mut self, place: String, key: &str, known: &[&str]) {
        self.problem(
            place,
            format!(
                "unknown key `{key}`; the keys here are {}",
                known.join(", ")
            ),
            format!("未知的键 `{key}`；此处可用的键为 {}", known.join("、")),
        );
    }

    fn file(&mut self, file: &str, table: &toml::Table) {
        for (key, value) in table {
            let place = format!("{file}: {key}");
            let input = Input::Toml(value);
            match key.as_str() {
                "data_dir" => {
                    if let Some(text) = self.text(&place, input) {
                        self.config.data_dir = Some(PathBuf::from(text));
                    }
                }
                "listen" => self.listen(&place, input),
                "language" => self.language(&place, input),
                "server" => self.section(file, "server", value, SERVER_KEYS, Loader::server_key),
                "sync" => self.section(file, "sync", value, SYNC_KEYS, Loader::sync_key),
                "audit" => self.section(file, "audit", value, AUDIT_KEYS, Loader::audit_key),
                "scoring" => {
                    self.section(file, "scoring", value, SCORING_KEYS, Loader::scoring_key)
                }
                "sources" => match value.as_table() {
                    Some(sources) => {
                        for (name, value) in sources {
                            let place = format!("{file}: sources.{name}");
                            if !self.known_feed(&place, name) {
                                continue;
                            }
                            let Some(table) = value.as_table() else {
                                self.expected(
                                    &place,
                                    "a table ([sources.NAME])",
                                    "表（[sources.名称]）",
                                );
                                continue;
                            };
                            for (key, value) in table {
                                let place = format!("{file}: sources.{name}.{key}");
                                if SOURCE_KEYS.contains(&key.as_str()) {
                                    self.source_key(&place, name, key, Input::Toml(value));
                                } else {
                                    self.unknown(place, key, SOURCE_KEYS);
                                }
                            }
                        }
                    }
                    None => self.expected(&place, "a table ([sources])", "表（[sources]）"),
                },
                _ => self.unknown(place, key, TOP_KEYS),
            }
        }
    }

    fn environment(&mut self, env: &[(String, String)]) {
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("TIQ_") else {
                continue;
            };
            let input = Input::Env(value);
            let place = name.clone();
            match rest {
                "LISTEN" => self.listen(&place, input),
                "LANG" => self.language(&place, input),
                _ => {
                    if let Some(key) = rest.strip_prefix("SERVER_") {
                        self.section_variable(
                            &place,
                            "SERVER",
                            key,
                            input,
                            SERVER_KEYS,
                            Loader::server_key,
                        );
                    } else if let Some(key) = rest.strip_prefix("AUDIT_") {
                        self.section_variable(
                            &place,
                            "AUDIT",
                            key,
                            input,
                            AUDIT_KEYS,
                            Loader::audit_key,
                        );
                    } else if let Some(key) = rest.strip_prefix("SYNC_") {
                        self.section_variable(
                            &place,
                            "SYNC",
                            key,
                            input,
                            SYNC_KEYS,
                            Loader::sync_key,
                        );
                    } else if let Some(key) = rest.strip_prefix("SCORING_") {
                        self.section_variable(
                            &place,
                            "SCORING",
                            key,
                            input,
                            SCORING_KEYS,
                            Loader::scoring_key,
                        );
                    } else if let Some(rest) = rest.strip_prefix("SOURCE_") {
                        self.source_variable(&place, rest, input);
                    }
                    // Other TIQ_ variables are read elsewhere (TIQ_LOG, TIQ_CONFIG,
                    // TIQ_DATA_DIR) or belong to scripts around tiq.
                }
            }
        }
    }

    /// `TIQ_SOURCE_<FEED>_<KEY>`, with the feed name upper-cased and `-` written as `_`.
    fn source_variable(&mut self, place: &str, rest: &str, input: Input<'_>) {
        // The feed with the longest matching name is chosen: `URLHAUS_DOMAINS_URL` names `urlhaus-domains`, not
        // a key `domains_url` of `urlhaus`.
        let found = CATALOG
            .iter()
            .filter_map(|feed| {
                let prefix = format!("{}_", env_name(feed.name));
                rest.strip_prefix(&prefix)
                    .map(|key| (feed.name, key.to_ascii_lowercase()))
            })
            .max_by_key(|(name, _)| name.len());
        match found {
            Some((feed, key)) if SOURCE_KEYS.contains(&key.as_str()) => {
                self.source_key(place, feed, &key, input)
            }
            Some((feed, key)) => {
                let known: Vec<String> = SOURCE_KEYS
                    .iter()
                    .map(|k| format!("TIQ_SOURCE_{}_{}", env_name(feed), k.to_ascii_uppercase()))
                    .collect();
                self.problem(
                    place.to_string(),
                    format!("unknown setting `{key}`; use one of {}", known.join(", ")),
                    format!("未知的设置 `{key}`；可用 {}", known.join("、")),
                )
            }
            None => self.problem(
                place.to_string(),
                "names no catalog source; run `tiq catalog` for the names (TIQ_SOURCE_<NAME>_<KEY>, NAME upper-cased with - as _)".to_string(),
                "没有对应的目录来源；运行 `tiq catalog` 查看名称（TIQ_SOURCE_<名称>_<键>，名称大写，- 写作 _）".to_string(),
            ),
        }
    }

    fn known_feed(&mut self, place: &str, name: &str) -> bool {
        if tiq_sync::catalog::find(name).is_some() {
            return true;
        }
        self.problem(
            place.to_string(),
            format!("`{name}` is not a catalog source; run `tiq catalog` for the names"),
            format!("`{name}` 不是目录中的来源；运行 `tiq catalog` 查看名称"),
        );
        false
    }

    fn expected(&mut self, place: &str, en: &str, zh: &str) {
        self.problem(
            place.to_string(),
            format!("expected {en}"),
            format!("应为{zh}"),
        );
    }

    fn text<'v>(&mut self, place: &str, input: Input<'v>) -> Option<&'v str> {
        match input {
            Input::Toml(toml::Value::String(text)) => Some(text),
            Input::Env(text) => Some(text),
            Input::Toml(_) => {
                self.expected(place, "a string in quotes", "带引号的字符串");
                None
            }
        }
    }

    fn boolean(&mut self, place: &str, input: Input<'_>) -> Option<bool> {
        match input {
            Input::Toml(toml::Value::Boolean(value)) => Some(*value),
            Input::Env(text) => match text.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Some(true),
                "false" | "0" | "no" | "off" => Some(false),
                _ => {
                    self.expected(place, "true or false", "true 或 false");
                    None
                }
            },
            Input::Toml(_) => {
                self.expected(place, "true or false", "true 或 false");
                None
            }
        }
    }

    fn integer(&mut self, place: &str, input: Input<'_>, min: i64, max: i64) -> Option<i64> {
        let value = match input {
            Input::Toml(toml::Value::Integer(value)) => Some(*value),
            Input::Env(text) => text.trim().parse().ok(),
            Input::Toml(_) => None,
        };
        match value {
            Some(value) if (min..=max).contains(&value) => Some(value),
            _ => {
                self.expected(
                    place,
                    &format!("a whole number from {min} to {max}"),
                    &format!(" {min} 到 {max} 之间的整数"),
                );
                None
            }
        }
    }

    fn duration(&mut self, place: &str, input: Input<'_>, min: Duration) -> Option<Duration> {
        let parsed = self
            .text(place, input)
            .map(|text| (text.to_string(), parse_duration(text)));
        match parsed {
            Some((_, Some(value))) if value >= min => Some(value),
            Some((text, _)) => {
                self.problem(
                    place.to_string(),
                    format!(
                        "{text:?} is not a duration of at least {}s; write a number and a unit, such as \"90s\", \"30m\", \"6h\" or \"1d\"",
                        min.as_secs()
                    ),
                    format!(
                        "{text:?} 不是不少于 {} 秒的时长；请写数字加单位，例如 \"90s\"、\"30m\"、\"6h\" 或 \"1d\"",
                        min.as_secs()
                    ),
                );
                None
            }
            None => None,
        }
    }

    fn listen(&mut self, place: &str, input: Input<'_>) {
        if let Some(text) = self.text(place, input) {
            match text.parse() {
                Ok(address) => self.config.listen = Some(address),
                Err(_) => self.problem(
                    place.to_string(),
                    format!("{text:?} is not an address and port; write one such as \"127.0.0.1:8737\" or \"[::1]:8737\""),
                    format!("{text:?} 不是地址加端口；请写成 \"127.0.0.1:8737\" 或 \"[::1]:8737\" 这样的形式"),
                ),
            }
        }
    }

    fn language(&mut self, place: &str, input: Input<'_>) {
        if let Some(text) = self.text(place, input) {
            match text.parse::<Lang>() {
                Ok(lang) => self.config.language = Some(lang),
                Err(_) => self.problem(
                    place.to_string(),
                    format!("unsupported language {text:?}; use \"en\" or \"zh-CN\""),
                    format!("不支持的语言 {text:?}；请使用 \"en\" 或 \"zh-CN\""),
                ),
            }
        }
    }

    /// Reads a section such as `[sync]`, rejecting keys not in `keys`.
    fn section(
        &mut self,
        file: &str,
        section: &str,
        value: &toml::Value,
        keys: &[&str],
        apply: SectionKey,
    ) {
        let Some(table) = value.as_table() else {
            let place = format!("{file}: {section}");
            self.expected(
                &place,
                &format!("a table ([{section}])"),
                &format!("表（[{section}]）"),
            );
            return;
        };
        for (key, value) in table {
            let place = format!("{file}: {section}.{key}");
            if keys.contains(&key.as_str()) {
                apply(self, &place, key, Input::Toml(value));
            } else {
                self.unknown(place, key, keys);
            }
        }
    }

    /// Reads `TIQ_<SECTION>_<KEY>`, rejecting keys not in `keys`.
    fn section_variable(
        &mut self,
        place: &str,
        section: &str,
        key: &str,
        input: Input<'_>,
        keys: &[&str],
        apply: SectionKey,
    ) {
        let key = key.to_ascii_lowercase();
        if keys.contains(&key.as_str()) {
            apply(self, place, &key, input);
            return;
        }
        let known: Vec<String> = keys
            .iter()
            .map(|k| format!("TIQ_{section}_{}", k.to_ascii_uppercase()))
            .collect();
        self.problem(
            place.to_string(),
            format!(
                "unknown variable; the variables of [{}] are {}",
                section.to_ascii_lowercase(),
                known.join(", ")
            ),
            format!(
                "未知的变量；[{}] 的变量为 {}",
                section.to_ascii_lowercase(),
                known.join("、")
            ),
        );
    }

    /// Reads a half-life: a duration of at least an hour, or `never` for claims that do not fade.
    fn scoring_key(&mut self, place: &str, key: &str, input: Input<'_>) {
        let never = match input {
            Input::Toml(value) => value.as_str() == Some("never"),
            Input::Env(text) => text == "never",
        };
        let half_life = if never {
            None
        } else {
            match self.duration(place, input, Duration::from_secs(3600)) {
                Some(value) => Some(value.as_secs_f64() / 86_400.0),
                None => return,
            }
        };
        let ageing = &mut self.config.ageing;
        match key {
            "half_life_ip" => ageing.ip = half_life,
            "half_life_domain" => ageing.domain = half_life,
            "half_life_url" => ageing.url = half_life,
            _ => ageing.hash = half_life,
        }
    }

    /// Reads a list of strings: an array in the file, comma-separated in a variable.
    fn list(&mut self, place: &str, input: Input<'_>) -> Option<Vec<String>> {
        match input {
            Input::Toml(toml::Value::Array(items)) => {
                let texts: Vec<String> = items
                    .iter()
                    .filter_map(|item| item.as_str().map(str::to_string))
                    .collect();
                if texts.len() == items.len() {
                    Some(texts)
                } else {
                    self.expected(place, "a list of strings", "字符串列表");
                    None
                }
            }
            Input::Env(text) => Some(
                text.split(',')
                    .map(str::trim)
                    .filter(|item| !item.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            Input::Toml(_) => {
                self.expected(place, "a list of strings", "字符串列表");
                None
            }
        }
    }

    fn server_key(&mut self, place: &str, key: &str, input: Input<'_>) {
        match key {
            "allowed_hosts" => {
                let Some(hosts) = self.list(place, input) else {
                    return;
                };
                for host in hosts {
                    if valid_host(&host) {
                        self.config.server.allowed_hosts.push(host);
                    } else {
                        self.problem(
                            place.to_string(),
                            format!("{host:?} is not a Host header value; write a host name or host:port, such as \"tiq.example.com\" or \"tiq.example.com:8737\", without a scheme or path"),
                            format!("{host:?} 不是 Host 请求头的值；请写主机名或 主机名:端口，例如 \"tiq.example.com\" 或 \"tiq.example.com:8737\"，不带协议和路径"),
                        );
                    }
                }
            }
            "allowed_origins" => {
                let Some(origins) = self.list(place, input) else {
                    return;
                };
                for origin in origins {
                    if valid_origin(&origin) {
                        self.config.server.allowed_origins.push(origin);
                    } else {
                        self.problem(
                            place.to_string(),
                            format!("{origin:?} is not a browser origin; write a scheme, host and optional port with no path, such as \"https://chat.example.com\" or \"http://localhost:*\""),
                            format!("{origin:?} 不是浏览器来源；请写协议、主机和可选端口，不带路径，例如 \"https://chat.example.com\" 或 \"http://localhost:*\""),
                        );
                    }
                }
            }
            "max_sessions" => {
                if let Some(value) = self.integer(place, input, 1, 1_000_000) {
                    self.config.server.max_sessions = Some(value as usize);
                }
            }
            "allow_anonymous" => {
                if let Some(value) = self.boolean(place, input) {
                    self.config.server.allow_anonymous = value;
                }
            }
            "max_header_kb" => {
                if let Some(value) = self.integer(place, input, 1, 1024) {
                    self.config.server.max_header_bytes = Some(value as usize * 1024);
                }
            }
            "max_body_kb" => {
                // rmcp reads at most 4 MiB on /mcp, so a larger cap would not hold there.
                if let Some(value) = self.integer(place, input, 1, 4096) {
                    self.config.server.max_body_bytes = Some(value as usize * 1024);
                }
            }
            "max_text_kb" => {
                if let Some(value) = self.integer(place, input, 1, 4096) {
                    self.config.server.max_text_bytes = Some(value as usize * 1024);
                }
            }
            "request_timeout" => {
                if let Some(value) = self.duration(place, input, Duration::from_secs(1)) {
                    self.config.server.request_timeout = Some(value);
                }
            }
            "failed_auth_per_minute" => {
                if let Some(value) = self.integer(place, input, 1, 10_000) {
                    self.config.server.failed_auth_per_minute = Some(value as u32);
                }
            }
            _ => unreachable!("server keys are checked by the caller"),
        }
    }

    fn audit_key(&mut self, place: &str, key: &str, input: Input<'_>) {
        match key {
            "enabled" => {
                if let Some(value) = self.boolean(place, input) {
                    self.config.audit.enabled = value;
                }
            }
            _ => {
                if let Some(value) = self.duration(place, input, Duration::from_secs(86_400)) {
                    self.config.audit.retention = Some(value);
                }
            }
        }
    }

    fn sync_key(&mut self, place: &str, key: &str, input: Input<'_>) {
        let second = Duration::from_secs(1);
        match key {
            "background" => {
                if let Some(value) = self.boolean(place, input) {
                    self.config.sync.background = value;
                }
            }
            "mirror" => {
                if let Some(text) = self.text(place, input) {
                    let rest = text
                        .strip_prefix("http://")
                        .or_else(|| text.strip_prefix("https://"));
                    if let Some(rest) = rest {
                        let host = rest.split('/').next().unwrap_or_default();
                        if host.is_empty()
                            || rest.contains(|c: char| c.is_whitespace() || c == '?' || c == '#')
                        {
                            self.problem(
                                place.to_string(),
                                format!("{text:?} is not a usable mirror URL: it needs a host and no spaces, query or fragment, because feed paths are appended to it; write one such as \"https://mirror.example.org/tiq\""),
                                format!("{text:?} 不能用作镜像网址：它需要主机名，且不能含空格、查询串或片段，因为情报源路径会接在它后面；请写成 \"https://mirror.example.org/tiq\" 这样的形式"),
                            );
                        } else {
                            self.config.sync.mirror = Some(Mirror::Url(text.to_string()));
                        }
                    } else if let Some(dir) = text
                        .strip_prefix("file://")
                        .or(Some(text))
                        .filter(|dir| Path::new(dir).is_absolute())
                    {
                        if Path::new(dir).is_dir() {
                            self.config.sync.mirror = Some(Mirror::Dir(PathBuf::from(dir)));
                        } else {
                            self.problem(
                                place.to_string(),
                                format!("the mirror directory {dir:?} does not exist or is not a directory; create it or fix the path"),
                                format!("镜像目录 {dir:?} 不存在或不是目录；请创建它或修正路径"),
                            );
                        }
                    } else {
                        self.problem(
                            place.to_string(),
                            format!("{text:?} is neither an http(s) URL nor an absolute directory path; write one such as \"https://mirror.example.org/tiq\" or \"/srv/tiq-mirror\""),
                            format!("{text:?} 既不是 http(s) 网址，也不是绝对目录路径；请写成 \"https://mirror.example.org/tiq\" 或 \"/srv/tiq-mirror\" 这样的形式"),
                        );
                    }
                }
            }
            "connect_timeout" => {
                if let Some(value) = self.duration(place, input, second) {
                    self.config.sync.connect_timeout = value;
                }
            }
            "timeout" => {
                if let Some(value) = self.duration(place, input, second) {
                    self.config.sync.timeout = value;
                }
            }
            "retry_delay" => {
                if let Some(value) = self.duration(place, input, Duration::ZERO) {
                    self.config.sync.retry_delay = value;
                }
            }
            "max_download_mb" => {
                if let Some(value) = self.integer(place, input, 1, 1024 * 1024) {
                    self.config.sync.max_bytes = value as u64 * 1024 * 1024;
                }
            }
            "retries" => {
                if let Some(value) = self.integer(place, input, 0, 10) {
                    self.config.sync.retries = value as u32;
                }
            }
            _ => unreachable!("sync keys are checked by the caller"),
        }
    }

    fn source_key(&mut self, place: &str, name: &str, key: &str, input: Input<'_>) {
        let feed = tiq_sync::catalog::find(name).expect("checked by the caller");
        let downloads = feed.downloads.len();
        match key {
            "enabled" => {
                if let Some(value) = self.boolean(place, input) {
                    self.entry(name).enabled = Some(value);
                }
            }
            "url" => {
                if downloads != 1 {
                    self.problem(
                        place.to_string(),
                        format!("`{name}` has {downloads} files; give them all with `urls`, in this order: {}", files(feed)),
                        format!("`{name}` 有 {downloads} 个文件；请用 `urls` 按此顺序全部给出：{}", files(feed)),
                    );
                } else if let Some(location) = self.location(place, input) {
                    self.entry(name).locations = Some(vec![location]);
                }
            }
            "urls" => {
                let items: Vec<Input<'_>> = match input {
                    Input::Toml(toml::Value::Array(items)) => {
                        items.iter().map(Input::Toml).collect()
                    }
                    Input::Env(text) => text.split(',').map(|t| Input::Env(t.trim())).collect(),
                    Input::Toml(_) => {
                        self.expected(place, "a list of strings", "字符串列表");
                        return;
                    }
                };
                if items.len() != downloads {
                    self.problem(
                        place.to_string(),
                        format!(
                            "`{name}` needs {downloads} locations, in this order: {}",
                            files(feed)
                        ),
                        format!(
                            "`{name}` 需要 {downloads} 个地址，按此顺序：{}",
                            files(feed)
                        ),
                    );
                    return;
                }
                let locations: Vec<String> = items
                    .into_iter()
                    .filter_map(|item| self.location(place, item))
                    .collect();
                if locations.len() == downloads {
                    self.entry(name).locations = Some(locations);
                }
            }
            "cadence" => {
                // Past a year the schedule's date arithmetic would overflow, and no feed is
                // worth syncing that rarely.
                let year = Duration::from_secs(365 * 86_400);
                match self.duration(place, input, Duration::from_secs(60)) {
                    Some(value) if value <= year => self.entry(name).cadence = Some(value),
                    Some(_) => self.problem(
                        place.to_string(),
                        "is longer than a year; write a cadence such as \"1d\" or \"4w\""
                            .to_string(),
                        "超过一年；请写成 \"1d\" 或 \"4w\" 这样的周期".to_string(),
                    ),
                    None => {}
                }
            }
            "weight" => {
                let value = match input {
                    Input::Toml(toml::Value::Float(value)) => Some(*value),
                    Input::Toml(toml::Value::Integer(value)) => Some(*value as f64),
                    Input::Env(text) => text.trim().parse().ok(),
                    Input::Toml(_) => None,
                };
                match value {
                    Some(value) if (0.0..=1.0).contains(&value) => {
                        self.entry(name).weight = Some(value)
                    }
                    _ => self.expected(
                        place,
                        "a number from 0 (ignore the source) to 1 (full trust)",
                        " 0（忽略该来源）到 1（完全信任）之间的数",
                    ),
                }
            }
            _ => unreachable!("source keys are checked by the caller"),
        }
    }

    fn location(&mut self, place: &str, input: Input<'_>) -> Option<String> {
        let text = self.text(place, input)?;
        let ok = text.starts_with("http://")
            || text.starts_with("https://")
            || text.starts_with("file:///")
            || Path::new(text).is_absolute();
        if ok {
            Some(text.to_string())
        } else {
            self.problem(
                place.to_string(),
                format!("{text:?} is not an http(s) URL, a file:/// URL or an absolute path"),
                format!("{text:?} 不是 http(s) 网址、file:/// 网址或绝对路径"),
            );
            None
        }
    }

    fn entry(&mut self, name: &str) -> &mut FeedOverride {
        self.config.sources.entry(name.to_string()).or_default()
    }
}

/// Checks that `host` is a `Host` header value: a name or address, optionally with a port.
fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && !host.contains(['/', '?', '#', '@'])
        && !host.contains(char::is_whitespace)
        && !host.contains("://")
}

/// `scheme://host[:port]` with an http(s) scheme, `:*` for any port, or `null`.
fn valid_origin(origin: &str) -> bool {
    if origin == "null" {
        return true;
    }
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    valid_host(rest) && !rest.starts_with(':')
}

fn files(feed: &tiq_sync::Feed) -> String {
    feed.downloads
        .iter()
        .map(|d| d.file)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Returns the variable-name form of a feed name: `spamhaus-drop` → `SPAMHAUS_DROP`.
pub fn env_name(feed: &str) -> String {
    feed.to_ascii_uppercase().replace('-', "_")
}

/// Parses `90s`, `30m`, `6h`, `1d` or `2w`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().ok()?;
    let seconds = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return None,
    };
    number.checked_mul(seconds).map(Duration::from_secs)
}

/// Writes a duration the way the configuration takes it.
pub fn format_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    for (unit, size) in [("w", 7 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if seconds >= size && seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, env: &[(&str, &str)]) -> (Config, Vec<Problem>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), text).unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        load(None, dir.path(), &env)
    }

    #[test]
    fn full_config_file_is_read() {
        let (config, problems) = load_text(
            r#"
            listen = "127.0.0.1:9000"
            language = "zh-CN"
            [sync]
            background = false
            mirror = "http://127.0.0.1:8000/tiq"
            timeout = "2m"
            max_download_mb = 64
            [sources.ipsum]
            cadence = "12h"
            weight = 0.5
            [sources.spamhaus-drop]
            urls = ["http://127.0.0.1:8000/a.json", "/srv/b.json"]
            "#,
            &[],
        );
        assert_eq!(problems, []);
        assert_eq!(config.listen, Some("127.0.0.1:9000".parse().unwrap()));
        assert_eq!(config.language, Some(Lang::ZhCn));
        assert!(!config.sync.background);
        assert_eq!(config.sync.timeout, Duration::from_secs(120));
        assert_eq!(config.sync.max_bytes, 64 << 20);
        let settings = config.sync_settings();
        let ipsum = settings.feed("ipsum").unwrap();
        assert_eq!(ipsum.cadence, Duration::from_secs(12 * 3600));
        assert_eq!(ipsum.weight, 0.5);
        assert_eq!(
            ipsum.locations,
            ["http://127.0.0.1:8000/tiq/ipsum/ipsum.txt"]
        );
        let drop = settings.feed("spamhaus-drop").unwrap();
        assert_eq!(
            drop.locations,
            ["http://127.0.0.1:8000/a.json", "/srv/b.json"]
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let (_, problems) = load_text(
            r#"
            listen = "localhost"
            colour = "blue"
            [sync]
            timeout = "soon"
            retries = 99
            mirror = "http://127.0.0.1:8000/a b?x=1"
            [sources.ipsum]
            weight = 3
            url = "ftp://example.com/x"
            [sources.nope]
            enabled = true
            [sources.spamhaus-drop]
            url = "http://127.0.0.1/x"
            "#,
            &[
                ("TIQ_SYNC_BACKGRUND", "off"),
                ("TIQ_SOURCE_IPSUM_ENABLED", "maybe"),
            ],
        );
        let places: Vec<&str> = problems.iter().map(|p| p.place.as_str()).collect();
        for expected in [
            "listen",
            "colour",
            "sync.timeout",
            "sync.retries",
            "sync.mirror",
            "sources.ipsum.weight",
            "sources.ipsum.url",
            "sources.nope",
            "sources.spamhaus-drop.url",
            "TIQ_SYNC_BACKGRUND",
            "TIQ_SOURCE_IPSUM_ENABLED",
        ] {
            assert!(
                places.iter().any(|p| p.ends_with(expected)),
                "no problem for {expected}: {places:?}"
            );
        }
        assert_eq!(problems.len(), 11, "{places:?}");
        assert!(
            problems
                .iter()
                .all(|p| !p.zh.is_empty() && !p.en.is_empty())
        );
    }

    #[test]
    fn variables_override_the_file() {
        let mirror = tempfile::tempdir().unwrap();
        let mirror_url = format!("file://{}", mirror.path().display());
        let (config, problems) = load_text(
            "[sources.ipsum]\nenabled = true\n",
            &[
                ("TIQ_SOURCE_IPSUM_ENABLED", "false"),
                ("TIQ_SOURCE_SPAMHAUS_DROP_WEIGHT", "0.25"),
                ("TIQ_SYNC_MIRROR", &mirror_url),
                ("TIQ_LOG", "debug"),
            ],
        );
        assert_eq!(problems, []);
        let settings = config.sync_settings();
        assert!(!settings.feed("ipsum").unwrap().enabled);
        assert_eq!(settings.feed("spamhaus-drop").unwrap().weight, 0.25);
        let expected = mirror.path().join("tor-exits/tor/tor-exit-nodes.lst");
        assert_eq!(
            settings.feed("tor-exits").unwrap().locations,
            [expected.display().to_string()]
        );
    }

    #[test]
    fn every_source_variable_names_its_feed() {
        for feed in CATALOG {
            let name = format!("TIQ_SOURCE_{}_WEIGHT", env_name(feed.name));
            let (config, problems) = load_text("", &[(name.as_str(), "0.5")]);
            assert_eq!(problems, [], "{name}");
            let settings = config.sync_settings();
            assert_eq!(settings.feed(feed.name).unwrap().weight, 0.5, "{name}");
        }
    }

    #[test]
    fn server_section_is_read_and_checked() {
        let (config, problems) = load_text(
            r#"
            [server]
            allowed_hosts = ["tiq.example.com", "tiq.example.com:8737"]
            allowed_origins = ["https://chat.example.com", "http://localhost:*"]
            max_sessions = 20
            "#,
            &[(
                "TIQ_SERVER_ALLOWED_HOSTS",
                "intel.example.org, 192.0.2.7:8737",
            )],
        );
        assert_eq!(problems, []);
        assert_eq!(
            config.server.allowed_hosts,
            [
                "tiq.example.com",
                "tiq.example.com:8737",
                "intel.example.org",
                "192.0.2.7:8737"
            ]
        );
        assert_eq!(
            config.server.allowed_origins,
            ["https://chat.example.com", "http://localhost:*"]
        );
        assert_eq!(config.server.max_sessions, Some(20));

        let (config, problems) = load_text(
            r#"
            [server]
            allowed_hosts = ["https://tiq.example.com/mcp", 7]
            allowed_origins = ["chat.example.com", "https://chat.example.com/app"]
            max_sessions = 0
            max_session = 5
            "#,
            &[],
        );
        let places: Vec<&str> = problems
            .iter()
            .map(|p| p.place.rsplit(": ").next().unwrap())
            .collect();
        assert_eq!(
            places,
            [
                "server.allowed_hosts",
                "server.allowed_origins",
                "server.allowed_origins",
                "server.max_session",
                "server.max_sessions"
            ],
            "{problems:?}"
        );
        assert!(
            problems[1].en.contains("\"chat.example.com\""),
            "{}",
            problems[1].en
        );
        assert!(
            problems[3].en.contains("max_sessions"),
            "{}",
            problems[3].en
        );
        assert!(config.server.allowed_hosts.is_empty());
        assert_eq!(config.server.max_sessions, None);
    }

    #[test]
    fn scoring_half_lives_are_read() {
        let (config, problems) = load_text(
            "[scoring]\nhalf_life_ip = \"30d\"\nhalf_life_hash = \"2w\"\nhalf_life_url = \"never\"\n",
            &[("TIQ_SCORING_HALF_LIFE_DOMAIN", "1d")],
        );
        assert_eq!(problems, []);
        assert_eq!(config.ageing.ip, Some(30.0));
        assert_eq!(config.ageing.hash, Some(14.0));
        assert_eq!(config.ageing.url, None);
        assert_eq!(config.ageing.domain, Some(1.0));

        let (_, problems) = load_text(
            "[scoring]\nhalf_life_ip = \"soon\"\nhalf_life_cve = \"1d\"\n",
            &[("TIQ_SCORING_HALF_LIFE", "1d")],
        );
        let places: Vec<&str> = problems.iter().map(|p| p.place.as_str()).collect();
        assert_eq!(problems.len(), 3, "{places:?}");
        assert!(places.iter().any(|p| p.ends_with("scoring.half_life_ip")));
        assert!(places.iter().any(|p| p.ends_with("scoring.half_life_cve")));
        assert!(places.contains(&"TIQ_SCORING_HALF_LIFE"));
    }

    #[test]
    fn missing_mirror_directory_is_a_problem() {
        let (_, problems) = load_text("[sync]\nmirror = \"/nonexistent/tiq-mirror\"\n", &[]);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].en.contains("does not exist"),
            "{}",
            problems[0].en
        );
    }

    #[test]
    fn broken_toml_names_the_line() {
        let (_, problems) = load_text("[sync\nbackground = true\n", &[]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].en.contains("line 1"), "{}", problems[0].en);
    }

    #[test]
    fn missing_explicit_file_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.toml");
        let (_, problems) = load(Some(&missing), dir.path(), &[]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].place.contains("none.toml"));
    }

    #[test]
    fn durations_round_trip() {
        for text in ["90s", "30m", "6h", "1d", "2w"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
        assert_eq!(parse_duration("6"), None);
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("-1h"), None);
    }
}
