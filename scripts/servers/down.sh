#!/usr/bin/env bash
# Stops the test servers that up.sh started and deletes their data (the installs stay cached).
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
status=0
bash "$here/kafka.sh" clean || status=1
bash "$here/mongo.sh" clean || status=1
exit "$status"
