# alchemist — the commands. Each target bootstraps .venv itself (Python >= 3.11 and make, nothing else).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# --compile-bytecode: the .pyc files of every installed package are written at install time, so a
# first process (where PYTHONDONTWRITEBYTECODE is set, or the tree is read-only) does not compile
# Numba's and llvmlite's 700-odd modules again (seconds of an analyst's first call)
UV     := $(BIN)/uv pip install --compile-bytecode --python $(BIN)/python

.PHONY: demo test bench gpu-check lab dashboard clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv

$(VENV)/.installed-run: pyproject.toml | $(BIN)/uv
	$(UV) -e .
	touch $@

# the demo's install: the package and the dashboard extra (Voilà and JupyterLab), so that after
# `make demo` alone `alchemist dashboard` and `make lab` work
$(VENV)/.installed-dashboard: pyproject.toml | $(BIN)/uv
	$(UV) -e ".[dashboard]"
	touch $@ $(VENV)/.installed-run

$(VENV)/.installed-test: pyproject.toml | $(BIN)/uv
	$(UV) -e ".[test]"
	touch $@ $(VENV)/.installed-run $(VENV)/.installed-dashboard

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/uv
	$(UV) -e ".[test,bench]"
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-run $(VENV)/.installed-dashboard

demo: $(VENV)/.installed-dashboard
	$(BIN)/alchemist demo

test: $(VENV)/.installed-test
	NUMBA_ENABLE_CUDASIM=1 $(BIN)/python -m pytest -q -m cudasim -p no:cacheprovider || [ $$? -eq 5 ]
	$(BIN)/python -m pytest -q -p no:cacheprovider --doctest-modules src/alchemist
	$(BIN)/python -m pytest

# FULL=1: the full workloads (the 10M-edge scale rows among them); ONLY="scale widgets": those sections only,
# replaced in benchmarks/RESULTS.md in place
bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run.py $(if $(FULL),--full) $(if $(ONLY),--only $(ONLY))

# on a machine with an NVIDIA GPU: CUDA kernel tests on the device and the GPU benchmarks, results in $$OUT
gpu-check:
	bash tools/gpu_check.sh

lab: $(VENV)/.installed-dashboard
	$(BIN)/jupyter lab notebooks/

dashboard: $(VENV)/.installed-dashboard
	$(BIN)/alchemist dashboard

clean:
	rm -rf $(VENV) .alchemist alchemist-out
