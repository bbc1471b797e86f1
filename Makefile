# Two commands on a fresh machine: `make site` and `make test`. Each sets up .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1

.PHONY: site serve test lint bench bench-scale clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

site: $(STAMP)  ## build the demo runbook site from records/ into site/
	$(BIN)/runbook build

serve: $(STAMP)  ## live preview of the demo site on http://127.0.0.1:8000
	$(BIN)/runbook serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json
	npm install --no-audit --no-fund --silent
	touch $(NODE_STAMP)

test: $(STAMP) $(NODE_STAMP) lint  ## every test: unit, integration (real mkdocs build), browser
	$(BIN)/python -m pytest -n auto --dist loadgroup

bench: $(STAMP)  ## measure and write benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks.run

bench-scale: $(STAMP)  ## validate, list, dora and builds at 20,000 and 100,000 records: the Scale section
	$(BIN)/python -m benchmarks.scale

clean:
	rm -rf site .site.* .pytest_cache .ruff_cache
