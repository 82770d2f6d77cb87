# AdSpark — one entry point. `make demo` runs the main job on embedded defaults;
# `make test` passes the tests. Both set themselves up (virtualenv, dependencies, .env).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: help setup demo test lint format typecheck schema dev status worker beat flower migrate clean validate-deploy

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is required"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

.env:
	@echo "DJANGO_DEBUG=true" > .env
	@echo "Wrote .env (DJANGO_DEBUG=true for local use; see .env.example for every variable)"

# What `make setup` provides besides Python packages (core.toolchain): `demo` the browser;
# `test` also docker-compose, systemd-analyze and psql. `make test` sets it for its own setup.
SETUP_FOR ?= demo

setup: $(STAMP) .env  ## virtualenv, dependencies, .env, a browser (and for `make test` the tools the tests use)
	@cd backend && ../$(BIN)/python -m core.toolchain --for $(SETUP_FOR)

demo: setup  ## the main job: a real fetch of recorded SerpApi data through the queues
	cd backend && ../$(BIN)/python -m local_services.demo

test: SETUP_FOR = test
test: setup  ## ruff lint + format check, mypy, import layers, migrations check, frontend checks and build, the whole test suite
	$(BIN)/ruff check backend tests bench monitor_celery.py
	$(BIN)/ruff format --check backend tests bench monitor_celery.py
	DJANGO_DEBUG=true $(BIN)/mypy backend
	cd backend && ../$(BIN)/lint-imports --config ../.importlinter
	cd backend && DJANGO_DEBUG=true ../$(BIN)/python manage.py makemigrations --check --dry-run
	cd frontend && npm ci --no-audit --no-fund && npm run lint && npm run typecheck && npm test && npm run check:api && npm run build
	$(MAKE) --no-print-directory validate-deploy
# Two sessions: the suites that start and kill their own workers (tests/ops, the recovery tests)
# must not share the broker with the session-scoped worker of the other suites, which would take
# their tasks. PYTEST_ARGS runs one session with those arguments instead.
ifeq ($(strip $(PYTEST_ARGS)),)
	$(BIN)/python -m pytest --ignore=tests/ops --ignore=tests/security/test_recovery.py
	$(BIN)/python -m pytest tests/ops tests/security/test_recovery.py
else
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

# Offline: kubectl's built-in kustomize renders, kubernetes-validate checks the core kinds with the
# schemas it bundles. The test suite (tests/ops/test_k8s.py, test_monitoring.py, test_compose.py)
# also checks the KEDA objects against the vendored CRDs, the dashboard and both compose files.
validate-deploy: setup  ## validate deploy/k8s with kustomize + kubernetes-validate (core kinds, strict)
	set -o pipefail; for overlay in deploy/k8s/base deploy/k8s/overlays/*/; do \
	  kubectl kustomize $$overlay | $(BIN)/kubernetes-validate --strict --quiet --no-warn - || exit 1; done

lint: setup  ## ruff lint + format check, mypy and the import layers (import-linter contracts in .importlinter)
	$(BIN)/ruff check backend tests bench monitor_celery.py
	$(BIN)/ruff format --check backend tests bench monitor_celery.py
	DJANGO_DEBUG=true $(BIN)/mypy backend
	cd backend && ../$(BIN)/lint-imports --config ../.importlinter

format: setup  ## ruff format
	$(BIN)/ruff format backend tests bench monitor_celery.py

dev: setup  ## web, four workers, beat and Flower in one terminal (reload on change; Ctrl-C stops all, workers warm)
	@grep -q '^FLOWER_BASIC_AUTH=' .env || { echo "FLOWER_BASIC_AUTH=dev:$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))')" >> .env; echo "Wrote a Flower login (FLOWER_BASIC_AUTH) to .env"; }
	cd backend && ../$(BIN)/python manage.py migrate --noinput
	$(BIN)/python celery_scripts/run_dev.py

status: setup  ## Celery status: processes, workers per queue, queue depths, beat (exit 0/1/2)
	celery_scripts/celery_status.sh

migrate: setup  ## apply migrations to the configured database
	cd backend && ../$(BIN)/python manage.py migrate

clean:  ## remove the virtualenv and local state
	rm -rf $(VENV) var backend/db.sqlite3*

# The schema is generated for PostgreSQL (integer ranges differ on SQLite); no connection is made.
SCHEMA_ENV := DJANGO_DEBUG=true DATABASE_URL=postgres://schema@127.0.0.1:5432/not-connected

schema: setup  ## regenerate frontend/openapi.yaml and the frontend's API types from the backend
	cd backend && $(SCHEMA_ENV) ../$(BIN)/python manage.py spectacular --file ../frontend/openapi.yaml
	cd frontend && { test -x node_modules/.bin/openapi-typescript || npm ci --no-audit --no-fund; } && npm run gen:api

.PHONY: frontend  # also the name of a directory: always run
frontend:  ## install the frontend (npm ci) and make its production build
	cd frontend && npm ci --no-audit --no-fund && npm run build

