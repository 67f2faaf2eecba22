# Every command a user needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
BIN := .venv/bin
N ?= 200000

.PHONY: help install up down status test test-unit lint fmt schemas docs demo replay whatif versions \
        bench bench-whatif bench-intake bench-dashboard screenshots chaos clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(BIN)/.installed: pyproject.toml uv.lock | $(UV)
	UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@

install: $(BIN)/.installed ## create .venv from uv.lock (and the uv tool itself)

up: install ## start Kafka, PostgreSQL and both services in the background
	stack/stack.sh up

down: ## stop everything `make up` started (data is kept)
	stack/stack.sh down

status: ## what is running
	@stack/stack.sh status

test: install ## the whole suite on the real Kafka and PostgreSQL (started if needed)
	stack/with-infra.sh $(BIN)/pytest $(PYTEST_ARGS)

test-unit: install ## only the pure tests (no servers)
	$(BIN)/pytest -m unit $(PYTEST_ARGS)

lint: install ## ruff (lint + format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

fmt: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schemas: install ## JSON Schemas of the event types and of the change feed (docs/schemas)
	$(BIN)/intake schemas --out docs/schemas
	$(BIN)/assessment schemas --out docs/schemas

docs: install schemas ## AsyncAPI document of the Kafka interface (docs/asyncapi)
	$(BIN)/intake asyncapi --out docs/asyncapi
	$(BIN)/assessment asyncapi --out docs/asyncapi

demo: install ## set up, start the stack, feed a sample history, print the assessment
	stack/stack.sh up
	$(BIN)/python -m demo

replay: install ## rebuild every projection from events.v1 without downtime (POLICY=file)
	stack/with-infra.sh $(BIN)/assessment replay $(if $(POLICY),--policy $(POLICY))

whatif: install ## policy what-if from the facts in PostgreSQL, live untouched (POLICY=file)
	stack/with-infra.sh $(BIN)/assessment rerule --no-switch --policy $(POLICY)

versions: install ## list projection versions
	stack/with-infra.sh $(BIN)/assessment versions list

bench: install ## rebuild benchmark: ceiling vs full rebuild vs live latency (N=events)
	stack/with-infra.sh $(BIN)/python -m bench.rebuild_bench --events $(N)

bench-whatif: install ## rerule --no-switch timed on N bench events (replayed first)
	stack/with-infra.sh $(BIN)/python -m bench.whatif --events $(N)

bench-intake: install ## intake benchmark: batch/single endpoints vs a bare producer
	stack/with-infra.sh $(BIN)/python -m bench.intake_bench

bench-dashboard: install ## dashboard pages timed over a socket on N bench events
	stack/with-infra.sh $(BIN)/python -m bench.dashboard_bench --events $(N)

screenshots: install ## dashboard screenshots (docs/img) from the running `make demo` stack
	$(BIN)/python -m demo.screenshots

clean: ## remove the virtualenvs and caches (keeps .stack data)
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache .hypothesis

chaos: install ## kill -9 each part in turn under load, on one broker then on a 3-node cluster (SEED=, PLAN=short|long, BROKERS=1|3: one mode, INSTANCES=2: two assessments killed in turn)
	@status=0; for brokers in $(or $(BROKERS),1 3); do \
	  echo "== make chaos: $$brokers broker(s), $(or $(INSTANCES),1) assessment instance(s) =="; \
	  $(BIN)/python -m tests.chaos --seed $(or $(SEED),1) --plan $(or $(PLAN),long) --brokers $$brokers \
	    --instances $(or $(INSTANCES),1) || status=1; \
	done; exit $$status
