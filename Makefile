# The two commands a newcomer needs: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The same suite without the speedups extra (lxml, msgspec): the parsers every user gets by default.
BASE_VENV ?= .venv-base
BASE_PY := $(BASE_VENV)/bin/python
BASE_STAMP := $(BASE_VENV)/.installed

.PHONY: test lint typecheck unit unit-base demo bench fidelity clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,speedups]'
	touch $(STAMP)

$(BASE_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BASE_VENV)
	$(BASE_PY) -m pip install --quiet --upgrade pip
	$(BASE_PY) -m pip install --quiet -e '.[dev]'
	touch $(BASE_STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy --strict aeopp

unit: $(STAMP)
	AEOPP_EXPECT_PARSERS=base,speedups $(PY) -m pytest -q

unit-base: $(BASE_STAMP)
	AEOPP_EXPECT_PARSERS=base $(BASE_PY) -m pytest -q

test: lint typecheck unit unit-base

# The main job: export 20,000 opportunities from a simulator (50 ms latency, in its own process)
# with a progress bar, then time the same export one page at a time for comparison.
demo: $(STAMP)
	$(PY) -m aeopp export --simulate 20000 --latency-ms 50 --simulator-process --output demo-export.jsonl --compare

# aeopp vs PyPardot4, PyPardotSF, tap-pardot and the ideal: a table, and benchmarks/results/latest.{json,png}
bench: $(STAMP)
	bash scripts/bench.sh

# The three existing Pardot clients (each in its own target directory) fetch everything from the simulator.
fidelity: $(STAMP)
	bash scripts/fidelity.sh

clean:
	rm -rf $(VENV) $(BASE_VENV) build *.egg-info .mypy_cache .ruff_cache
