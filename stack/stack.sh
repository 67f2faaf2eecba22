#!/usr/bin/env bash
# The whole local stack: Kafka, PostgreSQL and both services.
#   stack/stack.sh up | down | status | infra-up
# Local defaults (dev tokens) apply only when the variables are not set.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export KAFKA_BOOTSTRAP=${KAFKA_BOOTSTRAP:-}
# The services are configured with token digests (sha256:<hex>), never tokens; the local
# defaults are the digests of dev-token (any source) and dev-read-token.
token_digest() { printf 'sha256:%s' "$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"; }
DEV_TOKENS=0
[ -z "${INTAKE_TOKENS:-}" ] && DEV_TOKENS=1
[ -z "${READ_TOKENS:-}" ] && DEV_TOKENS=$((DEV_TOKENS + 2))
export INTAKE_TOKENS=${INTAKE_TOKENS:-"$(token_digest dev-token)=*"}
export READ_TOKENS=${READ_TOKENS:-"$(token_digest dev-read-token)"}

infra_up() {
  "$ROOT/stack/kafka.sh" start
  "$ROOT/stack/postgres.sh" start
  KAFKA_BOOTSTRAP=$("$ROOT/stack/kafka.sh" bootstrap)
  set -a; eval "$("$ROOT/stack/postgres.sh" env)"; set +a
  export KAFKA_BOOTSTRAP
}

kafka_nodes() {
  local n; n=$(tr ',' '\n' <<<"$KAFKA_BOOTSTRAP" | wc -l)
  if [ "$n" -ge 3 ]; then echo "$n nodes, replication factor 3, min.insync.replicas 2"
  else echo "$n node(s)"; fi
}

up() {
  infra_up
  "$ROOT/stack/services.sh" start intake
  "$ROOT/stack/services.sh" start assessment
  cat <<INFO

The stack is up.
  intake       http://127.0.0.1:${INTAKE_PORT:-8080}   (docs /docs)   token: $( (( DEV_TOKENS & 1 )) && echo "dev-token (any source)" || echo "from INTAKE_TOKENS")
  assessment   http://127.0.0.1:${ASSESSMENT_PORT:-8081}   (docs /docs)   read token: $( (( DEV_TOKENS & 2 )) && echo dev-read-token || echo "from READ_TOKENS")
  kafka        $KAFKA_BOOTSTRAP  ($(kafka_nodes); SASL_SSL; principals and passwords in .stack/secrets/kafka;
               a client's settings: stack/kafka.sh client-env PRINCIPAL)
  postgres     127.0.0.1:${PG_PORT}  (roles owner/writer/reader; URLs: stack/postgres.sh env)
Stop it with: make down   (events survive a restart)
INFO
}

down() {
  "$ROOT/stack/services.sh" stop assessment
  "$ROOT/stack/services.sh" stop intake
  "$ROOT/stack/kafka.sh" stop
  "$ROOT/stack/postgres.sh" stop
  say "the stack is down"
}

status() {
  # A cluster's nodes one per line, under the first.
  printf 'kafka       %s\n' "$("$ROOT/stack/kafka.sh" status | sed '2,$s/^/            /' || true)"
  printf 'postgres    %s\n' "$("$ROOT/stack/postgres.sh" status || true)"
  printf 'intake      %s\n' "$("$ROOT/stack/services.sh" status intake || true)"
  printf 'assessment  %s\n' "$("$ROOT/stack/services.sh" status assessment || true)"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) die "usage: stack/stack.sh up|down|status" ;;
esac
