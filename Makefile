# vigil — set-up, demo, tests and benchmarks. Every target is idempotent.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.vigil-installed

.PHONY: all setup deps demo test fuzz lint bench clean

all: test

deps:
	@sh scripts/debian-deps.sh

$(STAMP): pyproject.toml scripts/debian-deps.sh
	@sh scripts/debian-deps.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,forensics,server]'
	@touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/vigil demo

test: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/vigil bench
	$(BIN)/python -m pytest -n 2 --dist loadgroup; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

fuzz: setup
	VIGIL_FUZZ=1 $(BIN)/python -m pytest tests/fuzz -q

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/vigil bench

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
