#!/usr/bin/env bash
# A throwaway Citus cluster on loopback: a coordinator and two workers, for the tests marked `citus` and the
# Citus benchmark (docs/scale-out.md). Needs PostgreSQL 15 with Citus installed (../shared/tools/install_citus.sh).
#
#   scripts/citus_cluster.sh start DIR PASSWORD   initdb + start the three nodes in parallel (fsync off), create
#                                                 the extension on each, register the workers; prints the
#                                                 coordinator's URL (database postgres) on stdout
#   scripts/citus_cluster.sh stop DIR             stop the three nodes and remove DIR
#
# PG_BIN (default: the newest /usr/lib/postgresql/*/bin) selects the server. CITUS_SHARD_COUNT (default 8) is
# the cluster's citus.shard_count; see docs/scale-out.md for choosing it.
set -euo pipefail

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
NODES=(coordinator worker1 worker2)

as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_node() {  # initdb + start one node + CREATE EXTENSION citus
  local dir="$1" node="$2" port="$3"
  as_pg "$PG_BIN/initdb" -D "$dir/$node" -U alphahome --pwfile="$dir/pwfile" --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$dir/$node.initdb.log" 2>&1 \
    || { cat "$dir/$node.initdb.log" >&2; return 1; }
  # PGPASSFILE: the nodes reach each other as alphahome over TCP with the password (scram), from this file.
  as_pg env PGPASSFILE="$dir/pgpass" "$PG_BIN/pg_ctl" -D "$dir/$node" -l "$dir/$node.log" -w -t 60 start -o \
    "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c max_connections=300 -c max_prepared_transactions=300 \
     -c shared_preload_libraries=citus -c citus.shard_count=${CITUS_SHARD_COUNT:-8}" >/dev/null \
    || { cat "$dir/$node.log" >&2; return 1; }
  "$PG_BIN/psql" -qAt -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U alphahome -d postgres \
    -c "CREATE EXTENSION citus" >/dev/null
}

start() {
  local dir="$1" password="$2"
  mkdir -p "$dir"
  printf '%s\n' "$password" >"$dir/pwfile"
  printf '*:*:*:alphahome:%s\n' "$password" >"$dir/pgpass"  # also localhost: citus.local_hostname
  chmod 600 "$dir/pgpass"
  if [ "$(id -u)" = "0" ]; then chown -R postgres "$dir"; fi
  declare -A port
  for node in "${NODES[@]}"; do port[$node]="$(free_port)"; echo "${port[$node]}" >"$dir/$node.port"; done
  local pids=() ok=1
  for node in "${NODES[@]}"; do start_node "$dir" "$node" "${port[$node]}" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid" || ok=0; done
  [ "$ok" = 1 ] || return 1
  "$PG_BIN/psql" -qAt -v ON_ERROR_STOP=1 -h "$dir" -p "${port[coordinator]}" -U alphahome -d postgres \
    >/dev/null <<SQL
SELECT citus_set_coordinator_host('127.0.0.1', ${port[coordinator]});
SELECT citus_add_node('127.0.0.1', ${port[worker1]});
SELECT citus_add_node('127.0.0.1', ${port[worker2]});
SQL
  echo "postgresql://alphahome:${password}@127.0.0.1:${port[coordinator]}/postgres"
}

stop() {
  local dir="$1" pids=()
  for node in "${NODES[@]}"; do
    as_pg "$PG_BIN/pg_ctl" -D "$dir/$node" -m immediate stop >/dev/null 2>&1 & pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  rm -rf "$dir"
}

case "${1:-}" in
  start) [ $# -eq 3 ] || { echo "usage: $0 start DIR PASSWORD" >&2; exit 2; }; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; stop "$2" ;;
  *) echo "usage: $0 start DIR PASSWORD | stop DIR" >&2; exit 2 ;;
esac
