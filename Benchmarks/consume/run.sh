#!/usr/bin/env bash
# Consume benchmark: 1,000,000 records of 100 bytes in a 4-partition embedded
# cluster topic (lz4), read by a C program (rd_kafka_consume_batch_queue) and
# by KafkaConsumer, alternately, in the same run. Release builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
# BENCH_SCRATCH: the release build's scratch path (default .build-bench-rel),
# which also holds the compiled C reader; give each concurrent user their own.
RECORDS="${RECORDS:-1000000}"
ROUNDS="${ROUNDS:-5}"
SCRATCH="${BENCH_SCRATCH:-.build-bench-rel}"
mkdir -p "$SCRATCH"
gcc -O2 -o "$SCRATCH/consume_c" Benchmarks/consume/consume_c.c $(pkg-config --cflags --libs rdkafka)
swift build -c release --scratch-path "$SCRATCH" --product sluice-bench >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
echo "\$ sluice-bench consume   ($(date -u '+%Y-%m-%d %H:%M UTC'); $(uptime | sed 's/.*load/load/'); librdkafka $(pkg-config --modversion rdkafka))"
"$BIN/sluice-bench" consume --records "$RECORDS" --rounds "$ROUNDS" --c-reader "$SCRATCH/consume_c"
