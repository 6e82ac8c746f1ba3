# hookhouse: the two commands of the README, plus the pieces they are made of.
#   make up    – install what is missing, start Kafka, ClickHouse and every service
#                (make up PROMETHEUS=1: and Prometheus, scraping them)
#   make test  – lint, type-check and run the whole test suite (what CI runs)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: up test check lint typecheck pytest system-deps clean

up: $(STAMP)
	$(BIN)/hookhouse up $(if $(PROMETHEUS),--prometheus)

test: check

check: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check services tests bench
	$(BIN)/ruff format --check services tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

# Java 17 and Maven run the Kafka broker; Debian packages them.  Prometheus (its
# promtool checks the alerts in the test suite; `hookhouse up --prometheus` runs the
# server) comes from Debian's `prometheus`.  Installed only when missing, and only where
# apt-get can run as root; without Prometheus the stack still runs.
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends

system-deps:
	@if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && $(APT_INSTALL) openjdk-17-jre-headless maven; \
	  else \
	    echo "hookhouse needs Java 17+ and Maven on PATH (apt-get install openjdk-17-jre-headless maven)"; \
	    exit 1; \
	  fi; \
	fi
	@if ! command -v promtool >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    $(APT_INSTALL) prometheus || (apt-get update -q && $(APT_INSTALL) prometheus); \
	  else \
	    echo "note: no promtool (apt-get install prometheus): the alert tests and --prometheus need it"; \
	  fi; \
	fi

$(STAMP): pyproject.toml | system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
