# Grove's two commands: `make demo` and `make test`. Both work on a fresh machine with
# only Python 3.11: they make .venv and install what they need first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
PIP_FLAGS ?= --quiet --disable-pip-version-check
SCALE ?= small

.PHONY: demo test lint typecheck pytest bench serve clean help docs

help:
	@echo "make demo   - set up .venv and run the demo (SQLite + local object store)"
	@echo "make test   - set up .venv with test extras; run ruff, mypy and pytest"
	@echo "make bench  - run the side-by-side benchmarks (SCALE=small|full)"
	@echo "make docs   - regenerate the REST API reference (docs/reference/openapi.json)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install $(PIP_FLAGS) --upgrade pip

# Stamp files: reinstall only when pyproject.toml changes.
$(VENV)/.stamp-base: pyproject.toml | $(BIN)/python
	$(PIP) install $(PIP_FLAGS) -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(BIN)/python
	$(PIP) install $(PIP_FLAGS) -e '.[test]'
	touch $@ $(VENV)/.stamp-base

demo: $(VENV)/.stamp-base
	$(BIN)/mlgrove demo

lint: $(VENV)/.stamp-test
	$(BIN)/ruff check src tests $(wildcard benchmarks)
	$(BIN)/ruff format --check src tests $(wildcard benchmarks)

typecheck: $(VENV)/.stamp-test
	$(BIN)/mypy

pytest: $(VENV)/.stamp-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(VENV)/.stamp-test
	$(BIN)/python -m benchmarks --scale $(SCALE)

# The generated REST API reference; tests/unit/test_api_reference.py fails when it is stale.
docs: $(VENV)/.stamp-base
	$(BIN)/python -m mlgrove.server.openapi_dump docs/reference/openapi.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache grove-demo
