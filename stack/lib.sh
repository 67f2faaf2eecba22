# Shared helpers for the stack scripts (sourced, not run).
# Everything the stack writes lives under $STACK_DIR (git-ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK_DIR=${STACK_DIR:-$ROOT/.stack}
LOG_DIR=$STACK_DIR/logs
RUN_DIR=$STACK_DIR/run
mkdir -p "$LOG_DIR" "$RUN_DIR"

say() { printf '%s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# port_open PORT -> true when something accepts TCP connections on localhost:PORT
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive FILE -> true when FILE holds the pid of a running process
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_for SECONDS DESCRIPTION COMMAND... -> polls COMMAND until it succeeds
wait_for() {
  local seconds=$1 what=$2; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.3
  done
}

# stop_pid FILE NAME -> TERM, wait up to 30 s, then KILL; removes FILE
stop_pid() {
  local file=$1 name=$2 pid
  if ! pid_alive "$file"; then rm -f "$file"; return 0; fi
  pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_for 30 "$name to stop" bash -c "! kill -0 $pid 2>/dev/null"; then
    say "$name did not stop in 30 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

# Default ports: Kafka on 9092 (controller 9093), PostgreSQL on 55432 so that a
# system PostgreSQL on 5432 is never disturbed.
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
PG_PORT=${PG_PORT:-55432}
PG_DATABASE=${PG_DATABASE:-service_norm}
