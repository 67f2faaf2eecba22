#!/usr/bin/env bash
# A real local PostgreSQL cluster from the machine's binaries, in .stack/postgres,
# locked down: password authentication (scram-sha-256) over TCP for three roles only,
#   service_norm_owner   owns the database and the schemas: migrations and replays
#   service_norm_writer  the assessment's consumer (reads and writes rows, no DDL)
#   service_norm_reader  the query API (SELECT only: no query path can write)
# plus the superuser over the unix socket (peer) for this script itself.
#   stack/postgres.sh start | stop | status | url [writer|owner|reader] | env
# Passwords are generated once into $STACK_DIR/secrets/postgres (git-ignored).
# PG_PORT (default 55432) picks the port; with DATABASE_URL set, that server is used
# and nothing is started or stopped.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_HOME=$STACK_DIR/postgres
LOG_FILE=$LOG_DIR/postgres.log
SECRETS=$STACK_DIR/secrets/postgres
ROLES=(owner writer reader)
role_name() { echo "service_norm_$1"; }

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

password() { cat "$SECRETS/$1.password"; }

ensure_passwords() {
  mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
  local role
  for role in "${ROLES[@]}"; do
    [ -s "$SECRETS/$role.password" ] || (umask 077; openssl rand -hex 24 >"$SECRETS/$role.password")
  done
}

# url [writer|owner|reader] -> the URL of that role (writer: the services' DATABASE_URL)
url() {
  local role=${1:-writer}
  case "$role" in writer|owner|reader) ;; *) die "usage: stack/postgres.sh url [writer|owner|reader]" ;; esac
  if [ -n "${DATABASE_URL:-}" ]; then
    case "$role" in
      writer) echo "$DATABASE_URL" ;;
      owner) echo "${DATABASE_OWNER_URL:-$DATABASE_URL}" ;;
      reader) echo "${DATABASE_READ_URL:-$DATABASE_URL}" ;;
    esac
    return 0
  fi
  [ -s "$SECRETS/$role.password" ] || die "no password for $role yet: run stack/postgres.sh start"
  echo "postgresql://$(role_name "$role"):$(password "$role")@127.0.0.1:$PG_PORT/$PG_DATABASE"
}

# env -> the assessment's three database variables
env_lines() {
  echo "DATABASE_URL=$(url writer)"
  echo "DATABASE_OWNER_URL=$(url owner)"
  echo "DATABASE_READ_URL=$(url reader)"
}

# Superuser access for this script only: over the unix socket, peer-authenticated.
psql_super() { as_owner "$BIN/psql" -h "$SOCKETS" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

ready() { as_owner "$BIN/pg_isready" -q -h "$SOCKETS" -p "$PG_PORT" -d postgres -U postgres; }

# pg_hba.conf admits the superuser on the socket (as the OS user that runs this
# script, mapped to postgres) and the three roles, by password, over loopback TCP.
write_access_rules() {
  local me
  me=$(id -un)
  cat >"$DATA/pg_hba.conf" <<HBA
# Written by stack/postgres.sh on every start.
# TYPE  DATABASE  USER  ADDRESS  METHOD
local   all   postgres   peer map=stack
host    all   $(role_name owner),$(role_name writer),$(role_name reader)   127.0.0.1/32   scram-sha-256
HBA
  cat >"$DATA/pg_ident.conf" <<IDENT
# MAPNAME  SYSTEM-USERNAME  PG-USERNAME
stack      postgres         postgres
stack      $me              postgres
IDENT
  [ "$(id -u)" -eq 0 ] && chown postgres: "$DATA/pg_hba.conf" "$DATA/pg_ident.conf"
  return 0
}

# Roles, passwords, the database and its ownership; default privileges so that what
# the owner creates later (replays create proj_vN schemas) is writable by the writer
# and readable by the reader. Idempotent.
create_roles() {
  local owner writer reader
  owner=$(role_name owner); writer=$(role_name writer); reader=$(role_name reader)
  psql_super -d postgres <<SQL >/dev/null
SET password_encryption = 'scram-sha-256';
SELECT format('CREATE ROLE %I LOGIN', r) FROM unnest(ARRAY['$owner','$writer','$reader']) AS r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
-- CREATEDB: the tests and benchmarks make scratch databases of their own.
ALTER ROLE $owner LOGIN CREATEDB PASSWORD '$(password owner)';
-- ... and drop them WITH (FORCE) although the services' roles are still connected.
GRANT pg_signal_backend TO $owner;
ALTER ROLE $writer LOGIN NOCREATEDB PASSWORD '$(password writer)';
ALTER ROLE $reader LOGIN NOCREATEDB PASSWORD '$(password reader)';
SELECT format('CREATE DATABASE %I OWNER %I', '$PG_DATABASE', '$owner')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE') \gexec
ALTER DATABASE $PG_DATABASE OWNER TO $owner;
SQL
  psql_super -d "$PG_DATABASE" <<SQL >/dev/null
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE $owner GRANT USAGE ON SCHEMAS TO $writer, $reader;
ALTER DEFAULT PRIVILEGES FOR ROLE $owner GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO $writer;
ALTER DEFAULT PRIVILEGES FOR ROLE $owner GRANT SELECT ON TABLES TO $reader;
ALTER DEFAULT PRIVILEGES FOR ROLE $owner GRANT USAGE, SELECT ON SEQUENCES TO $writer;
SQL
}

init_cluster() {
  [ -f "$DATA/PG_VERSION" ] && return 0
  mkdir -p "$DATA" "$SOCKETS"
  [ "$(id -u)" -eq 0 ] && chown -R postgres: "$PG_HOME"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >>"$LOG_FILE" 2>&1 \
    || die "initdb failed; see $LOG_FILE"
  # Local development settings: loopback only, room for bulk rebuilds.
  cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKETS'
password_encryption = 'scram-sha-256'
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
  if [ -f "$DATA/postmaster.pid" ] && ready; then
    ensure_passwords; create_roles
    say "postgres already running on 127.0.0.1:$PG_PORT"; return 0
  fi
  port_open "$PG_PORT" && die "port $PG_PORT is already taken by another process.
  Stop it, or choose another port: PG_PORT=55433 make up"
  touch "$LOG_FILE"; [ "$(id -u)" -eq 0 ] && chown postgres: "$LOG_FILE"
  init_cluster
  ensure_passwords
  write_access_rules
  mkdir -p "$SOCKETS"; [ "$(id -u)" -eq 0 ] && chown postgres: "$SOCKETS"
  as_owner "$BIN/pg_ctl" -D "$DATA" -l "$LOG_FILE" -o "-p $PG_PORT" -w -t 60 start >/dev/null \
    || { tail -n 20 "$LOG_FILE" >&2; die "postgres did not start; see $LOG_FILE"; }
  create_roles || die "could not create the database roles; see $LOG_FILE"
  say "postgres ready on 127.0.0.1:$PG_PORT (roles $(role_name owner), $(role_name writer), $(role_name reader))"
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
  if [ -n "$BIN" ] && [ -f "$DATA/postmaster.pid" ] && ready; then echo "running 127.0.0.1:$PG_PORT"; else echo "stopped"; return 1; fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) url "${2:-writer}" ;;
  env) env_lines ;;
  *) die "usage: stack/postgres.sh start|stop|status|url [writer|owner|reader]|env" ;;
esac
