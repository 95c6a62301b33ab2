//! A local HTTP server that plays the pull sources: a counter, failures of every kind, slow
//! answers, a source that wants a key; it counts the requests to each path.

use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::json;

#[derive(Default)]
struct Hits(Mutex<HashMap<String, u64>>);

/// The key `/keyed` wants, in an `Authorization` header.
pub const KEY: &str = "Bearer s3cret-source-key";

pub struct SourceServer {
    pub port: u16,
    hits: Arc<Hits>,
    handle: ServerHandle,
}

impl SourceServer {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(Hits::default());
        let data = web::Data::from(hits.clone());
        let server = HttpServer::new(move || App::new().app_data(data.clone()).default_service(web::to(answer)))
            .listen(listener)
            .unwrap()
            .workers(2)
            .disable_signals()
            .shutdown_timeout(1)
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { port, hits, handle }
    }

    /// `http://127.0.0.1:PORT/path`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn hits(&self, path: &str) -> u64 {
        self.hits.0.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// Every path's answer; `n` is how many times the path was requested, this one included.
async fn answer(request: HttpRequest, hits: web::Data<Hits>) -> HttpResponse {
    let path = request.path().to_string();
    let n = {
        let mut hits = hits.0.lock().unwrap();
        let count = hits.entry(path.clone()).or_default();
        *count += 1;
        *count
    };
    match path.as_str() {
        // A value that moves on every request.
        "/counter" => HttpResponse::Ok().json(json!({"data": {"cpu": n, "label": "load"}})),
        "/error" => HttpResponse::InternalServerError().json(json!({"error": "boom"})),
        // Longer than the client's 5 s timeout.
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(8)).await;
            HttpResponse::Ok().json(json!({"value": 1}))
        }
        "/keyed" if request.headers().get("authorization").is_some_and(|v| v == KEY) => {
            HttpResponse::Ok().json(json!({"value": n}))
        }
        "/keyed" => HttpResponse::Unauthorized().json(json!({"error": "no key"})),
        // Longer than any test: each request ends with the client's timeout.
        "/hang" => {
            tokio::time::sleep(Duration::from_secs(120)).await;
            HttpResponse::Ok().json(json!({"value": 1}))
        }
        "/html" => HttpResponse::Ok().content_type("text/html").body("<html><body>not json</body></html>"),
        "/text" => HttpResponse::Ok().json(json!({"data": {"cpu": "high"}})),
        // jsonb would give it back as 309 digits.
        "/huge" => HttpResponse::Ok().json(json!({"value": f64::MAX})),
        "/big" => HttpResponse::Ok().json(json!({"pad": "x".repeat(1_100_000), "value": 1})),
        // Slow enough that a second runner could try the same job while the first still runs it.
        p if p.starts_with("/item/") => {
            tokio::time::sleep(Duration::from_millis(200)).await;
            HttpResponse::Ok().json(json!({"value": n}))
        }
        // Takes a while, within the timeout: for shutdown while a job runs.
        "/pause" => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            HttpResponse::Ok().json(json!({"value": 7}))
        }
        // /redirect/N answers with a redirect N times before the JSON.
        p if p.starts_with("/redirect/") => {
            let left: u32 = p.trim_start_matches("/redirect/").parse().unwrap_or(0);
            if left == 0 {
                HttpResponse::Ok().json(json!({"value": 3}))
            } else {
                HttpResponse::Found().insert_header(("Location", format!("/redirect/{}", left - 1))).finish()
            }
        }
        _ => HttpResponse::NotFound().finish(),
    }
}
