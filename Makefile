# The two commands a newcomer needs: `make demo` (the main job) and `make test`.
#
# `make test` lints, type-checks and runs the whole suite three times: with every extra (.venv:
# speedups and redis), with none (.venv-base: what `pip install aeopp` gives), and with every
# dependency at the lowest version pyproject.toml allows (.venv-min). Tests that need Redis talk to
# a throwaway redis-server that scripts/with-redis.sh starts on a free loopback port and stops.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BASE_VENV ?= .venv-base
BASE_PY := $(BASE_VENV)/bin/python
BASE_STAMP := $(BASE_VENV)/.installed
MIN_VENV ?= .venv-min
MIN_PY := $(MIN_VENV)/bin/python
MIN_STAMP := $(MIN_VENV)/.installed
EXTRAS := speedups,redis
comma := ,

.PHONY: test lint typecheck unit unit-base unit-min demo bench bench-shared fidelity clean

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,$(EXTRAS)]'
	touch $(STAMP)

$(BASE_STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(BASE_VENV)
	$(BASE_PY) -m pip install --quiet --upgrade pip
	$(BASE_PY) -m pip install --quiet -e '.[dev]'
	touch $(BASE_STAMP)

# Every dependency and extra pinned to its floor (scripts/lowest.py reads pyproject.toml).
$(MIN_STAMP): pyproject.toml Makefile scripts/lowest.py $(STAMP)
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_PY) -m pip install --quiet --upgrade pip
	$(PY) scripts/lowest.py $(subst $(comma), ,$(EXTRAS)) > $(MIN_VENV)/constraints.txt
	$(MIN_PY) -m pip install --quiet -c $(MIN_VENV)/constraints.txt -e '.[dev,$(EXTRAS)]'
	touch $(MIN_STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy --strict aeopp

unit: $(STAMP)
	AEOPP_EXPECT_PARSERS=base,speedups bash scripts/with-redis.sh $(PY) -m pytest -q

# Without the extras: the Redis tests check the "install aeopp[redis]" error, the parity tests skip.
unit-base: $(BASE_STAMP)
	AEOPP_EXPECT_PARSERS=base bash scripts/with-redis.sh $(BASE_PY) -m pytest -q

unit-min: $(MIN_STAMP)
	AEOPP_EXPECT_PARSERS=base,speedups bash scripts/with-redis.sh $(MIN_PY) -m pytest -q

test: lint typecheck unit unit-base unit-min

# The main job: export 20,000 opportunities from a simulator (50 ms latency, in its own process)
# with a progress bar, then time the same export one page at a time for comparison.
demo: $(STAMP)
	$(PY) -m aeopp export --simulate 20000 --latency-ms 50 --simulator-process --output demo-export.jsonl --compare

# aeopp vs PyPardot4, PyPardotSF, tap-pardot and the ideal: a table, and benchmarks/results/latest.{json,png}
bench: $(STAMP)
	bash scripts/bench.sh

# Processes sharing one business unit, each limiting itself or all sharing Redis (benchmarks/shared_unit.py)
bench-shared: $(STAMP)
	bash scripts/with-redis.sh $(PY) benchmarks/shared_unit.py

# The three existing Pardot clients (each in its own target directory) fetch everything from the simulator.
fidelity: $(STAMP)
	bash scripts/fidelity.sh

clean:
	rm -rf $(VENV) $(BASE_VENV) $(MIN_VENV) build *.egg-info .mypy_cache .ruff_cache
