//! The `tiq` command: argument parsing and glue between the engine, the server and the terminal.

mod access_view;
mod args;
mod config;
mod evaluate_view;
mod render;
mod scan_view;
mod sync_view;

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::FromArgMatches;
use tiq_engine::{AnalyzeError, Engine, FileStatus, ImportOptions, IpIndexing};
use tiq_model::{IndicatorKind, Lang};
use tiq_server::ServerConfig;
use tokio_util::sync::CancellationToken;

use args::{Cli, Command, LogFormat};
use config::Config;

/// Exit code for input the user must fix (an invalid indicator or argument).
pub(crate) const EXIT_USAGE: u8 = 2;

/// The server allocates and frees many small strings per request; mimalloc's per-thread
/// free lists make that about a tenth cheaper than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let flag_lang = args::lang_from_args(&raw).or_else(env_lang);
    let lang = flag_lang.unwrap_or_else(Lang::from_env);
    let matches = args::command(lang).get_matches_from(raw);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(error) => error.exit(),
    };
    init_logging(&cli);
    let env: Vec<(String, String)> = std::env::vars().collect();
    let (config, problems) = config::load(cli.config.as_deref(), &cli.default_data_dir(), &env);
    // The file's language applies when neither --lang nor TIQ_LANG chose one.
    let lang = cli.lang.or(flag_lang).or(config.language).unwrap_or(lang);
    if matches!(cli.command, Command::Config(_)) {
        return config_check(&config, &problems, lang);
    }
    if !problems.is_empty() {
        report_problems(&problems, lang);
        return ExitCode::from(EXIT_USAGE);
    }
    match run(cli, config, lang) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{}: {error:#}", lang.pick("error", "错误"));
            ExitCode::FAILURE
        }
    }
}

fn env_lang() -> Option<Lang> {
    std::env::var("TIQ_LANG").ok()?.parse().ok()
}

fn report_problems(problems: &[config::Problem], lang: Lang) {
    eprintln!(
        "{}",
        match lang {
            Lang::En => format!("the configuration has {} problem(s):", problems.len()),
            Lang::ZhCn => format!("配置有 {} 个问题：", problems.len()),
        }
    );
    for problem in problems {
        eprintln!("  {}", problem.message(lang));
    }
}

fn config_check(config: &Config, problems: &[config::Problem], lang: Lang) -> ExitCode {
    let file = match &config.file {
        Some(path) => path.display().to_string(),
        None => lang
            .pick(
                "no configuration file (built-in defaults and TIQ_* variables)",
                "没有配置文件（使用内置默认值和 TIQ_* 环境变量）",
            )
            .to_string(),
    };
    if problems.is_empty() {
        render::outln!(
            "{}: {file}",
            lang.pick("configuration is valid", "配置有效")
        );
        let enabled = config
            .sync_settings()
            .feeds
            .iter()
            .filter(|f| f.enabled)
            .count();
        render::outln!(
            "{}",
            match lang {
                Lang::En => format!(
                    "{enabled} of {} catalog feeds enabled; background sync {}",
                    tiq_sync::CATALOG.len(),
                    if config.sync.background { "on" } else { "off" }
                ),
                Lang::ZhCn => format!(
                    "目录中 {} 个情报源已启用 {enabled} 个；后台同步{}",
                    tiq_sync::CATALOG.len(),
                    if config.sync.background {
                        "开启"
                    } else {
                        "关闭"
                    }
                ),
            }
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("{}: {file}", lang.pick("configuration", "配置"));
        report_problems(problems, lang);
        ExitCode::from(EXIT_USAGE)
    }
}

fn run(cli: Cli, config: Config, lang: Lang) -> anyhow::Result<ExitCode> {
    let data_dir = match (&cli.data_dir, &config.data_dir) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dir)) => dir.clone(),
        (None, None) => cli.data_dir()?,
    };
    // The server and sync own the stored weights: a query run from a shell with another
    // configuration must not change the verdicts of a running server.
    if matches!(cli.command, Command::Serve(_) | Command::Sync(_)) {
        apply_weights(&data_dir, &config);
    }
    match cli.command {
        Command::Import(import) => {
            let bar = sync_view::records_spinner(lang);
            let stored = |records| {
                if let Some(bar) = &bar {
                    bar.set_position(records);
                }
            };
            let options = ImportOptions {
                accept_shrink: import.accept_shrink,
                progress: Some(&stored),
                feed: None,
            };
            let summary = tiq_engine::import::import(&data_dir, &import.paths, &options);
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            let summary =
                summary.with_context(|| lang.pick("import failed", "导入失败").to_string())?;
            render::import_table(&summary, import.rejected_lines, lang);
            let failed =
                summary.count(|s| matches!(s, FileStatus::Failed(_) | FileStatus::Kept(_)));
            Ok(if failed > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Ip(query) => analyze(&data_dir, &config, IndicatorKind::Ip, &query, lang),
        Command::Domain(query) => analyze(&data_dir, &config, IndicatorKind::Domain, &query, lang),
        Command::Url(query) => analyze(&data_dir, &config, IndicatorKind::Url, &query, lang),
        Command::Hash(query) => analyze(&data_dir, &config, IndicatorKind::Hash, &query, lang),
        Command::Describe(args) => describe(&data_dir, &config, &args, lang),
        Command::Scan(args) => scan_view::scan(&data_dir, &config, &args, lang),
        Command::Extract(args) => scan_view::extract(&args, lang),
        Command::Vul(args) => vul(&data_dir, &config, &args, lang),
        Command::Sources => {
            let engine = open_existing(&data_dir, &config, IpIndexing::Off, lang)?;
            render::sources(&engine.sources()?, lang);
            Ok(ExitCode::SUCCESS)
        }
        Command::Sync(sync) => sync_view::sync(&data_dir, &config, &sync, lang),
        Command::Status(status) => sync_view::status(&data_dir, &config, status.json, lang),
        Command::Catalog(catalog) => {
            sync_view::catalog(&config, catalog.json, lang);
            Ok(ExitCode::SUCCESS)
        }
        Command::Config(_) => unreachable!("handled before the data directory is resolved"),
        Command::Evaluate(args) => evaluate_view::evaluate(&data_dir, &config, &args, lang),
        Command::Key(args) => access_view::key(&data_dir, &args, lang),
        Command::Audit(args) => access_view::audit(&data_dir, &args, lang),
        Command::Mcp => {
            let engine = Arc::new(
                open_existing(&data_dir, &config, IpIndexing::Background, lang)?.keep_warm(),
            );
            // Over stdio the client is the local user: nothing to authenticate, but each
            // tool call is audited like those of the other surfaces.
            let settings = tiq_access::AccessSettings {
                audit: config.audit.enabled,
                ..tiq_access::AccessSettings::default()
            };
            let access = match tiq_access::Access::open(&data_dir, settings) {
                Ok(access) => Some(Arc::new(access)),
                Err(error) => {
                    tracing::warn!(%error, "cannot open the access database; tool calls are not audited");
                    None
                }
            };
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let settings = Arc::new(config.sync_settings());
            let max_text = config
                .server
                .max_text_bytes
                .unwrap_or(tiq_server::DEFAULT_MAX_TEXT_BYTES);
            runtime.block_on(serve_stdio_until_signal(
                engine,
                settings,
                access.clone(),
                max_text,
            ))?;
            if let Some(access) = access {
                access.flush();
            }
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(serve) => {
            let listen = serve
                .listen
                .or(config.listen)
                .unwrap_or_else(|| tiq_server::DEFAULT_LISTEN.parse().expect("a valid address"));
            let mut server = ServerConfig::new(listen);
            server
                .allowed_hosts
                .extend(config.server.allowed_hosts.iter().cloned());
            server.allowed_hosts.extend(serve.allowed_hosts);
            server
                .allowed_origins
                .extend(config.server.allowed_origins.iter().cloned());
            server.allowed_origins.extend(serve.allowed_origins);
            server.max_sessions = serve
                .max_sessions
                .or(config.server.max_sessions)
                .unwrap_or(tiq_server::DEFAULT_MAX_SESSIONS);
            if let Some(bytes) = config.server.max_header_bytes {
                server.max_header_bytes = bytes;
            }
            if let Some(bytes) = config.server.max_body_bytes {
                server.max_body_bytes = bytes;
            }
            if let Some(bytes) = config.server.max_text_bytes {
                server.max_text_bytes = bytes;
            }
            if let Some(timeout) = config.server.request_timeout {
                server.request_timeout = timeout;
            }
            let access = open_access(&data_dir, &config, serve.allow_anonymous, listen, lang)?;
            server.access = Some(access.clone());
            let settings = Arc::new(config.sync_settings());
            server.sync = Some(settings.clone());
            let engine = Arc::new(
                open_engine(&data_dir, &config, IpIndexing::Background, lang)?.keep_warm(),
            );
            let background = config.sync.background && !serve.no_sync;
            let runtime =
                tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let retention = config.audit.retention;
            let served = runtime.block_on(serve_until_signal(
                engine, server, settings, background, retention,
            ));
            access.flush();
            // A background sync runs on a blocking thread that cannot be cancelled mid-way;
            // it is abandoned after a grace period. Its transaction then rolls back, and its
            // staging folder is removed by the next sync.
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
            served?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Gives the synced sources the weights configured for their feeds, so a changed weight
/// counts from the next `tiq serve` or `tiq sync` on, without a new download. A data
/// directory without a database is left alone; a failure is logged and the command goes on
/// with the stored weights.
fn apply_weights(data_dir: &Path, config: &Config) {
    if !data_dir.join(tiq_engine::DB_FILE).exists() {
        return;
    }
    let settings = config.sync_settings();
    let weights: Vec<(&str, f64)> = settings
        .feeds
        .iter()
        .map(|feed| (feed.name(), feed.weight))
        .collect();
    match tiq_store::Store::open(data_dir).and_then(|mut store| store.set_feed_weights(&weights)) {
        Ok(0) => {}
        Ok(changed) => tracing::info!(sources = changed, "applied configured feed weights"),
        Err(error) => tracing::warn!(%error, "cannot apply the configured feed weights"),
    }
}

/// Opens the engine for a query. A data directory without a database is an error, so a
/// mistyped `--data-dir` never returns reports from an empty store.
pub(crate) fn open_existing(
    data_dir: &Path,
    config: &Config,
    ip_indexing: IpIndexing,
    lang: Lang,
) -> anyhow::Result<Engine> {
    if !data_dir.join(tiq_engine::DB_FILE).exists() {
        anyhow::bail!(
            "{} {}: {}",
            lang.pick("no tiq database in", "数据目录中没有 tiq 数据库："),
            data_dir.display(),
            lang.pick(
                "import feeds first with `tiq import --data-dir DIR PATH...`, or pass the right --data-dir",
                "请先用 `tiq import --data-dir 目录 路径...` 导入情报，或指定正确的 --data-dir"
            )
        );
    }
    open_engine(data_dir, config, ip_indexing, lang)
}

fn open_engine(
    data_dir: &Path,
    config: &Config,
    ip_indexing: IpIndexing,
    lang: Lang,
) -> anyhow::Result<Engine> {
    let engine = Engine::open_with(data_dir, ip_indexing).with_context(|| {
        format!(
            "{} {}",
            lang.pick("cannot open the data directory", "无法打开数据目录"),
            data_dir.display()
        )
    })?;
    Ok(engine.with_ageing(config.ageing))
}

fn analyze(
    data_dir: &Path,
    config: &Config,
    kind: IndicatorKind,
    query: &args::Query,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    // One query: building the whole IP index would take longer than the query itself.
    let engine = open_existing(data_dir, config, IpIndexing::Off, lang)?;
    let started = std::time::Instant::now();
    let tool = kind.tool();
    let outcome = engine.analyze(kind, &query.value, lang);
    let (verdict, status) = match &outcome {
        Ok(report) => (Some(report.verdict.name().to_string()), 200),
        Err(AnalyzeError::Invalid(_)) => (None, 400),
        Err(_) => (None, 500),
    };
    access_view::record_lookup(data_dir, tool, &query.value, verdict, status, started);
    match outcome {
        Ok(report) => {
            if query.json {
                render::outln!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                render::report(&report, lang);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(AnalyzeError::Invalid(error)) if query.json => {
            let body = serde_json::json!({
                "error": "invalid_indicator",
                "input": error.input,
                "message": error.message(lang),
            });
            render::outln!("{}", serde_json::to_string_pretty(&body)?);
            Ok(ExitCode::from(EXIT_USAGE))
        }
        Err(AnalyzeError::Invalid(error)) => {
            eprintln!("{}: {}", lang.pick("error", "错误"), error.message(lang));
            Ok(ExitCode::from(EXIT_USAGE))
        }
        Err(error) => Err(anyhow::anyhow!(error.message(lang))),
    }
}

fn describe(
    data_dir: &Path,
    config: &Config,
    args: &args::DescribeArgs,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    let engine = open_existing(data_dir, config, IpIndexing::Off, lang)?;
    let started = std::time::Instant::now();
    let outcome = engine.describe_threat(&args.name, lang);
    let status = match &outcome {
        Ok(_) => 200,
        Err(error) if error.is_invalid_request() => 400,
        Err(_) => 500,
    };
    access_view::record_lookup(
        data_dir,
        "describe_threat",
        &args.name,
        None,
        status,
        started,
    );
    match outcome {
        Ok(description) => {
            if args.json {
                render::outln!("{}", serde_json::to_string_pretty(&description)?);
            } else {
                render::threat(&description, lang);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) if error.is_invalid_request() => {
            if args.json {
                let body =
                    serde_json::json!({"error": "invalid_name", "message": error.message(lang)});
                render::outln!("{}", serde_json::to_string_pretty(&body)?);
            } else {
                eprintln!("{}: {}", lang.pick("error", "错误"), error.message(lang));
            }
            Ok(ExitCode::from(EXIT_USAGE))
        }
        Err(error) => Err(anyhow::anyhow!(error.message(lang))),
    }
}

fn vul(
    data_dir: &Path,
    config: &Config,
    args: &args::VulArgs,
    lang: Lang,
) -> anyhow::Result<ExitCode> {
    let engine = open_existing(data_dir, config, IpIndexing::Off, lang)?;
    let request = tiq_engine::vuln::VulnQuery {
        query: args.query.clone(),
        min_severity: args.min_severity.clone(),
        kev_only: args.kev,
        exploited_only: args.exploited,
        with_exploit_only: args.has_exploit,
        since: args.since.clone(),
        sort: match args.sort {
            args::VulSortArg::Relevance => tiq_engine::vuln::VulnSort::Relevance,
            args::VulSortArg::Priority => tiq_engine::vuln::VulnSort::Priority,
            args::VulSortArg::Date => tiq_engine::vuln::VulnSort::Date,
        },
        page_size: Some(args.page_size),
        cursor: args.cursor.clone(),
    };
    let started = std::time::Instant::now();
    let outcome = engine.search_vulnerabilities(&request, lang);
    let (verdict, status) = match &outcome {
        Ok(search) => (Some(format!("{} results", search.total)), 200),
        Err(error) if error.is_invalid_request() => (None, 400),
        Err(_) => (None, 500),
    };
    access_view::record_lookup(
        data_dir,
        "search_vul",
        &args.query,
        verdict,
        status,
        started,
    );
    match outcome {
        Ok(search) => {
            if args.json {
                render::outln!("{}", serde_json::to_string_pretty(&search)?);
            } else {
                render::vulnerabilities(&search, lang);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(error) if error.is_invalid_request() => {
            if args.json {
                let body =
                    serde_json::json!({"error": "invalid_query", "message": error.message(lang)});
                render::outln!("{}", serde_json::to_string_pretty(&body)?);
            } else {
                eprintln!("{}: {}", lang.pick("error", "错误"), error.message(lang));
            }
            Ok(ExitCode::from(EXIT_USAGE))
        }
        Err(error) => Err(anyhow::anyhow!(error.message(lang))),
    }
}

async fn serve_until_signal(
    engine: Arc<Engine>,
    config: ServerConfig,
    settings: Arc<tiq_sync::SyncSettings>,
    background: bool,
    retention: Option<std::time::Duration>,
) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        trigger.cancel();
    });
    if background {
        let progress = Arc::new(sync_view::Reload(engine.clone()));
        tokio::spawn(tiq_sync::schedule::run(
            engine.data_dir().to_path_buf(),
            settings,
            progress,
            shutdown.clone(),
        ));
    } else {
        tracing::info!("background sync is off");
    }
    tokio::spawn(watch_data(engine.clone(), shutdown.clone()));
    if let (Some(access), Some(retention)) = (config.access.clone(), retention) {
        tokio::spawn(prune_audit(access, retention, shutdown.clone()));
    }
    tiq_server::serve(engine, config, shutdown).await?;
    Ok(())
}

/// Time between two prunings of the audit log.
const PRUNE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(86_400);

/// Removes audit entries older than `retention` at start and then daily.
async fn prune_audit(
    access: Arc<tiq_access::Access>,
    retention: std::time::Duration,
    shutdown: CancellationToken,
) {
    let mut ticks = tokio::time::interval(PRUNE_INTERVAL);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let access = access.clone();
        match tokio::task::spawn_blocking(move || access.prune_audit(retention)).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "cannot prune the audit log"),
            Err(error) => tracing::warn!(%error, "audit pruning task failed"),
        }
    }
}

/// Opens access control for `tiq serve`, and refuses to serve every address without a key.
fn open_access(
    data_dir: &Path,
    config: &Config,
    allow_anonymous: bool,
    listen: std::net::SocketAddr,
    lang: Lang,
) -> anyhow::Result<Arc<tiq_access::Access>> {
    let allow_anonymous = allow_anonymous || config.server.allow_anonymous;
    let settings = tiq_access::AccessSettings {
        allow_anonymous,
        failed_auth_per_minute: config
            .server
            .failed_auth_per_minute
            .unwrap_or(tiq_access::DEFAULT_FAILED_AUTH_PER_MINUTE),
        audit: config.audit.enabled,
    };
    let access = tiq_access::Access::open(data_dir, settings)
        .map_err(|error| anyhow::anyhow!(error.message(lang)))?;
    let loopback = listen.ip().is_loopback();
    if access.has_keys() {
        if allow_anonymous {
            tracing::info!("API keys are checked when sent; requests without one are served too");
        } else {
            tracing::info!("API keys are required");
        }
    } else if loopback {
        tracing::info!(
            "no API key exists: serving loopback clients without authentication; create one with `tiq key create --name NAME`"
        );
    } else if allow_anonymous {
        tracing::warn!(
            address = %listen,
            "no API key exists and --allow-anonymous is given: anyone who can reach this address is served"
        );
    } else {
        anyhow::bail!(
            "{}",
            match lang {
                Lang::En => format!(
                    "refusing to serve {listen} with no API key: anyone who can reach it could query tiq. Create a key with `tiq key create --name NAME`, listen on 127.0.0.1, or pass --allow-anonymous"
                ),
                Lang::ZhCn => format!(
                    "拒绝在没有 API 密钥的情况下监听 {listen}：任何能访问该地址的人都能查询 tiq。请用 `tiq key create --name 名称` 创建密钥、改为监听 127.0.0.1，或加上 --allow-anonymous"
                ),
            }
        );
    }
    Ok(Arc::new(access))
}

/// Serves MCP on stdin and stdout until the client closes stdin or a signal arrives, and
/// reloads data that `tiq import` or `tiq sync` change meanwhile.
async fn serve_stdio_until_signal(
    engine: Arc<Engine>,
    settings: Arc<tiq_sync::SyncSettings>,
    access: Option<Arc<tiq_access::Access>>,
    max_text_bytes: usize,
) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        trigger.cancel();
    });
    tokio::spawn(watch_data(engine.clone(), shutdown.clone()));
    let tools = tiq_server::TiqTools::new(engine)
        .with_sync_settings(settings)
        .with_access(access)
        .with_max_text(max_text_bytes);
    let served = tiq_server::serve_stdio(tools, shutdown.clone()).await;
    shutdown.cancel();
    Ok(served?)
}

/// Maximum wait at shutdown for a background sync still running.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Time between two checks for data imported by another process.
const DATA_CHECK_INTERVAL: std::time::Duration = std::time::Duration::from_secs(15);

/// Reloads the engine's in-memory data when `tiq import` or `tiq sync`, run beside the
/// server, changed the sources. Domain, URL and hash lookups read the store and see new
/// records at once. The IP index, geolocation files and pattern allow-lists are kept in
/// memory, so IP lookups see new records only after this reload.
async fn watch_data(engine: Arc<Engine>, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(DATA_CHECK_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let engine = engine.clone();
        match tokio::task::spawn_blocking(move || engine.reload_if_changed()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot reload data changed by another process")
            }
            Err(error) => tracing::warn!(%error, "the data check stopped"),
        }
    }
}

async fn wait_for_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn init_logging(cli: &Cli) {
    let default = match cli.command {
        Command::Serve(_) | Command::Mcp => "info",
        // Sync prints each feed's result itself; its warnings would repeat it.
        Command::Sync(_) => "error",
        _ => "warn",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("TIQ_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none());
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}
