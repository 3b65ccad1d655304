"""The GPU paths side by side with the CPU paths (and cuGraph where it is installed).

On a machine with no CUDA device this section says so and measures nothing; `make gpu-check`
(tools/gpu_check.sh) runs it where one is lent. Each row times the same public call with
``backend="cpu"`` and ``backend="cuda"`` (first calls excluded: they compile) and checks that
both give the same answer within the tolerance the function's docstring states.
"""

from __future__ import annotations

import sys
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
    lines += _analytics(full)
    lines += ["", *_cugraph(), *_cugraph_analytics()]
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


def _analytics_checks(g) -> list[tuple]:
    """(name, call of a backend, comparison of the GPU answer with the CPU's) for each analytic."""
    from alchemist.graph import (
        clustering, connected_components, louvain, modularity, pagerank, shortest_path_length,
        strongly_connected_components,
    )

    source = g.node_ids[0]

    def rel(a, c):
        return f"max relative difference {np.max(np.abs(a - c) / c):.1e} (tolerance 1e-6)"

    def same(a, c):
        return "identical" if np.array_equal(a, c) else f"DIFFER at {int(np.sum(a != c))} nodes"

    def diff(a, c):
        return f"max difference {np.max(np.abs(a - c)):.1e} (tolerance 1e-12)"

    def quality(a, c):
        return f"modularity {modularity(g, a):.4f} GPU vs {modularity(g, c):.4f} CPU (tolerance 0.02)"

    return [
        ("PageRank", lambda b: pagerank(g, backend=b), rel),
        ("weakly connected components", lambda b: connected_components(g, backend=b), same),
        ("strongly connected components", lambda b: strongly_connected_components(g, backend=b), same),
        ("BFS lengths from one node", lambda b: shortest_path_length(g, source, backend=b), same),
        ("SSSP lengths from one node (weights)",
         lambda b: shortest_path_length(g, source, weight="weight", backend=b), same),
        ("local clustering", lambda b: clustering(g, backend=b), diff),
        ("Louvain", lambda b: louvain(g, seed=0, backend=b), quality),
    ]


def _analytics(full: bool, device: str = "cuda") -> list[str]:
    """Rows of the graph analytics, CPU vs ``device`` (``"cpu"`` for a dry run of this code without a GPU)."""
    if not SLASHDOT.exists():
        return [f"| graph analytics | skipped: {SLASHDOT} is absent | | | |"]
    import alchemist

    g = alchemist.read_graph(SLASHDOT, directed=True)
    rows = []
    for name, call, compare in _analytics_checks(g):
        call(device), call("cpu")  # first calls excluded: they compile the kernels and fill the graph's caches
        t_gpu, out_gpu = _best(lambda: call(device), 3 if full else 2)
        t_cpu, out_cpu = _best(lambda: call("cpu"), 3 if full else 1)
        rows.append(f"| {name}, soc-Slashdot0902 | {t_cpu:.3f} | {t_gpu:.3f} | {t_cpu / t_gpu:.1f}× | "
                    f"{compare(np.asarray(out_gpu), np.asarray(out_cpu))} |")
    return rows


def _cugraph_analytics() -> list[str]:
    """cuGraph's PageRank, weak components, BFS, triangle count and Louvain on soc-Slashdot0902,
    timed and compared with alchemist's CUDA path."""
    try:
        import cudf
        import cugraph
    except ImportError:
        return []
    if not SLASHDOT.exists():
        return []
    import scipy.sparse as sp

    import alchemist
    from alchemist.graph import clustering, connected_components, louvain, modularity, pagerank, shortest_path_length

    g = alchemist.read_graph(SLASHDOT, directed=True)
    src, dst, _ = g.edge_index()
    frame = cudf.DataFrame({"src": src.astype(np.int32), "dst": dst.astype(np.int32)})
    D, U = cugraph.Graph(directed=True), cugraph.Graph(directed=False)
    D.from_cudf_edgelist(frame, source="src", destination="dst")
    U.from_cudf_edgelist(frame, source="src", destination="dst")
    n = g.number_of_nodes()

    def by_vertex(df, column, fill):
        out = np.full(n, fill, dtype=float)
        out[df["vertex"].to_numpy()] = df[column].to_numpy()
        return out

    lines = ["", "| workload (soc-Slashdot0902) | cuGraph s | alchemist CUDA s | same answer |", "|---|---:|---:|---|"]
    t_cu, pr = _best(lambda: cugraph.pagerank(D, alpha=0.85, tol=1e-6, max_iter=100))
    t_al, ours = _best(lambda: pagerank(g, backend="cuda"))
    theirs = by_vertex(pr, "pagerank", 0.0)
    lines.append(f"| PageRank | {t_cu:.3f} | {t_al:.3f} | max relative difference "
                 f"{np.max(np.abs(theirs - ours) / ours):.1e} |")
    t_cu, wcc = _best(lambda: cugraph.weakly_connected_components(D))
    t_al, ours = _best(lambda: connected_components(g, backend="cuda"))
    lines.append(f"| weak components | {t_cu:.3f} | {t_al:.3f} | {wcc['labels'].nunique()} components cuGraph, "
                 f"{int(ours.max()) + 1} alchemist |")
    t_cu, bfs = _best(lambda: cugraph.bfs(D, start=0))
    t_al, ours = _best(lambda: shortest_path_length(g, g.node_ids[0], backend="cuda"))
    theirs = by_vertex(bfs, "distance", np.inf)
    theirs[theirs >= np.iinfo(np.int32).max] = np.inf
    lines.append(f"| BFS from node row 0 | {t_cu:.3f} | {t_al:.3f} | "
                 f"{'identical' if np.array_equal(theirs, ours) else 'DIFFER'} |")
    t_cu, tri = _best(lambda: cugraph.triangle_count(U))
    t_al, ours = _best(lambda: clustering(g, backend="cuda"))
    A = sp.csr_matrix((np.ones(src.shape[0]), (src, dst)), shape=(n, n))
    A = ((A + A.T) > 0).astype(np.int8).tolil()
    A.setdiag(0)
    deg = np.asarray(A.tocsr().sum(axis=1)).ravel()
    ours = np.rint(ours * deg * (deg - 1) / 2)  # triangles through each node
    theirs = by_vertex(tri, "counts", 0.0)
    lines.append(f"| triangles per node (alchemist: local clustering) | {t_cu:.3f} | {t_al:.3f} | "
                 f"{'identical' if np.array_equal(theirs, ours) else 'DIFFER'} ({int(theirs.sum()) // 3} triangles) |")
    t_cu, (parts, q_cu) = _best(lambda: cugraph.louvain(U))
    t_al, ours = _best(lambda: louvain(g, seed=0, backend="cuda"))
    lines.append(f"| Louvain | {t_cu:.3f} | {t_al:.3f} | modularity {q_cu:.4f} cuGraph, {modularity(g, ours):.4f} "
                 "alchemist |")
    return lines


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


if __name__ == "__main__":
    # `python benchmarks/bench_gpu.py --dry-run`: the analytics rows with the CPU on both sides, to check this
    # file's code on a machine without a GPU (the timings and answers mean nothing there)
    if "--dry-run" in sys.argv:
        print("\n".join(_analytics(False, device="cpu")))
    else:
        print(run("--full" in sys.argv))
