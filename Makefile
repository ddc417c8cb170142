# MdvGateway — developer and CI entry points. `make help` lists the targets.
# Ports and credentials of the local services default to the values below and can be overridden
# from the environment or the command line (make test MDV_PG_PORT=5433); deploy/local/env.sh
# holds the same defaults for the scripts.

SHELL := /bin/bash
.DEFAULT_GOAL := help

SOLUTION      := MdvGateway.sln
CONFIGURATION := Release

MDV_REDIS_PORT    ?= 6379
MDV_RABBITMQ_PORT ?= 5672
MDV_PG_PORT       ?= 5432
MDV_PG_USER       ?= mdv
MDV_PG_PASSWORD   ?= mdv
MDV_PG_DATABASE   ?= mdv_audit
MDV_LOCAL_DIR     ?= $(CURDIR)/.local
export MDV_REDIS_PORT MDV_RABBITMQ_PORT MDV_PG_PORT MDV_PG_USER MDV_PG_PASSWORD MDV_PG_DATABASE MDV_LOCAL_DIR

# Where the tests find the services (read by the integration tests).
export MDV_TEST_REDIS          := 127.0.0.1:$(MDV_REDIS_PORT)
export MDV_TEST_RABBITMQ_PORT  := $(MDV_RABBITMQ_PORT)
export MDV_TEST_PG             := Host=127.0.0.1;Port=$(MDV_PG_PORT);Username=$(MDV_PG_USER);Password=$(MDV_PG_PASSWORD);Database=$(MDV_PG_DATABASE)

# TRX files for .ci/run (one per test project).
TEST_RESULTS_DIR := $(CURDIR)/.local/test-results

export DOTNET_NOLOGO := 1
export DOTNET_CLI_TELEMETRY_OPTOUT := 1

.PHONY: help services-up services-down build test run bench clean distclean

help: ## list the targets
	@echo "MdvGateway make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  %-14s %s\n", $$1, $$2}'

services-up: ## install (if missing) and start Redis, RabbitMQ, PostgreSQL on 127.0.0.1 (data in .local/)
	deploy/local/services-up.sh

services-down: ## stop the services started by services-up (data stays in .local/)
	deploy/local/services-down.sh

build: ## dotnet build the solution (Release)
	dotnet build $(SOLUTION) -c $(CONFIGURATION)

test: services-up ## start the services, then run every test project; TRX files in .local/test-results/
	rm -rf "$(TEST_RESULTS_DIR)"
	dotnet test $(SOLUTION) -c $(CONFIGURATION) --logger "trx;LogFilePrefix=results" --results-directory "$(TEST_RESULTS_DIR)"

run: ## services, build, migrations, demo upstream + audit-consumer + gateway; Ctrl-C stops the .NET processes
	deploy/local/run.sh

bench: ## the benchmark suite; report under tests/bench/results/
	@test -f tests/bench/run.sh || { echo "tests/bench/run.sh does not exist yet" >&2; exit 1; }
	bash tests/bench/run.sh

clean: ## remove build output and test results (keeps the services' data)
	-dotnet clean $(SOLUTION) -c $(CONFIGURATION) -v quiet
	find gateway audit-consumer tests -type d \( -name bin -o -name obj \) -prune -exec rm -rf {} + 2>/dev/null || true
	rm -rf "$(TEST_RESULTS_DIR)"

distclean: services-down clean ## clean, stop the services and delete ./.local/ (all local data)
	rm -rf "$(CURDIR)/.local"
