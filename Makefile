# Two commands do all the set-up on a fresh machine:
#   make run    - the service on the embedded default (SQLite + Huey on SQLite in the data
#                 dir): schema upgrade, then `spyglass serve`; ARGS="scan IMAGE" runs another
#                 spyglass command instead
#   make test   - install what the tests need, lint (ruff, mypy strict on src/), then the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test lint typecheck system bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

system:
	bash scripts/setup-system

run: $(BIN)/.installed
ifeq ($(strip $(ARGS)),)
	$(BIN)/spyglass db upgrade
	$(BIN)/spyglass serve
else
	$(BIN)/spyglass $(ARGS)
endif

test: system $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --timeout 900 $(PYTEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: system $(BIN)/.installed
	$(BIN)/pip install -q -e '.[dev,bench]'
	$(BIN)/python bench/scan.py
