#!/usr/bin/env bash
# make demo: an embedded Kafka cluster, a load generator and a live consumer.
# Usage: scripts/demo.sh PATH_TO_SLUICE [SECONDS]
set -euo pipefail
SLUICE="$1"
SECONDS_TO_RUN="${2:-${DEMO_SECONDS:-20}}"
WORK="$(mktemp -d)"
cleanup() {
    [ -n "${TAIL_PID:-}" ] && kill "$TAIL_PID" 2>/dev/null || true
    [ -n "${PRODUCE_PID:-}" ] && kill "$PRODUCE_PID" 2>/dev/null || true
    [ -n "${BROKER_PID:-}" ] && kill "$BROKER_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"$SLUICE" broker --brokers 3 --topic page-views:4 >"$WORK/broker.out" 2>"$WORK/broker.log" &
BROKER_PID=$!
for _ in $(seq 1 100); do
    grep -q '^bootstrap ' "$WORK/broker.out" 2>/dev/null && break
    sleep 0.1
done
BOOTSTRAP="$(awk '/^bootstrap /{print $2}' "$WORK/broker.out")"
[ -n "$BOOTSTRAP" ] || { echo "the embedded cluster did not start:"; cat "$WORK/broker.log"; exit 1; }
echo "embedded Kafka cluster at $BOOTSTRAP"

"$SLUICE" produce --bootstrap "$BOOTSTRAP" --topic page-views --format user-events \
    --count 1000000000 --rate 2000 --seed 1 &
PRODUCE_PID=$!
"$SLUICE" tail --bootstrap "$BOOTSTRAP" --topic page-views --from earliest --format detailed \
    --idle-exit 5 &
TAIL_PID=$!
sleep "$SECONDS_TO_RUN"
echo "demo finished after $SECONDS_TO_RUN s"
