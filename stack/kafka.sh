#!/usr/bin/env bash
# A real Apache Kafka (KRaft) from the official jars: one combined broker+controller
# node, or with KAFKA_BROKERS=3 a cluster of three such nodes (a static quorum of their
# three controllers). Locked down: SASL/SCRAM-SHA-512 over TLS (SASL_SSL) on the only
# client listener (also between the brokers), KRaft's StandardAuthorizer with
# allow.everyone.if.no.acl.found=false, and ACLs that give each principal (admin,
# intake, assessment, one per upstream source) its least rights. Only the controllers
# listen in plaintext, on localhost.
#   stack/kafka.sh fetch | start | stop | status | kill | bootstrap | version
#   stack/kafka.sh client-env PRINCIPAL   the variables a client of PRINCIPAL needs
#   stack/kafka.sh add-source NAME        principal source.NAME, its password and its topic
#                                         intake.raw.v1.NAME (writable only by it)
# KAFKA_PORT (default 9092) and KAFKA_INSTANCE (default "main"; tests start private
# instances) pick the broker; its controller listens on KAFKA_CONTROLLER_PORT
# (default KAFKA_PORT+1). With KAFKA_BOOTSTRAP set, an existing broker is used and
# nothing is started or stopped. KAFKA_SECURITY=plaintext (benchmark comparisons only)
# starts the broker without TLS, SASL and ACLs.
# Cluster mode, KAFKA_BROKERS=3: node n listens on KAFKA_PORT+2(n-1) and its controller
# on the port after it, unless KAFKA_PORTS and KAFKA_CONTROLLER_PORTS list the ports
# (comma-separated, node 1 first). The internal topics, and the topics the services
# create, get replication factor 3 and min.insync.replicas 2. KAFKA_NODE=n limits
# start, stop, status and kill to node n (fault injection: `KAFKA_NODE=2 stack/kafka.sh
# kill`, then `stack/kafka.sh start` starts whatever node is not running). While a
# cluster runs, the commands know it without KAFKA_BROKERS (make down, make status).
# Secrets (CA, broker certificate, SCRAM passwords) are generated on first use into
# $STACK_DIR/secrets/kafka (git-ignored) and shared by every node and instance of this clone.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/stack/kafka/pom.xml")
INSTANCE=${KAFKA_INSTANCE:-main}
LIBS=$STACK_DIR/kafka/libs-$KAFKA_VERSION
HEAP=${KAFKA_HEAP:--Xms256m -Xmx512m}
SECURITY=${KAFKA_SECURITY:-sasl_ssl}
SECRETS=$STACK_DIR/secrets/kafka
# Principals created with the storage (SCRAM credentials need no running broker then).
# broker: the brokers' own inter-broker login; admin: ops; the two services.
FIXED_PRINCIPALS=(broker admin intake assessment)
case "$SECURITY" in sasl_ssl|plaintext) ;; *) die "KAFKA_SECURITY must be sasl_ssl or plaintext" ;; esac
source "$ROOT/stack/kafka-files.sh"

# --- the nodes ------------------------------------------------------------------------
BROKERS_FILE=$RUN_DIR/kafka-$INSTANCE.brokers  # a running cluster's size

# The size of the cluster whose nodes (some of them) run now, if one does.
running_cluster() {
  local count n
  [ -s "$BROKERS_FILE" ] || return 1
  count=$(cat "$BROKERS_FILE")
  for ((n = 1; n <= count; n++)); do
    pid_alive "$RUN_DIR/kafka-$INSTANCE-node$n.pid" && { echo "$count"; return 0; }
  done
  return 1
}
BROKERS=${KAFKA_BROKERS:-$(running_cluster || echo 1)}
[[ "$BROKERS" =~ ^[1-9]$ ]] || die "KAFKA_BROKERS must be a number of nodes from 1 to 9"
# Replication of the internal topics and the default of new topics: 3 copies, of which
# 2 must have a write (acks=all) before it is acknowledged; one node may be lost.
REPLICATION=$((BROKERS < 3 ? BROKERS : 3))
MIN_ISR=$((REPLICATION < 3 ? 1 : 2))

if [ "$BROKERS" = 1 ]; then
  CLIENT_PORTS=("$KAFKA_PORT"); CONTROLLER_PORTS=("$KAFKA_CONTROLLER_PORT")
else
  IFS=, read -ra CLIENT_PORTS <<<"${KAFKA_PORTS:-}"
  IFS=, read -ra CONTROLLER_PORTS <<<"${KAFKA_CONTROLLER_PORTS:-}"
  if [ ${#CLIENT_PORTS[@]} -eq 0 ]; then
    for ((n = 0; n < BROKERS; n++)); do CLIENT_PORTS+=($((KAFKA_PORT + 2 * n))); done
  fi
  if [ ${#CONTROLLER_PORTS[@]} -eq 0 ]; then
    for port in "${CLIENT_PORTS[@]}"; do CONTROLLER_PORTS+=($((port + 1))); done
  fi
  [ ${#CLIENT_PORTS[@]} -eq "$BROKERS" ] && [ ${#CONTROLLER_PORTS[@]} -eq "$BROKERS" ] \
    || die "KAFKA_PORTS and KAFKA_CONTROLLER_PORTS must list $BROKERS ports each"
fi
ALL_NODES=($(seq 1 "$BROKERS"))
if [ -n "${KAFKA_NODE:-}" ]; then NODES=("$KAFKA_NODE"); else NODES=("${ALL_NODES[@]}"); fi
for n in "${NODES[@]}"; do
  [[ "$n" =~ ^[1-9]$ ]] && [ "$n" -le "$BROKERS" ] || die "KAFKA_NODE must be a node from 1 to $BROKERS"
done

# Node n's name, files and ports. The single node keeps the layout it always had.
node_name() { if [ "$BROKERS" = 1 ]; then echo "$INSTANCE"; else echo "$INSTANCE-node$1"; fi; }
node_home() { if [ "$BROKERS" = 1 ]; then echo "$STACK_DIR/kafka/$INSTANCE"; else echo "$STACK_DIR/kafka/$INSTANCE/node$1"; fi; }
pid_file() { echo "$RUN_DIR/kafka-$(node_name "$1").pid"; }
log_file() { echo "$LOG_DIR/kafka-$(node_name "$1").log"; }
client_port() { echo "${CLIENT_PORTS[$1 - 1]}"; }
controller_port() { echo "${CONTROLLER_PORTS[$1 - 1]}"; }
bootstrap() {
  local n list=()
  for n in "${ALL_NODES[@]}"; do list+=("localhost:$(client_port "$n")"); done
  (IFS=,; echo "${KAFKA_BOOTSTRAP:-${list[*]}}")
}

# --- configuration and storage ----------------------------------------------------------
write_config() {
  local n=$1 home port cport config
  home=$(node_home "$n"); port=$(client_port "$n"); cport=$(controller_port "$n")
  config=$home/server.properties
  mkdir -p "$home/data"
  if [ "$SECURITY" = plaintext ]; then
    cat >"$config" <<CONF
listeners=PLAINTEXT://localhost:$port,CONTROLLER://localhost:$cport
advertised.listeners=PLAINTEXT://localhost:$port
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
CONF
  else
    # The controller listener stays plaintext on localhost (KRaft's broker->controller
    # and controller<->controller links; its principal is ANONYMOUS, hence a super
    # user). Clients and the brokers among themselves only reach SASL_SSL.
    cat >"$config" <<CONF
listeners=SASL_SSL://localhost:$port,CONTROLLER://localhost:$cport
advertised.listeners=SASL_SSL://localhost:$port
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
  chmod 600 "$config"
  if [ "$BROKERS" = 1 ]; then
    echo "controller.quorum.bootstrap.servers=localhost:$cport" >>"$config"
  else
    local voters=() m
    for m in "${ALL_NODES[@]}"; do voters+=("$m@localhost:$(controller_port "$m")"); done
    (IFS=,; echo "controller.quorum.voters=${voters[*]}") >>"$config"
  fi
  cat >>"$config" <<CONF
process.roles=broker,controller
node.id=$n
controller.listener.names=CONTROLLER
log.dirs=$home/data
num.partitions=6
auto.create.topics.enable=false
default.replication.factor=$REPLICATION
min.insync.replicas=$MIN_ISR
offsets.topic.replication.factor=$REPLICATION
offsets.topic.num.partitions=6
transaction.state.log.num.partitions=6
transaction.state.log.replication.factor=$REPLICATION
transaction.state.log.min.isr=$MIN_ISR
share.coordinator.state.topic.replication.factor=$REPLICATION
share.coordinator.state.topic.min.isr=$MIN_ISR
group.initial.rebalance.delay.ms=0
CONF
  # A killed node's partitions get new leaders once the active controller fences it,
  # after broker.session.timeout.ms without its heartbeat: 9 s by default, 4 s here, so
  # that a producer (intake waits 5 s for its acks) mostly waits through the election
  # rather than failing. Shorter risks fencing a live node that a loaded machine starves.
  if [ "$BROKERS" -gt 1 ]; then
    printf 'broker.session.timeout.ms=4000\nbroker.heartbeat.interval.ms=1000\n' >>"$config"
  fi
}

# A cluster's nodes are formatted with one cluster id, made once per instance.
cluster_id() {
  local file=$STACK_DIR/kafka/$INSTANCE/cluster.id
  if [ ! -s "$file" ]; then
    mkdir -p "$(dirname "$file")"
    java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid >"$file.tmp" 2>/dev/null && mv "$file.tmp" "$file"
  fi
  cat "$file"
}

# Formats node n's storage once, with the SCRAM credentials of the fixed principals
# (each node holds them in its bootstrap metadata; the quorum's leader writes them).
format_storage() {
  local n=$1 home log p id quorum=() scram=()
  home=$(node_home "$n"); log=$(log_file "$n")
  if [ -f "$home/data/meta.properties" ]; then
    [ -f "$home/data/.scram" ] || die "the Kafka data in $home/data predates SASL (no SCRAM
  credentials in its metadata). Remove that directory (its events are lost) or move it away, then start again."
    return 0
  fi
  for p in "${FIXED_PRINCIPALS[@]}"; do
    scram+=(--add-scram "SCRAM-SHA-512=[name=$p,password=$(password "$p")]")
  done
  if [ "$BROKERS" = 1 ]; then
    id=$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null); quorum=(--standalone)
  else
    id=$(cluster_id)  # the voters are static: controller.quorum.voters
  fi
  java -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.xml" -cp "$LIBS/*" \
    kafka.tools.StorageTool format "${quorum[@]}" -t "$id" "${scram[@]}" \
    -c "$home/server.properties" >>"$log" 2>&1 \
    || die "formatting KRaft storage failed; see $log"
  touch "$home/data/.scram"
}

# --- clients ----------------------------------------------------------------------------
# client_env PRINCIPAL -> the client variables (shared/settings.py KafkaSettings)
client_env() {
  local principal=${1:-}
  [ -n "$principal" ] || die "usage: stack/kafka.sh client-env PRINCIPAL"
  echo "KAFKA_BOOTSTRAP=$(bootstrap)"
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
  local log; log=$(log_file "${NODES[0]}")
  kafka_admin platform >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "could not create the ACLs; see $log"; }
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

# --- processes --------------------------------------------------------------------------
node_started() {
  pid_alive "$(pid_file "$1")" && port_open "$(client_port "$1")" \
    && grep -q "Kafka Server started" "$(log_file "$1")" 2>/dev/null
}

launch() {
  local n=$1
  # setsid: the broker outlives this script and the caller's process group.
  setsid nohup java $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$ROOT/stack/kafka/log4j2.xml" \
    -cp "$LIBS/*" kafka.Kafka "$(node_home "$n")/server.properties" >>"$(log_file "$n")" 2>&1 </dev/null &
  echo $! >"$(pid_file "$n")"
}

# Starts the selected nodes that are not running (all of a cluster's together: a node
# waits for a quorum of controllers before it serves).
start() {
  if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then say "KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP: using that broker"; return 0; fi
  local n port pending=()
  for n in "${NODES[@]}"; do
    pid_alive "$(pid_file "$n")" && continue
    for port in "$(client_port "$n")" "$(controller_port "$n")"; do
      port_open "$port" && die "port $port is already taken by another process.
  Stop that process, or choose other ports: KAFKA_PORT=19092 make up (the controller uses the
  next port; in a cluster node n uses KAFKA_PORT+2(n-1), or set KAFKA_PORTS and KAFKA_CONTROLLER_PORTS)."
    done
    pending+=("$n")
  done
  if [ ${#pending[@]} -eq 0 ]; then
    apply_acls  # the scheme may have changed since it started
    say "kafka ($INSTANCE) already running on $(bootstrap)"; return 0
  fi
  fetch
  ensure_secrets
  [ "$BROKERS" = 1 ] || echo "$BROKERS" >"$BROKERS_FILE"
  for n in "${pending[@]}"; do
    write_config "$n"
    : >"$(log_file "$n")"
    format_storage "$n"
    launch "$n"
  done
  for n in "${pending[@]}"; do
    if ! wait_for 90 "kafka node $n" node_started "$n"; then
      pid_alive "$(pid_file "$n")" || { tail -n 30 "$(log_file "$n")" >&2; rm -f "$(pid_file "$n")"; die "kafka $(node_name "$n") exited during start-up; see $(log_file "$n")"; }
      die "kafka $(node_name "$n") did not answer on localhost:$(client_port "$n") within 90 s; see $(log_file "$n")"
    fi
  done
  apply_acls
  say "kafka $KAFKA_VERSION ($INSTANCE, $BROKERS node(s)) ready on $(bootstrap)"
}

# Stops the selected nodes, all at once (one by one, the last nodes of a cluster would
# wait for a controller quorum that is gone).
stop() {
  if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then return 0; fi
  local n
  for n in "${NODES[@]}"; do
    pid_alive "$(pid_file "$n")" && kill -TERM "$(cat "$(pid_file "$n")")" 2>/dev/null || true
  done
  for n in "${NODES[@]}"; do stop_pid "$(pid_file "$n")" "kafka ($(node_name "$n"))"; done
  # A broker releases its ports a moment after exit.
  for n in "${NODES[@]}"; do
    wait_for 15 "kafka ports to close" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$(client_port "$n")) 2>/dev/null" || true
  done
  running_cluster >/dev/null || rm -f "$BROKERS_FILE"
}

# kill -9 of the selected nodes (fault injection); the pid file goes, as a crash leaves it.
kill_nodes() {
  local n file
  for n in "${NODES[@]}"; do
    file=$(pid_file "$n")
    pid_alive "$file" && kill -KILL "$(cat "$file")" 2>/dev/null || true
    rm -f "$file"
    say "killed kafka ($(node_name "$n"))"
  done
}

status() {
  if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then echo "external $KAFKA_BOOTSTRAP"; return 0; fi
  local n line failed=0
  for n in "${NODES[@]}"; do
    if node_started "$n"; then line="running localhost:$(client_port "$n") pid $(cat "$(pid_file "$n")")"
    else line="stopped"; failed=1; fi
    if [ "$BROKERS" = 1 ]; then echo "$line"; else echo "node $n $line"; fi
  done
  return $failed
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  kill) kill_nodes ;;
  bootstrap) bootstrap ;;
  version) echo "$KAFKA_VERSION" ;;
  client-env) client_env "${2:-}" ;;
  add-source) add_source "${2:-}" ;;
  *) die "usage: stack/kafka.sh fetch|start|stop|status|kill|bootstrap|version|client-env PRINCIPAL|add-source NAME" ;;
esac
