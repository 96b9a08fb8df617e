# portvakt: `make run` starts the whole system with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)
NPM_STAMP := node_modules/.installed-$(shell cat package.json package-lock.json | cksum | cut -d' ' -f1)
THIRD_PARTY := tests/third_party
THIRD_PARTY_STAMP := $(THIRD_PARTY)/node_modules/.installed-$(shell cat $(THIRD_PARTY)/package.json $(THIRD_PARTY)/package-lock.json | cksum | cut -d' ' -f1)
# The Python third-party client (wenche) gets a venv of its own, never the main one.
THIRD_PARTY_VENV := $(THIRD_PARTY)/.venv
WENCHE_STAMP := $(THIRD_PARTY_VENV)/.installed-$(shell cat $(THIRD_PARTY)/wenche-constraints.txt | cksum | cut -d' ' -f1)
PG_BIN := /usr/lib/postgresql/15/bin
export PORTVAKT_DATA_DIR ?= ./var
# pytest-xdist workers for `unit` and `fast` (CI has 2 cores; `make test PYTEST_WORKERS=0` runs in one process).
# --dist loadgroup spreads the tests one by one, except that the tests of one xdist_group run on one worker.
PYTEST_WORKERS ?= 2
PYTEST_XDIST := -n $(PYTEST_WORKERS) --dist loadgroup
# The inner loop's tests: no real server processes, no browser, no PostgreSQL.
FAST_TESTS := not slow and not postgres and not browser and not timing and not faults

.PHONY: run test check deps third-party-deps system-deps lint typecheck imports unit fast soak bench clean

run: deps
	$(BIN)/portvakt serve --demo

# Everything, as CI runs it.
test: deps third-party-deps system-deps lint typecheck imports unit

# The inner loop: the static checks and the fast tests (needs only `make deps`).
check: lint typecheck imports fast

deps: $(STAMP) $(NPM_STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

# Designsystemet's CSS for the portal: `npm ci` only when node_modules is missing or package*.json changed.
$(NPM_STAMP): package.json package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-*
	touch $@

# Third-party Maskinporten clients that tests/third_party runs against a real server: the npm one (pinned in its
# lock file), and wenche from PyPI in tests/third_party/.venv (pinned, with its dependencies, in wenche-constraints.txt).
third-party-deps: $(THIRD_PARTY_STAMP) $(WENCHE_STAMP)

$(THIRD_PARTY_STAMP): $(THIRD_PARTY)/package.json $(THIRD_PARTY)/package-lock.json
	command -v npm >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null)
	cd $(THIRD_PARTY) && npm ci --no-audit --no-fund --loglevel=error
	rm -f $(THIRD_PARTY)/node_modules/.installed-*
	touch $@

$(WENCHE_STAMP): $(THIRD_PARTY)/wenche-constraints.txt
	test -x $(THIRD_PARTY_VENV)/bin/python || $(PYTHON) -m venv $(THIRD_PARTY_VENV)
	$(THIRD_PARTY_VENV)/bin/python -m pip install -q -c $(THIRD_PARTY)/wenche-constraints.txt wenche==1.9.0
	rm -f $(THIRD_PARTY_VENV)/.installed-*
	touch $@

# Debian packages the tests need: PostgreSQL 15 (throwaway clusters), Redis, and Chromium (browser tests).
system-deps:
	@missing=""; \
	test -x $(PG_BIN)/initdb || missing="$$missing postgresql"; \
	command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

lint: deps
	$(BIN)/ruff check src tests bench scripts examples

typecheck: deps
	$(BIN)/mypy

imports: deps
	$(BIN)/lint-imports

# The tests that hold a latency or memory bound run alone, after the rest, so no other test shares the cores;
# then the fault suite (tests/faults), alone too, each scenario's fault once.
# The example projects (examples/vendor, examples/provider) run with their own pytest configuration, after the suite.
unit: deps
	$(BIN)/pytest -q $(PYTEST_XDIST) -m "not timing and not faults"
	cd examples/vendor && $(CURDIR)/$(BIN)/pytest -q
	cd examples/provider && $(CURDIR)/$(BIN)/pytest -q
	$(BIN)/pytest -q -n 0 -m timing
	FAULTS_DURATION=0 $(BIN)/pytest -q -n 0 -m faults tests/faults

fast: deps
	$(BIN)/pytest -q $(PYTEST_XDIST) -m "$(FAST_TESTS)"

# The fault suite's long run: every scenario repeats its fault for FAULTS_DURATION seconds.
FAULTS_DURATION ?= 300
soak: deps system-deps
	FAULTS_DURATION=$(FAULTS_DURATION) $(BIN)/pytest -q -n 0 -m faults tests/faults

bench: deps
	bash bench/run.sh

clean:
	rm -rf $(VENV) $(THIRD_PARTY_VENV) var .pytest_cache .mypy_cache .ruff_cache
