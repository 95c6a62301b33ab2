//! The `dashboard` binary's commands and their one-line errors.

use std::process::{Command, Output};

use crate::common::{TestDatabase, fresh_database, rand_suffix, with_database};

pub fn dashboard(database_url: &str, args: &[&str]) -> Output {
    dashboard_with(database_url, args, &[])
}

/// [`dashboard`] with more environment variables.
pub fn dashboard_with(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dashboard"))
        .args(args)
        .env("APP_ENV", "test")
        .env("DATABASE_URL", database_url)
        .env("LOG_LEVEL", "warn")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

pub fn assert_one_line_error(output: &Output, mentions: &str) {
    let stderr = text(&output.stderr);
    assert!(!output.status.success(), "should fail: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line, got:\n{stderr}");
    assert!(stderr.contains(mentions), "{mentions:?} not in {stderr:?}");
    assert!(!stderr.contains("panicked") && !stderr.contains("backtrace"), "{stderr}");
}

/// A database of the test's own that does not exist yet.
fn database_to_make() -> TestDatabase {
    let base = crate::common::base_env().remove("DATABASE_URL").unwrap();
    TestDatabase::owning(with_database(&base, &format!("dashboard_test_new_{}", rand_suffix())))
}

#[tokio::test]
async fn migrate_creates_a_missing_database_and_seed_is_idempotent() {
    let url = database_to_make();
    let output = dashboard(&url, &["migrate"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("created database"));
    for _ in 0..2 {
        let output = dashboard(&url, &["seed"]);
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let db = dashboard::store::connect(&url).await.unwrap();
    let (widgets, kinds): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT kind) FROM widgets").fetch_one(&db).await.unwrap();
    let every_kind = dashboard::domain::WidgetKind::ALL.len() as i64;
    assert_eq!(kinds, every_kind, "one widget of every kind");
    assert_eq!(widgets, every_kind + 1, "and a number with a sparkline");
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&db).await.unwrap();
    let again = dashboard(&url, &["seed"]);
    assert!(again.status.success());
    let after: i64 = sqlx::query_scalar("SELECT count(*) FROM events").fetch_one(&db).await.unwrap();
    assert_eq!(events, after, "a second seed adds no history");
}

/// Only `migrate` and the app change the schema; the tools say what to do and leave it alone.
#[tokio::test]
async fn tools_refuse_an_unmigrated_database_and_leave_it_as_it_was() {
    let url = database_to_make();
    assert!(dashboard::store::create_database_if_missing(&url).await.unwrap());
    let commands =
        [&["token", "list"][..], &["jobs"], &["seed"], &["token", "create", "bot"], &["export"], &["import", "x.json"]];
    for command in commands {
        let output = dashboard(&url, command);
        assert_one_line_error(&output, "database not migrated; run dashboard migrate");
        assert_eq!(output.status.code(), Some(1), "{command:?}");
    }
    let db = dashboard::store::connect(&url).await.unwrap();
    let tables: i64 =
        sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetch_one(&db).await.unwrap();
    assert_eq!(tables, 0, "nothing created");

    assert!(dashboard(&url, &["migrate"]).status.success());
    let listed = dashboard(&url, &["token", "list"]);
    assert!(listed.status.success(), "{}", text(&listed.stderr));

    // One migration short, as after an upgrade of the binary.
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = (SELECT max(version) FROM _sqlx_migrations)")
        .execute(&db)
        .await
        .unwrap();
    assert_one_line_error(&dashboard(&url, &["jobs"]), "database not migrated");
    db.close().await;
}

#[test]
fn a_database_url_of_another_database_is_refused() {
    for command in [&["migrate"][..], &["token", "list"]] {
        let output = dashboard("mysql://root@127.0.0.1/x", command);
        assert_one_line_error(&output, "DATABASE_URL");
        assert!(!text(&output.stdout).contains("created database"));
    }
}

#[tokio::test]
async fn token_commands() {
    let url = fresh_database().await;
    let created = dashboard(&url, &["token", "create", "deploy-bot"]);
    assert!(created.status.success());
    let secret = text(&created.stdout);
    assert!(secret.starts_with("dash_") && secret.len() == 5 + 64, "{secret}");
    assert_one_line_error(&dashboard(&url, &["token", "create", "deploy-bot"]), "already exists");
    let listed = text(&dashboard(&url, &["token", "list"]).stdout);
    assert!(listed.contains("deploy-bot") && listed.contains("active") && !listed.contains(&secret), "{listed}");
    assert!(dashboard(&url, &["token", "revoke", "deploy-bot"]).status.success());
    assert!(text(&dashboard(&url, &["token", "list"]).stdout).contains("revoked"));
    assert_one_line_error(&dashboard(&url, &["token", "revoke", "deploy-bot"]), "no active token");
    // The name sessions signed in with DASHBOARD_API_TOKEN go by cannot be a stored token's too,
    // nor the name the audit log gives the command line.
    assert_one_line_error(&dashboard(&url, &["token", "create", "DASHBOARD_API_TOKEN"]), "reserved");
    assert_one_line_error(&dashboard(&url, &["token", "create", "cli"]), "reserved");

    // Each change made, and only those, is in the audit log, by the command line.
    let db = dashboard::store::connect(&url).await.unwrap();
    let logged: Vec<(String, String, String)> =
        sqlx::query_as("SELECT actor, action, target FROM audit_log ORDER BY id").fetch_all(&db).await.unwrap();
    let entry = |action: &str| ("cli".to_string(), action.to_string(), "deploy-bot".to_string());
    assert_eq!(logged, [entry("token.created"), entry("token.revoked")]);
}

#[tokio::test]
async fn tokens_get_a_role_and_may_be_limited_to_boards() {
    let url = fresh_database().await;
    assert!(dashboard(&url, &["seed"]).status.success());
    let created = dashboard(&url, &["token", "create", "pusher", "--role", "push", "--board", "demo"]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(dashboard(&url, &["token", "create", "editor-bot"]).status.success());
    let listed = text(&dashboard(&url, &["token", "list"]).stdout);
    let line = |name: &str| listed.lines().find(|l| l.starts_with(name)).unwrap_or_default().to_string();
    let pusher: Vec<String> = line("pusher").split_whitespace().map(String::from).collect();
    assert_eq!(pusher[1..3], ["push", "demo"], "{listed}");
    let editor: Vec<String> = line("editor-bot").split_whitespace().map(String::from).collect();
    assert_eq!(editor[1..3], ["editor", "all"], "the default role, every board: {listed}");
    assert!(listed.lines().next().unwrap().contains("ROLE") && listed.contains("never"), "{listed}");

    assert_one_line_error(&dashboard(&url, &["token", "create", "x", "--role", "root"]), "role: must be one of");
    assert_one_line_error(&dashboard(&url, &["token", "create", "x", "--board", "nope"]), "no board \"nope\"");
    assert_one_line_error(&dashboard(&url, &["token", "create", "x", "--role", "admin", "--board", "demo"]), "admin");
    assert!(!text(&dashboard(&url, &["token", "list"]).stdout).contains("\nx "), "nothing made by a refused create");

    let help = text(&dashboard(&url, &["token", "create", "--help"]).stdout);
    assert!(help.contains("--role <ROLE>") && help.contains("--board <SLUG>") && help.contains("editor"), "{help}");
}

#[test]
fn bad_configuration_is_one_line_naming_the_variable() {
    let run = |var: &str, value: &str| {
        Command::new(env!("CARGO_BIN_EXE_dashboard"))
            .arg("migrate")
            .env("APP_ENV", "test")
            .env(var, value)
            .output()
            .unwrap()
    };
    assert_one_line_error(&run("PORT", "eighty"), "PORT");
    assert_one_line_error(&run("SSE_SERVER_TYPE", "node"), "SSE_SERVER_TYPE");
    assert_one_line_error(&run("SSE_HEARTBEAT_INTERVAL", "-1"), "SSE_HEARTBEAT_INTERVAL");
    assert_one_line_error(&run("APP_ENV", "staging"), "APP_ENV");
    assert_one_line_error(&run("FRAME_ANCESTORS", "https://wiki.example.com/; script-src *"), "FRAME_ANCESTORS");
}

#[test]
fn an_unreachable_database_is_one_line_without_the_password() {
    let output = dashboard("postgres://app:hunter2@127.0.0.1:1/nothing", &["token", "list"]);
    assert_one_line_error(&output, "cannot connect to the database");
    assert!(!text(&output.stderr).contains("hunter2"));
    // Says why, not just that a pool gave up waiting.
    assert!(text(&output.stderr).contains("refused"), "{}", text(&output.stderr));

    let base = crate::common::base_env().remove("DATABASE_URL").unwrap();
    let missing = with_database(&base, &format!("dashboard_test_missing_{}", rand_suffix()));
    let output = dashboard(&missing, &["token", "list"]);
    assert_one_line_error(&output, "does not exist");
}

#[tokio::test]
async fn the_database_can_be_reached_over_tls() {
    // Hosted PostgreSQL (Heroku's, for one) refuses connections without TLS.
    let url = fresh_database().await;
    let db = dashboard::store::connect(&url).await.unwrap();
    let ssl: String = sqlx::query_scalar("SHOW ssl").fetch_one(&db).await.unwrap();
    if ssl != "on" {
        eprintln!("skipped: this PostgreSQL server has ssl = {ssl}, so there is no TLS to test");
        return;
    }
    let output = dashboard(&format!("{url}?sslmode=require"), &["token", "list"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
}

#[test]
fn bad_arguments_are_reported_by_clap() {
    let output = dashboard("postgres://127.0.0.1:1/x", &["frobnicate"]);
    assert!(!output.status.success());
    assert!(text(&output.stderr).contains("unrecognized subcommand"));
    let help = dashboard("postgres://127.0.0.1:1/x", &["--help"]);
    let help = text(&help.stdout);
    for command in ["serve", "stream", "migrate", "token", "seed"] {
        assert!(help.contains(command), "{command} missing from --help");
    }
}

/// `dashboard serve` as a process, logging JSON lines at info to a pipe; returns once it answers.
async fn serve_with_json_logs(url: &str, port: u16, env: &[(&str, &str)]) -> std::process::Child {
    let mut server = Command::new(env!("CARGO_BIN_EXE_dashboard"))
        .arg("serve")
        .env("APP_ENV", "test")
        .env("DATABASE_URL", url)
        .env("REDIS_URL", "")
        .env("PORT", port.to_string())
        .env("LOGRAGE_ENABLED", "true")
        .env("LOG_LEVEL", "info")
        .envs(env.iter().copied())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if crate::common::http_client().get(format!("http://127.0.0.1:{port}/health")).send().await.is_ok() {
            return server;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    panic!("the server does not answer");
}

/// Stops the server as a platform would (SIGTERM) and returns its log lines.
async fn stop_and_read_logs(server: std::process::Child) -> Vec<serde_json::Value> {
    Command::new("kill").args(["-TERM", &server.id().to_string()]).status().unwrap();
    let output = tokio::task::spawn_blocking(move || server.wait_with_output()).await.unwrap().unwrap();
    text(&output.stderr)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn serve_writes_its_pidfile_and_json_request_logs() {
    let dir = std::env::temp_dir().join(format!("dashboard-pid-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("dashboard.pid");
    let port = free_port();
    let database = fresh_database().await;
    let server = serve_with_json_logs(&database, port, &[("PIDFILE", pidfile.to_str().unwrap())]).await;
    let no_redirects = crate::common::no_redirects();
    let sign_in = no_redirects.get(format!("http://127.0.0.1:{port}/manage")).send().await.unwrap();
    assert_eq!(sign_in.status(), 303);
    let missing = crate::common::http_client()
        .get(format!("http://127.0.0.1:{port}/dashboard/boards/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let share_secret = "5ec2e7".repeat(10) + "5ec2";
    let share = crate::common::http_client()
        .get(format!("http://127.0.0.1:{port}/s/{share_secret}?kiosk=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(share.status(), 404);
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    assert_eq!(pid.trim(), server.id().to_string());
    let lines = stop_and_read_logs(server).await;
    let request_line =
        lines.iter().find(|line| line.to_string().contains("/health")).expect("a log line for the request");
    assert!(request_line.to_string().contains("request_id"), "{request_line}");
    assert!(request_line["span"]["http.latency_ms"].as_f64().is_some(), "{request_line}");
    assert!(request_line["timestamp"].is_string(), "{request_line}");
    // A client's mistake is one request line (with its status), and a redirect to the sign-in
    // form is no server error.
    let not_found: Vec<_> = lines.iter().filter(|line| line.to_string().contains("/dashboard/boards/nope")).collect();
    assert_eq!(not_found.len(), 1, "{not_found:#?}");
    assert!(not_found[0].to_string().contains("404"), "{}", not_found[0]);
    assert!(lines.iter().all(|line| line["level"] != "ERROR"), "{lines:#?}");
    let logged = serde_json::to_string(&lines).unwrap();
    assert!(logged.contains("/s/{secret}") && !logged.contains(&share_secret), "a share link's secret is not logged");
    assert!(!pidfile.exists(), "the pidfile is removed on exit");
}

/// Anyone can send `X-Forwarded-For`: the log believes it only behind a trusted proxy, and then
/// only its last entry, the address the proxy saw. The same for `X-Forwarded-Proto`.
#[tokio::test]
async fn the_logged_client_is_the_peer_unless_the_proxy_is_trusted() {
    let url = fresh_database().await;
    for (trust_proxy, client, scheme) in [("false", "127.0.0.1", "http"), ("true", "6.6.6.6", "https")] {
        let port = free_port();
        let server = serve_with_json_logs(&url, port, &[("TRUST_PROXY", trust_proxy)]).await;
        let response = crate::common::http_client()
            .get(format!("http://127.0.0.1:{port}/health?probe"))
            .header("X-Forwarded-For", "1.2.3.4, 6.6.6.6")
            .header("X-Forwarded-Proto", "https")
            .header("Forwarded", "for=7.7.7.7;proto=ftp")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let lines = stop_and_read_logs(server).await;
        let request = lines
            .iter()
            .find_map(|line| line["span"].as_object().filter(|span| span["http.target"] == "/health?probe"))
            .unwrap_or_else(|| panic!("no request line in {lines:#?}"));
        assert_eq!(request["http.client_ip"], client, "TRUST_PROXY={trust_proxy}: {request:?}");
        assert_eq!(request["http.scheme"], scheme, "TRUST_PROXY={trust_proxy}: {request:?}");
    }
}

/// A directory of the test's own for boards files.
fn scratch_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("dashboard-test-{}", rand_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_file(dir: &std::path::Path, name: &str, json: &serde_json::Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, json.to_string()).unwrap();
    path.to_string_lossy().into_owned()
}

fn exported(url: &str) -> String {
    let output = dashboard(url, &["export"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn export_import_round_trip_dry_run_and_prune_on_the_command_line() {
    let (url, dir) = (fresh_database().await, scratch_dir());
    let sample = write_file(&dir, "boards.json", &super::import::sample_file());
    let imported = dashboard(&url, &["import", &sample]);
    let stdout = text(&imported.stdout);
    assert!(imported.status.success(), "{}", text(&imported.stderr));
    assert!(
        stdout.starts_with("create board ops\ncreate widget ops/cpu") && stdout.ends_with("6 change(s) applied"),
        "{stdout}"
    );
    assert_eq!(text(&dashboard(&url, &["import", &sample]).stdout), "no changes");

    let file = dir.join("export.json");
    assert!(dashboard(&url, &["export", "--output", file.to_str().unwrap()]).status.success());
    let whole = exported(&url);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), whole);
    let empty = fresh_database().await;
    assert!(dashboard(&empty, &["import", file.to_str().unwrap()]).status.success());
    assert_eq!(exported(&empty), whole, "export → import into an empty database → export is the same file");

    let web_only: serde_json::Value = serde_json::from_slice(&dashboard(&url, &["export", "web"]).stdout).unwrap();
    assert_eq!(web_only["boards"].as_array().unwrap().len(), 1);
    assert_one_line_error(&dashboard(&url, &["export", "web", "nope"]), "no board \"nope\"");

    let mut fewer = super::import::sample_file();
    fewer["boards"][0]["widgets"].as_array_mut().unwrap().truncate(1);
    let fewer = write_file(&dir, "fewer.json", &fewer);
    let dry = dashboard(&url, &["import", &fewer, "--prune", "--dry-run"]);
    assert_eq!(
        text(&dry.stdout),
        "delete widget ops/health\ndelete widget ops/queue\n2 change(s) planned; dry run, nothing changed"
    );
    assert_eq!(exported(&url), whole);
    assert_eq!(text(&dashboard(&url, &["import", &fewer]).stdout), "no changes", "without --prune nothing is deleted");
    assert!(dashboard(&url, &["import", &fewer, "--prune"]).status.success());
    assert_ne!(exported(&url), whole);
    let db = dashboard::store::connect(&url).await.unwrap();
    let logged: Vec<(String, String)> =
        sqlx::query_as("SELECT actor, action FROM audit_log ORDER BY id").fetch_all(&db).await.unwrap();
    assert_eq!(
        logged,
        [("cli".into(), "import".into()), ("cli".into(), "import".into())],
        "one entry per import that changed something"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_broken_boards_file_is_one_line_naming_its_path_and_changes_nothing() {
    let (url, dir) = (fresh_database().await, scratch_dir());
    let sample = super::import::sample_file();
    assert!(dashboard(&url, &["import", &write_file(&dir, "boards.json", &sample)]).status.success());
    let mut duplicate = sample.clone();
    duplicate["boards"][1]["slug"] = "ops".into();
    let mut unknown_kind = sample.clone();
    unknown_kind["boards"][0]["title"] = "Changed".into();
    unknown_kind["boards"][1]["widgets"][0]["kind"] = "pie".into();
    let mut bad_config = sample.clone();
    bad_config["boards"][0]["widgets"][0]["config"]["max"] = "lots".into();
    let mut future = sample.clone();
    future["version"] = 2.into();
    let mut kind_change = sample.clone();
    kind_change["boards"][0]["title"] = "Changed".into();
    kind_change["boards"][1]["widgets"][0]["kind"] = "number".into();
    let before = exported(&url);
    let cases = [
        (write_file(&dir, "duplicate.json", &duplicate), "boards[1].slug: duplicate \"ops\""),
        (write_file(&dir, "kind.json", &unknown_kind), "boards[1].widgets[0].kind: must be one of"),
        (write_file(&dir, "config.json", &bad_config), "boards[0].widgets[0].config.max: must be a number"),
        (write_file(&dir, "future.json", &future), "version: 2 is newer than this version of dashboard reads (1)"),
        (write_file(&dir, "change.json", &kind_change), "boards[1].widgets[0].kind: cannot change from line to number"),
    ];
    for (file, mentions) in cases {
        for args in [&["import", &file][..], &["import", &file, "--dry-run"], &["import", &file, "--prune"]] {
            let output = dashboard(&url, args);
            assert_one_line_error(&output, &format!("{file}: {mentions}"));
            assert_eq!(output.status.code(), Some(1));
        }
        assert_eq!(exported(&url), before, "{mentions}");
    }
    let malformed = dir.join("malformed.json");
    std::fs::write(&malformed, "{\"version\": 1, \"boards\": [").unwrap();
    assert_one_line_error(&dashboard(&url, &["import", malformed.to_str().unwrap()]), "malformed JSON");
    assert_one_line_error(&dashboard(&url, &["import", "/nonexistent/boards.json"]), "/nonexistent/boards.json");
    assert_eq!(exported(&url), before);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn migrate_imports_the_boards_file() {
    let (url, dir) = (database_to_make(), scratch_dir());
    let file = write_file(&dir, "boards.json", &super::import::sample_file());
    let first = dashboard_with(&url, &["migrate"], &[("BOARDS_FILE", &file)]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(text(&first.stdout).contains("create board ops"), "{}", text(&first.stdout));
    let second = dashboard_with(&url, &["migrate"], &[("BOARDS_FILE", &file)]);
    assert!(text(&second.stdout).ends_with("no changes"), "{}", text(&second.stdout));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&exported(&url)).unwrap()["boards"].as_array().unwrap().len(),
        2
    );
    let broken = write_file(&dir, "broken.json", &serde_json::json!({"version": 1, "boards": [{"title": "x"}]}));
    assert_one_line_error(
        &dashboard_with(&url, &["migrate"], &[("BOARDS_FILE", &broken)]),
        "boards[0].slug: is required",
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn an_import_on_the_command_line_reaches_the_open_pages_of_a_running_app() {
    let app = crate::common::TestApp::spawn().await;
    let dir = scratch_dir();
    let mut file = super::import::sample_file();
    assert!(dashboard(&app.database_url, &["import", &write_file(&dir, "boards.json", &file)]).status.success());
    let request = app.client.get(app.url("/dashboard/stream?boards=ops")).bearer_auth(&app.token);
    let mut stream = crate::common::sse::SseClient::open(request).await;
    let wait = std::time::Duration::from_secs(5);
    assert_eq!(stream.next_event(wait).await.unwrap().event.as_deref(), Some("hello"));
    file["boards"][0]["widgets"][0]["title"] = "CPU load".into();
    let changed = write_file(&dir, "changed.json", &file);
    // The app's Redis, channel prefix and signing key: the command announces as an instance would.
    let shared: Vec<(&str, &str)> = app
        .env
        .iter()
        .filter(|(name, _)| ["REDIS_URL", "REDIS_CHANNEL_PREFIX", "SECRET_KEY_BASE"].contains(&name.as_str()))
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let output = dashboard_with(&app.database_url, &["import", &changed], &shared);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let frame = stream.next_event(wait).await.expect("a board frame");
    assert_eq!(
        (frame.event.as_deref(), frame.json()),
        (Some("board"), serde_json::json!({"board": "ops", "action": "imported"}))
    );
    let _ = std::fs::remove_dir_all(dir);
}
