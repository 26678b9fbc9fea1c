# Orderline: `make run` to try it, `make test` to check it. Both work on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TSTAMP := $(VENV)/.installed-test
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run lint test test-all redis-server deploy-tools chromium bench measure-redis clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

$(TSTAMP): $(STAMP) requirements-test.txt
	$(PY) -m pip install --quiet -r requirements-test.txt
	@touch $(TSTAMP)

run: $(STAMP)
	$(PY) -m bot dev

# Integration tests start their own redis-server on a free port, and the failover test a primary,
# a replica and three redis-sentinel; install Debian's when missing.
redis-server:
	@{ command -v redis-server && command -v redis-sentinel; } >/dev/null 2>&1 || { \
	  echo "installing redis-server and redis-sentinel (Debian packages)"; \
	  $(SUDO) apt-get install -y -q redis-server redis-sentinel >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q redis-server redis-sentinel >/dev/null; }; }
	@command -v redis-server >/dev/null 2>&1 || { echo "redis-server is required and could not be installed"; exit 1; }
	@command -v redis-sentinel >/dev/null 2>&1 || { echo "redis-sentinel is required and could not be installed"; exit 1; }

# The deploy files' test validates the Caddyfile with Debian's caddy and the compose files with
# Debian's docker-compose (no Docker engine needed). Installed when missing and apt-get can;
# otherwise those checks are skipped with the reason.
deploy-tools:
	@{ command -v caddy && command -v docker-compose; } >/dev/null 2>&1 || { \
	  echo "installing caddy and docker-compose (Debian packages) for the deploy files' test"; \
	  $(SUDO) apt-get install -y -q --no-install-recommends caddy docker-compose >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null 2>&1 && \
	    $(SUDO) apt-get install -y -q --no-install-recommends caddy docker-compose >/dev/null 2>&1; } || \
	  echo "caddy / docker-compose could not be installed: their checks will be skipped"; }

# The dashboard's browser test drives Debian's chromium (Playwright, system browser; never
# `playwright install`). Installed when missing and apt-get can; otherwise that test is skipped
# with the reason.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium (Debian package) for the dashboard's browser test"; \
	  $(SUDO) apt-get install -y -q chromium >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null 2>&1 && $(SUDO) apt-get install -y -q chromium >/dev/null 2>&1; } || \
	  echo "chromium could not be installed: the browser test will be skipped"; }

# Lint and types: ruff and mypy, configured in pyproject.toml; `make test` fails on either.
lint: $(TSTAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

test: $(TSTAMP) lint redis-server deploy-tools chromium
	$(PY) -m pytest -q -m "not slow"

test-all: $(TSTAMP) redis-server deploy-tools chromium
	$(PY) -m pytest -q

# The benchmark (not part of `make test`): Orderline beside a stock RQ baseline and a lean limit,
# one run, a table with the ratios. Needs wrk (Debian's), installed when missing.
bench: $(TSTAMP) redis-server
	@command -v wrk >/dev/null 2>&1 || $(SUDO) apt-get install -y -q wrk >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q >/dev/null && $(SUDO) apt-get install -y -q wrk >/dev/null; }
	$(PY) -m bench.run $(BENCH_ARGS)

# What one Redis can take, and what waiting for a replica costs (docs/deploy.md, "How to scale").
measure-redis: $(TSTAMP) redis-server
	$(PY) -m bench.redis_ceiling $(MEASURE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
