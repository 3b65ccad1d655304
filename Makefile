# alchemist — the commands. Each target bootstraps .venv itself (Python >= 3.11 and make, nothing else).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
UV     := $(BIN)/uv pip install --python $(BIN)/python

.PHONY: demo test bench lab clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(VENV)/.installed-run: pyproject.toml | $(BIN)/uv
	$(UV) -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/uv
	$(UV) -e ".[test]"
	touch $@ $(VENV)/.installed-run

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/uv
	$(UV) -e ".[test,bench]"
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-run

demo: $(VENV)/.installed-run
	$(BIN)/alchemist demo

test: $(VENV)/.installed-test
	NUMBA_ENABLE_CUDASIM=1 $(BIN)/python -m pytest -q -m cudasim -p no:cacheprovider || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -q -p no:cacheprovider --doctest-modules src/alchemist
	$(BIN)/python -m pytest

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run.py

lab: $(VENV)/.installed-run
	$(UV) jupyterlab
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .alchemist alchemist-out
