# The two commands a newcomer needs: `make demo` (the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test lint typecheck unit demo bench bench-shared fidelity clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,redis]'
	touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(STAMP)
	$(PY) -m mypy --strict aeopp

# With a throwaway redis-server (scripts/with-redis.sh) for the tests marked "redis".
unit: $(STAMP)
	bash scripts/with-redis.sh $(PY) -m pytest -q

test: lint typecheck unit

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
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache
