#!/usr/bin/env bash
# Shared by the bench scripts: builds the release binary, starts and stops Dashboard and the
# peers of bench/peers, samples memory and CPU from /proc, and appends to BENCHMARKS.md.
# Everything runs on loopback; every process started here is stopped by its own PID.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS=${PEERS:-$ROOT/bench/peers}
RUN=${RUN:-/tmp/dashboard-bench}
# BIN=/path/to/dashboard measures that binary as it is (e.g. to compare two builds); by
# default the scripts build and measure the worktree's release binary.
BUILD=${BIN:+no}
BIN=${BIN:-$ROOT/target/release/dashboard}
DASH_PORT=${DASH_PORT:-3900}
BENCH_DATABASE_URL=${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/dashboard_bench}
BENCH_REDIS_URL=${BENCH_REDIS_URL:-redis://127.0.0.1:6379}
RESULTS=${RESULTS:-$ROOT/BENCHMARKS.md}
mkdir -p "$RUN"

die() { echo "bench: $*" >&2; exit 1; }

build() {
  [ "${BUILD:-}" = no ] || (cd "$ROOT" && cargo build --release --quiet --bin dashboard)
}

apt_install() { # packages...
  [ "$(id -u)" = 0 ] || die "missing $*: sudo apt-get install -y $*"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_peers() {
  command -v go >/dev/null && [ -e /usr/lib/nginx/modules/ngx_nchan_module.so ] && command -v curl >/dev/null ||
    apt_install golang-go nginx libnginx-mod-nchan curl
}

# The stream URL, and how loadtest publishes, per server.
stream_url() {
  case $1 in
    dashboard) echo "http://127.0.0.1:$DASH_PORT/dashboard/stream" ;;
    goserver) echo "http://127.0.0.1:8081/dashboard/stream" ;;
    nchan) echo "http://127.0.0.1:8082/dashboard/stream" ;;
  esac
}
publish_flags() {
  case $1 in
    dashboard) echo "--token $TOKEN" ;;
    goserver) echo "--publish-url http://127.0.0.1:8081/publish" ;;
    nchan) echo "--publish-url http://127.0.0.1:8082/publish" ;;
  esac
}

# Starts a server; sets SERVER_PIDS (the processes to sample) and, for Dashboard, TOKEN.
start_server() {
  case $1 in
    dashboard) start_dashboard ;;
    goserver | nchan)
      local master
      master=$(RUN=$RUN/peers "$PEERS/peer.sh" start "$1" | tail -1)
      # shellcheck disable=SC2046,SC2116 # word splitting joins the PIDs with single spaces
      SERVER_PIDS=$(echo "$master" $(pgrep -P "$master" || true)) ;;
  esac
}
stop_server() {
  case $1 in
    dashboard) kill -TERM "$SERVER_PIDS" 2>/dev/null || true; wait "$SERVER_PIDS" 2>/dev/null || true ;;
    goserver | nchan) RUN=$RUN/peers "$PEERS/peer.sh" stop "$1" ;;
  esac
}

# A fresh database, a token, and `dashboard serve` in pub/sub mode with room for 20,000 streams.
# DASH_ENV="NAME=value ..." adds settings (bench/soak's).
start_dashboard() {
  local admin=${BENCH_DATABASE_URL%/*}/postgres db=${BENCH_DATABASE_URL##*/}
  ! curl -s -o /dev/null "http://127.0.0.1:$DASH_PORT/" 2>/dev/null ||
    die "something already listens on 127.0.0.1:$DASH_PORT; pick a free port with DASH_PORT=..."
  psql "$admin" -Xq -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  DATABASE_URL=$BENCH_DATABASE_URL "$BIN" migrate >/dev/null
  DATABASE_URL=$BENCH_DATABASE_URL "$BIN" seed >/dev/null
  TOKEN=$(DATABASE_URL=$BENCH_DATABASE_URL "$BIN" token create "bench-$$-$RANDOM" 2>/dev/null)
  # Run from $RUN so no .env file applies: the environment below is the whole configuration.
  # shellcheck disable=SC2086 # DASH_ENV is split into NAME=value words on purpose
  (cd "$RUN" && ulimit -n 20000 && exec env DATABASE_URL="$BENCH_DATABASE_URL" REDIS_URL="$BENCH_REDIS_URL" \
    REDIS_CHANNEL_PREFIX="bench-$$" HOST=127.0.0.1 PORT="$DASH_PORT" DEMO_FEED=false JOBS=off \
    SSE_MAX_CONNECTIONS=20000 SSE_MAX_CONNECTIONS_PER_IP=20000 LOG_LEVEL=warn,dashboard=info ${DASH_ENV:-} "$BIN" serve) >"$RUN/dashboard.log" 2>&1 &
  SERVER_PIDS=$!
  for _ in $(seq 1 100); do
    kill -0 "$SERVER_PIDS" 2>/dev/null || die "dashboard serve exited; see $RUN/dashboard.log"
    curl -fsS -o /dev/null "http://127.0.0.1:$DASH_PORT/health" 2>/dev/null && return 0
    sleep 0.1
  done
  die "dashboard serve did not come up; see $RUN/dashboard.log"
}

# Resident memory of the server in KiB: RSS, or PSS summed over processes (nginx's master and
# workers share pages, so PSS counts each page once).
memory_kib() {
  local total=0 pid
  if [ "$(wc -w <<<"$SERVER_PIDS")" = 1 ]; then
    awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PIDS/status"
    return
  fi
  for pid in $SERVER_PIDS; do
    total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")))
  done
  echo "$total"
}

# CPU seconds (user + system) the server's processes have used so far.
cpu_seconds() {
  local ticks=0 pid hz
  hz=$(getconf CLK_TCK)
  for pid in $SERVER_PIDS; do
    ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  awk -v t="$ticks" -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}'
}

ratio() { # a b -> a/b with two decimals, or - when either is missing or b is 0
  awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

# The heading of a results section: date, machine, commit, command.
section_header() { # title command
  local commit
  commit=$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src Cargo.toml || echo "+uncommitted")
  cat <<MD

## $1 — $(date -u '+%Y-%m-%d %H:%M UTC')

Machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo) memory, Linux $(uname -r), open-file limit $(ulimit -n); commit \`$commit\`; load client and server on the same machine; load average before the run $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared with other work: figures under load are noisier).
Command: \`$2\`

MD
}

ensure_results_file() {
  [ -f "$RESULTS" ] || printf '# Benchmarks\n\nAppended by the scripts in `bench/` (one command each); newest last. See docs/loadtest.md.\n' >"$RESULTS"
}
