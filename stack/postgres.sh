#!/usr/bin/env bash
# A real local PostgreSQL cluster from the machine's binaries, in .stack/postgres.
#   stack/postgres.sh start | stop | status | url
# PG_PORT (default 55432) picks the port; with DATABASE_URL set, that server is used
# and nothing is started or stopped.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_HOME=$STACK_DIR/postgres
LOG_FILE=$LOG_DIR/postgres.log

find_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_binaries() {
  say "PostgreSQL server binaries not found; installing the Debian package 'postgresql' ..."
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  command -v apt-get >/dev/null || die "no PostgreSQL server binaries and no apt-get to install them.
  Install PostgreSQL 14+ (initdb, pg_ctl), or set DATABASE_URL to an existing server."
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
    || die "installing the 'postgresql' package failed; install it by hand or set DATABASE_URL."
}

# initdb and postgres refuse to run as root: as root, run them as the 'postgres' user.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    (cd / && runuser -u postgres -- "$@")  # from a folder it may enter
  else
    "$@"
  fi
}

# As root the cluster runs as 'postgres', which must be able to reach it. A clone under a
# folder that user cannot enter (root's home, a `mktemp -d` folder) keeps its cluster in a
# folder of its own under /var/lib/postgresql instead, one per clone, and
# .stack/postgres links to it.
relocate_if_unreachable() {
  [ "$(id -u)" -eq 0 ] || return 0
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  runuser -u postgres -- test -x "$STACK_DIR" 2>/dev/null && return 0
  local target
  target=/var/lib/postgresql/service-norm/$(printf '%s' "$STACK_DIR" | sha256sum | cut -c1-16)
  if [ ! -L "$PG_HOME" ]; then
    # Only an empty leftover of a failed start can be here: a cluster never started.
    [ -f "$PG_HOME/data/PG_VERSION" ] && die "$PG_HOME holds a cluster the postgres user cannot reach"
    rm -rf "$PG_HOME"
    mkdir -p "$target"
    ln -s "$target" "$PG_HOME"
  fi
  PG_HOME=$(readlink -f "$PG_HOME")
  mkdir -p "$PG_HOME"
  chown postgres: "$PG_HOME" "$(dirname "$PG_HOME")"
  LOG_FILE=$PG_HOME/postgres.log
  ln -sfn "$LOG_FILE" "$LOG_DIR/postgres.log"
}
relocate_if_unreachable
DATA=$PG_HOME/data
SOCKETS=$PG_HOME/run

url() { echo "${DATABASE_URL:-postgresql://postgres@127.0.0.1:$PG_PORT/$PG_DATABASE}"; }

ready() { as_owner "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -d postgres -U postgres; }

init_cluster() {
  [ -f "$DATA/PG_VERSION" ] && return 0
  mkdir -p "$DATA" "$SOCKETS"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$PG_HOME"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >>"$LOG_FILE" 2>&1 \
    || die "initdb failed; see $LOG_FILE"
  # Local development settings: loopback only, room for bulk rebuilds.
  cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKETS'
max_connections = 200
shared_buffers = 256MB
work_mem = 32MB
maintenance_work_mem = 256MB
max_wal_size = 4GB
checkpoint_timeout = 15min
CONF
}

start() {
  if [ -n "${DATABASE_URL:-}" ]; then say "DATABASE_URL is set: using that server"; return 0; fi
  BIN=$(find_bindir)
  [ -n "$BIN" ] || { install_binaries; BIN=$(find_bindir); }
  [ -n "$BIN" ] || die "PostgreSQL binaries still not found under /usr/lib/postgresql/*/bin"
  if [ -f "$DATA/postmaster.pid" ] && ready; then say "postgres already running on 127.0.0.1:$PG_PORT"; return 0; fi
  port_open "$PG_PORT" && die "port $PG_PORT is already taken by another process.
  Stop it, or choose another port: PG_PORT=55433 make up"
  touch "$LOG_FILE"; [ "$(id -u)" -eq 0 ] && chown postgres: "$LOG_FILE"
  init_cluster
  mkdir -p "$SOCKETS"; [ "$(id -u)" -eq 0 ] && chown postgres: "$SOCKETS"
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG_FILE" -o "-p $PG_PORT" -w -t 60 start >/dev/null \
    || { tail -n 20 "$LOG_FILE" >&2; die "postgres did not start; see $LOG_FILE"; }
  as_owner "$BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qtAc \
    "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'" | grep -q 1 \
    || as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$PG_DATABASE"
  say "postgres ready: $(url)"
}

stop() {
  if [ -n "${DATABASE_URL:-}" ]; then return 0; fi
  BIN=$(find_bindir)
  [ -n "$BIN" ] && [ -f "$DATA/postmaster.pid" ] || return 0
  as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

status() {
  if [ -n "${DATABASE_URL:-}" ]; then echo "external $DATABASE_URL"; return 0; fi
  BIN=$(find_bindir)
  if [ -n "$BIN" ] && [ -f "$DATA/postmaster.pid" ] && ready; then echo "running $(url)"; else echo "stopped"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) url ;;
  *) die "usage: stack/postgres.sh start|stop|status|url" ;;
esac
