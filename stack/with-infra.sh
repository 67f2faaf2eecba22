#!/usr/bin/env bash
# Runs a command with Kafka and PostgreSQL available, starting whichever is not
# already running (or given by KAFKA_BOOTSTRAP / DATABASE_URL) and stopping, on exit,
# only what it started.   stack/with-infra.sh COMMAND...
# KAFKA_BROKERS=3 starts (or expects) the three-node cluster of stack/kafka.sh.
# The command gets the local broker's `admin` principal (KAFKA_SASL_*; ops, tests and
# benchmarks create topics and ACLs) and the three database roles' URLs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

started=()
cleanup() {
  local status=$?
  # Without the addresses exported below: with them, the stop scripts would take the
  # servers started here for external ones and leave them running.
  for ((i=${#started[@]}-1; i>=0; i--)); do
    env -u KAFKA_BOOTSTRAP -u DATABASE_URL "$ROOT/stack/${started[i]}" stop || true
  done
  exit $status
}
trap cleanup EXIT INT TERM

if [ -z "${KAFKA_BOOTSTRAP:-}" ]; then
  "$ROOT/stack/kafka.sh" status >/dev/null 2>&1 || { "$ROOT/stack/kafka.sh" start; started+=(kafka.sh); }
  KAFKA_BOOTSTRAP=$("$ROOT/stack/kafka.sh" bootstrap)
  set -a; eval "$("$ROOT/stack/kafka.sh" client-env admin)"; set +a
fi
if [ -z "${DATABASE_URL:-}" ]; then
  "$ROOT/stack/postgres.sh" status >/dev/null 2>&1 || { "$ROOT/stack/postgres.sh" start; started+=(postgres.sh); }
  set -a; eval "$("$ROOT/stack/postgres.sh" env)"; set +a
fi
export KAFKA_BOOTSTRAP DATABASE_URL
"$@"
