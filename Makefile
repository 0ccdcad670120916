# The two commands a newcomer needs: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck unit demo bench fidelity clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy --strict aeopp

unit: $(STAMP)
	$(PY) -m pytest -q

test: lint typecheck unit

# The three existing Pardot clients (each in its own target directory) fetch everything from the simulator.
fidelity: $(STAMP)
	bash scripts/fidelity.sh

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
