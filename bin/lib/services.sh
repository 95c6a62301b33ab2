# Sourced by bin/run and bin/test: makes sure PostgreSQL and Redis are reachable.
#
# Uses DATABASE_URL / REDIS_URL (from the environment or .env.$APP_ENV) when they answer.
# Otherwise, when the server binaries are installed, starts private instances under tmp/ and
# exports URLs pointing at them. A missing server is installed when running as root with apt-get
# (Debian, Ubuntu); otherwise the script stops with the command that installs it.

env_value() { # NAME FILE: the variable from the environment, else from the env file
  local name=$1 file=$2
  if [ -n "${!name:-}" ]; then printf '%s' "${!name}"; return; fi
  [ -f "$file" ] && sed -n "s/^${name}=//p" "$file" | tail -n 1
}

die() { echo "error: $*" >&2; exit 1; }

install_packages() { # WHY PACKAGE...: installs them as root with apt-get, else stops saying how
  local why=$1; shift
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "$why: sudo apt-get update && sudo apt-get install -y $*"
  fi
  echo "$why; installing $*" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
    die "could not install $*"
}

postgres_bindir() { # the newest installed server's binaries, if any
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$bindir" ] && [ -x "$bindir/initdb" ] && echo "$bindir"
}

postgres_accepts() { # URL: the server answers and lets us in, not just answers (a freshly
  # installed Debian cluster answers on 5432 but wants a password). Asks its `postgres` database,
  # as the URL's may not exist before `dashboard migrate`.
  local server=${1%%\?*}
  PGCONNECT_TIMEOUT=3 psql "${server%/*}/postgres" -w -XAtqc 'SELECT 1' >/dev/null 2>&1
}

ensure_postgres() {
  local url=$1
  if postgres_accepts "$url"; then export DATABASE_URL=$url; return; fi
  local bindir
  if ! bindir=$(postgres_bindir); then
    install_packages "the PostgreSQL server is not installed" postgresql
    bindir=$(postgres_bindir) || die "PostgreSQL was installed but no server binaries are in /usr/lib/postgresql"
  fi
  local dir=$PWD/tmp/postgres port=54329
  if ! pg_isready -q -h 127.0.0.1 -p $port 2>/dev/null; then
    echo "PostgreSQL at $url does not answer or let us in; starting a private cluster in tmp/postgres on port $port" >&2
    local run_as=()
    [ "$(id -u)" = 0 ] && run_as=(runuser -u postgres --) && mkdir -p tmp && chown postgres "$PWD/tmp" 2>/dev/null
    if [ ! -f "$dir/PG_VERSION" ]; then
      mkdir -p "$dir" && [ "$(id -u)" = 0 ] && chown postgres "$dir"
      "${run_as[@]}" "$bindir/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
    fi
    "${run_as[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -o "-p $port -k /tmp -c listen_addresses=127.0.0.1" -w start >/dev/null
  fi
  local db=${url##*/}
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/${db%%\?*}"
}

ensure_redis() {
  local url=$1
  if [ -n "$url" ] && redis-cli -u "$url" ping >/dev/null 2>&1; then export REDIS_URL=$url; return; fi
  command -v redis-server >/dev/null || install_packages "Redis is not installed" redis-server
  local port=63799
  if ! redis-cli -p $port ping >/dev/null 2>&1; then
    echo "Redis at ${url:-<unset>} does not answer; starting a private one on port $port" >&2
    mkdir -p tmp/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port $port --save "" --appendonly no \
      --dir "$PWD/tmp/redis" --logfile "$PWD/tmp/redis/redis.log"
    for _ in $(seq 50); do redis-cli -p $port ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  export REDIS_URL="redis://127.0.0.1:$port"
}

ensure_services() { # APP_ENV
  local file=".env.$1"
  ensure_postgres "$(env_value DATABASE_URL "$file")"
  ensure_redis "$(env_value REDIS_URL "$file")"
}

ensure_rust() {
  command -v cargo >/dev/null || die "Rust is not installed: curl https://sh.rustup.rs -sSf | sh"
}
