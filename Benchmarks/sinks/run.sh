#!/usr/bin/env bash
# Sink benchmark (issue 5): the exactly-once word count into SQLite, Kafka
# and PostgreSQL vs a no-op sink. Starts a throwaway PostgreSQL server
# (initdb in a temp directory, 127.0.0.1 and a free port, trust auth; as the
# postgres user when run as root, since the server refuses root) and stops
# it after. Without PostgreSQL binaries the PostgreSQL sink is skipped.
set -euo pipefail
cd "$(dirname "$0")/../.."
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
    echo "no PostgreSQL binaries under /usr/lib/postgresql: measuring without the PostgreSQL sink" >&2
    exec bash Benchmarks/run.sh sinks "$@"
fi
DIR="$(mktemp -d /tmp/sluice-bench-pg.XXXXXX)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
AS=()
if [ "$(id -u)" = "0" ]; then
    chown postgres "$DIR"
    AS=(runuser -u postgres --)
fi
cleanup() {
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap cleanup EXIT
"${AS[@]}" mkdir -p "$DIR/socket"
"${AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U sluice --auth=trust >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
    -o "-h 127.0.0.1 -p $PORT -k $DIR/socket -c fsync=on -c synchronous_commit=on" start >/dev/null
bash Benchmarks/run.sh sinks --postgres-url "postgres://sluice@127.0.0.1:$PORT/postgres" "$@"
