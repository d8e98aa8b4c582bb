#!/usr/bin/env bash
# Makes sure Postgres and Redis answer on localhost, for `make run` and
# `make test`. On a fresh Debian machine it installs and starts them; where
# they already run it only creates the idp role and database. Idempotent.
set -euo pipefail

PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

say() { printf 'services: %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif have sudo; then sudo "$@"
  else say "need root to run: $*"; exit 1
  fi
}

apt_updated=
apt_install() {
  if ! have apt-get; then
    say "cannot install $* here (no apt-get): install it yourself, or point IDP_DATABASE_URL / IDP_REDIS_URL at running servers"
    exit 1
  fi
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  say "installing $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # port, name
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done
  say "$2 did not start on port $1"; exit 1
}

# --- Postgres ---------------------------------------------------------------
if ! port_open "$PG_PORT"; then
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql
  fi
  ver=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  if ! [ -d "/etc/postgresql/$ver/main" ]; then
    as_root pg_createcluster "$ver" main >/dev/null
  fi
  say "starting PostgreSQL $ver"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  wait_for "$PG_PORT" PostgreSQL
fi
have psql || apt_install postgresql-client

# Run SQL as a superuser: over TCP as postgres when the server trusts
# loopback, else through the local socket as the postgres OS user.
pg_super() {
  if psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -tAc 'select 1' >/dev/null 2>&1; then
    psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -w -v ON_ERROR_STOP=1 -qtAc "$1"
  else
    as_root runuser -u postgres -- psql -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -qtAc "$1"
  fi
}
if [ "$(pg_super "select count(*) from pg_roles where rolname = 'idp'")" != 1 ]; then
  say "creating role idp"
  pg_super "create role idp login createdb password 'idp'"
fi
if [ "$(pg_super "select count(*) from pg_database where datname = 'idp'")" != 1 ]; then
  say "creating database idp"
  pg_super "create database idp owner idp"
fi

# --- Redis ------------------------------------------------------------------
if ! port_open "$REDIS_PORT"; then
  have redis-server || apt_install redis-server
  say "starting Redis"
  mkdir -p /tmp/idp-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /tmp/idp-redis --logfile /tmp/idp-redis/redis.log
  wait_for "$REDIS_PORT" Redis
fi

say "PostgreSQL on 127.0.0.1:$PG_PORT and Redis on 127.0.0.1:$REDIS_PORT are ready"
