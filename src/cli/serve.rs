use crate::config::Settings;
use crate::startup::{Application, Role};

pub async fn run(settings: Settings, role: Role) -> anyhow::Result<()> {
    let pidfile = settings.pidfile.clone();
    let host = settings.host;
    let app = Application::build(settings, role).await?;
    if let Some(path) = &pidfile {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .map_err(|e| anyhow::anyhow!("cannot write PIDFILE {}: {e}", path.display()))?;
    }
    tracing::info!(%host, port = app.port(), ?role, "listening");
    let result = app.run_until_stopped().await;
    if let Some(path) = &pidfile {
        let _ = std::fs::remove_file(path);
    }
    Ok(result?)
}
