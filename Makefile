# `make run` and `make test` set everything up on a fresh machine (a virtual environment in
# .venv with the project installed in editable mode), then run.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: help run app test lint bench patterns multiverse clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-9s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)  ## run the default scenario (outputs/ under the scenario name)
	$(BIN)/python -m sim.run $(ARGS)

APP_HOST ?= 127.0.0.1
APP_PORT ?= 8765
app: $(STAMP)  ## workshop app on http://127.0.0.1:8765, offline (APP_HOST=, APP_PORT=)
	SOLARA_TELEMETRY_MIXPANEL_ENABLE=false $(BIN)/solara run sim/app.py --host $(APP_HOST) \
		--port $(APP_PORT) --production --no-open --no-check-version

test: $(STAMP)  ## run the test suite and the linter
	$(BIN)/ruff check sim tests experiments benchmarks
	$(BIN)/python -m pytest -q

lint: $(STAMP)  ## ruff only
	$(BIN)/ruff check sim tests experiments benchmarks

bench: $(STAMP)  ## model speed/scale and sweep throughput benchmarks (benchmarks/results/)
	$(BIN)/python -m benchmarks.bench_model
	$(BIN)/python -m benchmarks.bench_sweep

patterns: $(STAMP)  ## the pattern-oriented validation at full size (experiments/patterns/results/)
	$(BIN)/python -m experiments.patterns $(ARGS)

multiverse: $(STAMP)  ## the pattern comparisons under every combination of rival rule forms
	$(BIN)/python -m experiments.patterns --size small --multiverse-only --out experiments/patterns/results $(ARGS)

clean:  ## remove outputs and the virtual environment
	rm -rf outputs multirun $(VENV)
