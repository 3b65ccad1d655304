"""Memory the pipeline holds between its stages (issue 18: the 10M-edge pipeline within 2 GB): the edge
index of a graph whose edges are all alive is views of its columns (no row array), a read of 100K
edges hands the reader's freed blocks back, and a large ForceAtlas2 call hands back what its CSR and
worker threads freed. Bounds on resident memory are measured in fresh subprocesses (VmRSS/VmHWM, as
tests/graph/test_lean_ingest.py does), with the margins measured when they were written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import networkx as nx
import numpy as np

from alchemist.events import new_event
from alchemist.graph import Graph

ROOT = Path(__file__).resolve().parents[2]


def _python(script: str, *args) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True, env=env,
                         timeout=600, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_edge_index_of_an_all_alive_graph_allocates_no_row_array():
    rng = np.random.default_rng(1)
    m = 1_000_000
    src, dst = rng.integers(0, 50_000, m), rng.integers(0, 50_000, m)
    g = Graph.from_arrays(src, dst)
    tracemalloc.start()
    try:
        s, d, w = g.edge_index()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20, f"edge_index allocated {peak / 2**20:.1f} MB (the row array was 8 MB)"
    e = g.edges  # the edge table, built apart, names the same ends in the same order
    ids = np.array(g.node_ids)
    assert np.array_equal(ids[s], e["source"].to_numpy()) and np.array_equal(ids[d], e["target"].to_numpy())
    assert np.array_equal(w, np.ones(m))


def test_edge_index_after_a_removal_matches_networkx():
    edges = [("a", "b", 1.0), ("b", "c", 2.0), ("c", "d", 3.0), ("d", "a", 4.0)]
    g = Graph.from_edges(edges, directed=True)
    g.edge_index()  # cached while every edge is alive, dropped by the removal
    g.apply(new_event("edge_removed", "graph", {"edge_id": "e1"}))
    ref = nx.DiGraph()
    ref.add_weighted_edges_from([e for k, e in enumerate(edges) if k != 1])
    s, d, w = g.edge_index()
    ids = g.node_ids
    got = sorted((ids[a], ids[b], x) for a, b, x in zip(s.tolist(), d.tolist(), w.tolist()))
    assert got == sorted(ref.edges(data="weight"))


_READ_SCRIPT = r"""
import json, pathlib, sys, tempfile
import alchemist.graph as ag

def status_mb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

with tempfile.TemporaryDirectory() as tmp:  # the reader's imports and kernels loaded first
    small = pathlib.Path(tmp) / "small.txt"
    small.write_text("".join(f"{i} {i + 1}\n" for i in range(10_000)))
    ag.read_graph(small)
base = status_mb("VmRSS")
g = ag.read_graph(sys.argv[1])
print(json.dumps({"held": status_mb("VmRSS") - base, "own": g.memory_usage() / 2**20, "m": g.number_of_edges()}))
"""


def test_a_read_of_a_hundred_thousand_edges_keeps_little_beside_its_graph(tmp_path):
    # measured: 1.6 MB kept for 3.1 MB of arrays (2.4 MB on a Barabási–Albert file); 6.0 MB (11.5 MB) before
    # the reader handed its freed blocks back from 50,000 edges (it did from 500,000)
    rng = np.random.default_rng(2)
    m = 99_000
    path = tmp_path / "hundred.txt"
    np.savetxt(path, np.column_stack([rng.integers(0, 10_000, m), rng.integers(0, 10_000, m)]), fmt="%d")
    r = _python(_READ_SCRIPT, path)
    assert r["m"] == m
    assert r["held"] <= r["own"] + 1.5, f"read kept {r['held']:.1f} MB for {r['own']:.1f} MB of arrays"


_LAYOUT_SCRIPT = r"""
import json, sys
import numpy as np
from alchemist.layout import forceatlas2

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

rng = np.random.default_rng(3)
n, m = 60_000, 600_000
src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
ring = np.arange(25_000)
forceatlas2((25_000, ring, (ring + 1) % 25_000), 1, seed=0)  # kernels loaded (the parallel quadtree too)
base = rss_mb()
pos = forceatlas2((n, src, dst), 2, seed=1)
held = rss_mb() - base
ref = forceatlas2((n, src, dst), 2, seed=1)
print(json.dumps({"held": held, "pos_mb": pos.nbytes / 2**20, "same": bool(np.array_equal(pos, ref)),
                  "finite": bool(np.isfinite(pos).all())}))
"""


def test_a_large_layout_hands_back_what_it_freed():
    # measured at 600,000 edges: nothing kept beside the 0.5 MB of positions (-5 MB: the heap was trimmed);
    # 25 MB before (glibc kept the CSR and the worker threads' buffers in its arenas)
    r = _python(_LAYOUT_SCRIPT)
    assert r["finite"] and r["same"]  # the positions do not depend on the memory handed back
    assert r["held"] <= r["pos_mb"] + 16, f"layout kept {r['held']:.0f} MB"


def test_clear_cache_frees_the_adjacencies_and_answers_are_unchanged():
    rng = np.random.default_rng(4)
    n, m = 2_000, 20_000
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    g = Graph.from_arrays(src, dst)
    from alchemist.graph import pagerank

    first = pagerank(g)
    freed = g.clear_cache()
    assert freed >= 2 * m * 8  # PageRank's in-adjacency: at least one 8-byte column of 2m entries
    assert g.clear_cache() == 0
    again = pagerank(g)  # built again from the columns
    np.testing.assert_array_equal(again, first)
    ref = nx.pagerank(nx.MultiGraph(list(zip(src.tolist(), dst.tolist()))), tol=1e-10)
    ids = g.node_ids
    np.testing.assert_allclose(again, [ref[int(x)] for x in ids], rtol=0, atol=1e-6)  # PageRank tol 1e-6 (L1)
