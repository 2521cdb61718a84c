# carbonmet — the two commands a new user needs are `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench setup system-deps clean

# Debian packages (CJK font, WeasyPrint's libraries, …) listed in scripts/system-packages.txt; quick when present.
system-deps:
	sh scripts/system-deps.sh

$(STAMP): pyproject.toml scripts/system-packages.txt scripts/system-deps.sh
	sh scripts/system-deps.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# the demo region, computed, then served on http://127.0.0.1:8000 until Ctrl-C (--no-serve: build only)
demo: $(STAMP)
	$(BIN)/carbonmet demo

test: $(STAMP)
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/carbonmet
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
