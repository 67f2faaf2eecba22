#!/usr/bin/env bash
# Runs the two services in the background for `make up`.
#   stack/services.sh start|stop|status intake|assessment
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SERVICE=${2:-}
case "$SERVICE" in
  intake) PORT=${INTAKE_PORT:-8080}; CMD=("$ROOT/.venv/bin/intake" serve) ;;
  assessment) PORT=${ASSESSMENT_PORT:-8081}; CMD=("$ROOT/.venv/bin/assessment" run) ;;
  *) die "usage: stack/services.sh start|stop|status intake|assessment" ;;
esac
# Each service is its own Kafka principal (stack/kafka.sh), with only its own rights;
# the intake gets no database URL at all.
PID_FILE=$RUN_DIR/$SERVICE.pid
LOG_FILE=$LOG_DIR/$SERVICE.log

ready() {
  "$ROOT/.venv/bin/python" -c "import sys, urllib.request as u; sys.exit(0 if u.urlopen(\"http://127.0.0.1:$PORT/readyz\", timeout=2).status == 200 else 1)" 2>/dev/null
}

start() {
  if pid_alive "$PID_FILE"; then say "$SERVICE already running on :$PORT"; return 0; fi
  port_open "$PORT" && die "port $PORT is already taken by another process; stop it or set ${SERVICE^^}_PORT."
  [ -x "${CMD[0]}" ] || die "${CMD[0]} is missing: run 'make install' first."
  local principal=()
  if [ -z "${KAFKA_SASL_USERNAME:-}" ]; then
    mapfile -t principal < <("$ROOT/stack/kafka.sh" client-env "$SERVICE")
  fi
  local database=()
  [ "$SERVICE" = intake ] && database=(-u DATABASE_URL -u DATABASE_OWNER_URL -u DATABASE_READ_URL)
  setsid nohup env "${database[@]}" "${principal[@]}" "${CMD[@]}" >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  if ! wait_for 120 "$SERVICE" ready; then
    pid_alive "$PID_FILE" || { tail -n 30 "$LOG_FILE" >&2; rm -f "$PID_FILE"; die "$SERVICE exited during start-up; see $LOG_FILE"; }
    die "$SERVICE did not become ready on :$PORT within 120 s; see $LOG_FILE"
  fi
  say "$SERVICE ready on http://127.0.0.1:$PORT"
}

stop() {
  stop_pid "$PID_FILE" "$SERVICE"
  wait_for 15 "$SERVICE port to close" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null" || true
}

status() { if pid_alive "$PID_FILE" && ready; then echo "running :$PORT"; else echo "stopped"; return 1; fi; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) die "usage: stack/services.sh start|stop|status intake|assessment" ;;
esac
