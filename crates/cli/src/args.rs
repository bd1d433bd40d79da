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

    /// Language of messages and reports: en or zh-CN [default: from LC_ALL, LC_MESSAGES or LANG].
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
    /// List the imported sources.
    Sources,
    /// Serve MCP over streamable HTTP at /mcp, and /healthz.
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files or directories to import.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Replace a source even if the new files hold under 10 % of its earlier records.
    #[arg(long)]
    pub accept_shrink: bool,
}

#[derive(Debug, Args)]
pub struct Query {
    /// The indicator to analyse; defanged forms such as 192.0.2[.]1 and hxxp:// are accepted.
    pub value: String,
    /// Print the report as JSON instead of the readable layout.
    #[arg(long)]
    pub json: bool,
    /// Language of the report: en or zh-CN [default: from the locale].
    #[arg(long, value_parser = parse_lang, value_name = "LANG")]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = tiq_server::DEFAULT_LISTEN, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Extra Host header value to accept on /mcp, such as tiq.example.com or tiq.example.com:8737
    /// (repeatable). Loopback names and the listen address are always accepted.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// Browser origin to accept on /mcp, such as https://chat.example.com (repeatable).
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
}

fn parse_lang(value: &str) -> Result<Lang, String> {
    value.parse::<Lang>().map_err(|error| error.to_string())
}

impl Cli {
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
