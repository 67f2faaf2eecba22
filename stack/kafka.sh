#!/usr/bin/env bash
# A real single-node Apache Kafka (KRaft, broker+controller) from the official jars,
# locked down: SASL/SCRAM-SHA-512 over TLS (SASL_SSL) on the only client listener,
# KRaft's StandardAuthorizer with allow.everyone.if.no.acl.found=false, and ACLs that
# give each principal (admin, intake, assessment, one per upstream source) its least
# rights. Only the controller listens in plaintext, on localhost.
#   stack/kafka.sh fetch | start | stop | status | bootstrap | version
#   stack/kafka.sh client-env PRINCIPAL   the variables a client of PRINCIPAL needs
#   stack/kafka.sh add-source NAME        principal source.NAME, its password and its topic
#                                         intake.raw.v1.NAME (writable only by it)
# KAFKA_PORT (default 9092) and KAFKA_INSTANCE (default "main"; tests start private
# instances) pick the broker. With KAFKA_BOOTSTRAP set, an existing broker is used and
# nothing is started or stopped. KAFKA_SECURITY=plaintext (benchmark comparisons only)
# starts the broker without TLS, SASL and ACLs.
# Secrets (CA, broker certificate, SCRAM passwords) are generated on first use into
# $STACK_DIR/secrets/kafka (git-ignored) and shared by every instance of this clone.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/stack/kafka/pom.xml")
INSTANCE=${KAFKA_INSTANCE:-main}
LIBS=$STACK_DIR/kafka/libs-$KAFKA_VERSION
HOME_DIR=$STACK_DIR/kafka/$INSTANCE
PID_FILE=$RUN_DIR/kafka-$INSTANCE.pid
LOG_FILE=$LOG_DIR/kafka-$INSTANCE.log
HEAP=${KAFKA_HEAP:--Xms256m -Xmx512m}
SECURITY=${KAFKA_SECURITY:-sasl_ssl}
SECRETS=$STACK_DIR/secrets/kafka
# Principals created with the storage (SCRAM credentials need no running broker then).
# broker: the broker's own inter-broker login; admin: ops; the two services.
FIXED_PRINCIPALS=(broker admin intake assessment)
case "$SECURITY" in sasl_ssl|plaintext) ;; *) die "KAFKA_SECURITY must be sasl_ssl or plaintext" ;; esac

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

password() { cat "$SECRETS/$1.password"; }

# new_password NAME -> creates $SECRETS/NAME.password once (owner-readable only)
new_password() {
  local file=$SECRETS/$1.password
  [ -s "$file" ] && return 0
  (umask 077; openssl rand -hex 24 >"$file.tmp") && mv "$file.tmp" "$file"
}

# The CA and the broker's certificate (SAN localhost, 127.0.0.1 and kafka, the
# compose service name), made once with openssl; the broker reads a PKCS#12 store.
ensure_secrets() {
  command -v openssl >/dev/null || die "openssl is needed to make the broker's TLS certificate"
  mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
  local p
  for p in "${FIXED_PRINCIPALS[@]}" keystore; do new_password "$p"; done
  [ -s "$SECRETS/broker.p12" ] && return 0
  say "generating a CA and the broker certificate in $SECRETS ..."
  (
    umask 077; cd "$SECRETS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=service-norm local CA" \
      -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:kafka\nextendedKeyUsage=serverAuth,clientAuth\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile broker.ext -out broker.pem 2>/dev/null
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
      -passout "pass:$(cat keystore.password)" -out broker.p12.tmp
    mv broker.p12.tmp broker.p12
    rm -f broker.csr broker.ext ca.srl
    chmod 644 ca.pem
  ) || die "could not generate the TLS certificates in $SECRETS"
}

write_config() {
  mkdir -p "$HOME_DIR/data"
  if [ "$SECURITY" = plaintext ]; then
    cat >"$HOME_DIR/server.properties" <<CONF
listeners=PLAINTEXT://localhost:$KAFKA_PORT,CONTROLLER://localhost:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://localhost:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
CONF
  else
    # The controller listener stays plaintext on localhost (KRaft's broker->controller
    # link; its principal is ANONYMOUS, hence a super user). Clients only reach SASL_SSL.
    cat >"$HOME_DIR/server.properties" <<CONF
listeners=SASL_SSL://localhost:$KAFKA_PORT,CONTROLLER://localhost:$KAFKA_CONTROLLER_PORT
advertised.listeners=SASL_SSL://localhost:$KAFKA_PORT
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="$(password broker)";
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECRETS/broker.p12
ssl.keystore.password=$(password keystore)
ssl.truststore.type=PEM
ssl.truststore.location=$SECRETS/ca.pem
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:broker;User:admin;User:ANONYMOUS
CONF
  fi
  chmod 600 "$HOME_DIR/server.properties"
  cat >>"$HOME_DIR/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
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

# Formats the storage once, with the SCRAM credentials of the fixed principals.
format_storage() {
  if [ -f "$HOME_DIR/data/meta.properties" ]; then
    [ -f "$HOME_DIR/data/.scram" ] || die "the Kafka data in $HOME_DIR/data predates SASL (no SCRAM
  credentials in its metadata). Remove that directory (its events are lost) or move it away, then start again."
    return 0
  fi
  local cluster_id p scram=()
  for p in "${FIXED_PRINCIPALS[@]}"; do
    scram+=(--add-scram "SCRAM-SHA-512=[name=$p,password=$(password "$p")]")
  done
  cluster_id=$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null)
  java -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.xml" -cp "$LIBS/*" \
    kafka.tools.StorageTool format --standalone -t "$cluster_id" "${scram[@]}" \
    -c "$HOME_DIR/server.properties" >>"$LOG_FILE" 2>&1 \
    || die "formatting KRaft storage failed; see $LOG_FILE"
  touch "$HOME_DIR/data/.scram"
}

# client_env PRINCIPAL -> the client variables (shared/settings.py KafkaSettings)
client_env() {
  local principal=${1:-}
  [ -n "$principal" ] || die "usage: stack/kafka.sh client-env PRINCIPAL"
  echo "KAFKA_BOOTSTRAP=${KAFKA_BOOTSTRAP:-localhost:$KAFKA_PORT}"
  if [ "$SECURITY" = plaintext ]; then echo "KAFKA_SECURITY_PROTOCOL=PLAINTEXT"; return 0; fi
  [ -s "$SECRETS/$principal.password" ] || die "no principal '$principal' here (see stack/kafka.sh add-source)"
  echo "KAFKA_SECURITY_PROTOCOL=SASL_SSL"
  echo "KAFKA_SASL_USERNAME=$principal"
  echo "KAFKA_SASL_PASSWORD_FILE=$SECRETS/$principal.password"
  echo "KAFKA_CA_FILE=$SECRETS/ca.pem"
}

# kafka_admin ARGS... -> the platform's access tool (shared/kafka_access_cli.py) as admin
kafka_admin() {
  [ -x "$ROOT/.venv/bin/python" ] || die "$ROOT/.venv is missing: run 'make install' first."
  env $(client_env admin) "$ROOT/.venv/bin/python" -m shared.kafka_access_cli "$@"
}

# The services' ACLs on the contract's topics (idempotent: Kafka ignores a binding
# that exists already).
apply_acls() {
  [ "$SECURITY" = plaintext ] && return 0
  kafka_admin platform >>"$LOG_FILE" 2>&1 || { tail -n 20 "$LOG_FILE" >&2; die "could not create the ACLs; see $LOG_FILE"; }
}

add_source() {
  local name=${1:-}
  [[ "$name" =~ ^[a-z0-9._-]{1,64}$ ]] || die "usage: stack/kafka.sh add-source NAME (1-64 chars of [a-z0-9._-])"
  [ "$SECURITY" = plaintext ] && die "add-source needs the secured broker (KAFKA_SECURITY=sasl_ssl)"
  mkdir -p "$SECRETS"
  new_password "source.$name"
  kafka_admin add-source "$name" --password-file "$SECRETS/source.$name.password" \
    --partitions "${TOPIC_PARTITIONS:-6}" >&2
  say "source '$name': principal source.$name may write only intake.raw.v1.$name. Hand its team:"
  client_env "source.$name"
}

started() { pid_alive "$PID_FILE" && port_open "$KAFKA_PORT" && grep -q "Kafka Server started" "$LOG_FILE" 2>/dev/null; }

start() {
  if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then say "KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP: using that broker"; return 0; fi
  if pid_alive "$PID_FILE"; then
    apply_acls  # the scheme may have changed since it started
    say "kafka ($INSTANCE) already running on localhost:$KAFKA_PORT"; return 0
  fi
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_open "$port" && die "port $port is already taken by another process.
  Stop that process, or choose other ports: KAFKA_PORT=19092 make up (the controller uses KAFKA_PORT+1)."
  done
  fetch
  ensure_secrets
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
  apply_acls
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
  client-env) client_env "${2:-}" ;;
  add-source) add_source "${2:-}" ;;
  *) die "usage: stack/kafka.sh fetch|start|stop|status|bootstrap|version|client-env PRINCIPAL|add-source NAME" ;;
esac
