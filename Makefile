# Two entry points (see README): `make run` and `make test` (also `make demo`, `make airflow`).
# Both create .venv and install the project with all extras on first use, and
# again whenever pyproject.toml or setup.py changes.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: run airflow demo test lint bench clean

# A venv whose interpreter no longer runs (moved checkout, removed Python) is
# rebuilt from scratch; the stamp is written only after a complete install, so
# an interrupted install is retried on the next run.
$(STAMP): pyproject.toml setup.py
	@$(BIN)/python -c '' 2>/dev/null || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[all,test,bench]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/envquality run

airflow: $(STAMP)
	$(BIN)/envquality airflow

demo: $(STAMP)
	$(BIN)/envquality demo

# Lint (zero findings) and the whole suite.  pytest exit status 5 means "no tests
# collected": a broken collection, never a pass.
test: lint
	@$(BIN)/python -m pytest -n 2; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy envquality

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

# Everything generated: the venv, build outputs, caches and the demo/site outputs under var/.
clean:
	rm -rf $(VENV) build dist *.egg-info var .mypy_cache .ruff_cache .pytest_cache .hypothesis
