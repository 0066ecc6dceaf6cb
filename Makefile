# Two commands set up everything on a fresh Debian machine:
#   make serve   installs system packages and the project, then serves the sample bot
#   make test    installs what the tests need, then runs lint, types and tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8080
# Debian packages: espeak-ng speaks the prompts; graphviz draws flows (`voicebot flows
# graph --format svg|png`) with the CJK font of fonts-wqy-zenhei; wrk is the
# benchmarks' load generator; redis-server and postgresql are the real servers that the
# tests (tests/servers.py starts private ones on free ports) and the storage benchmarks
# (bench/pg_drivers.py) run against; chromium is the browser Playwright drives in the
# console's tests (tests/console/test_browser.py); sox makes the audio of other formats
# (mu-law, A-law, float, FLAC…) that the speech tests decode.
SERVE_PACKAGES := espeak-ng graphviz fonts-wqy-zenhei
TEST_PACKAGES := espeak-ng graphviz fonts-wqy-zenhei redis-server postgresql chromium sox
BENCH_PACKAGES := espeak-ng wrk redis-server postgresql
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test lint typecheck unit bench clean

serve: $(BIN)/.installed
	@$(MAKE) --no-print-directory debian PACKAGES="$(SERVE_PACKAGES)"
	$(BIN)/voicebot serve --host $(HOST) --port $(PORT)

test: $(BIN)/.installed
	@$(MAKE) --no-print-directory debian PACKAGES="$(TEST_PACKAGES)"
	$(BIN)/ruff check .
	$(BIN)/mypy
# The whole run's log, at DEBUG, scanned for unmasked numbers at the end (tests/log_scan.py).
	$(BIN)/pytest --log-file=var/test-run.log

# `make bench`: the short profile (bench/run.py); `BENCH=full make bench` or `make bench
# BENCH=full` adds 2,000 concurrent paced calls and a 10-minute soak. Figures are printed and
# written to bench/results/latest.json.
BENCH ?= short
bench: $(BIN)/.installed
	@$(MAKE) --no-print-directory debian PACKAGES="$(BENCH_PACKAGES)"
	BENCH=$(BENCH) $(BIN)/python -m bench.run

# Installs the Debian packages named in PACKAGES that are missing (apt-get, as root or via sudo).
.PHONY: debian
debian:
	@missing=""; for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

# The virtual environment, rebuilt when pyproject.toml changes. Debian's python3 needs
# python3-venv for `python3 -m venv`; it is installed when missing.
$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || $(MAKE) --no-print-directory debian PACKAGES="python3-venv"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,bench]'
	@touch $@

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache build *.egg-info
