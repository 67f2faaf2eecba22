#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft, broker+controller) from the official jars.
#   stack/kafka.sh fetch | start | stop | status | bootstrap
# KAFKA_PORT (default 9092) and KAFKA_INSTANCE (default "main"; tests start private
# instances) pick the broker. With KAFKA_BOOTSTRAP set, an existing broker is used and
# nothing is started or stopped.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/stack/kafka/pom.xml")
INSTANCE=${KAFKA_INSTANCE:-main}
LIBS=$STACK_DIR/kafka/libs-$KAFKA_VERSION
HOME_DIR=$STACK_DIR/kafka/$INSTANCE
PID_FILE=$RUN_DIR/kafka-$INSTANCE.pid
LOG_FILE=$LOG_DIR/kafka-$INSTANCE.log
HEAP=${KAFKA_HEAP:--Xms256m -Xmx512m}

require_java() {
  command -v java >/dev/null || die "Java 17+ is needed for Kafka and 'java' is not on PATH.
  Install it (Debian: apt-get install -y openjdk-17-jre-headless), or point KAFKA_BOOTSTRAP at a running broker."
  local major
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  [ "${major:-0}" -ge 17 ] || die "Kafka $KAFKA_VERSION needs Java 17 or newer; found Java ${major:-unknown}.
  Install a newer JDK and put it first on PATH (or set JAVA_HOME)."
}

fetch() {
  [ -f "$LIBS/.complete" ] && return 0
  require_java
  command -v mvn >/dev/null || die "Maven ('mvn') is needed to fetch the Kafka jars from Maven Central.
  Install it (Debian: apt-get install -y maven), or point KAFKA_BOOTSTRAP at a running broker."
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIBS ..."
  rm -rf "$LIBS.tmp"
  mvn -q -B -f "$ROOT/stack/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" >"$LOG_DIR/kafka-fetch.log" 2>&1 \
    || die "mvn could not fetch the Kafka jars; see $LOG_DIR/kafka-fetch.log"
  touch "$LIBS.tmp/.complete"
  rm -rf "$LIBS"; mv "$LIBS.tmp" "$LIBS"
}

write_config() {
  mkdir -p "$HOME_DIR/data"
  cat >"$HOME_DIR/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://localhost:$KAFKA_PORT,CONTROLLER://localhost:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://localhost:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$HOME_DIR/data
num.partitions=6
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
CONF
}

format_storage() {
  [ -f "$HOME_DIR/data/meta.properties" ] && return 0
  local cluster_id
  cluster_id=$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null)
  java -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.xml" -cp "$LIBS/*" \
    kafka.tools.StorageTool format --standalone -t "$cluster_id" \
    -c "$HOME_DIR/server.properties" >>"$LOG_FILE" 2>&1 \
    || die "formatting KRaft storage failed; see $LOG_FILE"
}

started() { pid_alive "$PID_FILE" && port_open "$KAFKA_PORT" && grep -q "Kafka Server started" "$LOG_FILE" 2>/dev/null; }

start() {
  if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then say "KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP: using that broker"; return 0; fi
  if pid_alive "$PID_FILE"; then say "kafka ($INSTANCE) already running on localhost:$KAFKA_PORT"; return 0; fi
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$port" && die "port $port is already taken by another process.
  Stop that process, or choose other ports: KAFKA_PORT=19092 make up (the controller uses KAFKA_PORT+1)."
  done
  fetch
  write_config
  : >"$LOG_FILE"
  format_storage
  # setsid: the broker outlives this script and the caller's process group.
  setsid nohup java $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.xml" \
    -cp "$LIBS/*" kafka.Kafka "$HOME_DIR/server.properties" >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  if ! wait_for 90 "kafka" started; then
    pid_alive "$PID_FILE" || { tail -n 30 "$LOG_FILE" >&2; rm -f "$PID_FILE"; die "kafka exited during start-up; see $LOG_FILE"; }
    die "kafka did not answer on localhost:$KAFKA_PORT within 90 s; see $LOG_FILE"
  fi
  say "kafka $KAFKA_VERSION ($INSTANCE) ready on localhost:$KAFKA_PORT"
}

stop() {
  if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then return 0; fi
  stop_pid "$PID_FILE" "kafka ($INSTANCE)"
  # The broker releases its ports a moment after exit.
  wait_for 15 "kafka ports to close" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$KAFKA_PORT) 2>/dev/null" || true
}

status() {
  if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then echo "external $KAFKA_BOOTSTRAP"; return 0; fi
  if started; then echo "running localhost:$KAFKA_PORT pid $(cat "$PID_FILE")"; else echo "stopped"; return 1; fi
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  bootstrap) echo "${KAFKA_BOOTSTRAP:-localhost:$KAFKA_PORT}" ;;
  version) echo "$KAFKA_VERSION" ;;
  *) die "usage: stack/kafka.sh fetch|start|stop|status|bootstrap|version" ;;
esac
