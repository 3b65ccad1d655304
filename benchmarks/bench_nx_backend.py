"""NetworkX with and without the alchemist backend: the same ``nx.*`` call, ``backend="alchemist"``
or NetworkX's own implementation, in the same process on a real graph.

Quick mode uses ego-Facebook (4,039 nodes, 88,234 edges; SNAP) when the shared data is present,
else the shipped CollegeMsg pairs; full mode adds soc-Slashdot0902 (82K nodes, 948K edges) for
the linear-time functions. The backend's time includes converting the NetworkX graph on the first
call (``nx.config.cache_converted_graphs`` keeps it for later calls) and the first load of each
Numba kernel from its on-disk cache: both are shown.
"""

from __future__ import annotations

import gzip
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ALCHEMIST_SHARED_DATA", ROOT.parent / "shared" / "data"))


def _read(path: Path):
    import networkx as nx

    G = nx.Graph()
    with (gzip.open(path, "rt") if path.suffix == ".gz" else open(path)) as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            u, v = line.split()[:2]
            if u != v:
                G.add_edge(int(u), int(v))
    return G


def _time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _cases(G, full_graph: bool):
    import networkx as nx

    source = next(iter(G))
    cases = [
        ("pagerank", lambda **b: nx.pagerank(G, **b)),
        ("betweenness_centrality k=100", lambda **b: nx.betweenness_centrality(G, k=100, seed=1, **b)),
        ("louvain_communities", lambda **b: nx.community.louvain_communities(G, seed=1, **b)),
        ("clustering", lambda **b: nx.clustering(G, **b)),
        ("average_clustering", lambda **b: nx.average_clustering(G, **b)),
        ("transitivity", lambda **b: nx.transitivity(G, **b)),
        ("connected_components", lambda **b: list(nx.connected_components(G, **b))),
        ("shortest_path_length (one source)", lambda **b: nx.shortest_path_length(G, source, **b)),
        ("single_source_dijkstra_path_length", lambda **b: nx.single_source_dijkstra_path_length(G, source, **b)),
    ]
    if not full_graph:
        cases.append(("forceatlas2_layout 50 its", lambda **b: nx.forceatlas2_layout(G, max_iter=50, seed=1, **b)))
    return cases


def _table(name: str, G, full_graph: bool = False) -> str:
    import networkx as nx

    rows = [f"### {name}: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges\n",
            "| function | NetworkX, s | alchemist backend, first call (conversion, kernel load), s | alchemist backend, "
            "cached, s | speed-up (cached) |", "|---|---:|---:|---:|---:|"]
    for label, call in _cases(G, full_graph):
        G.__networkx_cache__.clear()
        t0 = time.perf_counter()
        call(backend="alchemist")
        first = time.perf_counter() - t0
        cached = _time(lambda: call(backend="alchemist"))
        with nx.config(backend_priority=[]):
            ref = _time(lambda: call(backend="networkx"), repeat=1 if G.number_of_edges() > 200_000 else 2)
        rows.append(f"| {label} | {ref:.4f} | {first:.4f} | {cached:.4f} | {ref / cached:.1f}× |")
    return "\n".join(rows) + "\n"


def run(full: bool = False) -> str:
    import warnings

    import networkx as nx

    from alchemist.layout import forceatlas2
    from alchemist.graph import Graph

    warnings.filterwarnings("ignore", message=".*cache.*")
    nx.config.warnings_to_ignore.add("cache")
    # compile the kernels first (one-time Numba compile, measured in the layout/compile sections)
    forceatlas2(Graph.from_edges([("a", "b"), ("b", "c")]), 2, seed=0)
    out = ["## NetworkX backend (`backend=\"alchemist\"`)\n",
           "The same NetworkX call with NetworkX's implementation and with alchemist's backend; best of 3 "
           "(NetworkX: best of 2, or 1 on large graphs). Answers are checked against NetworkX by "
           "`tests/nx_backend/`, and NetworkX's own tests for these functions pass with the backend "
           "(`tests/nx_backend/test_networkx_suite.py`).\n"]
    facebook = DATA / "snap_graphs" / "facebook_combined.txt"
    if facebook.exists():
        out.append(_table("ego-Facebook", _read(facebook)))
    else:
        out.append(_table("CollegeMsg (message pairs)", _read(ROOT / "data" / "samples" / "CollegeMsg.txt.gz")))
    slashdot = DATA / "snap_graphs" / "soc-Slashdot0902.txt.gz"
    if full and slashdot.exists():
        out.append(_table("soc-Slashdot0902", _read(slashdot), full_graph=True))
    return "\n".join(out)


if __name__ == "__main__":
    import sys

    print(run(full="--full" in sys.argv))
