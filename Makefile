# hookhouse: the two commands of the README, plus the pieces they are made of.
#   make up    – install what is missing, start Kafka, ClickHouse and every service
#                (make up PROMETHEUS=1: and Prometheus, scraping them)
#   make test  – lint, type-check and run the whole test suite (what CI runs)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The dashboard's npm packages (Preact, htm, uPlot), as pinned in its package-lock.json.
DASHBOARD := services/api/dashboard/node_modules/.package-lock.json
# The official Hookdeck SDK the conformance tests drive, as pinned in its package-lock.json.
SDK := tests/conformance/node_modules/.package-lock.json

.PHONY: up test check lint typecheck pytest system-deps browser clean

up: $(STAMP) $(DASHBOARD)
	$(BIN)/hookhouse up $(if $(PROMETHEUS),--prometheus)

test: check

check: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check services tests bench
	$(BIN)/ruff format --check services tests bench
	PYTHONPATH=typings $(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) $(DASHBOARD) $(SDK) browser
	$(BIN)/pytest

$(SDK): tests/conformance/package.json tests/conformance/package-lock.json
	@command -v npm >/dev/null || { echo "the SDK tests need Node.js and npm (apt-get install nodejs npm)"; exit 1; }
	cd tests/conformance && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Java 17 and Maven run the Kafka broker; Debian packages them.  Installed only when
# missing, and only where apt-get can run as root.
system-deps:
	@if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q openjdk-17-jre-headless maven; \
	  else \
	    echo "hookhouse needs Java 17+ and Maven on PATH (apt-get install openjdk-17-jre-headless maven)"; \
	    exit 1; \
	  fi; \
	fi

$(DASHBOARD): services/api/dashboard/package.json services/api/dashboard/package-lock.json
	@command -v npm >/dev/null || { echo "the dashboard needs Node.js and npm (apt-get install nodejs npm)"; exit 1; }
	cd services/api/dashboard && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The dashboard's browser tests drive Debian's Chromium (HOOKHOUSE_CHROMIUM: another
# binary).  Installed only when missing, and only where apt-get can run as root; the
# tests say what is missing otherwise.
browser:
	@if [ -z "$$HOOKHOUSE_CHROMIUM" ] && ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -q chromium >/dev/null 2>&1 || \
	      { apt-get update -q && apt-get install -y -q chromium; }; \
	  else \
	    echo "note: the dashboard tests need Chromium (apt-get install chromium)"; \
	  fi; \
	fi

# Prometheus and promtool (the alert tests; `hookhouse up --prometheus`): the binaries of
# Debian's `prometheus` package, unpacked into .hookhouse/tools/ — no root, no system
# service.  `apt-get update` first only where the package lists are empty and we are root.
TOOLS := .hookhouse/tools

$(TOOLS)/promtool:
	@mkdir -p $(TOOLS)
	@cd $(TOOLS) && rm -rf deb prometheus_*.deb && \
	  { apt-get download -q prometheus >/dev/null 2>&1 || \
	    { [ "$$(id -u)" = 0 ] && apt-get update -q >/dev/null && apt-get download -q prometheus >/dev/null; }; } && \
	  dpkg-deb -x prometheus_*.deb deb && rm -f prometheus_*.deb && \
	  ln -sf deb/usr/bin/promtool promtool && ln -sf deb/usr/bin/prometheus prometheus && \
	  echo "unpacked Debian's prometheus and promtool into $(TOOLS)/" || \
	  echo "note: Debian's prometheus package could not be fetched: the alert tests and --prometheus need it"

$(STAMP): pyproject.toml | system-deps $(TOOLS)/promtool
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
