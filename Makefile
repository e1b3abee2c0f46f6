# Two commands on a fresh machine: `make site` builds the site, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: site test lint validate bench clean system-deps lock

# The venv is installed from requirements.lock (every package of the tree, exact versions), then
# the project itself, editable and without dependencies, so nothing floats. patches/ holds small
# fixes to locked packages (each names its version; patches/README.md says what each saves).
$(STAMP): requirements.lock pyproject.toml $(wildcard patches/*.patch) | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --no-deps -r requirements.lock
	bash scripts/patch_site_packages.sh $(PY)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --prefix $(VENV) --name python3 --display-name "Python 3" >/dev/null
	touch $(STAMP)

# Debian packages the build and the browser tests need (graphviz for the redrawn figures,
# chromium for Playwright, a JRE for the Nu Html Checker). Skipped when already present.
system-deps:
	@bash scripts/install_system_deps.sh

validate: $(STAMP)
	$(PY) scripts/validate.py

site: $(STAMP) system-deps validate
	$(VENV)/bin/jupyter-book build . -W -n --keep-going

# Test-only npm tools (the Nu Html Checker, vnu-jar), exactly as package-lock.json pins them.
# --ignore-scripts: vnu-jar's postinstall only offers to download a JRE; the Debian one is used.
node_modules: package.json package-lock.json | system-deps
	npm ci --ignore-scripts --no-audit --no-fund
	touch node_modules

# ruff first: lint and formatting problems are reported before the long test run.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint site node_modules
	$(PY) -m pytest

# Benchmark from 1× to 1000× the evidence (about 30 min); e.g. make bench BENCH_ARGS="--scales 1,10" or "--smoke".
bench: $(STAMP) system-deps
	$(PY) scripts/benchmark.py $(BENCH_ARGS)

clean:
	rm -rf _build

# Refresh the lock after editing requirements.txt: resolves the whole tree again with uv
# (pinned here), for Linux x86_64 and Python 3.11, and rewrites requirements.lock.
UV_VERSION := 0.13.8
lock:
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet uv==$(UV_VERSION)
	.venv-lock/bin/uv pip compile requirements.txt --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --quiet -o requirements.lock
	rm -rf .venv-lock
