# `make run` and `make test` work on a fresh machine: they create .venv and install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export HOST PORT
ifdef DATABASE_URL
export DATABASE_URL
endif

.PHONY: run test test-sqlite test-postgres install install-dev migrate lint bench clean chromium fuzz-release

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/piccolo migrations forwards all

run: migrate
	$(BIN)/python main.py

# The browser tests drive Debian's Chromium (Playwright's own browser download is not used).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install-dev chromium
	$(BIN)/ruff check .
	$(MAKE) test-sqlite
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) test-postgres; \
	else echo "TEST_DATABASE_URL not set: PostgreSQL run skipped"; fi

test-sqlite: install-dev
	env -u DATABASE_URL -u TEST_DATABASE_URL $(BIN)/pytest -q -p no:cacheprovider

test-postgres: install-dev
	@test -n "$$TEST_DATABASE_URL" || (echo "set TEST_DATABASE_URL=postgres://..." && exit 2)
	$(BIN)/pytest -q -p no:cacheprovider

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Release check: the schema fuzzer with many more examples per operation (CI runs 12).
FUZZ_EXAMPLES ?= 300
fuzz-release: install-dev
	env -u DATABASE_URL FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider tests/robustness/test_fuzz_schema.py

bench: install-dev
	$(BIN)/python benchmarks/api_bench.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
