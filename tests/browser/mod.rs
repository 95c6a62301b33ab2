//! The pages in a real browser: headless Chromium driven through chromedriver (WebDriver).
//! Each test saves screenshots under `target/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver`; without them these tests fail with the
//! command that installs them (they never pass silently).

use crate::common;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::TestApp;
use dashboard::domain::Value;
use dashboard::startup::Role;
use dashboard::store::{events, widgets};
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction, TouchActions};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::{Value as Json, json};
use tokio::process::{Child, Command};
use tokio::sync::Mutex;

const INSTALL: &str = "apt-get update && apt-get install -y chromium chromium-driver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long a live update may take to show (the bar).
const LIVE: Duration = Duration::from_secs(2);
/// How long a drag with the mouse takes (the pointer moves through the way in between).
const DRAG: Duration = Duration::from_millis(300);
/// Waits for anything else: a test fails on what never happens, not on a slow machine.
const WAIT: Duration = Duration::from_secs(15);

/// One browser at a time: Chromium is heavy, and parallel instances on a small machine would
/// make the 2-second bar about CPU contention instead of the page.
static ONE_BROWSER: Mutex<()> = Mutex::const_new(());

struct Browser {
    client: Client,
    driver: Child,
    profile: PathBuf,
}

impl Browser {
    async fn start(width: u32, height: u32) -> Self {
        let chromedriver = which("chromedriver")
            .unwrap_or_else(|| panic!("chromedriver is not installed; the browser tests need it: {INSTALL}"));
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is not installed; the browser tests need it: {INSTALL}"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let profile = std::env::temp_dir().join(format!("dashboard-chromium-{}", common::rand_suffix()));
        let capabilities = json!({"goog:chromeOptions": {"binary": CHROMIUM, "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
            format!("--user-data-dir={}", profile.display()),
        ]}});
        let Json::Object(capabilities) = capabilities else { unreachable!() };
        let webdriver = format!("http://127.0.0.1:{port}");
        let client = retry_until(WAIT, || async {
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&webdriver)
                .await
                .ok()
        })
        .await
        .expect("chromedriver accepts a session");
        let browser = Self { client, driver, profile };
        browser.set_viewport(width, height).await;
        browser
    }

    /// Sizes the window so that the page itself (what a screenshot shows) is `width` × `height`.
    async fn set_viewport(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        let inner = self.eval("return [window.innerWidth, window.innerHeight]").await;
        let (inner_width, inner_height) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
        self.client.set_window_size(2 * width - inner_width, 2 * height - inner_height).await.unwrap();
    }

    async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("page loads");
    }

    async fn eval(&self, script: &str) -> Json {
        self.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
    }

    /// Waits until `condition` (a JavaScript expression) is truthy; on timeout saves a
    /// screenshot named after the test and fails with what was waited for.
    async fn wait_for(&self, what: &str, condition: &str, within: Duration) {
        let script = format!("return !!({condition});");
        // While a page loads, scripts may fail to run: that counts as "not yet".
        let met = retry_until(within, || async {
            (self.client.execute(&script, vec![]).await.ok() == Some(json!(true))).then_some(())
        })
        .await;
        if met.is_none() {
            self.screenshot("failure").await;
            panic!("not within {within:?}: {what} ({condition})");
        }
    }

    /// Waits until the element `css` shows exactly `text` (see [`Self::wait_for`]).
    async fn wait_for_text(&self, what: &str, css: &str, text: &str, within: Duration) {
        let condition = format!("document.querySelector({})?.textContent === {}", json!(css), json!(text));
        self.wait_for(what, &condition, within).await;
    }

    async fn state(&self) -> String {
        self.eval("return document.getElementById('stream-state').dataset.state").await.as_str().unwrap().into()
    }

    async fn text(&self, css: &str) -> String {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
    }

    async fn fill(&self, css: &str, value: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).click().await.unwrap();
    }

    /// Submits a form with its button and waits for the page the server answers with.
    async fn submit(&self, form: &str) {
        self.eval("window.__submitted = true; return null").await;
        self.click(&format!("{form} button[type=submit]")).await;
        let loaded = "!window.__submitted && document.readyState === 'complete'";
        self.wait_for("the next page", loaded, WAIT).await;
    }

    /// Signs in to the management pages with the test's admin token.
    async fn sign_in(&self, app: &TestApp) {
        self.goto(&app.url("/manage/sign-in")).await;
        self.fill("#f-token", &app.token).await;
        self.submit("form").await;
    }

    async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    async fn screenshot(&self, name: &str) {
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"), PathBuf::from)
            .join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.expect("screenshot taken");
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Marks the document; the mark survives only as long as the page is not reloaded.
    async fn mark_document(&self) {
        self.eval("window.__notReloaded = true; return null").await;
    }

    async fn assert_not_reloaded(&self) {
        assert_eq!(self.eval("return window.__notReloaded === true").await, json!(true), "the page reloaded");
    }

    /// Ends the session (chromedriver then quits Chromium), then chromedriver itself.
    async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Runs `test` with a browser of this window size and closes the browser afterwards, also
/// when the test fails, so no Chromium outlives its test.
async fn with_browser(width: u32, height: u32, test: impl AsyncFnOnce(&Browser)) {
    let browser = Browser::start(width, height).await;
    let outcome = AssertUnwindSafe(test(&browser)).catch_unwind().await;
    browser.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?.to_str()?.split(':').map(|dir| PathBuf::from(dir).join(program)).find(|p| p.is_file())
}

async fn retry_until<T, F, Fut>(within: Duration, mut attempt: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = attempt().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `document.querySelector(…)` of one card's part.
fn card(key: &str, part: &str) -> String {
    format!(".card[data-key=\"{key}\"] {part}")
}

async fn demo(app: &TestApp) {
    dashboard::store::demo::seed_demo(&app.db).await.expect("demo board seeded");
}

/// Waits until uPlot has drawn the line chart of `widget`.
async fn wait_for_chart(browser: &Browser, widget: &str) {
    let canvas = card(widget, "canvas");
    browser.wait_for("the chart is drawn", &format!("document.querySelector('{canvas}')"), WAIT).await;
}

async fn open_live(browser: &Browser, url: &str) {
    browser.goto(url).await;
    let live = "document.getElementById('stream-state').dataset.state === 'live'";
    browser.wait_for("the stream is live", live, WAIT).await;
}

#[tokio::test]
async fn the_demo_board_shows_a_widget_of_every_kind() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    demo(&app).await;
    with_browser(1400, 900, async |browser| {
        open_live(browser, &app.url("/boards/demo")).await;

        let kinds = browser.eval("return [...document.querySelectorAll('.card')].map(c => c.dataset.kind)").await;
        let expected =
            ["number", "gauge", "line", "text", "list", "status", "table", "bar", "image", "clock", "number"];
        assert_eq!(kinds, json!(expected));
        assert_eq!(browser.text(&card("visitors", ".big .value")).await, "1,243");
        assert_eq!(browser.text(&card("cpu", ".gauge-value")).await, "61");
        assert_eq!(
            browser.text(&card("deploys", ".text-value")).await,
            "v2.14.0 deployed to production by the CI pipeline"
        );
        assert_eq!(
            browser.eval(&format!("return document.querySelectorAll('{}').length", card("top-pages", "li"))).await,
            4
        );
        assert_eq!(browser.text(&card("api", ".status-label")).await, "OK");
        wait_for_chart(browser, "requests").await;
        assert_eq!(browser.text("#stream-state").await, "Live");
        browser.screenshot("demo-board").await;
    })
    .await;
}

#[tokio::test]
async fn the_demo_board_fits_a_wall_screen_and_a_phone() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    demo(&app).await;
    with_browser(1920, 1080, async |browser| {
        open_live(browser, &app.url("/boards/demo?kiosk=1")).await;
        assert_eq!(browser.eval("return document.documentElement.dataset.theme").await, "dark");
        assert_eq!(browser.eval("return document.querySelector('.topbar')").await, Json::Null, "no chrome");
        let fits = "document.documentElement.scrollHeight <= window.innerHeight";
        assert_eq!(browser.eval(&format!("return {fits}")).await, json!(true), "the grid fits the screen");
        wait_for_chart(browser, "requests").await;
        browser.screenshot("demo-kiosk-dark").await;

        browser.set_viewport(390, 844).await;
        open_live(browser, &app.url("/boards/demo")).await;
        let lefts = browser
            .eval("return [...document.querySelectorAll('.card')].map(c => Math.round(c.getBoundingClientRect().left))")
            .await;
        let lefts: Vec<i64> = serde_json::from_value(lefts).unwrap();
        assert!(lefts.windows(2).all(|w| w[0] == w[1]), "one column on a phone: {lefts:?}");
        let wider = "document.documentElement.scrollWidth > window.innerWidth";
        assert_eq!(browser.eval(&format!("return {wider}")).await, json!(false), "no sideways scrolling");
        browser.screenshot("demo-phone").await;
        browser.eval(&format!("document.querySelector('{}').scrollIntoView(); return null", card("hosts", ""))).await;
        browser.screenshot("demo-phone-new-kinds").await;
    })
    .await;
}

#[tokio::test]
async fn pushed_values_show_within_two_seconds_without_a_reload() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    demo(&app).await;
    with_browser(1400, 900, async |browser| {
        open_live(browser, &app.url("/boards/demo")).await;
        browser.mark_document().await;

        app.push("demo", "visitors", json!({"value": 5000})).await;
        let value = card("visitors", ".big .value");
        browser.wait_for_text("the number", &value, "5,000", LIVE).await;
        assert_eq!(browser.text(&card("visitors", ".change")).await, "▲ 3,757 (+302.3%)");
        assert_eq!(browser.text(&card("visitors", "time")).await, "just now");

        app.push("demo", "cpu", json!({"value": 95})).await;
        let fill = card("cpu", ".gauge-fill");
        browser
            .wait_for(
                "the gauge turns red",
                &format!("document.querySelector('{fill}').getAttribute('stroke') === '#e01b24'"),
                LIVE,
            )
            .await;
        assert_eq!(
            browser.eval(&format!("return document.querySelector('{fill}').getAttribute('stroke-dasharray')")).await,
            "95.00 100"
        );

        app.push("demo", "api", json!({"status": "critical", "message": "database down"})).await;
        browser.wait_for("the status", "document.querySelector('.card.status-critical[data-key=\"api\"]')", LIVE).await;
        assert_eq!(browser.text(&card("api", ".status-message")).await, "database down");

        app.push("demo", "deploys", json!({"text": "<b>not bold</b>"})).await;
        let text = card("deploys", ".text-value");
        browser.wait_for_text("the text", &text, "<b>not bold</b>", LIVE).await;
        assert_eq!(
            browser.eval(&format!("return document.querySelector('{text}').children.length")).await,
            0,
            "text, not HTML"
        );

        app.push("demo", "top-pages", json!({"items": [{"label": "/new", "value": 12345}]})).await;
        let rows = card("top-pages", "li");
        browser.wait_for("the list", &format!("document.querySelectorAll('{rows}').length === 1"), LIVE).await;
        assert_eq!(browser.text(&rows).await, "/new\n12,345");

        browser.assert_not_reloaded().await;
        browser.screenshot("demo-after-pushes").await;
    })
    .await;
}

#[tokio::test]
async fn the_new_kinds_update_live_and_the_clock_ticks() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    demo(&app).await;
    with_browser(1400, 900, async |browser| {
        open_live(browser, &app.url("/boards/demo")).await;
        browser.mark_document().await;
        let seconds = card("clock", ".clock-time");
        let first = browser.text(&seconds).await;
        browser
            .wait_for(
                "the clock ticks",
                &format!("document.querySelector('{seconds}').textContent !== '{first}'"),
                LIVE,
            )
            .await;

        let evil = "<img src=x onerror=alert(1)>";
        app.push("demo", "hosts", json!({"columns": ["Host", "Load"], "rows": [[evil, 1.25], ["b", 2]]})).await;
        let cells = card("hosts", "tbody td");
        browser.wait_for("the table", &format!("document.querySelectorAll('{cells}').length === 4"), LIVE).await;
        assert_eq!(browser.text(&card("hosts", "tbody td")).await, evil, "text, not HTML");
        assert_eq!(browser.text(&card("hosts", "tbody td.num")).await, "1.3", "the configured decimals");
        assert_eq!(
            browser.eval(&format!("return document.querySelectorAll('{} img').length", card("hosts", ""))).await,
            0
        );

        app.push("demo", "regions", json!({"bars": [{"label": evil, "value": 90}, {"label": "US", "value": 10}]}))
            .await;
        let rect = card("regions", "li:first-child rect");
        browser
            .wait_for(
                "the bar turns amber",
                &format!("document.querySelector('{rect}')?.getAttribute('fill') === '#e5a50a'"),
                LIVE,
            )
            .await;
        assert_eq!(
            browser.eval(&format!("return document.querySelector('{rect}').getAttribute('height')")).await,
            "90.00"
        );
        let painted = format!("return getComputedStyle(document.querySelector('{rect}')).fill");
        assert_eq!(browser.eval(&painted).await, "rgb(229, 165, 10)", "drawn in the threshold's colour");
        assert_eq!(browser.text(&card("regions", "li:first-child .bar-label")).await, evil);

        let picture = dashboard::jobs::demo_feed::demo_image("#d7263d");
        app.push("demo", "map", json!({"url": picture, "alt": evil})).await;
        let img = card("map", "img");
        browser.wait_for("the image", &format!("document.querySelector('{img}').alt === '{evil}'"), LIVE).await;
        browser.wait_for("it loads", &format!("document.querySelector('{img}').naturalWidth > 0"), WAIT).await;

        app.push("demo", "clock", json!({"timezone": "Asia/Tokyo"})).await;
        browser.wait_for_text("the clock moves to Tokyo", &card("clock", ".clock-zone"), "Asia/Tokyo", LIVE).await;
        let tokyo = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Tokyo).format("%H:%M").to_string();
        assert!(browser.text(&seconds).await.starts_with(&tokyo), "Tokyo's time, {tokyo}");

        let line = card("signups", "polyline");
        let before = browser.eval(&format!("return document.querySelector('{line}').getAttribute('points')")).await;
        app.push("demo", "signups", json!({"value": 1000})).await;
        browser.wait_for_text("the number", &card("signups", ".big .value"), "1,000", LIVE).await;
        let after = browser.eval(&format!("return document.querySelector('{line}').getAttribute('points')")).await;
        assert_ne!(before, after, "the sparkline moved");
        assert!(after.as_str().unwrap().ends_with("300.0,5.0"), "the newest, highest point at the right: {after}");

        browser.assert_not_reloaded().await;
        browser.eval(&format!("document.querySelector('{}').scrollIntoView(); return null", card("hosts", ""))).await;
        browser.screenshot("new-kinds-after-pushes").await;
    })
    .await;
}

#[tokio::test]
async fn the_line_chart_grows_with_pushed_points() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    app.post("/dashboard/boards", json!({"slug": "m", "title": "Metrics", "columns": 2})).await;
    let widget = json!({"key": "latency", "title": "Latency", "kind": "line", "config": {"unit": "ms", "max_points": 50, "width": 2}});
    app.post("/dashboard/boards/m/widgets", widget).await;
    for value in [120, 135, 128, 150, 142] {
        app.push("m", "latency", json!({"value": value})).await;
    }
    with_browser(1400, 900, async |browser| {
        open_live(browser, &app.url("/boards/m")).await;
        browser.mark_document().await;
        let count = format!("Number(document.querySelector('{}').dataset.pointCount)", card("latency", ".chart"));
        wait_for_chart(browser, "latency").await;
        assert_eq!(browser.eval(&format!("return {count}")).await, 5);

        for value in [160, 171, 165] {
            app.push("m", "latency", json!({"value": value})).await;
        }
        browser.wait_for("three more points", &format!("{count} === 8"), LIVE).await;
        assert_eq!(browser.text(&card("latency", ".line-head .value")).await, "165");
        browser.assert_not_reloaded().await;
        browser.screenshot("line-chart").await;
    })
    .await;
}

#[tokio::test]
async fn the_indicator_follows_the_server_down_and_back_up() {
    let _one = ONE_BROWSER.lock().await;
    let settings = [("SSE_CONNECTION_TIMEOUT", "1500"), ("SSE_RETRY_INTERVAL", "300")];
    let app = TestApp::spawn_with(&settings).await;
    app.create_board("b", &[("n", "number")]).await;
    app.push("b", "n", json!({"value": 1})).await;
    with_browser(1400, 900, async |browser| {
        open_live(browser, &app.url("/boards/b")).await;
        browser.mark_document().await;

        let (db, database_url, port) = (app.db.clone(), app.database_url.clone(), app.port);
        let _database = app.stop_keeping_database().await;
        browser
            .wait_for(
                "the indicator leaves live",
                "document.getElementById('stream-state').dataset.state !== 'live'",
                WAIT,
            )
            .await;
        browser
            .wait_for(
                "offline after the timeout",
                "document.getElementById('stream-state').dataset.state === 'offline'",
                WAIT,
            )
            .await;
        browser.screenshot("indicator-offline").await;

        // A value arrives while the server is down (another instance, or a script on the database).
        let mut conn = db.acquire().await.unwrap();
        let widget = widgets::find(&mut conn, "b", "n").await.unwrap();
        let value = Value::parse(widget.kind, json!({"value": 42})).unwrap();
        events::insert(&mut conn, vec![events::NewEvent { widget: &widget, value }]).await.unwrap();

        let port = port.to_string();
        let again =
            TestApp::spawn_on(&database_url, Role::Web, &[&settings[..], &[("PORT", port.as_str())]].concat()).await;
        browser.wait_for("live again", "document.getElementById('stream-state').dataset.state === 'live'", WAIT).await;
        let value = card("n", ".big .value");
        browser.wait_for_text("the value pushed while down", &value, "42", WAIT).await;
        browser.assert_not_reloaded().await;
        assert_eq!(browser.state().await, "live");
        browser.screenshot("indicator-live-again").await;
        again.stop().await;
    })
    .await;
}

#[tokio::test]
async fn board_changes_re_render_the_grid_without_a_reload() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    app.create_board("b", &[("first", "number")]).await;
    with_browser(1400, 900, async |browser| {
        open_live(browser, &app.url("/boards/b")).await;
        browser.mark_document().await;

        app.post("/dashboard/boards/b/widgets", json!({"key": "second", "title": "Second", "kind": "status"})).await;
        browser.wait_for("the new widget", "document.querySelectorAll('.card').length === 2", WAIT).await;
        app.push("b", "second", json!({"status": "ok", "message": "fine"})).await;
        browser.wait_for_text("its value", &card("second", ".status-message"), "fine", LIVE).await;
        app.send(reqwest::Method::PATCH, "/dashboard/boards/b", Some(json!({"title": "Renamed"}))).await;
        browser.wait_for_text("the new title", "#board-head h1", "Renamed", WAIT).await;
        browser.assert_not_reloaded().await;

        app.send(reqwest::Method::DELETE, "/dashboard/boards/b", None).await;
        browser.wait_for("the deletion notice", "!document.getElementById('board-notice').hidden", WAIT).await;
        browser.screenshot("board-deleted").await;
    })
    .await;
}

#[tokio::test]
async fn a_renamed_board_says_so_instead_of_going_quiet() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    app.create_board("b", &[("n", "number")]).await;
    with_browser(1400, 900, async |browser| {
        open_live(browser, &app.url("/boards/b")).await;
        app.send(reqwest::Method::PATCH, "/dashboard/boards/b", Some(json!({"slug": "b-new"}))).await;
        let notice = "document.getElementById('board-notice')";
        browser.wait_for("the rename notice", &format!("!{notice}.hidden"), WAIT).await;
        let text = browser.eval(&format!("return {notice}.textContent")).await;
        assert!(text.as_str().unwrap().contains("renamed"), "{text}");
        let state = browser.eval("return document.getElementById('stream-state').dataset.state").await;
        assert_eq!(state, "offline", "not a \"live\" badge on a page that no longer updates");
        browser.screenshot("board-renamed").await;
    })
    .await;
}

#[tokio::test]
async fn sign_in_and_create_a_board_and_a_widget_through_the_forms() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    with_browser(1280, 900, async |browser| {
        browser.goto(&app.url("/manage")).await;
        assert_eq!(browser.path().await, "/manage/sign-in");
        browser.fill("#f-token", &app.token).await;
        browser.submit("form").await;
        assert_eq!(browser.path().await, "/manage");

        browser.goto(&app.url("/manage/new-board")).await;
        browser.fill("#f-title", "Office wall").await;
        browser.fill("#f-columns", "3").await;
        browser.submit("form.form").await;
        assert_eq!(browser.path().await, "/manage/boards/office-wall");
        assert!(browser.text(".flash").await.contains("Board created"));

        browser.goto(&app.url("/manage/boards/office-wall/new-widget")).await;
        browser.fill("#f-title", "Coffee level").await;
        browser.fill("#f-key", "Coffee Level").await;
        browser.client.find(Locator::Css("#f-kind")).await.unwrap().select_by_value("gauge").await.unwrap();
        browser.fill("#f-unit", "%").await;
        browser.fill("#f-thresholds", "20 #e01b24").await;
        browser.submit("form.form").await;
        assert!(browser.text("#e-key").await.contains("lowercase"), "the key's error is next to it");
        browser.screenshot("form-validation-error").await;

        browser.fill("#f-key", "coffee").await;
        browser.submit("form.form").await;
        assert_eq!(browser.path().await, "/manage/boards/office-wall");
        assert!(browser.text(".flash").await.contains("Coffee level"));
        browser.screenshot("form-board-with-widget").await;

        let widget: Json = app.get("/dashboard/boards/office-wall/widgets/coffee").await.json().await.unwrap();
        assert_eq!(widget["kind"], "gauge");
        assert_eq!(widget["config"], json!({"unit": "%", "thresholds": [{"value": 20, "color": "#e01b24"}]}));
    })
    .await;
}

#[tokio::test]
async fn an_admin_creates_a_push_token_on_the_token_page_and_a_script_pushes_with_it() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    app.create_board("ops", &[("n", "number")]).await;
    with_browser(1280, 900, async |browser| {
        browser.sign_in(&app).await;
        browser.click("a[href=\"/manage/tokens\"]").await;
        browser.wait_for("the token page", "location.pathname === '/manage/tokens'", WAIT).await;

        browser.fill("#f-name", "sensor").await;
        browser.client.find(Locator::Css("#f-role")).await.unwrap().select_by_value("push").await.unwrap();
        browser.fill("#f-boards", "ops").await;
        browser.submit("form.form").await;
        let secret = browser.text("#new-secret").await;
        assert!(secret.starts_with("dash_"), "the secret is on the page: {secret}");
        browser.screenshot("token-created").await;
        // Revoking is behind a disclosure that says what it does; the token in use signs out.
        browser.click("tr:has(.muted) details.confirm summary").await;
        assert!(browser.text("tr:has(.muted) details.confirm p").await.contains("signs you out"));
        browser.screenshot("token-revoke-confirm").await;

        open_live(browser, &app.url("/boards/ops")).await;
        let url = app.url("/dashboard/boards/ops/widgets/n/events");
        let pushed = app.client.post(url).bearer_auth(&secret).json(&json!({"value": 4321})).send().await.unwrap();
        assert_eq!(pushed.status(), 201);
        browser.wait_for_text("the pushed value", &card("n", ".big .value"), "4,321", WAIT).await;
    })
    .await;
}

/// The keys of the cards (or the layout editor's tiles) `selector` finds, in the page's order.
async fn keys_in_order(browser: &Browser, selector: &str) -> Json {
    browser.eval(&format!("return [...document.querySelectorAll('{selector}')].map((e) => e.dataset.key)")).await
}

async fn element(browser: &Browser, css: &str) -> fantoccini::elements::Element {
    browser.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"))
}

/// Puts `pointer` (a mouse or a finger) down on `css`, moves it to `to` through the way in
/// between, as a hand would, and lifts it.
async fn drag(browser: &Browser, pointer: impl InputSource<Action = PointerAction>, css: &str, to: PointerAction) {
    let gesture = pointer
        .then(PointerAction::MoveToElement { element: element(browser, css).await, duration: None, x: 0.0, y: 0.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(to)
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    browser.client.perform_actions(gesture).await.expect("the drag is performed");
}

/// Drags `from` onto the middle of `to` with the mouse.
async fn drag_onto(browser: &Browser, from: &str, to: &str) {
    let to = element(browser, to).await;
    let to = PointerAction::MoveToElement { element: to, duration: Some(DRAG), x: 0.0, y: 0.0 };
    drag(browser, MouseActions::new("mouse".into()), from, to).await;
}

/// Drags `css` by this many pixels with a finger (a touch screen).
async fn drag_by_touch(browser: &Browser, css: &str, x: f64, y: f64) {
    drag(browser, TouchActions::new("finger".into()), css, PointerAction::MoveBy { duration: Some(DRAG), x, y }).await;
}

/// Signs in and opens the layout editor of `board`, scrolled into view.
async fn open_layout_editor(editor: &Browser, app: &TestApp, board: &str) {
    editor.sign_in(app).await;
    editor.goto(&app.url(&format!("/manage/boards/{board}"))).await;
    let ready = "document.getElementById('layout-editor').dataset.state === 'clean'";
    editor.wait_for("the layout editor", ready, WAIT).await;
    editor.eval("document.getElementById('layout-editor').scrollIntoView(); return null").await;
}

/// On board `wall` (x, y, z): drags x onto z, widens y with shift+→, moves x back one with ←
/// and makes it two rows high by its corner, checking the editor after each step.
async fn rearrange_the_wall(editor: &Browser) {
    drag_onto(editor, ".layout-tile[data-key=x]", ".layout-tile[data-key=z]").await;
    assert_eq!(keys_in_order(editor, ".layout-tile").await, json!(["y", "z", "x"]), "x took z's place");
    element(editor, ".layout-tile[data-key=y]").await.send_keys(&(Key::Shift + &Key::Right)).await.unwrap();
    let y = "document.querySelector('.layout-tile[data-key=y]')";
    let size =
        format!("return [{y}.dataset.width, {y}.className.match(/\\bw-\\d+/g), {y}.classList.contains('is-changed')]");
    assert_eq!(editor.eval(&size).await, json!(["2", ["w-2"], true]), "y one column wider, marked unsaved");
    assert_eq!(editor.text("#layout-status").await, "Unsaved changes");

    element(editor, ".layout-tile[data-key=x]").await.send_keys(&Key::Left).await.unwrap();
    assert_eq!(keys_in_order(editor, ".layout-tile").await, json!(["y", "x", "z"]), "← moved x one earlier");
    // A finger pulls the corner down a little more than one row (5.5rem and the gap): the
    // height snaps to 2.
    drag_by_touch(editor, ".layout-tile[data-key=x] .layout-resize", 0.0, 110.0).await;
    let x = "document.querySelector('.layout-tile[data-key=x]')";
    let size = format!("return [{x}.dataset.width, {x}.dataset.height, {x}.classList.contains('h-2')]");
    assert_eq!(editor.eval(&size).await, json!(["1", "2", true]), "x two rows high");
    editor.screenshot("layout-editor-unsaved").await;
}

#[tokio::test]
async fn the_layout_editor_moves_and_resizes_widgets_and_an_open_board_follows_without_a_reload() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    app.create_board("wall", &[("x", "number"), ("y", "text"), ("z", "status")]).await;
    with_browser(1400, 900, async |viewer| {
        open_live(viewer, &app.url("/boards/wall")).await;
        viewer.mark_document().await;
        with_browser(1280, 1000, async |editor| {
            open_layout_editor(editor, &app, "wall").await;
            rearrange_the_wall(editor).await;
            editor.click("#layout-save").await;
            editor.wait_for_text("the layout saved", "#layout-status", "Layout saved", WAIT).await;
            editor.screenshot("layout-editor-saved").await;
        })
        .await;

        let rearranged = "[...document.querySelectorAll('#board .card')].map((c) => c.dataset.key).join() === 'y,x,z'";
        viewer.wait_for("the board in its new order", rearranged, WAIT).await;
        let wide = "document.querySelector('#board .card[data-key=y]').classList.contains('w-2')";
        viewer.wait_for("y two columns wide", wide, WAIT).await;
        let high = "document.querySelector('#board .card[data-key=x]').classList.contains('h-2')";
        viewer.wait_for("x two rows high", high, WAIT).await;
        viewer.assert_not_reloaded().await;
        viewer.screenshot("layout-board-rearranged").await;
    })
    .await;
    let board: Json = app.get("/dashboard/boards/wall").await.json().await.unwrap();
    let configs: Vec<&Json> = board["widgets"].as_array().unwrap().iter().map(|w| &w["config"]).collect();
    assert_eq!(configs[..2], [&json!({"width": 2, "height": 1}), &json!({"width": 1, "height": 2})]);
}

#[tokio::test]
async fn a_layout_the_server_refuses_says_why_and_stays_unsaved() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    app.create_board("wall", &[("a", "number"), ("b", "text")]).await;
    with_browser(1280, 900, async |editor| {
        open_layout_editor(editor, &app, "wall").await;
        // Deleted while the editor is open: the editor still sends it.
        assert_eq!(app.send(reqwest::Method::DELETE, "/dashboard/boards/wall/widgets/b", None).await.status(), 204);
        element(editor, ".layout-tile[data-key=a]").await.send_keys(&Key::Right).await.unwrap();
        editor.click("#layout-save").await;
        let refused = "document.getElementById('layout-editor').dataset.state === 'error'";
        editor.wait_for("the refusal", refused, WAIT).await;
        let status = editor.text("#layout-status").await;
        assert_eq!(status, "Not saved: widgets[0].key: board \"wall\" has no widget \"b\"");
        let marked = editor.eval("return document.querySelector('.layout-tile[data-key=b]').className").await;
        assert!(marked.as_str().unwrap().contains("is-invalid"), "{marked}");
        assert_eq!(editor.eval("return document.getElementById('layout-save').disabled").await, json!(false));
        editor.screenshot("layout-editor-refused").await;
    })
    .await;
    let position: i32 = sqlx::query_scalar("SELECT position FROM widgets").fetch_one(&app.db).await.unwrap();
    assert_eq!(position, 0, "nothing was saved");
}

#[tokio::test]
async fn with_auto_refresh_off_the_page_waits_and_then_resumes_from_its_snapshot() {
    let _one = ONE_BROWSER.lock().await;
    // No Redis: the server streams in its polling fallback, which the indicator must say.
    let app = TestApp::spawn_with(&[("SSE_AUTO_REFRESH", "false"), ("REDIS_URL", "")]).await;
    app.create_board("b", &[("n", "number")]).await;
    app.push("b", "n", json!({"value": 1})).await;
    with_browser(1400, 900, async |browser| {
        browser.goto(&app.url("/boards/b")).await;
        browser
            .wait_for("updates paused", "document.getElementById('stream-state').dataset.state === 'off'", WAIT)
            .await;
        assert_eq!(browser.text("#stream-state").await, "Updates paused\nGo live");
        // Pushed after the page rendered, before it connected: the stream replays it.
        app.push("b", "n", json!({"value": 2})).await;
        browser.click(".stream-connect").await;
        let polling = "document.getElementById('stream-state').dataset.state === 'polling'";
        browser.wait_for("live in polling mode", polling, WAIT).await;
        let value = card("n", ".big .value");
        browser.wait_for_text("the value pushed before connecting", &value, "2", WAIT).await;
        assert_eq!(browser.text("#stream-state").await, "Live · polling");
        browser.screenshot("polling-mode").await;
    })
    .await;
}

/// The server and the browser format numbers by one rule, so a value does not change its look
/// at its first live update: ties round away from zero on both sides (the server's unit tests
/// hold the same table).
#[tokio::test]
async fn numbers_round_the_same_on_the_server_and_in_the_browser() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    app.create_board("round", &[]).await;
    let widget = json!({"key": "n", "title": "n", "kind": "number", "config": {"decimals": 0}});
    assert_eq!(app.post("/dashboard/boards/round/widgets", widget).await.status(), 201);
    app.push("round", "n", json!({"value": 1234.5})).await;
    with_browser(1000, 700, async |browser| {
        open_live(browser, &app.url("/boards/round")).await;
        assert_eq!(browser.text(&card("n", ".big .value")).await, "1,235", "server-rendered");
        let cases = json!([
            [1234.5, 0, "1,235"], [-1234.5, 0, "-1,235"], [0.5, 0, "1"], [2.5, 0, "3"], [999.5, 0, "1,000"],
            [-9.95, 1, "-10.0"], [0.125, null, "0.13"], [9.875, 2, "9.88"], [0.375, 2, "0.38"], [1.005, 2, "1.01"],
            [-0.001, null, "-0"], [-0.001, 2, "-0.00"], [123456789.125, 2, "123,456,789.13"]
        ]);
        let script = "const [cases, done] = arguments;
            import('/static/js/format.js').then(({ formatNumber }) =>
              done(cases.map(([value, decimals, want]) => [value, formatNumber(value, decimals ?? undefined), want])));";
        let results = browser.client.execute_async(script, vec![cases]).await.expect("format.js runs");
        for case in results.as_array().unwrap() {
            assert_eq!(case[1], case[2], "formatNumber({})", case[0]);
        }
    })
    .await;
}

#[tokio::test]
async fn a_share_link_shows_a_private_board_live_on_a_wall_screen() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    let board = json!({"slug": "ops", "title": "Ops", "visibility": "private"});
    assert_eq!(app.post("/dashboard/boards", board).await.status(), 201);
    let widget = json!({"key": "n", "title": "Queue", "kind": "number"});
    assert_eq!(app.post("/dashboard/boards/ops/widgets", widget).await.status(), 201);
    let share: Json = app.post("/dashboard/boards/ops/shares", json!({"name": "tv"})).await.json().await.unwrap();
    let link = share["url"].as_str().unwrap();
    with_browser(1400, 900, async |browser| {
        open_live(browser, &app.url(&format!("{link}?kiosk=1"))).await;
        assert_eq!(browser.path().await, "/boards/ops");
        assert_eq!(browser.eval("return document.documentElement.classList.contains('kiosk')").await, json!(true));
        browser.mark_document().await;
        app.push("ops", "n", json!({"value": 4321})).await;
        let value = card("n", ".big .value");
        browser.wait_for_text("the pushed value", &value, "4,321", LIVE).await;
        browser.assert_not_reloaded().await;
        browser.screenshot("shared-private-board-kiosk").await;
    })
    .await;
}

#[tokio::test]
async fn a_private_board_on_a_separate_stream_reconnects_after_its_ticket_expired() {
    let _one = ONE_BROWSER.lock().await;
    let database = common::fresh_database().await;
    let web_port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    let origin = format!("http://127.0.0.1:{web_port}");
    let stream_env = [("SSE_SERVER_TYPE", "separate"), ("ALLOWED_ORIGINS", origin.as_str())];
    let stream_app = TestApp::spawn_on(&database, Role::StreamOnly, &stream_env).await;
    let stream_port = stream_app.port.to_string();
    let web_env = [
        ("SSE_SERVER_TYPE", "separate"),
        ("SSE_HOST", "127.0.0.1"),
        ("SSE_PORT", stream_port.as_str()),
        ("PORT", web_port.as_str()),
        ("SSE_RETRY_INTERVAL", "300"),
    ];
    let web = TestApp::spawn_on(&database, Role::Web, &web_env).await;
    let board = json!({"slug": "ops", "title": "Ops", "visibility": "private"});
    assert_eq!(web.post("/dashboard/boards", board).await.status(), 201);
    let widget = json!({"key": "n", "title": "Queue", "kind": "number"});
    assert_eq!(web.post("/dashboard/boards/ops/widgets", widget).await.status(), 201);
    let share: Json = web.post("/dashboard/boards/ops/shares", json!({"name": "tv"})).await.json().await.unwrap();
    let link = share["url"].as_str().unwrap();
    with_browser(1400, 900, async |browser| {
        open_live(browser, &web.url(link)).await;
        let loaded = tokio::time::Instant::now();
        browser.mark_document().await;
        stream_app.stop().await;
        browser
            .wait_for("the stream drops", "document.getElementById('stream-state').dataset.state !== 'live'", WAIT)
            .await;
        // Past the page's ticket's minute, the browser's own retry with it is refused.
        tokio::time::sleep_until(loaded + Duration::from_secs(62)).await;
        web.push("ops", "n", json!({"value": 4321})).await;
        let again =
            TestApp::spawn_on(&database, Role::StreamOnly, &[&stream_env[..], &[("SSE_PORT", &stream_port)]].concat())
                .await;
        browser.wait_for("live again", "document.getElementById('stream-state').dataset.state === 'live'", WAIT).await;
        let value = card("n", ".big .value");
        browser.wait_for_text("the value pushed while down", &value, "4,321", WAIT).await;
        browser.assert_not_reloaded().await;
        again.stop().await;
    })
    .await;
}

/// Posts a Smashing body (with `auth_token`) as `curl -d` posts it, expecting Smashing's 204.
async fn smashing_post(app: &TestApp, path: &str, mut body: Json) {
    body["auth_token"] = app.token.clone().into();
    let request = app.client.post(app.url(path)).header("Content-Type", "application/x-www-form-urlencoded");
    let response = request.body(body.to_string()).send().await.unwrap();
    assert_eq!(response.status(), 204, "{path}: {}", response.text().await.unwrap_or_default());
}

#[tokio::test]
async fn smashing_pushes_show_live_and_its_reload_reloads_the_page() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    app.create_board("sample", &[("valuation", "number"), ("welcome", "text")]).await;
    with_browser(1400, 900, async |browser| {
        open_live(browser, &app.url("/boards/sample")).await;
        browser.mark_document().await;

        smashing_post(&app, "/widgets/valuation", json!({"current": 42, "last": 40})).await;
        browser.wait_for_text("the change against last", &card("valuation", ".change-text"), "2 (+5.0%)", LIVE).await;
        smashing_post(&app, "/widgets/welcome", json!({"text": "Hello", "moreinfo": "from cron"})).await;
        let caption = card("welcome", ".more-info");
        browser.wait_for_text("the moreinfo caption", &caption, "from cron", LIVE).await;
        assert_eq!(browser.eval(&format!("return document.querySelector('{caption}').hidden")).await, false);
        browser.assert_not_reloaded().await;

        smashing_post(&app, "/dashboards/sample", json!({"event": "reload"})).await;
        let reloaded = "window.__notReloaded === undefined && document.readyState === 'complete'";
        browser.wait_for("the page reloads", reloaded, WAIT).await;
        let live = "document.getElementById('stream-state').dataset.state === 'live'";
        browser.wait_for("the reloaded page is live", live, WAIT).await;
        assert_eq!(browser.text(&card("welcome", ".more-info")).await, "from cron", "rendered by the server too");
        browser.screenshot("smashing-after-reload").await;
    })
    .await;
}

/// Records, every 100 ms and on every animation frame, which playlist boards are on screen
/// (visible, with a size and cards), with the time since the page started.
const SAMPLE_VISIBLE_BOARDS: &str = "
    window.__samples = [];
    const sample = () => {
        const visible = [...document.querySelectorAll('.playlist-board')].filter((s) => {
            const box = s.getBoundingClientRect();
            return getComputedStyle(s).visibility === 'visible' && box.width > 0 && box.height > 0
                && s.querySelector('.card') !== null;
        });
        window.__samples.push([Math.round(performance.now()), visible.map((s) => s.dataset.board).join(',')]);
    };
    setInterval(sample, 100);
    const frame = () => { sample(); requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
    return null;";

async fn samples(browser: &Browser) -> Vec<(u64, String)> {
    serde_json::from_value(browser.eval("return window.__samples").await).unwrap()
}

async fn press(browser: &Browser, key: &str) {
    browser.client.find(Locator::Css("body")).await.unwrap().send_keys(key).await.unwrap();
}

#[tokio::test]
async fn a_playlist_rotates_its_boards_on_a_tv_never_showing_none_and_live() {
    let _one = ONE_BROWSER.lock().await;
    let app = TestApp::spawn().await;
    app.create_board("alpha", &[("n", "number")]).await;
    app.create_board("beta", &[("n", "number"), ("m", "number")]).await;
    let hidden = json!({"slug": "secret", "title": "Secret floor", "visibility": "private"});
    assert_eq!(app.post("/dashboard/boards", hidden).await.status(), 201);
    app.push("alpha", "n", json!({"value": 1})).await;
    let playlist = json!({"name": "tv", "title": "Lobby", "interval_s": 5, "boards": ["alpha", "secret", "beta"]});
    assert_eq!(app.post("/dashboard/playlists", playlist).await.status(), 201);
    with_browser(1920, 1080, async |browser| {
        open_live(browser, &app.url("/playlists/tv")).await;
        browser.eval(SAMPLE_VISIBLE_BOARDS).await;
        let rendered =
            browser.eval("return [...document.querySelectorAll('.playlist-board')].map(s => s.dataset.board)");
        assert_eq!(rendered.await, json!(["alpha", "beta"]), "the private board is skipped");
        assert_eq!(browser.eval("return document.documentElement.classList.contains('kiosk')").await, json!(true));
        browser.screenshot("playlist-first-board").await;

        let current = "document.getElementById('playlist').dataset.current";
        browser.wait_for("the second board", &format!("{current} === 'beta'"), WAIT).await;
        app.push("beta", "m", json!({"value": 4321})).await;
        let value = ".playlist-board.is-current .card[data-key=\"m\"] .big .value";
        browser.wait_for_text("a live value", value, "4,321", LIVE).await;
        browser.screenshot("playlist-second-board-live").await;

        let seen = samples(browser).await;
        let switched = seen.iter().find(|(_, on)| on == "beta").map(|(at, _)| *at).unwrap();
        let started = seen.iter().find(|(_, on)| on == "alpha").map(|(at, _)| *at).unwrap();
        assert!(switched - started >= 4_000, "alpha shown for its interval: from {started} ms to {switched} ms");

        press(browser, "\u{E014}").await; // →
        browser.wait_for("→ wraps to the first board", &format!("{current} === 'alpha'"), WAIT).await;
        press(browser, "\u{E012}").await; // ←
        browser.wait_for("← steps back", &format!("{current} === 'beta'"), WAIT).await;
        press(browser, " ").await;
        browser.wait_for("the paused sign", "!document.getElementById('playlist-paused').hidden", WAIT).await;
        browser.screenshot("playlist-paused").await;
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert_eq!(browser.eval(&format!("return {current}")).await, "beta", "paused: no switch");
        press(browser, " ").await;
        browser.wait_for("the rotation resumes", &format!("{current} === 'alpha'"), WAIT).await;

        let seen = samples(browser).await;
        assert!(seen.len() > 150, "sampled often enough: {}", seen.len());
        let wrong: Vec<_> = seen.iter().filter(|(_, on)| on != "alpha" && on != "beta").collect();
        assert!(wrong.is_empty(), "every sample shows exactly one board: {wrong:?}");
    })
    .await;
}
