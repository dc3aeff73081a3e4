#!/usr/bin/env bash
# Runs one sluice-bench benchmark (release build, own scratch path) with the
# given arguments, e.g. `Benchmarks/run.sh kafka-wordcount --rounds 3`.
# Prints the load average before, so noisy runs can be recognised.
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${BENCH_SCRATCH:-.build-bench-rel}"
swift build -c release --scratch-path "$SCRATCH" --product sluice-bench >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
echo "\$ sluice-bench $*   ($(date -u '+%Y-%m-%d %H:%M UTC'); $(uptime | sed 's/.*load/load/'))"
exec "$BIN/sluice-bench" "$@"
