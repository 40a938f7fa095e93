# Coalition: local development, tests and benchmarks. `make` lists the targets.
# Everything downloaded or built goes to .local/, runtime state (pids, logs, .run/env) to .run/.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# kcat (on our librdkafka) and tansu from `make setup` come first on PATH.
export PATH := $(ROOT)/.local/bin:$(PATH)
ifdef CI
export CI
endif
DEMO ?= 1
export DEMO
SWIFT ?= swift

# Run a command with the settings of the running infrastructure (.run/env).
WITH_ENV = set -a && . "$(ROOT)/.run/env" && set +a &&

.PHONY: help setup build infra-up infra-down reset up down run status test bench compose-check

help: ## List the targets
	@echo "Coalition make targets:"
	@awk 'BEGIN { FS = ":.*## " } /^[a-z][a-zA-Z_-]*:.*## / { printf "  %-14s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@echo "Variables: DEMO=0 (make run without the demo feed), COALITION_PG_PORT, COALITION_BROKER_PORT"

setup: ## Install what is missing (Debian packages, librdkafka 2.8, Python judges, tansu); idempotent
	@scripts/setup.sh

build: setup ## Release build of all products (swift build -c release)
	$(SWIFT) build -c release

infra-up: setup ## Start PostgreSQL 15 and the tansu broker on loopback, write .run/env
	@scripts/infra.sh up

infra-down: ## Stop PostgreSQL and the broker
	@scripts/infra.sh down

reset: ## Stop everything and delete the database cluster and .run
	@scripts/infra.sh reset

up: setup build infra-up ## Infrastructure, migrations, topics and the four services, detached
	@scripts/up.sh

down: ## Stop the services, then the infrastructure
	@scripts/services.sh stop
	@scripts/infra.sh down

run: setup build ## Everything in the foreground with the demo feed and a live summary; Ctrl-C stops
	@scripts/run.sh

status: ## Show what is running
	@scripts/infra.sh status || true
	@scripts/services.sh status || true

test: setup infra-up ## Build and run every test, integration tests included, against local infrastructure
	@$(WITH_ENV) $(SWIFT) build --build-tests
	@$(WITH_ENV) $(SWIFT) test

bench: setup infra-up ## Release build, then PlatformBench: the layers vs kcat and psql, each service vs its peer (BENCH_ONLY=ingestion|fanout|scheduler|metrics)
	@COALITION_SETUP_BENCH=1 scripts/setup.sh
	$(SWIFT) build -c release
	@$(WITH_ENV) .build/release/PlatformBench

compose-check: ## Validate docker-compose.yml (docker-compose config -q)
	@test -f docker-compose.yml || { echo "compose-check: docker-compose.yml not found in $(ROOT)" >&2; exit 1; }
	@command -v docker-compose >/dev/null || { echo "compose-check: docker-compose not found: run make setup" >&2; exit 1; }
	@# Required secrets get a placeholder: this checks the file, it starts nothing.
	COALITION_OPERATOR_TOKEN="$${COALITION_OPERATOR_TOKEN:-compose-check-placeholder}" docker-compose config -q
	@echo "docker-compose.yml is valid"
