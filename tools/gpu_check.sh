#!/usr/bin/env bash
# make gpu-check: on a machine with an NVIDIA GPU, install the gpu extra, run every CUDA kernel test on the
# device (the tests CI runs under Numba's simulator) and the GPU benchmarks side by side with the CPU path
# (and cuGraph where it installs); results go to $OUT (default ./gpu-check-out). Budget: under 8 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT"
PYTHON="${PYTHON:-python3}"
VENV=.venv
status=0
{
    date -u
    nvidia-smi || echo "nvidia-smi: not found"
} > "$OUT/device.txt" 2>&1
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip uv > "$OUT/install.log" 2>&1
timeout 240 "$VENV/bin/uv" pip install --python "$VENV/bin/python" -e ".[test,gpu]" >> "$OUT/install.log" 2>&1 \
    || { echo "install of .[test,gpu] failed (see install.log)" | tee -a "$OUT/summary.txt"; exit 1; }
# cuGraph is optional (a large download): the benchmark says when it is absent
timeout 120 "$VENV/bin/uv" pip install --python "$VENV/bin/python" cugraph-cu12 >> "$OUT/install.log" 2>&1 \
    || echo "cugraph-cu12 not installed (optional)" >> "$OUT/summary.txt"
"$VENV/bin/python" -c "from alchemist.backend import gpu_available; print('gpu_available:', gpu_available())" \
    | tee -a "$OUT/summary.txt"
ALCHEMIST_CUDA_DEVICE=1 timeout 180 "$VENV/bin/python" -m pytest -q -m cudasim -p no:cacheprovider \
    --junitxml="$OUT/cuda-tests.xml" > "$OUT/cuda-tests.txt" 2>&1 || status=1
tail -3 "$OUT/cuda-tests.txt" | tee -a "$OUT/summary.txt"
timeout 240 "$VENV/bin/python" benchmarks/run.py --only gpu layout --output "$OUT/gpu-bench.md" \
    > "$OUT/gpu-bench.log" 2>&1 || status=1
cat "$OUT/gpu-bench.md" >> "$OUT/summary.txt" 2>/dev/null
exit $status
