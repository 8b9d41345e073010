# micromarket — developer entry points. `make run` and `make test` are all a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: help run test test-postgres test-browser check lint fmt lock demo migrate clean

help:
	@echo "make run            set up, migrate, load demo data, serve site + worker on http://127.0.0.1:8000"
	@echo "make test           set up, then the test suite on SQLite"
	@echo "make test-postgres  the same suite on the local PostgreSQL (DATABASE_URL or postgres://postgres@127.0.0.1/micromarket)"
	@echo "make test-browser   browser journeys: Playwright driving Debian's Chromium"
	@echo "make lint           ruff, ruff format --check, import-linter, makemigrations --check, check --deploy"
	@echo "make lock           re-resolve requirements.lock from pyproject.toml (needs the network to PyPI)"

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "micromarket needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the lock or the project metadata changed: the second run is instant.
$(INSTALLED): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --editable .
	touch $@

migrate: $(INSTALLED)
	$(BIN)/micromarket migrate --no-input --verbosity 0

run: migrate
	$(BIN)/micromarket demo --if-empty
	$(BIN)/micromarket run

demo: migrate
	$(BIN)/micromarket demo

test: $(INSTALLED)
	DJANGO_SETTINGS_MODULE=micromarket.settings.test $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

test-postgres: $(INSTALLED)
	bash scripts/ensure-postgres.sh
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/micromarket} \
		DJANGO_SETTINGS_MODULE=micromarket.settings.test $(BIN)/pytest -m "not browser" $(PYTEST_ARGS)

test-browser: $(INSTALLED)
	bash scripts/ensure-chromium.sh
	DJANGO_SETTINGS_MODULE=micromarket.settings.test $(BIN)/pytest -m browser $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/micromarket makemigrations --check --dry-run
	bash scripts/check-deploy.sh

fmt: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml requirements/bootstrap.in --extra dev --generate-hashes \
		--python-version 3.11 --universal --no-header -o requirements.lock

clean:
	rm -rf $(VENV) var/static
