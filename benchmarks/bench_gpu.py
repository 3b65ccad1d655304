"""The GPU paths side by side with the CPU paths (and cuGraph where it is installed).

On a machine with no CUDA device this section says so and measures nothing; `make gpu-check`
(tools/gpu_check.sh) runs it where one is lent. Each row times the same public call with
``backend="cpu"`` and ``backend="cuda"`` (first calls excluded: they compile) and checks that
both give the same answer within the tolerance the function's docstring states.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SLASHDOT = ROOT.parent / "shared" / "data" / "snap_graphs" / "soc-Slashdot0902.txt.gz"


def _best(fn, repeats: int = 3) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run(full: bool = False) -> str:
    from alchemist.backend import gpu_available

    if not gpu_available():
        return "## GPU\n\nskipped: no CUDA device on this machine (`make gpu-check` runs this where one is lent).\n"
    import cupy

    device = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    lines = ["## GPU\n", f"Device: {device}.\n", "| workload | CPU s | GPU s | GPU speed-up | same answer |",
             "|---|---:|---:|---:|---|"]
    lines += _layout(full)
    lines += _categorize(full)
    lines += _shapley(full)
    lines += ["", *_cugraph()]
    return "\n".join(lines) + "\n"


def _layout(full: bool) -> list[str]:
    from alchemist.layout import forceatlas2
    from alchemist.layout.metrics import neighborhood_preservation

    if not SLASHDOT.exists():
        return [f"| ForceAtlas2 | skipped: {SLASHDOT} is absent | | | |"]
    import alchemist

    g = alchemist.read_graph(SLASHDOT, directed=True)
    iterations = 500
    forceatlas2(g, 2, seed=1, backend="cuda")
    t_gpu, pos_gpu = _best(lambda: forceatlas2(g, iterations, seed=1, backend="cuda"), 2)
    t_cpu, pos_cpu = _best(lambda: forceatlas2(g, iterations if full else 50, seed=1, backend="cpu"), 1)
    if not full:
        t_cpu *= iterations / 50  # per-iteration cost scaled to the same iterations
    q_gpu = neighborhood_preservation(g, pos_gpu)
    q_cpu = neighborhood_preservation(g, pos_cpu)
    return [f"| ForceAtlas2, soc-Slashdot0902, {iterations} iterations (target ≤ 1 s) | {t_cpu:.2f} | {t_gpu:.3f} | "
            f"{t_cpu / t_gpu:.1f}× | neighbourhood preservation {q_gpu:.3f} GPU vs {q_cpu:.3f} CPU |"]


def _categorize(full: bool) -> list[str]:
    from alchemist.concepts import categorize

    rng = np.random.default_rng(0)
    x, p = rng.random((1_000_000, 6)), rng.random((1000, 6))
    categorize(x[:1000], p, backend="cuda")
    categorize(x[:1000], p, backend="cpu")
    t_gpu, lab_gpu = _best(lambda: categorize(x, p, backend="cuda"))
    t_cpu, lab_cpu = _best(lambda: categorize(x, p, backend="cpu"), 1)
    agree = float(np.mean(np.asarray(lab_gpu) == np.asarray(lab_cpu)))
    return [f"| categorize 1M points × 1,000 prototypes, 6 dims (target ≥ 10× cKDTree) | {t_cpu:.3f} | {t_gpu:.3f} | "
            f"{t_cpu / t_gpu:.1f}× | labels agree {agree:.6f} |"]


def _shapley(full: bool) -> list[str]:
    from alchemist.games import CoalitionalGame, shapley_value

    n = 22 if full else 20
    v = np.random.default_rng(n).random(1 << n)
    v[0] = 0
    g = CoalitionalGame(n, v)
    shapley_value(g, backend="cuda")
    t_gpu, phi_gpu = _best(lambda: shapley_value(g, backend="cuda"))
    t_cpu, phi_cpu = _best(lambda: shapley_value(g, backend="cpu"), 1)
    err = float(np.max(np.abs(np.asarray(phi_gpu) - np.asarray(phi_cpu))))
    return [f"| exact Shapley value, {n} players | {t_cpu:.3f} | {t_gpu:.3f} | {t_cpu / t_gpu:.1f}× | "
            f"max difference {err:.1e} |"]


def _cugraph() -> list[str]:
    try:
        import cudf
        import cugraph
    except ImportError:
        return ["cuGraph: not installed here (tools/gpu_check.sh tries `pip install cugraph-cu12`)."]
    if not SLASHDOT.exists():
        return [f"cuGraph: skipped ({SLASHDOT} is absent)."]
    import alchemist
    from alchemist.layout import forceatlas2

    g = alchemist.read_graph(SLASHDOT, directed=True)
    src, dst, _ = g.edge_index()
    frame = cudf.DataFrame({"src": src.astype(np.int32), "dst": dst.astype(np.int32)})
    G = cugraph.Graph()
    G.from_cudf_edgelist(frame, source="src", destination="dst")
    cugraph.force_atlas2(G, max_iter=2)
    t_cu, _ = _best(lambda: cugraph.force_atlas2(G, max_iter=500), 2)
    t_al, _ = _best(lambda: forceatlas2(g, 500, seed=1, backend="cuda"), 2)
    return [f"cuGraph `force_atlas2`, soc-Slashdot0902, 500 iterations: {t_cu:.3f} s; alchemist CUDA: {t_al:.3f} s "
            f"({t_cu / t_al:.2f}× cuGraph's time)."]
