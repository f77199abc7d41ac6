#!/usr/bin/env bash
# Single-node Apache Kafka 3.9 broker (KRaft, broker+controller in one JVM) on 127.0.0.1 for the tests.
# Jars come from Maven Central (kafka/pom.xml) through `mvn dependency:copy-dependencies`.
#
#   kafka.sh install   copy the jars into <cache>/kafka/lib (skipped when kafka/pom.xml is unchanged)
#   kafka.sh start     start in the background and wait until a kafkajs admin lists topics; formats a new
#                      data dir on first start, reuses it (same cluster, same topics and messages) after
#   kafka.sh stop      SIGTERM, wait for the clean shutdown (SIGKILL after 60 s); keeps the data
#   kafka.sh restart   stop + start of the same broker, data kept (tests restart it mid-publish)
#   kafka.sh clean     stop and delete the data dir, so the next start is a fresh cluster
#   kafka.sh env       print `export KAFKA_BROKERS=127.0.0.1:<port>` for the tests
#
# Env (read when the data dir is first formatted; a restart keeps the ports it was formatted with):
#   KAFKA_PORT             client listener (PLAINTEXT), default 19092
#   KAFKA_CONTROLLER_PORT  KRaft controller listener,   default 19093
#   KAFKA_HEAP_OPTS        JVM heap,                   default -Xms256m -Xmx1g
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

NAME=kafka
LIB_DIR="$CACHE_DIR/kafka/lib"
RUN_DIR="$STATE_DIR/kafka"
DATA_DIR="$RUN_DIR/data"
CONFIG="$RUN_DIR/server.properties"
PIDFILE="$RUN_DIR/kafka.pid"
LOGFILE="$RUN_DIR/kafka.log"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

install() {
  local pom="$SERVERS_DIR/kafka/pom.xml" stamp="$LIB_DIR/.installed-from" want
  want="$(hash_files "$pom")"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "kafka: jars cached in $LIB_DIR"
    return 0
  fi
  log "kafka: copying jars from Maven Central into $LIB_DIR"
  rm -rf "$LIB_DIR"
  mvn -B -q -Dstyle.color=never -f "$pom" \
    -Dmaven.wagon.http.retryHandler.count=3 \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$LIB_DIR" >&2
  echo "$want" >"$stamp"
}

# The client port the data dir was configured with.
client_port() { sed -n 's/^advertised.listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$CONFIG"; }

# The broker's config is written once, next to its data, so a restart finds the same ports and log dir.
configure() {
  local port="${KAFKA_PORT:-19092}" controller="${KAFKA_CONTROLLER_PORT:-19093}"
  mkdir -p "$RUN_DIR"
  cat >"$CONFIG" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
CONF
}

# shellcheck disable=SC2206 # KAFKA_HEAP_OPTS holds several JVM options
JVM=("$JAVA" ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j.configuration="file:$SERVERS_DIR/kafka/log4j.properties" -cp "$LIB_DIR/*")

start() {
  [[ -f "$LIB_DIR/.installed-from" ]] || die "kafka is not installed: run $0 install"
  if ! pid_alive "$PIDFILE" && [[ ! -f "$DATA_DIR/meta.properties" ]]; then
    rm -rf "$DATA_DIR"
    configure
    # A random cluster id: 16 random bytes, base64url without padding, as kafka-storage random-uuid prints. It is
    # passed as --cluster-id=…: one id in 64 starts with '-', which `-t <id>` would read as an option.
    local cluster_id
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    "${JVM[@]}" kafka.tools.StorageTool format --cluster-id="$cluster_id" -c "$CONFIG" >"$LOGFILE" 2>&1 ||
      { cat "$LOGFILE" >&2; die "kafka: storage format failed"; }
    log "kafka: formatted $DATA_DIR (cluster $cluster_id)"
  fi
  start_server "$(client_port)" "127.0.0.1:$(client_port)" 180 "${JVM[@]}" kafka.Kafka "$CONFIG"
}

print_env() { echo "export KAFKA_BROKERS=127.0.0.1:$(client_port)"; }

server_main "$@"
