# spikebench: the README's two commands (make demo, make test) and their helpers.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The CPU build of torch that lies on this kind of machine's disk; an unpinned torch would pull a
# multi-GB CUDA build. Override with `make setup TORCH_SPEC=torch` where you want another build.
TORCH_SPEC ?= torch==2.13.0

# Lava (backend "lava") supports only Python 3.10 and numpy < 2: its own environment, run as a subprocess.
# The interpreter: $SPIKEBENCH_LAVA_PYTHON, else the first of python3.10 on PATH and pyenv's 3.10.13 that
# runs as Python 3.10 (a pyenv shim of an inactive version does not); looked up once, when first needed.
LAVA_VENV  := .venv-lava
LAVA_STAMP := $(LAVA_VENV)/.installed
LAVA_SPEC  ?= lava-nc==0.10.0
IS_PY310   := -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'
FIND_PY310  = $(if $(SPIKEBENCH_LAVA_PYTHON),$(SPIKEBENCH_LAVA_PYTHON),$(shell \
	for p in python3.10 "$$(pyenv prefix 3.10.13 2>/dev/null)/bin/python"; do \
		"$$p" $(IS_PY310) >/dev/null 2>&1 && { command -v "$$p"; break; }; done))
LAVA_PYTHON = $(eval LAVA_PYTHON := $(FIND_PY310))$(LAVA_PYTHON)

.PHONY: setup test test-all test-retrain demo bench lint clean lava-env lava-env-if-possible asv asv-publish

setup: $(STAMP) lava-env-if-possible

lava-env: $(LAVA_STAMP)

$(LAVA_STAMP):
	@test -n "$(LAVA_PYTHON)" || { echo "make lava-env: no Python 3.10 found; set SPIKEBENCH_LAVA_PYTHON to one"; exit 1; }
	@$(LAVA_PYTHON) $(IS_PY310) || { echo "make lava-env: $(LAVA_PYTHON) is not Python 3.10 (lava-nc 0.10 needs 3.10)"; exit 1; }
	$(LAVA_PYTHON) -m venv $(LAVA_VENV)
	$(LAVA_VENV)/bin/python -m pip install --quiet "$(LAVA_SPEC)"
	@touch $(LAVA_STAMP)

# setup builds the Lava environment where a Python 3.10 exists; without one (or if the build fails) it
# says so in one line and goes on: the lava backend and its tests are then unavailable (they skip).
lava-env-if-possible:
	@if [ -f "$(LAVA_STAMP)" ]; then :; elif [ -z "$(LAVA_PYTHON)" ]; then \
		echo "lava backend skipped: no Python 3.10 found (set SPIKEBENCH_LAVA_PYTHON, then make lava-env)"; \
	else \
		$(MAKE) --no-print-directory lava-env || echo "lava backend unavailable: make lava-env failed (see above)"; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

test: setup
	$(PY) -m pytest -q

# every test but the full retraining: the slow ones too (make test leaves them out; CI runs this)
test-all: setup
	$(PY) -m pytest -q -m 'not retrain'

# the full retraining of every shipped network from its recorded seed (bit for bit on the kind of CPU it
# was trained on); `make test-all` checks the first epoch of each instead. CI runs both.
test-retrain: setup
	$(PY) -m pytest -q -m retrain

demo: setup
	$(PY) -m spikebench.demo

bench: setup
	$(PY) -m spikebench.bench

# asv (benchmarks/, asv.conf.json): the suite over the last ASV_COMMITS commits of main, each installed in
# asv's own environment under .asv/ (torch pinned to the CPU build there too); commits already measured on
# this machine are skipped. The Lava benchmark uses this checkout's .venv-lava when it exists.
ASV         := $(VENV)/bin/asv
ASV_COMMITS ?= 5
ASV_RANGE   ?= main~$(ASV_COMMITS)..main
ASV_LAVA     = $(if $(wildcard $(LAVA_STAMP)),SPIKEBENCH_LAVA_ENV=$(CURDIR)/$(LAVA_VENV))

asv: setup
	@git rev-list --quiet "$(ASV_RANGE)" -- 2>/dev/null || { echo "make asv: $(ASV_RANGE) is not a commit range \
	of this clone (main has $$(git rev-list --count main 2>/dev/null || echo no) commits); set ASV_COMMITS=N or ASV_RANGE=A..B"; exit 2; }
	@$(ASV) machine --yes >/dev/null
	$(ASV_LAVA) $(ASV) run --skip-existing-commits --show-stderr $(ASV_RANGE)

asv-publish: setup
	$(ASV) publish
	@echo "dashboard: .asv/html/index.html (serve it with: $(ASV) preview)"

lint: setup
	$(VENV)/bin/ruff check suite workloads hardware_models tests benchmarks

clean:
	rm -rf $(VENV) $(LAVA_VENV) build *.egg-info .pytest_cache .asv
