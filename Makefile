# `make run` and `make test` set everything up on a fresh machine (a virtual environment with
# the project installed in editable mode, pinned by the stack's lock file), then run.
# Another Python: `PYTHON=python3.12 make test` (its own venv, .venv-py312, and lock).
PYTHON ?= python3
# A pyenv interpreter that is installed but not selected (its shim refuses) is found by version.
PY := $(shell $(PYTHON) -c '' 2>/dev/null && echo $(PYTHON) || \
	ls -d $$(pyenv root 2>/dev/null)/versions/$(patsubst python%,%,$(notdir $(PYTHON)))*/bin/python \
	2>/dev/null | sort -V | tail -n 1)
STACK := $(shell $(PY) -c 'import sys; print("py%d%d" % sys.version_info[:2])' 2>/dev/null)
VENV ?= .venv$(if $(filter-out python3,$(PYTHON)),-$(STACK))
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# requirements/<stack>.txt pins every dependency (`make lock` refreshes it); a Python with no
# lock of its own installs the newest versions pyproject.toml allows.
LOCK := requirements/$(STACK).txt
CONSTRAINTS := $(if $(wildcard $(LOCK)),--constraint $(LOCK))

.PHONY: help run app test lint bench patterns multiverse lock clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-9s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml setup.py $(wildcard $(LOCK))
	@test -n "$(STACK)" || { echo "error: PYTHON=$(PYTHON) does not run"; exit 2; }
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(CONSTRAINTS) -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)  ## run the default scenario (outputs/ under the scenario name)
	$(BIN)/pwsim-run $(ARGS)

APP_HOST ?= 127.0.0.1
APP_PORT ?= 8765
app: $(STAMP)  ## workshop app on http://127.0.0.1:8765, offline (APP_HOST=, APP_PORT=)
	$(BIN)/pwsim-app --host $(APP_HOST) --port $(APP_PORT)

# The suite runs on TEST_WORKERS processes (pytest-xdist), one test file per worker so that
# module fixtures are built once; TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
test: $(STAMP)  ## run the test suite (on TEST_WORKERS processes) and the linter
	$(BIN)/ruff check sim tests experiments benchmarks
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)  ## ruff only
	$(BIN)/ruff check sim tests experiments benchmarks

bench: $(STAMP)  ## model speed/scale and sweep throughput benchmarks (benchmarks/results/)
	$(BIN)/python -m benchmarks.bench_model
	$(BIN)/python -m benchmarks.bench_sweep

patterns: $(STAMP)  ## the pattern-oriented validation at full size (experiments/patterns/results/)
	$(BIN)/python -m experiments.patterns $(ARGS)

multiverse: $(STAMP)  ## the pattern comparisons under every combination of rival rule forms
	$(BIN)/python -m experiments.patterns --size small --multiverse-only --out experiments/patterns/results $(ARGS)

LOCK_VENV := $(VENV)-lock
lock:  ## refresh this Python's lock file from a fresh install (PYTHON= picks the stack)
	@test -n "$(STACK)" || { echo "error: PYTHON=$(PYTHON) does not run"; exit 2; }
	rm -rf $(LOCK_VENV)
	$(PY) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet --upgrade pip
	$(LOCK_VENV)/bin/pip install --quiet ".[dev]"
	mkdir -p requirements
	{ echo "# $(STACK) stack: every package a fresh \`pip install '.[dev]'\` resolved to on"; \
	  echo "# $$(date -u +%Y-%m-%d) with $$($(LOCK_VENV)/bin/python -V). Made by \`make lock\`; installs"; \
	  echo "# use it as constraints (pip install -c $(LOCK) ...)."; \
	  $(LOCK_VENV)/bin/pip freeze --exclude peer-worker-sim; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK)
	rm -rf $(LOCK_VENV)

clean:  ## remove outputs and the virtual environments
	rm -rf outputs multirun .venv .venv-*
