# Sluice — the two commands: `make demo` and `make test`.
# Each installs the Debian packages it needs when they are missing.

SWIFT ?= swift
# What building and running needs; the tests also start a PostgreSQL server (over TLS, with certificates made by openssl).
APT_PACKAGES := librdkafka-dev libsqlite3-dev
TEST_APT_PACKAGES := $(APT_PACKAGES) postgresql openssl
SUDO := $(shell [ "$$(id -u)" = "0" ] || echo sudo)

.PHONY: all build deps test-deps test test-scale-out test-kafka test-core demo bench bench-consume bench-kafka-wordcount bench-latency bench-socket-wordcount bench-state bench-window bench-sinks clean

all: build

# Installs the Debian packages named in $(1) that are missing.
define install_missing
	@missing=""; \
	for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
	@pkg-config --exists rdkafka || { echo "librdkafka not found by pkg-config (rdkafka.pc)"; exit 1; }
endef

## deps: librdkafka and SQLite development packages; test-deps: and PostgreSQL for the sink tests
deps:
	$(call install_missing,$(APT_PACKAGES))

test-deps:
	$(call install_missing,$(TEST_APT_PACKAGES))

build: deps
	$(SWIFT) build

## test: the whole suite (unit, mock-cluster integration, separate processes)
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip ScaleOutProcessTests

## test-scale-out: several `sluice run wordcount` processes of one job through kills, joins and a pause (a few minutes)
test-scale-out: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter ScaleOutProcessTests

test-kafka: deps
	$(SWIFT) test --filter SluiceKafkaTests

test-core: deps
	$(SWIFT) test --filter SluiceTests

## demo: embedded Kafka cluster, load generator, exactly-once word count into SQLite, live progress
DEMO_SECONDS ?= 30
demo: deps
	$(SWIFT) build -c release --product sluice
	"$$($(SWIFT) build -c release --show-bin-path)/sluice" demo --seconds $(DEMO_SECONDS)

## bench-consume: 1,000,000 records, C reader vs KafkaConsumer (release build)
bench-consume: deps
	bash Benchmarks/consume/run.sh

## bench-*: the benchmarks of issues 3–5 (release builds; figures in docs/performance-history.md, a summary in README)
BENCH := bash Benchmarks/run.sh

bench-kafka-wordcount: deps
	$(BENCH) kafka-wordcount

bench-latency: deps
	$(BENCH) latency

bench-socket-wordcount: deps
	$(BENCH) socket-wordcount

bench-state: deps
	$(BENCH) state

bench-window: deps
	$(BENCH) window

bench-sinks: test-deps
	bash Benchmarks/sinks/run.sh

## bench: every benchmark, one after the other
bench: bench-consume bench-kafka-wordcount bench-latency bench-socket-wordcount bench-state bench-window bench-sinks

clean:
	rm -rf .build
