#!/usr/bin/env bash
# Consume benchmark: 1,000,000 records of 100 bytes in a 4-partition embedded
# cluster topic (lz4), read by a C program (rd_kafka_consume_batch_queue) and
# by KafkaConsumer, alternately, in the same run. Release builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
RECORDS="${RECORDS:-1000000}"
ROUNDS="${ROUNDS:-3}"
mkdir -p .build-bench
gcc -O2 -o .build-bench/consume_c Benchmarks/consume/consume_c.c $(pkg-config --cflags --libs rdkafka)
SCRATCH="${BENCH_SCRATCH:-.build-bench-rel}"
swift build -c release --scratch-path "$SCRATCH" --product sluice-bench >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)"
echo "\$ sluice-bench consume   ($(date -u '+%Y-%m-%d %H:%M UTC'); $(uptime | sed 's/.*load/load/'))"
"$BIN/sluice-bench" consume --records "$RECORDS" --rounds "$ROUNDS" --c-reader .build-bench/consume_c
