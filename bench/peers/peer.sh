#!/usr/bin/env bash
# Starts and stops the peers on loopback (see README.md next to this file).
#   peer.sh start goserver|nchan   builds what it needs, waits until it answers, prints its PID
#                                  (nchan: the nginx master; its workers are its children)
#   peer.sh stop goserver|nchan    stops the PID that start recorded
#   peer.sh pid goserver|nchan
# State, logs and PIDs live in $RUN (default /tmp/dashboard-peers); only PIDs recorded there
# are ever signalled.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUN=${RUN:-/tmp/dashboard-peers}
mkdir -p "$RUN"
[ $# = 2 ] || { echo "usage: $0 start|stop|pid goserver|nchan" >&2; exit 2; }
command=$1 peer=$2
pidfile=$RUN/$peer.pid

case $peer in
goserver | nchan) ;;
*) echo "unknown peer: $peer (goserver or nchan)" >&2; exit 2 ;;
esac

wait_until_up() { # url pid
  for _ in $(seq 1 50); do
    kill -0 "$2" 2>/dev/null || { echo "$peer exited; see $RUN/$peer.log" >&2; return 1; }
    curl -m 2 -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$peer did not answer $1; see $RUN/$peer.log" >&2
  return 1
}

start() {
  [ ! -f "$pidfile" ] || ! kill -0 "$(cat "$pidfile")" 2>/dev/null || { echo "$peer already runs" >&2; exit 1; }
  case $peer in
  goserver)
    (cd "$HERE/goserver" && go build -o "$RUN/goserver" .)
    # Go (1.19 and later) raises its open-file limit to the hard limit itself.
    "$RUN/goserver" -addr 127.0.0.1:8081 >"$RUN/goserver.log" 2>&1 &
    echo $! >"$pidfile"
    wait_until_up http://127.0.0.1:8081/health "$!" ;;
  nchan)
    mkdir -p "$RUN/nchan/tmp"
    nginx -p "$RUN/nchan/" -e "$RUN/nchan/error.log" -c "$HERE/nchan/nginx.conf" >"$RUN/nchan.log" 2>&1 &
    echo $! >"$pidfile"
    wait_until_up http://127.0.0.1:8082/health "$!" ;;
  esac
  cat "$pidfile"
}

stop() {
  [ -f "$pidfile" ] || return 0
  local pid
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$pidfile"
}

case $command in
start) start ;;
stop) stop ;;
pid) cat "$pidfile" ;;
*) echo "unknown command: $command (start, stop or pid)" >&2; exit 2 ;;
esac
