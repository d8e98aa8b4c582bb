#!/usr/bin/env bash
# Makes sure Postgres and Redis answer on localhost, for `make run` and
# `make test`. On a fresh Debian machine it installs and starts them; where
# they already run it only creates the idp role and database. Idempotent.
set -euo pipefail

PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

me=services
apt_hint="or point IDP_DATABASE_URL / IDP_REDIS_URL at running servers"
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

wait_for() { # port, name
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  say "$2 did not start on port $1"; exit 1
}

# --- Postgres ---------------------------------------------------------------
if ! port_open "$PG_PORT"; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql
    # The package may start its own cluster: use it rather than start it again.
    for _ in 1 2 3 4; do port_open "$PG_PORT" && break; sleep 0.5; done
  fi
  if ! port_open "$PG_PORT"; then
    ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    if ! [ -d "/etc/postgresql/$ver/main" ]; then
      as_root pg_createcluster "$ver" main >/dev/null
    fi
    say "starting PostgreSQL $ver"
    as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
    wait_for "$PG_PORT" PostgreSQL
  fi
fi
have psql || apt_install postgresql-client

# Run SQL as a superuser: over TCP as postgres when the server trusts
# loopback, else through the local socket as the postgres OS user.
pg_super() {
  if psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -tAc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -v ON_ERROR_STOP=1 -qtAc "$1"
  else
    # From /, which the postgres user may enter, unlike the caller's directory.
    (cd / && as_root runuser -u postgres -- psql -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -qtAc "$1")
  fi
}
if [ "$(pg_super "select count(*) from pg_roles where rolname = 'idp'")" != 1 ]; then
  say "creating role idp"
  pg_super "create role idp login createdb password 'idp'"
fi
# The tests drop their own databases WITH (FORCE), which terminates any other
# backend still connected, an autovacuum worker included; a role that is not a
# superuser needs pg_signal_backend for that. Granted again on every run, so a
# role made by an earlier version of this script gets it too.
if [ "$(pg_super "select pg_has_role('idp', 'pg_signal_backend', 'member')")" != t ]; then
  say "granting pg_signal_backend to idp (the tests' clean-up)"
  pg_super "grant pg_signal_backend to idp"
fi
if [ "$(pg_super "select count(*) from pg_database where datname = 'idp'")" != 1 ]; then
  say "creating database idp"
  pg_super "create database idp owner idp"
fi

# --- Redis ------------------------------------------------------------------
if ! port_open "$REDIS_PORT"; then
  if ! have redis-server; then
    apt_install redis-server
    # The package may start its own service: use it rather than start a second.
    for _ in 1 2 3 4; do port_open "$REDIS_PORT" && break; sleep 0.5; done
  fi
  if ! port_open "$REDIS_PORT"; then
    say "starting Redis"
    mkdir -p /tmp/idp-redis
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
      --dir /tmp/idp-redis --logfile /tmp/idp-redis/redis.log
    wait_for "$REDIS_PORT" Redis
  fi
fi

say "PostgreSQL on 127.0.0.1:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT are ready"
