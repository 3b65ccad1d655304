"""The one-time Numba compile of the CPU ForceAtlas2: the first call in a fresh environment (issue 15).

Each run is a new Python process with ``NUMBA_CACHE_DIR`` set to an empty folder, so that the
first :func:`alchemist.layout.forceatlas2` call compiles every kernel it uses; the figure is the
process CPU time of that call (``time.process_time``, all threads) less that of the same call
repeated in the process (the layout itself), and Numba's time in LLVM (``numba:llvm_lock``
events). A further process that loads the kernels from the now-filled cache shows what the
one-time cost buys.

Run alone: ``.venv/bin/python benchmarks/bench_compile.py`` (``--full`` adds the parallel tree of
graphs of 20,000 nodes and more).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "CollegeMsg.txt.gz"
RUNS = 3

_CHILD = r"""
import gzip, json, sys, time
import numpy as np
from numba.core import event

kind = sys.argv[1]
if kind == "college":
    a = np.loadtxt(gzip.open(sys.argv[2]), dtype=np.int64, usecols=(0, 1))
    ids, inv = np.unique(a.ravel(), return_inverse=True)
    inv = inv.reshape(-1, 2)
    graph, iterations, options = (len(ids), inv[:, 0], inv[:, 1]), 300, {"lin_log": True}
else:  # a ring at the size where the parallel tree starts
    from alchemist.layout._tree import PARALLEL_TREE_MIN
    ring = np.arange(PARALLEL_TREE_MIN)
    graph, iterations, options = (PARALLEL_TREE_MIN, ring, (ring + 1) % PARALLEL_TREE_MIN), 1, {}
from alchemist.layout import forceatlas2

llvm = event.TimingListener()
event.register("numba:llvm_lock", llvm)
c0, w0, t0 = time.process_time(), time.perf_counter(), time.thread_time()
forceatlas2(graph, iterations, seed=0, backend="cpu", **options)
c1, w1, t1 = time.process_time(), time.perf_counter(), time.thread_time()
event.unregister("numba:llvm_lock", llvm)
forceatlas2(graph, iterations, seed=0, backend="cpu", **options)
c2, t2 = time.process_time(), time.thread_time()
print(json.dumps({"cpu": c1 - c0, "wall": w1 - w0, "llvm": llvm.duration if llvm.done else 0.0, "again": c2 - c1,
                  "main": (t1 - t0) - (t2 - t1)}))
"""


def _child(kind: str, cache_dir: str) -> dict:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", _CHILD, kind, str(SAMPLE)], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(full: bool = False) -> str:
    """Time the first ForceAtlas2 call of fresh processes on empty Numba caches.

    Parameters
    ----------
    full : bool
        Also time the parallel tree (graphs of ``PARALLEL_TREE_MIN`` nodes or more).

    Returns
    -------
    str
        A Markdown section: medians of ``RUNS`` cold processes, and one warm (cached) process.
    """
    lines = [
        "## First ForceAtlas2 call: Numba compile\n",
        "| workload | compile, CPU s (median) | runs | compile, main thread CPU s (median) | first call, CPU s | "
        "of which in LLVM (wall), s | same call again, CPU s | new process, cache filled: first call, CPU s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    workloads = [("college", f"CollegeMsg (1,899 nodes), LinLog, 300 iterations")]
    if full:
        workloads.append(("ring", "ring of 20,000 nodes (parallel tree), 1 iteration"))
    for kind, label in workloads:
        cold = []
        for _ in range(RUNS):
            with tempfile.TemporaryDirectory() as cache:
                cold.append(_child(kind, cache))
        with tempfile.TemporaryDirectory() as cache:
            _child(kind, cache)
            warm = _child(kind, cache)
        compile_s = [r["cpu"] - r["again"] for r in cold]
        lines.append(
            f"| {label} | {statistics.median(compile_s):.1f} | {', '.join(f'{c:.1f}' for c in compile_s)} | "
            f"{statistics.median(r['main'] for r in cold):.1f} | {statistics.median(r['cpu'] for r in cold):.1f} | {statistics.median(r['llvm'] for r in cold):.1f} | "
            f"{statistics.median(r['again'] for r in cold):.2f} | {warm['cpu']:.1f} |"
        )
    lines.append(
        f"\nEach cold run is a new process with an empty `NUMBA_CACHE_DIR`. Compile = CPU time (all threads) "
        f"of the first `forceatlas2` call minus that of the same call repeated in the process (the layout "
        f"itself, whose CPU time grows when Numba's threads wait for a busy core); the main thread's figure leaves "
        f"out the worker threads' waiting (the compile runs on the main thread); {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f} at the end."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(full="--full" in sys.argv))
