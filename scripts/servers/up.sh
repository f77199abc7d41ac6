#!/usr/bin/env bash
# Installs (from package registries, cached) and starts the test servers: Kafka (kafka.sh) and a MongoDB
# wire-protocol server (mongo.sh). Progress goes to stderr; stdout is only the env for the tests, so:
#   eval "$(scripts/servers/up.sh)"     then   npm test
# scripts/servers/down.sh stops both and deletes their data.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# both ACTION: runs kafka.sh and mongo.sh ACTION side by side (Maven mostly waits on the network while Go
# compiles; the two servers start independently) and fails when either fails, after both are done.
both() {
  local kafka mongo status=0
  bash "$here/kafka.sh" "$1" & kafka=$!
  bash "$here/mongo.sh" "$1" & mongo=$!
  wait "$kafka" || status=1
  wait "$mongo" || status=1
  return "$status"
}

both install
both start
bash "$here/kafka.sh" env
bash "$here/mongo.sh" env
