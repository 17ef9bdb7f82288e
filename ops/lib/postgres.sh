#!/usr/bin/env bash
# Throwaway PostgreSQL for the quick start, the tests and the benchmark.
#
#   source ops/lib/postgres.sh
#   postgres_up [--fast]     # exports ConnectionStrings__Postgres; stops and removes the cluster when the script ends,
#                            # however it ends (see cleanup.sh)
#
# When ConnectionStrings__Postgres is already set, that database is used as it is and nothing is started.
# Otherwise a cluster is initialised in a temporary folder (as the `postgres` user when running as root) on a free
# loopback port, and Debian's `postgresql` package is installed first when no server binaries are found.
# --fast turns off fsync and synchronous commit: for tests only, where durability across a machine crash is moot.

source "$(dirname "${BASH_SOURCE[0]}")/cleanup.sh"

_pg_log() { echo "[postgres] $*" >&2; }

_pg_find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin /usr/local/pgsql/bin; do
    [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

_pg_install() {
  _pg_log "no PostgreSQL server found; installing Debian's postgresql package"
  if [ "$(id -u)" -ne 0 ]; then
    _pg_log "need root to install PostgreSQL (or set ConnectionStrings__Postgres)"; return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

_pg_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

postgres_down() {
  if [ -n "${_PG_ROOT:-}" ] && [ -d "$_PG_ROOT" ]; then
    _pg_as_owner "$_PG_BIN/pg_ctl" -D "$_PG_ROOT/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$_PG_ROOT"
    _pg_log "stopped and removed the throwaway cluster"
  fi
  _PG_ROOT=""
}

postgres_up() {
  local fast=""
  [ "${1:-}" = "--fast" ] && fast=1
  if [ -n "${ConnectionStrings__Postgres:-}" ]; then
    _pg_log "using ConnectionStrings__Postgres as given"
    return 0
  fi
  _PG_BIN=$(_pg_find_bin) || { _pg_install && _PG_BIN=$(_pg_find_bin); } || { _pg_log "PostgreSQL unavailable"; return 1; }
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
  fi
  _PG_ROOT=$(mktemp -d "${TMPDIR:-/tmp}/projections-pg.XXXXXX")
  on_exit postgres_down
  [ "$(id -u)" -eq 0 ] && chown postgres "$_PG_ROOT"
  _pg_as_owner "$_PG_BIN/initdb" -D "$_PG_ROOT/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
  # A port found free can be taken before the server binds it: try a few.
  local port opts attempt
  for attempt in 1 2 3; do
    port=$(_pg_free_port) || { _pg_log "no free port"; return 1; }
    opts="-p $port -k $_PG_ROOT -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB"
    [ -n "$fast" ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _pg_as_owner "$_PG_BIN/pg_ctl" -D "$_PG_ROOT/data" -o "$opts" -l "$_PG_ROOT/postgres.log" -w start >/dev/null && break
    _pg_log "the server did not start (attempt $attempt):"; tail -n 5 "$_PG_ROOT/postgres.log" >&2 || true
    [ "$attempt" = 3 ] && return 1
    sleep 1
  done
  "$_PG_BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE projections" >/dev/null
  # For the fault tests: `$PROJECTIONS_PG_CTL stop|start` stops or restarts this cluster (same port, same data).
  local owner=""
  [ "$(id -u)" -eq 0 ] && owner="runuser -u postgres --"
  cat >"$_PG_ROOT/ctl" <<CTL
#!/usr/bin/env bash
exec $owner "$_PG_BIN/pg_ctl" -D "$_PG_ROOT/data" -o "$opts" -l "$_PG_ROOT/postgres.log" -m fast -w "\$1"
CTL
  chmod 755 "$_PG_ROOT/ctl"
  export PROJECTIONS_PG_CTL="$_PG_ROOT/ctl"
  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$port;Username=postgres;Database=projections"
  _pg_log "throwaway cluster on 127.0.0.1:$port (log: $_PG_ROOT/postgres.log)"
}
