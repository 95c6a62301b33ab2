//! A private `redis-server` on a free port, which a test may kill and restart without
//! disturbing other tests.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct PrivateRedis {
    pub port: u16,
    child: Option<Child>,
    /// With TLS only: the folder of its self-signed certificate and key.
    tls: Option<PathBuf>,
}

impl PrivateRedis {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// Speaks only TLS, with a self-signed certificate, as hosted Redis (Heroku's) does.
    pub async fn start_tls() -> Self {
        let dir = std::env::temp_dir().join(format!("dashboard-redis-tls-{}", super::rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        let made = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .stderr(Stdio::null())
            .status()
            .expect("openssl is installed");
        assert!(made.success(), "a self-signed certificate");
        Self::start_with(Some(dir)).await
    }

    async fn start_with(tls: Option<PathBuf>) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = Self { port, child: None, tls };
        redis.restart().await;
        redis
    }

    /// The URL to reach it; with TLS, `#insecure` accepts its self-signed certificate.
    pub fn url(&self) -> String {
        match self.tls {
            Some(_) => format!("rediss://127.0.0.1:{}/#insecure", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// Starts (again) on the same port and waits until it answers.
    pub async fn restart(&mut self) {
        let port = self.port.to_string();
        let mut args: Vec<String> =
            ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"].map(String::from).into();
        match &self.tls {
            None => args.extend(["--port".into(), port]),
            Some(dir) => args.extend([
                "--port".into(),
                "0".into(),
                "--tls-port".into(),
                port,
                "--tls-auth-clients".into(),
                "no".into(),
                "--tls-cert-file".into(),
                dir.join("cert.pem").display().to_string(),
                "--tls-key-file".into(),
                dir.join("key.pem").display().to_string(),
            ]),
        }
        let child = Command::new("redis-server")
            .args(&args)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install -y redis-server)");
        self.child = Some(child);
        for _ in 0..100 {
            if self.ping().await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("private redis-server on port {} did not start", self.port);
    }

    /// SIGKILL: the server vanishes without closing anything cleanly.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub async fn ping(&self) -> bool {
        let Ok(client) = redis::Client::open(self.url()) else { return false };
        let Ok(mut conn) = client.get_multiplexed_async_connection().await else { return false };
        redis::cmd("PING").query_async::<String>(&mut conn).await.is_ok()
    }

    /// `(all clients, subscribed clients)` from `CLIENT LIST`, not counting the one asking.
    /// Clients that have sent a command, besides the one asking (a connection still in its
    /// TLS handshake is listed too, with no command yet), and of those, the subscribed ones.
    pub async fn client_counts(&self) -> (usize, usize) {
        let client = redis::Client::open(self.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let list: String = redis::cmd("CLIENT").arg("LIST").query_async(&mut conn).await.unwrap();
        let others: Vec<&str> =
            list.lines().filter(|line| !line.contains(" cmd=NULL ") && !line.contains(" cmd=client|list ")).collect();
        let subscribed = others.iter().filter(|line| !line.contains(" sub=0 ")).count();
        (others.len(), subscribed)
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.tls {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
