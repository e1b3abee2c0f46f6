# Two commands on a fresh machine: `make site` builds the site, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: site test validate bench clean system-deps

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
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

test: site
	$(PY) -m pytest

bench: $(STAMP) system-deps
	$(PY) scripts/benchmark.py

clean:
	rm -rf _build
