#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests (trust auth, 127.0.0.1 only, fsync off).
#   scripts/pg-throwaway.sh start DIR   -> prints postgresql+psycopg://postgres@127.0.0.1:PORT/portvakt
#   scripts/pg-throwaway.sh stop DIR    -> stops the cluster and removes DIR
# PGBIN overrides where initdb/pg_ctl live. As root, the cluster runs as the `postgres` user.
set -euo pipefail

MARKER=.portvakt-pg-throwaway

die() { echo "pg-throwaway: $*" >&2; exit 1; }

find_pgbin() {
  if [[ -n "${PGBIN:-}" ]]; then echo "$PGBIN"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$found" ]]; then echo "$found"; return; fi
  command -v initdb >/dev/null 2>&1 || die "initdb not found (install PostgreSQL or set PGBIN)"
  dirname "$(command -v initdb)"
}

# Run a command as the cluster owner: `postgres` when we are root (initdb refuses root), else ourselves.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd "$DIR" && runuser -u postgres -- "$@")
  else
    (cd "$DIR" && "$@")
  fi
}

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 40000 ))
    if port_is_free "$port"; then echo "$port"; return; fi
  done
  die "no free port found"
}

make_dir() {
  [[ -e "$DIR/data" ]] && die "$DIR already holds a cluster"
  mkdir -p "$DIR"
  touch "$DIR/$MARKER"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user"
    chown -R postgres: "$DIR"
  fi
  chmod 700 "$DIR"
}

configure() {
  cat >>"$DIR/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
}

start_cluster() {
  as_owner "$PGBIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; echo "pg-throwaway: initdb failed" >&2; return 1; }
  local port attempt
  for attempt in 1 2 3; do
    port=$(pick_port)
    configure "$port"
    if as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/postgres.log" -w -t 60 start >/dev/null; then
      echo "$port" >"$DIR/port"
      as_owner "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres portvakt || return 1
      echo "postgresql+psycopg://postgres@127.0.0.1:$port/portvakt"
      return 0
    fi
    echo "pg-throwaway: start on port $port failed (attempt $attempt)" >&2
  done
  cat "$DIR/postgres.log" >&2 || true
  echo "pg-throwaway: PostgreSQL did not start" >&2
  return 1
}

start() {
  make_dir
  if ! start_cluster; then
    stop
    exit 1
  fi
}

stop() {
  [[ -d "$DIR" ]] || return 0
  [[ -f "$DIR/$MARKER" ]] || die "$DIR was not made by pg-throwaway.sh; not touching it"
  if [[ -f "$DIR/data/postmaster.pid" ]]; then
    as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null || echo "pg-throwaway: stop failed" >&2
  fi
  rm -rf "$DIR"
}

[[ $# -eq 2 ]] || die "usage: $0 start|stop DIR"
DIR=$(realpath -m "$2")
PGBIN=$(find_pgbin)
case "$1" in
  start) start ;;
  stop) stop ;;
  *) die "usage: $0 start|stop DIR" ;;
esac
