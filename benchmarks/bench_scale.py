"""How cost grows with the graph: every stage of the pipeline on 100K → 10M edges, alchemist beside
networkit and igraph, time and peak resident memory per stage, and the cost per edge as size grows 10×.

Graphs: Barabási–Albert graphs from networkit's generator (``BarabasiAlbertGenerator(k=10, n)``,
seed 42; 100K and 1M edges in quick mode, 10M more in full mode) and the real soc-Slashdot0902
(948K edges) when the shared data is present. Each library runs in its own fresh process per graph,
so its peak RSS (``VmHWM``, reset after its imports, minus the resident size then) is its own. Stages:
read the edge list, apply it as events (alchemist only: ``Graph.apply_columns`` of the edge
events), one layout iteration (ForceAtlas2 for alchemist, Fruchterman–Reingold for igraph; kernels
compiled beforehand on a tiny graph), PageRank, weakly connected components, Louvain (networkit: PLM
without refinement), render (alchemist: an 800×800 Datashader picture). Kernels (Numba, Datashader) are
compiled or loaded on a tiny graph before the clock starts. Peak RSS is the process's peak up to the end
of that stage.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ALCHEMIST_SHARED_DATA", ROOT.parent / "shared" / "data"))
SEED = 42

_WORKER = r'''
import json, os, sys, time
lib, path = sys.argv[1], sys.argv[2]
def _status(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
def rss_mb():
    # the peak (VmHWM) starts again from here: ru_maxrss would carry the parent's peak into this child
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return _status("VmRSS:")
def peak_mb():
    return _status("VmHWM:")
out = {"stages": []}
def stage(name, fn):
    t0 = time.perf_counter()
    value = fn()
    out["stages"].append([name, time.perf_counter() - t0, peak_mb() - base])
    return value
if lib == "alchemist":
    import numpy as np, pyarrow as pa
    import alchemist
    from alchemist.graph import Graph, pagerank, connected_components, louvain
    from alchemist.layout import forceatlas2
    from alchemist.render import graph_image
    forceatlas2(Graph.from_edges([("a", "b"), ("b", "c")]), 2, seed=0)  # compile / load kernels first
    tiny = Graph.from_edges([("a", "b"), ("b", "c")])
    pagerank(tiny); louvain(tiny); connected_components(tiny)
    graph_image(tiny, forceatlas2(tiny, 1, seed=0), width=64, height=64)
    ring = np.arange(25_000)  # 20,000 nodes and more take the parallel quadtree: compile it too
    forceatlas2((25_000, ring, (ring + 1) % 25_000), 1, seed=0)
    base = rss_mb()
    g = stage("read", lambda: alchemist.read_graph(path))
    out["graph_mb"] = g.memory_usage() / 2**20
    out["nodes"], out["edges"] = g.number_of_nodes(), g.number_of_edges()
    def apply():
        src, dst, _ = g.edge_index()
        ids = pa.array(g.node_ids)
        table = pa.table({"event_type": pa.array(["edge_added"]).take(pa.array(np.zeros(len(src), np.int64))),
                          "source": ids.take(pa.array(src)), "target": ids.take(pa.array(dst))})
        h = Graph("events", strict=False)
        h.apply_columns(table)
        return h
    h = stage("apply as events", apply)
    del h
    pos = stage("layout, 1 iteration", lambda: forceatlas2(g, 1, seed=1))
    stage("PageRank", lambda: pagerank(g))
    stage("connected components", lambda: connected_components(g))
    labels = stage("Louvain", lambda: louvain(g))
    out["modularity"] = float(alchemist.graph.modularity(g, labels))
    stage("render 800x800", lambda: graph_image(g, pos, width=800, height=800))
elif lib == "networkit":
    import networkit as nk
    nk.setNumberOfThreads(os.cpu_count())
    base = rss_mb()
    reader = nk.graphio.EdgeListReader(" ", 0, continuous=False, directed=False)
    G = stage("read", lambda: reader.read(path))
    out["nodes"], out["edges"] = G.numberOfNodes(), G.numberOfEdges()
    stage("PageRank", lambda: nk.centrality.PageRank(G, tol=1e-6).run())
    stage("connected components", lambda: nk.components.ConnectedComponents(G).run())
    plm = stage("Louvain", lambda: nk.community.PLM(G, refine=False).run())
    out["modularity"] = nk.community.Modularity().getQuality(plm.getPartition(), G)
elif lib == "igraph":
    import igraph as ig
    base = rss_mb()
    G = stage("read", lambda: ig.Graph.Read_Ncol(path, directed=False, names=True))
    out["nodes"], out["edges"] = G.vcount(), G.ecount()
    stage("layout, 1 iteration", lambda: G.layout_fruchterman_reingold(niter=1, grid=True))
    stage("PageRank", lambda: G.pagerank())
    stage("connected components", lambda: G.connected_components())
    parts = stage("Louvain", lambda: G.community_multilevel())
    out["modularity"] = parts.modularity
print(json.dumps(out))
'''


def _generate(m_edges: int, folder: Path) -> Path:
    """A Barabási–Albert graph with about ``m_edges`` edges (k = 10, seed 42) as a space-separated edge list."""
    import networkit as nk

    path = folder / f"ba_{m_edges}.txt"
    if not path.exists():
        nk.setSeed(SEED, False)
        G = nk.generators.BarabasiAlbertGenerator(10, m_edges // 10).generate()
        nk.graphio.writeGraph(G, str(path), nk.Format.EdgeListSpaceZero)
    return path


def _plain(path: Path, folder: Path) -> Path:
    """A SNAP file as a plain space-separated edge list without comments (what every reader takes)."""
    import gzip

    out = folder / (path.name.replace(".gz", "") + ".plain")
    if not out.exists():
        with gzip.open(path, "rt") as src, open(out, "w") as dst:
            for line in src:
                if not line.startswith("#"):
                    dst.write(" ".join(line.split()[:2]) + "\n")
    return out


def _run(lib: str, path: Path, timeout: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        proc = subprocess.run([sys.executable, "-c", _WORKER, lib, str(path)], capture_output=True, text=True,
                              env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"over {timeout} s"}
    if proc.returncode:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:200]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run(full: bool = False) -> str:
    try:
        import networkit  # noqa: F401
    except ImportError:
        return "## Scale\n\n(skipped: networkit, which generates the graphs, is not installed: pip install 'alchemist[bench]')\n"
    sizes = [100_000, 1_000_000] + ([10_000_000] if full else [])
    folder = Path(tempfile.mkdtemp(prefix="alchemist-scale-"))
    graphs = [(f"Barabási–Albert, {m // 1000:,}K edges" if m < 10**6 else f"Barabási–Albert, {m // 10**6}M edges",
               _generate(m, folder)) for m in sizes]
    slashdot = DATA / "snap_graphs" / "soc-Slashdot0902.txt.gz"
    if slashdot.exists():
        graphs.insert(2, ("soc-Slashdot0902", _plain(slashdot, folder)))
    out = ["## Scale: cost as the graph grows\n",
           f"Load average (1 min) at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores. Time in s; "
           "peak RSS in MB above the process's resident size after its imports, up to the end of the stage; "
           "'per edge ×' is this row's time per edge over the same stage's on the graph 10× smaller "
           "(1.0: linear growth). alchemist's PageRank row is its first call on the graph, which builds and caches the "
           "in-adjacency; compiled kernels are loaded before the clock starts.\n"]
    previous: dict = {}
    for name, path in graphs:
        timeout = 3600 if "10M" in name else 900
        results = {lib: _run(lib, path, timeout) for lib in ("alchemist", "networkit", "igraph")}
        a = results["alchemist"]
        head = f"### {name}"
        if "edges" in a:
            head += f": {a['nodes']:,} nodes, {a['edges']:,} edges; the graph's own arrays {a['graph_mb']:.0f} MB"
        out.append(head + "\n")
        out.append("| stage | alchemist s | alchemist peak MB | per edge × | networkit s | networkit peak MB | "
                   "igraph s | igraph peak MB |\n|---|---:|---:|---:|---:|---:|---:|---:|")
        stages = [s[0] for s in a.get("stages", [])]
        for stage in stages:
            cells = []
            for lib in ("alchemist", "networkit", "igraph"):
                row = {s[0]: s for s in results[lib].get("stages", [])}.get(stage)
                cells.append((f"{row[1]:.3f}", f"{row[2]:.0f}") if row else ("–", "–"))
            growth = "–"
            mine = {s[0]: s for s in a["stages"]}[stage]
            if previous and "Barabási" in name and stage in previous["times"]:
                ratio = (mine[1] / a["edges"]) / (previous["times"][stage] / previous["edges"])
                growth = f"{ratio:.2f}"
            out.append(f"| {stage} | {cells[0][0]} | {cells[0][1]} | {growth} | {cells[1][0]} | {cells[1][1]} | "
                       f"{cells[2][0]} | {cells[2][1]} |")
        for lib, r in results.items():
            if "error" in r:
                out.append(f"\n{lib}: failed — {r['error']}")
        mods = ", ".join(f"{lib} {r['modularity']:.3f}" for lib, r in results.items() if "modularity" in r)
        if "edges" in a:
            peak = max(s[2] for s in a["stages"])
            out.append(f"\nLouvain modularity: {mods}. alchemist's whole pipeline peaked {peak:.0f} MB above "
                       f"its imports ({peak / max(a['graph_mb'], 1e-9):.1f}× the graph's arrays).\n")
        if "Barabási" in name and "edges" in a:
            previous = {"edges": a["edges"], "times": {s[0]: s[1] for s in a["stages"]}}  # the BA graph 10× smaller
    return "\n".join(out)


if __name__ == "__main__":
    print(run(full="--full" in sys.argv))
