# nocwise: `make demo` runs the demo, `make test` runs every test (lint, types, unit,
# integration against real services, browser). Both create the venv and install on first use.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,peers]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(VENV)/bin/nocwise demo

lint: install
	$(VENV)/bin/ruff check src tests
	$(VENV)/bin/ruff format --check src tests

typecheck: install
	$(VENV)/bin/mypy src

unit: install
	$(PY) -m pytest -q -m "not integration"

test: lint typecheck
	$(PY) -m pytest -q

clean:
	rm -rf $(VENV) .nocwise .mypy_cache .ruff_cache .pytest_cache
