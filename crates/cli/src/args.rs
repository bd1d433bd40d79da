//! Command-line arguments.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::bail;
use clap::{Args, Parser, Subcommand, ValueEnum};
use tiq_model::Lang;

/// Self-hosted threat intelligence from open feeds: verdicts for IPs, domains, URLs and
/// file hashes, over MCP and from this command line.
#[derive(Debug, Parser)]
#[command(name = "tiq", version, about)]
pub struct Cli {
    /// Directory holding tiq.db and copied geolocation files
    /// [default: $XDG_DATA_HOME/tiq, or ~/.local/share/tiq].
    #[arg(long, global = true, env = "TIQ_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Configuration file [default: tiq.toml in the data directory, if present].
    #[arg(long, global = true, env = "TIQ_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Language of messages and reports: en or zh-CN [default: TIQ_LANG, the configuration
    /// file, then LC_ALL, LC_MESSAGES or LANG].
    #[arg(long, global = true, value_parser = parse_lang, value_name = "LANG")]
    pub lang: Option<Lang>,

    /// Log format on standard error. The level comes from TIQ_LOG (for example TIQ_LOG=debug).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import feed files or directories (recursively); formats are detected from content.
    Import(ImportArgs),
    /// Analyse an IP address.
    Ip(Query),
    /// Analyse a domain name.
    Domain(Query),
    /// Analyse a URL.
    Url(Query),
    /// Analyse a file hash (MD5, SHA-1 or SHA-256).
    Hash(Query),
    /// Search vulnerabilities by CVE, CNVD or CNNVD id, by product and version ("Apache
    /// Tomcat 9.0.30"), or by keywords.
    Vul(VulArgs),
    /// Find every indicator in a log or text file (or - for standard input) and analyse it:
    /// ranked verdicts, what the log shows per address, and block rules with --export.
    Scan(ScanArgs),
    /// Find every indicator in a log or text file (or - for standard input) without
    /// analysing it; needs no data.
    Extract(ExtractArgs),
    /// Describe a threat actor, malware family, campaign, ATT&CK technique or tactic, by
    /// name, alias or ATT&CK id, with the stored indicators that carry it.
    Describe(DescribeArgs),
    /// List the imported sources.
    Sources,
    /// Serve MCP over streamable HTTP at /mcp and over HTTP+SSE at /sse, the status at
    /// /api/v1/status, and /healthz; enabled feeds are synced in the background.
    Serve(ServeArgs),
    /// Serve MCP on standard input and output, for clients that start tiq as a child
    /// process. Feeds are not synced; data imported or synced meanwhile is picked up.
    Mcp,
    /// Download feeds from the catalog and import them (all enabled feeds, or those named).
    Sync(SyncArgs),
    /// Show each feed's records, last sync, last error and data age.
    Status(JsonArgs),
    /// List the feed catalog with the configuration applied.
    Catalog(JsonArgs),
    /// Check the configuration file and TIQ_* variables, reporting every problem.
    Config(ConfigArgs),
    /// Measure verdicts on samples of the imported data: recall on the malicious feeds,
    /// false positives on known-benign sets, and overlap with a held-out source.
    Evaluate(EvaluateArgs),
    /// Create, list, revoke and rotate API keys for `tiq serve`.
    Key(KeyArgs),
    /// Show the audit log of calls on every surface, or verify or prune it.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct KeyArgs {
    #[command(subcommand)]
    pub action: KeyAction,
}

#[derive(Debug, Subcommand)]
pub enum KeyAction {
    /// Create a key and print its secret once; only its SHA-256 is stored.
    Create(KeyCreateArgs),
    /// List the keys with their scopes, limits, state and last use (never the secrets).
    List(JsonArgs),
    /// Revoke a key at once, by id or name; it stays listed for the audit log.
    Revoke(KeyRef),
    /// Replace a key's secret, keeping its id, name, scopes and limits; the old secret stops
    /// working at once.
    Rotate(KeyRef),
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// A name for the key, such as the client or team that uses it.
    #[arg(id = "key_name", long = "name", value_name = "NAME")]
    pub name: String,
    /// Scopes, comma-separated: ip, domain, url, hash, vul, text, knowledge, batch, admin, or
    /// all [default: every scope but admin].
    #[arg(long, value_name = "LIST")]
    pub scopes: Option<String>,
    /// Requests per minute, such as 60/min or 10/s [default: no limit].
    #[arg(long, value_name = "N/min")]
    pub rate: Option<String>,
    /// Requests per UTC day [default: no limit].
    #[arg(long, value_name = "N")]
    pub daily_quota: Option<u32>,
    /// Expiry: a date (YYYY-MM-DD, at 00:00 UTC), an RFC 3339 time, or a period from now
    /// such as 90d.
    #[arg(long, value_name = "DATE")]
    pub expires: Option<String>,
    /// Print the key as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct KeyRef {
    /// The key's id (as in `tiq key list`) or name.
    #[arg(value_name = "ID_OR_NAME")]
    pub key: String,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub action: Option<AuditAction>,
    /// Entries at or after this time: a date, an RFC 3339 time, or a period back from now
    /// such as 24h or 7d.
    #[arg(id = "audit_since", long = "since", value_name = "TIME")]
    pub since: Option<String>,
    /// Entries before this time, written like --since.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Entries of one key, by id or name.
    #[arg(long = "key", value_name = "ID_OR_NAME")]
    pub key_filter: Option<String>,
    /// Entries of one tool, such as analyze_ip, or `auth` for refused authentications.
    #[arg(long, value_name = "NAME")]
    pub tool: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Table)]
    pub format: AuditFormat,
    /// Show only the newest N entries.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    Table,
    Jsonl,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check the hash chain and name the first entry that was edited, removed or moved;
    /// exit 1 if there is one.
    Verify,
    /// Remove entries older than a period, keeping the rest verifiable.
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove entries older than this, such as 90d.
    #[arg(long, value_name = "PERIOD")]
    pub older_than: String,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Indicators to sample from the malicious feeds and from each known-benign set.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub sample: usize,
    /// Seed of the samples; the same seed over the same data samples the same indicators.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// A source whose indicators are checked against the other sources (see `tiq sources`).
    #[arg(long, value_name = "SOURCE")]
    pub hold_out: Option<String>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Feeds to sync, by catalog name (see `tiq catalog`); disabled feeds may be named too.
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,
    /// Replace a source even if the new data has under 10 % of its earlier records.
    #[arg(long)]
    pub accept_shrink: bool,
    /// Download every file again, even if the publisher reports it unchanged.
    #[arg(long)]
    pub force: bool,
    /// Rejected lines to print per feed under the table (at most 100 are kept).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub rejected_lines: usize,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct JsonArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub action: ConfigAction,
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Report every problem in the configuration; exit 2 if there is one.
    Check,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or directories to import.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Replace a source even if the new files hold under 10 % of its earlier records.
    #[arg(long)]
    pub accept_shrink: bool,
    /// Rejected lines to print per file under the table (at most 1000 are kept).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub rejected_lines: usize,
}

#[derive(Debug, Args)]
pub struct Query {
    /// The indicator to analyse; defanged forms such as 192.0.2[.]1 or example[.]com are accepted.
    pub value: String,
    /// Print the report as JSON instead of the readable layout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The log or text file to read, of any size; - reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output: a table, JSON (the analyze_text result) or CSV.
    #[arg(id = "scan_format", long = "format", value_enum, default_value_t = ScanFormat::Table)]
    pub format: ScanFormat,
    /// Write block rules for the malicious public addresses and domains found instead of
    /// the report: nftables, iptables, ipset, nginx or csv.
    #[arg(long, value_name = "FORMAT")]
    pub export: Option<String>,
    /// Write the output to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Most indicators shown in the table [default: 50; JSON and CSV list all].
    #[arg(id = "scan_limit", long = "limit", value_name = "N")]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScanFormat {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// The log or text file to read, of any size; - reads standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Output: a table, a JSON array, JSON lines or CSV.
    #[arg(id = "extract_format", long = "format", value_enum, default_value_t = ExtractFormat::Table)]
    pub format: ExtractFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExtractFormat {
    Table,
    Json,
    Jsonl,
    Csv,
}

#[derive(Debug, Args)]
pub struct VulArgs {
    /// CVE-2024-3400, CNVD-2024-12345, "Apache Tomcat 9.0.30" or keywords such as "log4j rce".
    pub query: String,
    /// Only vulnerabilities at or above this CVSS severity.
    #[arg(long, ignore_case = true, value_parser = ["critical", "high", "medium", "low"], value_name = "LEVEL")]
    pub min_severity: Option<String>,
    /// Only vulnerabilities in CISA's Known Exploited Vulnerabilities catalog.
    #[arg(long)]
    pub kev: bool,
    /// Only vulnerabilities known to be exploited (KEV, or SSVC exploitation active).
    #[arg(long)]
    pub exploited: bool,
    /// Only vulnerabilities with public exploit code.
    #[arg(long)]
    pub has_exploit: bool,
    /// Only vulnerabilities published on or after this date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Result order.
    #[arg(long, value_enum, ignore_case = true, default_value_t = VulSortArg::Relevance)]
    pub sort: VulSortArg,
    /// Results per page, 1 to 50.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub page_size: usize,
    /// The next_cursor of the previous page.
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print the results as JSON instead of the readable layout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum VulSortArg {
    /// Best text match first (keywords); known exploitation, EPSS, CVSS for products.
    Relevance,
    /// Known exploitation first, then EPSS, then CVSS.
    Priority,
    /// Newest published first.
    Date,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// A name, alias or ATT&CK id, such as "Cobalt Strike", win.emotet, APT28, G0007 or T1059.001.
    pub name: String,
    /// Print the description as JSON instead of the readable layout.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on [default: TIQ_LISTEN, the configuration file, then
    /// 127.0.0.1:8737].
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub listen: Option<SocketAddr>,
    /// Do not sync feeds in the background (also `sync.background = false` in tiq.toml).
    #[arg(long)]
    pub no_sync: bool,
    /// Extra Host header value to accept, such as tiq.example.com or tiq.example.com:8737
    /// (repeatable; adds to `server.allowed_hosts` in tiq.toml). Loopback names and the listen
    /// address are always accepted.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// MCP sessions open at once on /mcp and /sse together; more are rejected until one
    /// closes (idle /mcp sessions close after 5 minutes) [default: `server.max_sessions` in
    /// tiq.toml, then 1000].
    #[arg(long, value_name = "N")]
    pub max_sessions: Option<usize>,
    /// Serve requests without an API key even when keys exist, and allow listening on a
    /// non-loopback address with no key defined.
    #[arg(long)]
    pub allow_anonymous: bool,
    /// Browser origin to accept on /mcp and /sse, such as https://chat.example.com (repeatable;
    /// adds to `server.allowed_origins` in tiq.toml). Pages on localhost are always accepted;
    /// requests without an Origin header are too.
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
}

fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        format!("invalid listen address {value:?}: use an IP address and a port, such as 127.0.0.1:8737 or [::1]:8737")
    })
}

fn parse_lang(value: &str) -> Result<Lang, String> {
    value.parse::<Lang>().map_err(|error| error.to_string())
}

impl Cli {
    /// The data directory from the flag or TIQ_DATA_DIR, else the XDG default, else the
    /// current directory: where `tiq.toml` is looked for when --config is not given.
    pub fn default_data_dir(&self) -> PathBuf {
        self.data_dir().unwrap_or_else(|_| PathBuf::from("."))
    }

    /// Resolves the data directory from the flag, the environment or the XDG default.
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(xdg).join("tiq"));
        }
        match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => Ok(PathBuf::from(home).join(".local/share/tiq")),
            None => bail!("no data directory: pass --data-dir DIR or set TIQ_DATA_DIR"),
        }
    }
}

/// Chinese help for each subcommand, by name.
/// Chinese about text of each subcommand; `key create` names a subcommand of `key`.
const SUBCOMMAND_ABOUT_ZH: &[(&str, &str)] = &[
    ("config check", "报告配置中的全部问题；有问题时退出码为 2。"),
    ("key", "为 tiq serve 创建、列出、吊销和轮换 API 密钥。"),
    (
        "key create",
        "创建密钥并只显示一次密钥内容；只保存其 SHA-256。",
    ),
    (
        "key list",
        "列出密钥及其权限范围、限额、状态和最近使用时间（从不显示密钥内容）。",
    ),
    (
        "key revoke",
        "按 id 或名称立即吊销密钥；吊销后仍保留在列表中，供审计日志引用。",
    ),
    (
        "key rotate",
        "更换密钥内容，保留其 id、名称、权限范围和限额；旧密钥立即失效。",
    ),
    ("audit", "查看各接口调用的审计日志，或校验、清理日志。"),
    (
        "audit verify",
        "校验哈希链，指出第一条被修改、删除或移动的记录；发现问题时退出码为 1。",
    ),
    ("audit prune", "删除早于指定时长的记录，其余记录仍可校验。"),
    (
        "import",
        "导入情报文件或目录（递归）；格式根据文件内容识别。",
    ),
    ("ip", "分析 IP 地址。"),
    (
        "scan",
        "找出日志或文本文件（- 表示标准输入）中的全部指标并逐一分析：按结论排序，给出日志中每个地址的行为，并可用 --export 生成封禁规则。",
    ),
    (
        "extract",
        "只找出日志或文本文件（- 表示标准输入）中的全部指标，不做分析；无需情报数据。",
    ),
    ("domain", "分析域名。"),
    ("url", "分析网址。"),
    ("hash", "分析文件哈希（MD5、SHA-1 或 SHA-256）。"),
    (
        "vul",
        "按 CVE、CNVD 或 CNNVD 编号、产品加版本（如 \"Apache Tomcat 9.0.30\"）或关键词搜索漏洞。",
    ),
    (
        "describe",
        "按名称、别名或 ATT&CK 编号描述威胁组织、恶意软件家族、攻击活动、ATT&CK 技术或战术，并给出带有该名称的本地指标。",
    ),
    ("sources", "列出已导入的情报来源。"),
    (
        "serve",
        "在 /mcp 提供 streamable HTTP 方式、在 /sse 提供 HTTP+SSE 方式的 MCP 服务，在 /api/v1/status 提供状态，并提供 /healthz；已启用的情报源在后台同步。",
    ),
    (
        "mcp",
        "通过标准输入和标准输出提供 MCP 服务，供以子进程方式启动 tiq 的客户端使用。不同步情报源；期间导入或同步的数据会被自动加载。",
    ),
    (
        "sync",
        "从目录下载情报源并导入（全部已启用的情报源，或指定的情报源）。",
    ),
    (
        "status",
        "显示每个情报源的记录数、上次同步、上次错误和数据时效。",
    ),
    ("catalog", "列出应用配置后的情报源目录。"),
    (
        "config",
        "检查配置文件和 TIQ_* 环境变量，一次报告全部问题。",
    ),
    (
        "evaluate",
        "在已导入数据的样本上评估结论：恶意情报源的检出率、良性集合的误报率，以及留出某个来源时的重合度。",
    ),
];

/// Chinese help for each argument, by argument id.
const ARG_HELP_ZH: &[(&str, &str)] = &[
    (
        "file",
        "要读取的日志或文本文件，大小不限；- 表示读取标准输入",
    ),
    (
        "scan_format",
        "输出格式：table（表格）、json（即 analyze_text 的结果）或 csv",
    ),
    (
        "extract_format",
        "输出格式：table（表格）、json（数组）、jsonl（每行一个 JSON）或 csv",
    ),
    (
        "export",
        "改为输出封禁规则，只含发现的恶意公网地址和域名：nftables、iptables、ipset、nginx 或 csv",
    ),
    ("output", "将输出写入该文件，而不是标准输出"),
    (
        "scan_limit",
        "表格中最多显示的指标数 [默认：50；JSON 和 CSV 列出全部]",
    ),
    ("key_name", "密钥名称，例如使用它的客户端或团队"),
    (
        "scopes",
        "权限范围，逗号分隔：ip、domain、url、hash、vul、text、knowledge、batch、admin，或 all [默认：除 admin 外的全部]",
    ),
    ("rate", "每分钟请求数，例如 60/min 或 10/s [默认：不限]"),
    ("daily_quota", "每个 UTC 日的请求数 [默认：不限]"),
    (
        "expires",
        "过期时间：日期（YYYY-MM-DD，UTC 0 点）、RFC 3339 时间，或从现在起的时长，例如 90d",
    ),
    ("key", "密钥的 id（见 tiq key list）或名称"),
    (
        "audit_since",
        "此时间及之后的记录：日期、RFC 3339 时间，或从现在往前的时长，例如 24h 或 7d",
    ),
    ("until", "此时间之前的记录，写法同 --since"),
    ("key_filter", "某个密钥的记录，按 id 或名称"),
    (
        "tool",
        "某个工具的记录，例如 analyze_ip；auth 表示被拒绝的认证",
    ),
    ("format", "输出格式"),
    ("limit", "只显示最新的 N 条记录"),
    ("older_than", "删除早于此时长的记录，例如 90d"),
    (
        "allow_anonymous",
        "即使已有密钥也接受不带 API 密钥的请求，并允许在未定义密钥时监听非环回地址",
    ),
    (
        "data_dir",
        "存放 tiq.db 和地理位置库副本的目录 [默认：$XDG_DATA_HOME/tiq 或 ~/.local/share/tiq]",
    ),
    (
        "lang",
        "消息和报告的语言：en 或 zh-CN [默认：TIQ_LANG、配置文件，然后取自 LC_ALL、LC_MESSAGES 或 LANG]",
    ),
    (
        "log_format",
        "标准错误上的日志格式。级别由 TIQ_LOG 设置（例如 TIQ_LOG=debug）",
    ),
    ("paths", "要导入的文件或目录"),
    (
        "accept_shrink",
        "即使新文件的记录数不足该来源原有记录的 10 %，也替换该来源",
    ),
    (
        "max_sessions",
        "/mcp 和 /sse 上合计同时打开的 MCP 会话上限；超过后拒绝新会话，直到有会话关闭（/mcp 上空闲 5 分钟的会话会自动关闭）[默认：tiq.toml 中的 server.max_sessions，否则 1000]",
    ),
    (
        "rejected_lines",
        "表格下方为每个文件列出的被拒绝行数（最多保留 1000 行）",
    ),
    (
        "value",
        "要分析的指标；支持 192.0.2[.]1、example[.]com 等去武器化写法",
    ),
    ("json", "以 JSON 输出，而不是可读排版或表格"),
    (
        "query",
        "CVE-2024-3400、CNVD-2024-12345、\"Apache Tomcat 9.0.30\" 或 \"log4j rce\" 这样的关键词",
    ),
    ("min_severity", "只显示 CVSS 严重程度不低于该级别的漏洞"),
    ("kev", "只显示列入 CISA 已知被利用漏洞目录（KEV）的漏洞"),
    (
        "exploited",
        "只显示已知被利用的漏洞（KEV，或 SSVC 利用状态为 active）",
    ),
    ("has_exploit", "只显示有公开利用代码的漏洞"),
    ("since", "只显示在该日期（YYYY-MM-DD）当天或之后发布的漏洞"),
    ("sort", "结果排序"),
    ("page_size", "每页结果数，1 到 50"),
    ("cursor", "上一页返回的 next_cursor"),
    (
        "name",
        "名称、别名或 ATT&CK 编号，例如 \"Cobalt Strike\"、win.emotet、APT28、G0007 或 T1059.001",
    ),
    (
        "listen",
        "监听的地址和端口 [默认：TIQ_LISTEN、配置文件，然后是 127.0.0.1:8737]",
    ),
    ("config", "配置文件 [默认：数据目录中的 tiq.toml（如存在）]"),
    (
        "no_sync",
        "不在后台同步情报源（也可在 tiq.toml 中设置 sync.background = false）",
    ),
    (
        "sources",
        "要同步的情报源，按目录名称（见 `tiq catalog`）；也可指定未启用的情报源",
    ),
    ("force", "即使发布方表示未变化，也重新下载全部文件"),
    ("sample", "从恶意情报源和每个良性集合中抽取的指标数"),
    ("seed", "抽样种子；相同数据上相同的种子抽到相同的指标"),
    (
        "hold_out",
        "留出的来源（见 `tiq sources`）：检查其指标有多少也被其他来源收录",
    ),
    (
        "allowed_hosts",
        "额外接受的 Host 请求头，例如 tiq.example.com 或 tiq.example.com:8737（可重复，追加到 tiq.toml 的 server.allowed_hosts）。环回名称和监听地址始终被接受",
    ),
    (
        "allowed_origins",
        "在 /mcp 和 /sse 上接受的浏览器来源，例如 https://chat.example.com（可重复，追加到 tiq.toml 的 server.allowed_origins）。本机页面和不带 Origin 请求头的请求始终被接受",
    ),
];

/// Builds the clap command with help text in the requested language.
pub fn command(lang: Lang) -> clap::Command {
    use clap::CommandFactory;

    let command = Cli::command();
    if lang == Lang::En {
        return command;
    }
    // NOTE: clap's parse errors and its `help` subcommand stay in English.
    let template = "{about}\n\n用法：{usage}\n\n{all-args}";
    let command = command
        .about("可自行部署的威胁情报工具：基于公开情报源，为 IP、域名、网址和文件哈希给出结论，支持 MCP 和命令行。")
        .help_template(template);
    let command = localize_args(command).disable_version_flag(true).arg(
        clap::Arg::new("version")
            .short('V')
            .long("version")
            .action(clap::ArgAction::Version)
            .help("显示版本")
            .help_heading("选项"),
    );
    SUBCOMMAND_ABOUT_ZH
        .iter()
        .fold(command, |command, (name, about)| {
            let localize =
                |sub: clap::Command| localize_args(sub.about(*about).help_template(template));
            match name.split_once(' ') {
                Some((parent, child)) => {
                    command.mut_subcommand(parent, |sub| sub.mut_subcommand(child, localize))
                }
                None => command.mut_subcommand(*name, localize),
            }
        })
}

fn localize_args(command: clap::Command) -> clap::Command {
    let ids: Vec<String> = command
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    let command = command
        .subcommand_help_heading("命令")
        .disable_help_flag(true)
        .arg(
            clap::Arg::new("help")
                .short('h')
                .long("help")
                .action(clap::ArgAction::Help)
                .help("显示帮助")
                .help_heading("选项"),
        );
    ids.iter().fold(command, |command, id| {
        let help = ARG_HELP_ZH
            .iter()
            .find(|(name, _)| name == id)
            .map(|(_, help)| *help);
        command.mut_arg(id, |arg| {
            let heading = if arg.is_positional() {
                "参数"
            } else {
                "选项"
            };
            let arg = arg.help_heading(heading);
            match help {
                Some(help) => arg.help(help),
                None => arg,
            }
        })
    })
}

/// Finds `--lang VALUE` or `--lang=VALUE` among the raw arguments, before clap parses them,
/// so help and parse errors come out in the requested language.
pub fn lang_from_args(args: &[std::ffi::OsString]) -> Option<Lang> {
    let mut iter = args.iter().filter_map(|a| a.to_str());
    while let Some(arg) = iter.next() {
        if let Some(value) = arg.strip_prefix("--lang=") {
            return value.parse().ok();
        }
        if arg == "--lang" {
            return iter.next().and_then(|value| value.parse().ok());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_help_covers_every_argument() {
        let command = command(Lang::ZhCn);
        let mut missing = Vec::new();
        let mut check = |cmd: &clap::Command| {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if !["help", "version"].contains(&id)
                    && !ARG_HELP_ZH.iter().any(|(name, _)| *name == id)
                {
                    missing.push(format!("{} {id}", cmd.get_name()));
                }
            }
        };
        check(&command);
        let mut named = Vec::new();
        for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
            check(sub);
            named.push(sub.get_name().to_string());
            for nested in sub.get_subcommands().filter(|s| s.get_name() != "help") {
                check(nested);
                named.push(format!("{} {}", sub.get_name(), nested.get_name()));
            }
        }
        for name in named {
            assert!(
                SUBCOMMAND_ABOUT_ZH.iter().any(|(known, _)| *known == name),
                "no Chinese about text for `{name}`"
            );
        }
        assert!(
            missing.is_empty(),
            "arguments without Chinese help: {missing:?}"
        );
    }

    #[test]
    fn lang_flag_found_before_parsing() {
        let args = |list: &[&str]| {
            list.iter()
                .map(std::ffi::OsString::from)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            lang_from_args(&args(&["tiq", "--lang", "zh-CN", "ip"])),
            Some(Lang::ZhCn)
        );
        assert_eq!(
            lang_from_args(&args(&["tiq", "ip", "--lang=en"])),
            Some(Lang::En)
        );
        assert_eq!(lang_from_args(&args(&["tiq", "ip", "192.0.2.1"])), None);
    }

    #[test]
    fn cli_definition_is_valid() {
        command(Lang::En).debug_assert();
        command(Lang::ZhCn).debug_assert();
    }
}
