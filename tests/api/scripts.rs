//! bin/run and bin/test's set-up (bin/lib/services.sh) on a machine without Redis: it installs
//! it as root with apt-get, else stops with the command that would. `apt-get`, `id` and the
//! Redis binaries are fakes in a directory of their own, the only one on PATH, so nothing is
//! installed and no server is started.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::rand_suffix;

/// Records its arguments; `install` puts a fake `redis-server` (which marks itself started) and
/// `redis-cli` (which answers once it is) next to it.
const FAKE_APT_GET: &str = r#"#!/bin/bash
echo "apt-get $*" >>"$FAKE/log"
[ "$1" = install ] || exit 0
printf '#!/bin/bash\necho "redis-server $*" >>"$FAKE/log"; touch "$FAKE/started"\n' >"$FAKE/redis-server"
printf '#!/bin/bash\n[ -e "$FAKE/started" ]\n' >"$FAKE/redis-cli"
chmod +x "$FAKE/redis-server" "$FAKE/redis-cli"
"#;

struct FakeMachine {
    dir: PathBuf,
}

impl FakeMachine {
    /// A machine where `id -u` says `uid`, with apt-get unless `apt` is false.
    fn new(uid: u32, apt: bool) -> Self {
        let dir = std::env::temp_dir().join(format!("dashboard-services-{}", rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        write_script(&dir.join("id"), &format!("#!/bin/bash\necho {uid}\n"));
        if apt {
            write_script(&dir.join("apt-get"), FAKE_APT_GET);
        }
        for tool in ["mkdir", "seq", "sleep", "touch", "chmod"] {
            let real = ["/usr/bin", "/bin"].iter().map(|d| Path::new(d).join(tool)).find(|p| p.exists()).unwrap();
            std::os::unix::fs::symlink(real, dir.join(tool)).unwrap();
        }
        Self { dir }
    }

    /// Runs `ensure_redis` with no Redis configured, then prints the URL it settled on.
    fn ensure_redis(&self) -> Output {
        let services = Path::new(env!("CARGO_MANIFEST_DIR")).join("bin/lib/services.sh");
        Command::new("/bin/bash")
            .args(["-c", r#"set -euo pipefail; source "$1"; ensure_redis ""; echo "$REDIS_URL""#, "test"])
            .arg(services)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", &self.dir)
            .env("FAKE", &self.dir)
            .output()
            .unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }
}

impl Drop for FakeMachine {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn write_script(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

#[test]
fn as_root_with_apt_get_a_missing_redis_is_installed_and_started() {
    let machine = FakeMachine::new(0, true);
    let output = machine.ensure_redis();
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "redis://127.0.0.1:63799");
    let log = machine.log();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines[..2], ["apt-get update -qq", "apt-get install -y -qq redis-server"], "{log}");
    assert!(lines[2].starts_with("redis-server --daemonize yes --bind 127.0.0.1 --port 63799"), "{log}");
}

#[test]
fn otherwise_it_stops_with_the_command_that_installs_it() {
    for machine in [FakeMachine::new(1000, true), FakeMachine::new(0, false)] {
        let output = machine.ensure_redis();
        assert_eq!(output.status.code(), Some(1));
        assert_eq!(
            text(&output.stderr),
            "error: Redis is not installed: sudo apt-get update && sudo apt-get install -y redis-server"
        );
        assert_eq!(machine.log(), "", "nothing run");
    }
}
