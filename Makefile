# spikebench: the README's two commands (make demo, make test) and their helpers.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# The CPU build of torch that lies on this kind of machine's disk; an unpinned torch would pull a
# multi-GB CUDA build. Override with `make setup TORCH_SPEC=torch` where you want another build.
TORCH_SPEC ?= torch==2.13.0

.PHONY: setup test demo bench lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

test: setup
	$(PY) -m pytest -q

demo: setup
	$(PY) -m spikebench.demo

bench: setup
	$(PY) -m spikebench.bench

lint: setup
	$(VENV)/bin/ruff check suite workloads hardware_models tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
