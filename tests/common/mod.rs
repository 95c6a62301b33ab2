//! Shared test harness: each test gets its own database (cloned from a migrated template, so it
//! is fast), its own Redis channel prefix, and the app on a random port, over real HTTP.

pub mod database;
pub mod heavy;
pub mod private_redis;
pub mod raw_http;
pub mod served;
pub mod sse;
pub mod tcp_proxy;

use std::collections::HashMap;
use std::path::Path;

use dashboard::config::{AppEnv, EnvSource, Settings};
use dashboard::domain::{NewToken, Role as TokenRole, Slug};
use dashboard::startup::{Application, Role};
use dashboard::store::{self, Db, tokens};
pub use database::TestDatabase;
use serde_json::Value as Json;
use sqlx::{Connection, Executor, PgConnection};
use tokio_util::sync::CancellationToken;

const TEST_SECRET_KEY_BASE: &str = "test-secret-key-base-shared-by-every-test-app";

/// Serializes template creation across test processes (a PostgreSQL advisory lock key).
const TEMPLATE_LOCK: i64 = 0x7465_7374;

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub db: Db,
    pub database_url: String,
    pub token: String,
    pub client: reqwest::Client,
    pub env: Vec<(String, String)>,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    /// The database this app was spawned with, dropped after the app (`None`: another's).
    database: Option<TestDatabase>,
}

/// A client for the tests' loopback servers; the process's TLS provider is named first, as the
/// app does, or reqwest would refuse to build.
pub fn client_builder() -> reqwest::ClientBuilder {
    dashboard::tls::use_ring();
    reqwest::Client::builder()
}

pub fn http_client() -> reqwest::Client {
    client_builder().build().expect("a plain client builds")
}

/// A client that does not follow redirects, so a test sees them itself (a browser without any
/// credential, say).
pub fn no_redirects() -> reqwest::Client {
    client_builder().redirect(reqwest::redirect::Policy::none()).build().expect("a plain client builds")
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(&[]).await
    }

    /// Spawns `dashboard serve` in-process; `extra` environment variables override the defaults.
    pub async fn spawn_with(extra: &[(&str, &str)]) -> Self {
        let database = fresh_database().await;
        let mut app = Self::spawn_on(&database, Role::Web, extra).await;
        app.database = Some(database);
        app
    }

    /// Spawns another app on an existing database (e.g. a second instance).
    pub async fn spawn_on(database_url: &str, role: Role, extra: &[(&str, &str)]) -> Self {
        let env = test_env(database_url, extra);
        let settings = settings_from(&env);
        let app = Application::build(settings, role).await.expect("the app starts");
        let port = app.port();
        let shutdown = app.shutdown_token();
        let server = tokio::spawn(app.run_until_stopped());
        let db = store::connect(database_url).await.expect("test database reachable");
        // An admin, so tests of other things are not refused.
        let token = create_token(&db, &format!("test-{}", rand_suffix()), TokenRole::Admin, None).await;
        Self {
            address: format!("http://127.0.0.1:{port}"),
            port,
            db,
            database_url: database_url.to_string(),
            token,
            client: http_client(),
            env,
            shutdown,
            server,
            database: None,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request sent")
    }

    /// A JSON request with the test's token.
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Json>) -> reqwest::Response {
        self.send_as(&self.token, method, path, body).await
    }

    /// [`Self::send`] with another token's secret.
    pub async fn send_as(
        &self,
        secret: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<Json>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(secret);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request sent")
    }

    pub async fn post(&self, path: &str, body: Json) -> reqwest::Response {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    /// Creates a board with one widget per `(key, kind)`.
    pub async fn create_board(&self, slug: &str, widgets: &[(&str, &str)]) {
        let response = self.post("/dashboard/boards", serde_json::json!({"slug": slug, "title": slug})).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
        for (key, kind) in widgets {
            let body = serde_json::json!({"key": key, "title": key, "kind": kind});
            let response = self.post(&format!("/dashboard/boards/{slug}/widgets"), body).await;
            assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
        }
    }

    /// Pushes a value; returns the event id.
    pub async fn push(&self, board: &str, widget: &str, value: Json) -> i64 {
        let response = self.post(&format!("/dashboard/boards/{board}/widgets/{widget}/events"), value).await;
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap_or_default());
        response.json::<Json>().await.unwrap()["id"].as_i64().unwrap()
    }

    /// Stores an event straight in the database, as an older version may have: `value` is jsonb
    /// text the API would refuse (a number out of range, say). Returns its id.
    pub async fn insert_raw_event(&self, board: &str, widget: &str, value: &str) -> i64 {
        sqlx::query_scalar(
            "INSERT INTO events (board_id, widget_id, value)
             SELECT w.board_id, w.id, $3::jsonb FROM widgets w JOIN boards b ON b.id = w.board_id
             WHERE b.slug = $1 AND w.key = $2 RETURNING id",
        )
        .bind(board)
        .bind(widget)
        .bind(value)
        .fetch_one(&self.db)
        .await
        .expect("the widget exists")
    }

    /// Sets a widget's config straight in the database, as [`Self::insert_raw_event`] does values.
    pub async fn set_raw_config(&self, board: &str, widget: &str, config: &str) {
        sqlx::query("UPDATE widgets w SET config = $3::jsonb FROM boards b WHERE b.id = w.board_id AND b.slug = $1 AND w.key = $2")
            .bind(board)
            .bind(widget)
            .bind(config)
            .execute(&self.db)
            .await
            .unwrap();
    }

    /// Stores a kind this version does not know, as a newer version may have: the kind's CHECK
    /// constraint is dropped first (in this test's own database).
    pub async fn set_raw_kind(&self, board: &str, widget: &str, kind: &str) {
        sqlx::query("ALTER TABLE widgets DROP CONSTRAINT IF EXISTS widgets_kind_check")
            .execute(&self.db)
            .await
            .unwrap();
        sqlx::query(
            "UPDATE widgets w SET kind = $3 FROM boards b WHERE b.id = w.board_id AND b.slug = $1 AND w.key = $2",
        )
        .bind(board)
        .bind(widget)
        .bind(kind)
        .execute(&self.db)
        .await
        .unwrap();
    }

    /// Stops the server as SIGTERM would and waits for it.
    pub async fn stop(self) {
        self.stop_keeping_database().await;
    }

    /// Stops the server as [`Self::stop`] does, but hands over its database, for an app
    /// started again on it.
    pub async fn stop_keeping_database(mut self) -> Option<TestDatabase> {
        self.shutdown.cancel();
        let database = self.database.take();
        let _ = (&mut self.server).await;
        database
    }

    /// The request headers stored with a widget's pull source (write-only: the API never shows them).
    pub async fn stored_source_headers(&self, widget: &str) -> Json {
        sqlx::query_scalar("SELECT config -> 'source' -> 'headers' FROM widgets WHERE key = $1")
            .bind(widget)
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// Counts rows of a table, to check that a refused request changed nothing.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = match table {
            "boards" => "SELECT count(*) FROM boards",
            "widgets" => "SELECT count(*) FROM widgets",
            "events" => "SELECT count(*) FROM events",
            "api_tokens" => "SELECT count(*) FROM api_tokens",
            "playlists" => "SELECT count(*) FROM playlists",
            other => panic!("no count for {other}"),
        };
        sqlx::query_scalar(sql).fetch_one(&self.db).await.unwrap()
    }
}

/// Stores a token with this role, limited to these boards (`None`: every board); returns its secret.
pub async fn create_token(db: &Db, name: &str, role: TokenRole, boards: Option<&[&str]>) -> String {
    let boards = boards.map(|slugs| slugs.iter().map(|s| Slug::parse(s).expect("a slug")).collect());
    let new = NewToken { name: name.to_string(), role, boards };
    tokens::create(&mut db.acquire().await.expect("a connection"), &new)
        .await
        .expect("token stored")
        .expect("its boards exist")
}

/// Numbers at the edges of what may be stored, and a double whose exact decimal (as jsonb gives
/// it back) serde_json's fast float parser misreads by one unit in the last place: each must
/// read back exactly as it was pushed.
pub const BOUND_VALUES: [f64; 5] = [1e18, -1e18, 1e-18, 0.0, 53768.021480116964];

/// A row no double can hold: jsonb gives back 401 digits. The API refuses it; only a direct
/// SQL write stores it, so readers must skip it.
pub const UNDECODABLE_VALUE: &str = r#"{"value": 1e400}"#;

/// The environment a test app runs with: `.env.test`'s services, its own database and Redis
/// channel prefix, a random port, and short intervals.
pub fn test_env(database_url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let base = base_env();
    let prefix = format!("test-{}", rand_suffix());
    let redis = base.get("REDIS_URL").cloned().unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let mut env: HashMap<String, String> = [
        ("DATABASE_URL", database_url),
        ("REDIS_URL", redis.as_str()),
        ("REDIS_CHANNEL_PREFIX", prefix.as_str()),
        ("HOST", "127.0.0.1"),
        ("PORT", "0"),
        ("SSE_PORT", "0"),
        ("POLL_INTERVAL_MS", "200"),
        ("LOG_LEVEL", "warn"),
        // Tests send many bad credentials from one address on purpose; the limit's own tests set it.
        ("AUTH_FAILURE_LIMIT", "100000"),
        // One for all: instances sharing a Redis accept only each other's signed board messages.
        ("SECRET_KEY_BASE", TEST_SECRET_KEY_BASE),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    env.into_iter().collect()
}

/// The settings of `env`, in the `APP_ENV` it names (`test` unless it names one).
pub fn settings_from(env: &[(String, String)]) -> Settings {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app_env = pairs
        .iter()
        .find(|(k, _)| *k == "APP_ENV")
        .map_or(AppEnv::Test, |(_, v)| AppEnv::parse(v).expect("APP_ENV is development, test or production"));
    Settings::from_source(app_env, &EnvSource::from_pairs(&pairs)).expect("test settings are valid")
}

/// `.env.test` with the process environment on top, as the app itself would read them.
pub fn base_env() -> HashMap<String, String> {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(".env.test");
    let mut env: HashMap<String, String> =
        dotenvy::from_path_iter(&file).map(|iter| iter.filter_map(Result::ok).collect()).unwrap_or_default();
    for name in ["DATABASE_URL", "REDIS_URL"] {
        if let Ok(value) = std::env::var(name) {
            env.insert(name.into(), value);
        }
    }
    env
}

/// A new, migrated, empty database of its own for one test.
pub async fn fresh_database() -> TestDatabase {
    let base = base_env().remove("DATABASE_URL").expect("DATABASE_URL in .env.test or the environment");
    let template = format!("dashboard_test_tpl_{}", store::migrations_fingerprint());
    let name = format!("dashboard_test_{}", rand_suffix());
    let mut admin = PgConnection::connect(&with_database(&base, "postgres")).await.expect("PostgreSQL reachable");
    sqlx::query("SELECT pg_advisory_lock($1)").bind(TEMPLATE_LOCK).execute(&mut admin).await.unwrap();
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&template)
        .fetch_one(&mut admin)
        .await
        .unwrap();
    if !exists {
        let template_url = with_database(&base, &template);
        store::create_database_if_missing(&template_url).await.expect("template created");
        let db = store::connect(&template_url).await.unwrap();
        store::migrate(&db).await.expect("migrations apply");
        db.close().await;
    }
    let create = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
    admin.execute(sqlx::AssertSqlSafe(create)).await.expect("test database cloned");
    sqlx::query("SELECT pg_advisory_unlock($1)").bind(TEMPLATE_LOCK).execute(&mut admin).await.unwrap();
    TestDatabase::owning(with_database(&base, &name))
}

pub fn with_database(url: &str, name: &str) -> String {
    let mut url = url::Url::parse(url).expect("DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub fn rand_suffix() -> String {
    dashboard::config::random_hex(6)
}
