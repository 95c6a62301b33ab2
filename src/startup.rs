//! Builds and runs the HTTP server of `dashboard serve` and `dashboard stream`.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::middleware::{ErrorHandlers, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use actix_web_lab::middleware::{CatchPanic, PanicReporter};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing_actix_web::TracingLogger;

use crate::config::{JobsMode, Settings};
use crate::http::access_log::AccessLog;
use crate::http::limits::Limits;
use crate::http::{ApiError, AppState, auth, body_deadline, client, https, metrics, pages, panics, routes};
use crate::jobs::{JobContext, Runner};
use crate::realtime::Realtime;
use crate::store;
use crate::store::event_writer::EventWriter;

/// How long open requests get to finish after a stop; streams end at once, so this is only
/// a bound for ordinary requests.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(8);

/// What the server serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `dashboard serve`: pages, API and stream on `HOST:PORT`.
    Web,
    /// `dashboard stream`: the stream, `/dashboard/debug` and `/health` on `SSE_PORT`.
    StreamOnly,
}

pub struct Application {
    port: u16,
    server: Server,
    shutdown: CancellationToken,
    /// The background jobs runner of `dashboard serve` with `JOBS=inline`.
    jobs: Option<JoinHandle<()>>,
}

impl Application {
    /// Connects to PostgreSQL, applies pending migrations, starts the real-time path and binds.
    pub async fn build(settings: Settings, role: Role) -> anyhow::Result<Self> {
        let url = settings.database_url.expose();
        let db = store::connect(url).await.map_err(|e| anyhow::anyhow!(store::connect_failure(url, &e)))?;
        store::migrate(&db).await?;
        let port = match role {
            Role::Web => settings.port,
            Role::StreamOnly => settings.sse.port,
        };
        let listener = TcpListener::bind((settings.host, port))
            .map_err(|e| anyhow::anyhow!("cannot listen on {}:{port}: {e}", settings.host))?;
        let port = listener.local_addr()?.port();
        let shutdown = CancellationToken::new();
        // Before anything records a metric: handles taken earlier would stay no-ops.
        metrics::recorder();
        let realtime = Realtime::start(&settings, db.clone(), shutdown.clone()).await?;
        let event_writer = EventWriter::start(db.clone());
        let history_reads = Arc::new(Semaphore::new(settings.history.max_reads));
        let limits = Arc::new(Limits::new(&settings.limits));
        let state = AppState {
            db,
            settings: Arc::new(settings),
            realtime,
            event_writer,
            started_at: Instant::now(),
            history_reads,
            limits,
        };
        let jobs = (role == Role::Web && state.settings.jobs == JobsMode::Inline).then(|| {
            let runner = Runner::new(JobContext::new(state.db.clone(), state.settings.clone(), state.realtime.clone()));
            tokio::spawn(runner.run(shutdown.clone()))
        });
        let server = serve(listener, state, role)?;
        Ok(Self { port, server, shutdown, jobs })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cancelling it stops the server as SIGTERM would.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Runs until SIGTERM, SIGINT or the shutdown token; then ends every stream, lets running
    /// jobs finish (bounded by the runner's grace period) and stops.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = termination_signal() => tracing::info!("signal received; ending streams and stopping"),
                _ = shutdown.cancelled() => {}
            }
            shutdown.cancel();
            handle.stop(true).await;
        });
        let stopped = self.server.await;
        self.shutdown.cancel();
        if let Some(jobs) = self.jobs {
            let _ = jobs.await;
        }
        stopped
    }
}

fn serve(listener: TcpListener, state: AppState, role: Role) -> std::io::Result<Server> {
    let stall_timeout = state.settings.sse.heartbeat_interval;
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            // Before any handler or extractor runs: a wrong token is told so before the body is read.
            .wrap(from_fn(auth::authenticate_first))
            .wrap(from_fn(body_deadline::bound_body_reads))
            .wrap(PanicReporter::new(panics::log_panic))
            .wrap(CatchPanic::default())
            .wrap(from_fn(panics::answer_panics))
            // Innermost, so the error bodies it writes get the security headers too.
            .wrap(ErrorHandlers::new().handler(StatusCode::METHOD_NOT_ALLOWED, pages::method_not_allowed))
            // Inside drop_untrusted_forwarding, which decides whether X-Forwarded-Proto is believed.
            .wrap(from_fn(https::force_https))
            .wrap(pages::security_headers(&state.settings))
            .wrap(from_fn(metrics::count_requests))
            .wrap(TracingLogger::<AccessLog>::new())
            // Outermost: the access log and every handler see only forwarding headers to believe.
            .wrap(from_fn(client::drop_untrusted_forwarding))
            .app_data(state.clone())
            .app_data(web::QueryConfig::default().error_handler(|e, _| ApiError::BadRequest(e.to_string()).into()))
            // A path segment that is not a valid slug cannot name a board or widget.
            .app_data(
                web::PathConfig::default().error_handler(|_, _| ApiError::not_found("no such board or widget").into()),
            )
            .configure(|cfg| match role {
                Role::Web => {
                    routes::api(cfg);
                    pages::configure(cfg, &state.settings);
                }
                Role::StreamOnly => routes::stream_only(cfg),
            })
            .default_service(match role {
                Role::Web => web::to(pages::not_found),
                Role::StreamOnly => web::to(not_found),
            })
    })
    .on_connect(move |connection, _| drop_stalled_readers(connection, stall_timeout))
    // A client that closed its connection is seen at once, even by a stream with nothing to
    // write to it for a while: the end of what it sends ends the connection, its response and
    // the stream's slot. With half-closed connections allowed, that end would be seen only at
    // the next write. A client that shuts down only its sending side is taken as gone too, as
    // nginx and Go's net/http take it (see README, "The stream", and docs/architecture.md).
    .h1_allow_half_closed(false)
    .listen(listener)?
    .disable_signals()
    .shutdown_timeout(SHUTDOWN_TIMEOUT.as_secs())
    // Streams write small frames one after another: Nagle's algorithm would hold each behind
    // the previous one's acknowledgement.
    .tcp_nodelay(true)
    .backlog(4096)
    .max_connection_rate(2048)
    .max_connections(50_000)
    .run();
    Ok(server)
}

/// A stream whose reader stopped reading fills its socket, and then actix stops polling the
/// stream's body, so the hub cannot see it fall behind. The kernel can: with TCP_USER_TIMEOUT,
/// data left unacknowledged (including a zero window that never opens) for one heartbeat
/// interval drops the connection, which ends the stream and frees its slot. The same catches a
/// client that vanished without closing, at its next heartbeat. Linux (the supported server
/// platform, see README) has it; elsewhere such a reader holds its slot until the OS gives up.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn drop_stalled_readers(connection: &dyn std::any::Any, timeout: Duration) {
    if let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>()
        && let Err(error) = socket2::SockRef::from(stream).set_tcp_user_timeout(Some(timeout))
    {
        tracing::debug!(%error, "cannot set TCP_USER_TIMEOUT");
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn drop_stalled_readers(_: &dyn std::any::Any, _: Duration) {}

async fn not_found() -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("no such route"))
}

pub async fn termination_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
