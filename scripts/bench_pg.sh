#!/usr/bin/env bash
# A persistent PostgreSQL cluster for the benchmarks (bench/bench_data_api.py --pg-url … --reuse): its data
# directory survives between runs, so the large market (18M rows, minutes to load) is loaded once.
#
#   scripts/bench_pg.sh start [DIR]   initdb DIR on first use, start the server on loopback; prints its URL
#   scripts/bench_pg.sh stop [DIR]    stop the server (the data stays in DIR)
#   scripts/bench_pg.sh url [DIR]     print the URL (database postgres)
#
# DIR defaults to /work/bench-pg; BENCH_PG_PORT (default 54330) is the port. Runs the server as the postgres
# user when started as root (pg_ctl refuses root). Settings: the server defaults plus fsync off (a benchmark
# box, never production data); BENCH_PG_OPTIONS adds more (e.g. "-c shared_buffers=2GB").
set -euo pipefail

ACTION="${1:-}"
DIR="${2:-/work/bench-pg}"
PORT="${BENCH_PG_PORT:-54330}"
PASSWORD="alphahome-bench"
PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"

as_pg() {
  if [ "$(id -u)" = "0" ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

url() { echo "postgresql://alphahome:${PASSWORD}@127.0.0.1:${PORT}/postgres"; }

case "$ACTION" in
  start)
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      mkdir -p "$DIR"
      if [ "$(id -u)" = "0" ]; then chown postgres "$DIR"; fi
      printf '%s\n' "$PASSWORD" > "$DIR/pwfile"
      chmod 644 "$DIR/pwfile"
      as_pg "$PG_BIN/initdb" -D "$DIR/data" -U alphahome --pwfile="$DIR/pwfile" --auth-local=trust \
        --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
    fi
    if ! as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
      as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 120 start -o \
        "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
         -c full_page_writes=off ${BENCH_PG_OPTIONS:-}" >/dev/null || { tail -20 "$DIR/server.log" >&2; exit 1; }
    fi
    url
    ;;
  stop)
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast stop >/dev/null
    ;;
  url)
    url
    ;;
  *)
    echo "usage: $0 start|stop|url [DIR]" >&2
    exit 2
    ;;
esac
