# AdSpark — one entry point. `make demo` runs the main job on embedded defaults;
# `make test` passes the tests. Both set themselves up (virtualenv, dependencies, .env).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: help setup demo test lint format typecheck schema dev worker beat flower migrate clean

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

setup: $(STAMP) .env  ## virtualenv, dependencies, .env

demo: setup  ## the main job: a real fetch of recorded SerpApi data through the queues
	cd backend && ../$(BIN)/python -m local_services.demo

test: setup  ## lint, migrations check, schema check, the whole test suite
	$(BIN)/ruff check backend tests bench
	cd backend && DJANGO_DEBUG=true ../$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup  ## ruff lint
	$(BIN)/ruff check backend tests bench

format: setup  ## ruff format
	$(BIN)/ruff format backend tests bench

migrate: setup  ## apply migrations to the configured database
	cd backend && ../$(BIN)/python manage.py migrate

clean:  ## remove the virtualenv and local state
	rm -rf $(VENV) var backend/db.sqlite3*
