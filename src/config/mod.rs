//! Typed configuration, read once at start-up from the environment (the README's configuration table).
//!
//! `APP_ENV` picks `.env.<APP_ENV>`; variables already set in the process win over the file.
//! Every value is parsed here, so the rest of the program never sees a raw string, and a bad
//! value stops start-up with one line that names the variable.

mod env;
mod secret;

pub use env::{ConfigError, EnvSource};
pub use secret::{Secret, redact_url};

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

/// What a limit that cannot be 0 is told to be.
const AT_LEAST_ONE: &str = "a whole number of at least 1";
const DEFAULT_AUTH_FAILURE_LIMIT: NonZeroU32 = NonZeroU32::new(20).unwrap();
use crate::domain::{ImageHosts, Slug, Visibility};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Test,
    Production,
}

impl AppEnv {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "development" | "dev" => Some(Self::Development),
            "test" => Some(Self::Test),
            "production" | "prod" => Some(Self::Production),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

/// Where pages open their stream: the server that rendered them, or a separate `dashboard stream`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SseServerType {
    Inline,
    Separate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobsMode {
    Inline,
    Off,
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub app_env: AppEnv,
    pub database_url: Secret,
    pub redis_url: Option<Secret>,
    pub redis_channel_prefix: String,
    pub host: IpAddr,
    pub port: u16,
    pub sse: SseSettings,
    pub poll_interval: Duration,
    pub history: HistorySettings,
    pub bootstrap_token: Option<Secret>,
    pub secret_key_base: Secret,
    /// How long a client gets to send a request's whole body.
    pub body_read_timeout: Duration,
    pub allowed_origins: Vec<String>,
    /// Origins (besides the app's own) whose pages may show board pages in a frame.
    pub frame_ancestors: Vec<String>,
    /// Required as a Bearer token by `/metrics` and `/dashboard/debug` when set.
    pub metrics_token: Option<Secret>,
    /// Whether a proxy in front sets `X-Forwarded-For` and `X-Forwarded-Proto` (and so they
    /// can be believed); otherwise every client sends them as it likes.
    pub trust_proxy: bool,
    /// Plain-HTTP requests are redirected to HTTPS, and HTTPS responses carry HSTS.
    pub force_https: bool,
    pub limits: LimitSettings,
    pub events_retention_days: u32,
    pub jobs: JobsMode,
    pub demo_feed: bool,
    /// What a new board is when its creator does not say.
    pub default_board_visibility: Visibility,
    pub allowed_source_hosts: Vec<String>,
    /// The hosts image widgets may show pictures from (besides `data:` images).
    pub image_hosts: ImageHosts,
    /// The only board the Smashing push API (`POST /widgets/{id}`) looks for widgets on.
    pub smashing_board: Option<Slug>,
    pub log_level: String,
    pub log_format: LogFormat,
    pub pidfile: Option<PathBuf>,
    /// `BOARDS_FILE`: a boards file `dashboard migrate` imports after migrating.
    pub boards_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct SseSettings {
    pub server_type: SseServerType,
    pub host: String,
    pub port: u16,
    pub endpoint: String,
    pub auto_refresh: bool,
    pub connection_timeout: Duration,
    pub retry_interval: Duration,
    pub heartbeat_interval: Duration,
    pub max_connections: usize,
    /// Open streams of one client address in this process.
    pub max_connections_per_address: usize,
    pub replay_limit: u32,
    /// Bytes of values a replay may hold before `reset` is sent instead.
    pub replay_max_bytes: i64,
    /// Streams of one process replaying at the same time; the next resume that needs a replay gets 503.
    pub max_replays: usize,
}

/// Limits against abuse, each counted per client address or per token.
#[derive(Debug, Clone)]
pub struct LimitSettings {
    /// Failed sign-ins and requests with an invalid token, per client address per minute.
    pub auth_failures_per_minute: NonZeroU32,
    /// Pushed events per token per second; `None`: unlimited.
    pub pushes_per_second: Option<NonZeroU32>,
}

/// Bounds of the history API, which anyone may read: what one response and all of them hold.
#[derive(Debug, Clone)]
pub struct HistorySettings {
    /// Bytes of values one response holds (at least one event); the client pages on with `after`.
    pub max_bytes: i64,
    /// History reads of one process at the same time; the next gets 503.
    pub max_reads: usize,
}

impl Settings {
    /// Loads `.env.<APP_ENV>` (if present) and parses the process environment.
    pub fn load() -> Result<Self, ConfigError> {
        let app_env_raw = std::env::var("APP_ENV").unwrap_or_else(|_| "development".into());
        let app_env = AppEnv::parse(&app_env_raw).ok_or_else(|| ConfigError::Invalid {
            name: "APP_ENV",
            value: app_env_raw.clone(),
            expected: "development, test or production",
        })?;
        // A missing env file is fine (platforms configure by environment); an unreadable one is not.
        match dotenvy::from_filename(format!(".env.{}", app_env.name())) {
            Ok(_) => {}
            Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ConfigError::EnvFile(e.to_string())),
        }
        Self::from_source(app_env, &EnvSource::process())
    }

    pub fn from_source(app_env: AppEnv, env: &EnvSource) -> Result<Self, ConfigError> {
        let production = app_env == AppEnv::Production;
        let default_host = if production { "0.0.0.0" } else { "127.0.0.1" };
        let log_format = if env.bool_or("LOGRAGE_ENABLED", false)? {
            LogFormat::Json
        } else {
            env.parse_or_else("LOG_FORMAT", "pretty or json", parse_log_format, || {
                if production { LogFormat::Json } else { LogFormat::Pretty }
            })?
        };
        let secret_key_base = match env.get("SECRET_KEY_BASE") {
            Some(key) if key.len() < 32 => {
                return Err(ConfigError::invalid("SECRET_KEY_BASE", "at least 32 characters"));
            }
            Some(key) => Secret::new(key),
            None if production => return Err(ConfigError::missing("SECRET_KEY_BASE")),
            None => Secret::new(random_hex(32)),
        };
        let bootstrap_token = match env.get("DASHBOARD_API_TOKEN") {
            // A short shared secret on a public host can be guessed; generated tokens have 256 bits.
            Some(token) if production && token.chars().count() < 32 => {
                return Err(ConfigError::invalid("DASHBOARD_API_TOKEN", "at least 32 characters in production"));
            }
            token => token.map(Secret::new),
        };
        Ok(Self {
            app_env,
            database_url: postgres_url(env)?,
            redis_url: env.get("REDIS_URL").map(Secret::new),
            redis_channel_prefix: env.get("REDIS_CHANNEL_PREFIX").unwrap_or_else(|| "dashboard".into()),
            host: env.parse_or("HOST", "an IP address", default_host.parse().expect("valid literal"))?,
            port: env.parse_or("PORT", "a port number 0-65535", 3000)?,
            sse: SseSettings::from_source(env)?,
            poll_interval: Duration::from_millis(env.positive_or("POLL_INTERVAL_MS", 1000)?),
            history: HistorySettings {
                max_bytes: env.positive_or("HISTORY_MAX_BYTES", 1 << 20)?,
                max_reads: env.positive_or("HISTORY_MAX_READS", 16)?,
            },
            bootstrap_token,
            secret_key_base,
            body_read_timeout: Duration::from_secs(env.positive_or("BODY_READ_TIMEOUT", 15)?),
            allowed_origins: env.list("ALLOWED_ORIGINS"),
            frame_ancestors: frame_ancestors(env)?,
            metrics_token: env.get("METRICS_TOKEN").map(Secret::new),
            trust_proxy: env.bool_or("TRUST_PROXY", false)?,
            force_https: env.bool_or("FORCE_HTTPS", false)?,
            limits: LimitSettings {
                auth_failures_per_minute: env.parse_or(
                    "AUTH_FAILURE_LIMIT",
                    AT_LEAST_ONE,
                    DEFAULT_AUTH_FAILURE_LIMIT,
                )?,
                pushes_per_second: env.parse_or_else(
                    "PUSH_RATE_LIMIT",
                    AT_LEAST_ONE,
                    |raw| raw.parse().ok().map(Some),
                    || None,
                )?,
            },
            events_retention_days: env.positive_or("EVENTS_RETENTION_DAYS", 30)?,
            jobs: env.parse_or_else("JOBS", "inline or off", parse_jobs_mode, || JobsMode::Inline)?,
            demo_feed: env.bool_or("DEMO_FEED", app_env == AppEnv::Development)?,
            // Private by default where the app faces the internet: a board is shown to the world
            // only when someone decided so.
            default_board_visibility: env.parse_or(
                "DEFAULT_BOARD_VISIBILITY",
                "public or private",
                if production { Visibility::Private } else { Visibility::Public },
            )?,
            allowed_source_hosts: env.list("ALLOWED_SOURCE_HOSTS"),
            image_hosts: env.parse_or_else(
                "IMAGE_HOSTS",
                "host names separated by commas, e.g. cdn.example.com,grafana.example.com",
                |raw| ImageHosts::parse(raw).ok(),
                ImageHosts::default,
            )?,
            smashing_board: env.parse_or_else(
                "SMASHING_BOARD",
                "a board slug",
                |raw| Slug::parse(raw).ok().map(Some),
                || None,
            )?,
            log_level: log_filter(env)?,
            log_format,
            pidfile: env.get("PIDFILE").map(PathBuf::from),
            boards_file: env.get("BOARDS_FILE").map(PathBuf::from),
        })
    }

    /// The origin pages are served from, used as the default CORS origin of a separate stream.
    pub fn own_origin(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

impl SseSettings {
    fn from_source(env: &EnvSource) -> Result<Self, ConfigError> {
        Ok(Self {
            server_type: env.parse_or_else(
                "SSE_SERVER_TYPE",
                "inline, separate, rails or go",
                parse_server_type,
                || SseServerType::Inline,
            )?,
            host: env.get("SSE_HOST").unwrap_or_else(|| "localhost".into()),
            port: env.parse_or("SSE_PORT", "a port number 0-65535", 3001)?,
            endpoint: env.get("SSE_ENDPOINT").unwrap_or_else(|| "/dashboard/stream".into()),
            auto_refresh: env.bool_or("SSE_AUTO_REFRESH", true)?,
            connection_timeout: Duration::from_millis(env.positive_or("SSE_CONNECTION_TIMEOUT", 5000)?),
            retry_interval: Duration::from_millis(env.positive_or("SSE_RETRY_INTERVAL", 5000)?),
            heartbeat_interval: Duration::from_secs(env.positive_or("SSE_HEARTBEAT_INTERVAL", 30)?),
            max_connections: env.positive_or("SSE_MAX_CONNECTIONS", 10_000)?,
            max_connections_per_address: env.positive_or("SSE_MAX_CONNECTIONS_PER_IP", 1000)?,
            replay_limit: env.positive_or("SSE_REPLAY_LIMIT", 1000)?,
            replay_max_bytes: env.positive_or("SSE_REPLAY_MAX_BYTES", 4 << 20)?,
            max_replays: env.positive_or("SSE_MAX_REPLAYS", 32)?,
        })
    }
}

/// `DATABASE_URL`, refused unless it names PostgreSQL: with another scheme the driver would
/// still try whatever PostgreSQL answers at that host.
fn postgres_url(env: &EnvSource) -> Result<Secret, ConfigError> {
    let raw = env.required("DATABASE_URL")?;
    let scheme = raw.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("postgres" | "postgresql") => Ok(Secret::new(raw)),
        // The value is not quoted: it may hold a password.
        _ => Err(ConfigError::invalid("DATABASE_URL", "a postgres:// or postgresql:// URL")),
    }
}

/// `LOG_LEVEL`, else `RUST_LOG`, checked now: a typo would otherwise silently log at `info`.
fn log_filter(env: &EnvSource) -> Result<String, ConfigError> {
    let name = if env.get("LOG_LEVEL").is_some() { "LOG_LEVEL" } else { "RUST_LOG" };
    env.parse_or_else(
        name,
        "a log filter such as info or info,sqlx=warn",
        |raw| EnvFilter::try_new(raw).is_ok().then(|| raw.to_string()),
        || "info".into(),
    )
}

/// `FRAME_ANCESTORS`: origins separated by spaces or commas, each `scheme://host[:port]`. They
/// go into the Content-Security-Policy header verbatim, so anything but an origin (a path, a
/// quote, a semicolon that would start another directive) is refused here.
fn frame_ancestors(env: &EnvSource) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = env.get("FRAME_ANCESTORS") else { return Ok(Vec::new()) };
    raw.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|item| !item.is_empty())
        .map(|item| {
            parse_origin(item).ok_or_else(|| ConfigError::Invalid {
                name: "FRAME_ANCESTORS",
                value: item.to_string(),
                expected: "origins such as https://wiki.example.com, without a path",
            })
        })
        .collect()
}

/// An `http(s)://host[:port]` origin in its canonical form (lower case, default port dropped).
fn parse_origin(raw: &str) -> Option<String> {
    let plain_characters = raw.chars().all(|c| c.is_ascii_alphanumeric() || "-.:/[]".contains(c));
    let url = url::Url::parse(raw).ok().filter(|_| plain_characters)?;
    let origin_only = matches!(url.scheme(), "http" | "https")
        && url.has_host()
        && url.username().is_empty()
        && url.path() == "/"
        && !raw.trim_end_matches('/').ends_with(':');
    origin_only.then(|| url.origin().ascii_serialization())
}

fn parse_server_type(raw: &str) -> Option<SseServerType> {
    match raw {
        "inline" | "rails" => Some(SseServerType::Inline),
        "separate" | "go" => Some(SseServerType::Separate),
        _ => None,
    }
}

fn parse_log_format(raw: &str) -> Option<LogFormat> {
    match raw {
        "pretty" | "text" => Some(LogFormat::Pretty),
        "json" => Some(LogFormat::Json),
        _ => None,
    }
}

fn parse_jobs_mode(raw: &str) -> Option<JobsMode> {
    match raw {
        "inline" => Some(JobsMode::Inline),
        "off" => Some(JobsMode::Off),
        _ => None,
    }
}

/// `n` random bytes as hex: session keys and token secrets.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::fill(&mut bytes[..]);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let mut all = vec![("DATABASE_URL", "postgres://u:pw@localhost/db")];
        all.extend_from_slice(vars);
        Settings::from_source(AppEnv::Test, &EnvSource::from_pairs(&all))
    }

    #[test]
    fn defaults_follow_the_spec() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.port, 3000);
        assert_eq!(s.sse.port, 3001);
        assert_eq!(s.sse.max_connections, 10_000);
        assert_eq!(s.sse.heartbeat_interval, Duration::from_secs(30));
        assert_eq!((s.sse.replay_max_bytes, s.sse.max_replays), (4 << 20, 32));
        assert_eq!((s.history.max_bytes, s.history.max_reads), (1 << 20, 16));
        assert_eq!(s.redis_channel_prefix, "dashboard");
        assert!(s.redis_url.is_none());
        assert!(!s.demo_feed);
        assert_eq!(s.limits.auth_failures_per_minute.get(), 20);
        assert_eq!(s.limits.pushes_per_second, None);
        assert_eq!(s.sse.max_connections_per_address, 1000);
        assert!(!s.force_https);
    }

    #[test]
    fn limits_cannot_be_zero() {
        for name in ["AUTH_FAILURE_LIMIT", "PUSH_RATE_LIMIT", "SSE_MAX_CONNECTIONS_PER_IP"] {
            for bad in ["0", "-1", "many"] {
                let err = settings(&[(name, bad)]).unwrap_err().to_string();
                assert!(err.contains(name), "{err}");
            }
        }
        let s = settings(&[("AUTH_FAILURE_LIMIT", "3"), ("PUSH_RATE_LIMIT", "50")]).unwrap();
        assert_eq!(s.limits.auth_failures_per_minute.get(), 3);
        assert_eq!(s.limits.pushes_per_second.map(|n| n.get()), Some(50));
    }

    #[test]
    fn smashing_board_is_a_slug() {
        assert_eq!(settings(&[]).unwrap().smashing_board, None);
        let s = settings(&[("SMASHING_BOARD", "ops")]).unwrap();
        assert_eq!(s.smashing_board.as_ref().map(Slug::as_str), Some("ops"));
        let err = settings(&[("SMASHING_BOARD", "Ops Board")]).unwrap_err().to_string();
        assert!(err.contains("SMASHING_BOARD"), "{err}");
    }

    #[test]
    fn boards_are_private_by_default_in_production_only() {
        let key = "k".repeat(64);
        let in_env = |app_env: AppEnv, visibility: Option<&str>| {
            let mut vars = vec![("DATABASE_URL", "postgres://localhost/db"), ("SECRET_KEY_BASE", key.as_str())];
            vars.extend(visibility.map(|v| ("DEFAULT_BOARD_VISIBILITY", v)));
            Settings::from_source(app_env, &EnvSource::from_pairs(&vars)).unwrap().default_board_visibility
        };
        assert_eq!(in_env(AppEnv::Production, None), Visibility::Private);
        assert_eq!(in_env(AppEnv::Production, Some("public")), Visibility::Public);
        assert_eq!(in_env(AppEnv::Development, None), Visibility::Public);
        let private = settings(&[("DEFAULT_BOARD_VISIBILITY", "private")]).unwrap();
        assert_eq!(private.default_board_visibility, Visibility::Private);
        let err = settings(&[("DEFAULT_BOARD_VISIBILITY", "hidden")]).unwrap_err().to_string();
        assert!(err.contains("DEFAULT_BOARD_VISIBILITY"), "{err}");
    }

    #[test]
    fn seed_aliases_are_accepted() {
        let s = settings(&[("SSE_SERVER_TYPE", "go"), ("LOGRAGE_ENABLED", "true")]).unwrap();
        assert_eq!(s.sse.server_type, SseServerType::Separate);
        assert_eq!(s.log_format, LogFormat::Json);
        let s = settings(&[("SSE_SERVER_TYPE", "rails"), ("RUST_LOG", "debug")]).unwrap();
        assert_eq!(s.sse.server_type, SseServerType::Inline);
        assert_eq!(s.log_level, "debug");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err = settings(&[("PORT", "eighty")]).unwrap_err().to_string();
        assert!(err.contains("PORT") && err.contains("eighty"), "{err}");
        let err = settings(&[("SSE_SERVER_TYPE", "node")]).unwrap_err().to_string();
        assert!(err.contains("SSE_SERVER_TYPE"), "{err}");
        let err = settings(&[("SSE_MAX_CONNECTIONS", "0")]).unwrap_err().to_string();
        assert!(err.contains("SSE_MAX_CONNECTIONS"), "{err}");
        let err = settings(&[("LOG_LEVEL", "info,[[[")]).unwrap_err().to_string();
        assert!(err.contains("LOG_LEVEL"), "{err}");
        let err = settings(&[("RUST_LOG", "=warn=")]).unwrap_err().to_string();
        assert!(err.contains("RUST_LOG"), "{err}");
        assert_eq!(settings(&[("LOG_LEVEL", "info,sqlx=warn")]).unwrap().log_level, "info,sqlx=warn");
    }

    #[test]
    fn missing_database_url_is_named() {
        let err = Settings::from_source(AppEnv::Test, &EnvSource::from_pairs(&[])).unwrap_err();
        assert!(err.to_string().contains("DATABASE_URL"));
    }

    #[test]
    fn database_url_must_name_postgresql() {
        for url in ["mysql://root@127.0.0.1/x", "127.0.0.1:5432/db", "sqlite::memory:"] {
            let err =
                Settings::from_source(AppEnv::Test, &EnvSource::from_pairs(&[("DATABASE_URL", url)])).unwrap_err();
            assert!(err.to_string().contains("DATABASE_URL"), "{err}");
            assert!(!err.to_string().contains("root@"), "the URL is not echoed: {err}");
        }
        for url in ["postgres://localhost/db", "postgresql://u:pw@db:5432/x?sslmode=require"] {
            assert!(Settings::from_source(AppEnv::Test, &EnvSource::from_pairs(&[("DATABASE_URL", url)])).is_ok());
        }
    }

    #[test]
    fn production_requires_a_secret_key_base() {
        let env = EnvSource::from_pairs(&[("DATABASE_URL", "postgres://localhost/db")]);
        let err = Settings::from_source(AppEnv::Production, &env).unwrap_err();
        assert!(err.to_string().contains("SECRET_KEY_BASE"));
    }

    #[test]
    fn frame_ancestors_are_origins_only() {
        let s = settings(&[("FRAME_ANCESTORS", "https://Wiki.Example.com, http://10.0.0.5:8080 https://b.test:443/")]);
        assert_eq!(s.unwrap().frame_ancestors, ["https://wiki.example.com", "http://10.0.0.5:8080", "https://b.test"]);
        assert!(settings(&[]).unwrap().frame_ancestors.is_empty());
        for bad in [
            "https://wiki.example.com/page",
            "wiki.example.com",
            "javascript:alert(1)",
            "ftp://files.example.com",
            "https://a.test;script-src",
            "https://a.test'",
            "'self'",
            "*",
            "https://user@a.test",
            "https://a.test?x=1",
            "https://a.test:",
        ] {
            let err = settings(&[("FRAME_ANCESTORS", &format!("https://ok.test {bad}"))]).unwrap_err().to_string();
            assert!(err.contains("FRAME_ANCESTORS") && err.contains(bad), "{bad}: {err}");
        }
    }

    #[test]
    fn production_refuses_a_short_bootstrap_token() {
        let key = "k".repeat(64);
        let production = |token: &str| {
            let env = EnvSource::from_pairs(&[
                ("DATABASE_URL", "postgres://localhost/db"),
                ("SECRET_KEY_BASE", key.as_str()),
                ("DASHBOARD_API_TOKEN", token),
            ]);
            Settings::from_source(AppEnv::Production, &env)
        };
        let err = production(&"t".repeat(31)).unwrap_err().to_string();
        assert!(err.contains("DASHBOARD_API_TOKEN") && err.contains("32"), "{err}");
        assert!(!err.contains(&"t".repeat(31)), "the value is not shown: {err}");
        assert!(production(&"t".repeat(32)).is_ok());
        assert!(settings(&[("DASHBOARD_API_TOKEN", "short")]).is_ok(), "only production insists");
    }

    #[test]
    fn body_read_timeout_is_in_seconds() {
        assert_eq!(settings(&[]).unwrap().body_read_timeout, Duration::from_secs(15));
        assert_eq!(settings(&[("BODY_READ_TIMEOUT", "1")]).unwrap().body_read_timeout, Duration::from_secs(1));
        let err = settings(&[("BODY_READ_TIMEOUT", "0")]).unwrap_err().to_string();
        assert!(err.contains("BODY_READ_TIMEOUT"), "{err}");
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let s = settings(&[
            ("DASHBOARD_API_TOKEN", "tok-123"),
            ("REDIS_URL", "redis://:hunter2@h:6379"),
            ("METRICS_TOKEN", "met-456"),
        ])
        .unwrap();
        let shown = format!("{s:?}");
        for secret in ["pw@", "tok-123", "hunter2", "met-456"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
