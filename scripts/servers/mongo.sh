#!/usr/bin/env bash
# MongoDB wire-protocol server for the tests: FerretDB 1.24 with its SQLite backend, built from the Go module
# proxy (ferretdb/: a small main importing FerretDB as a library), on 127.0.0.1.
#
#   mongo.sh install   build <cache>/ferretdb/ferretdb (skipped when ferretdb/ is unchanged)
#   mongo.sh start     start in the background and wait until a mongodb driver ping answers
#   mongo.sh stop      SIGTERM and wait; keeps the data
#   mongo.sh restart   stop + start, data kept
#   mongo.sh clean     stop and delete the data
#   mongo.sh env       print `export MONGODB_URL=mongodb://127.0.0.1:<port>/journey_test` for the tests
#
# Env: MONGO_PORT (default 27018), read at every start.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NAME=mongo
SRC_DIR="$SERVERS_DIR/ferretdb"
BIN="$CACHE_DIR/ferretdb/ferretdb"
RUN_DIR="$STATE_DIR/mongo"
PIDFILE="$RUN_DIR/ferretdb.pid"
LOGFILE="$RUN_DIR/ferretdb.log"
PORT="${MONGO_PORT:-27018}"

install() {
  local stamp="$BIN.installed-from" want
  want="$(hash_files "$SRC_DIR/go.mod" "$SRC_DIR/go.sum" "$SRC_DIR/main.go")"
  if [[ -x "$BIN" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "mongo: ferretdb cached at $BIN"
    return 0
  fi
  log "mongo: building FerretDB from the Go module proxy into $BIN"
  mkdir -p "$(dirname "$BIN")"
  (cd "$SRC_DIR" && GOFLAGS="${GOFLAGS:-} -mod=mod" go build -trimpath -o "$BIN" .) >&2
  echo "$want" >"$stamp"
}

start() {
  [[ -x "$BIN" ]] || die "FerretDB is not installed: run $0 install"
  start_server "$PORT" "mongodb://127.0.0.1:$PORT" 60 "$BIN" -listen "127.0.0.1:$PORT" -state-dir "$RUN_DIR/data"
}

print_env() { echo "export MONGODB_URL=mongodb://127.0.0.1:$PORT/journey_test"; }

server_main "$@"
