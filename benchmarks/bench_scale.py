"""How cost grows with the graph: every stage of the pipeline on 100K → 10M edges, alchemist beside
networkit and igraph, time and peak resident memory per stage, and the cost per edge as size grows 10×.

Graphs: Barabási–Albert graphs from networkit's generator (``BarabasiAlbertGenerator(k=10, n)`` after
``nk.setSeed(42, False)``; 100K and 1M edges in quick mode, 10M more in full mode) and the real, directed
soc-Slashdot0902 (948K edges) when the shared data is present. Each library runs in its own fresh process
per graph, so its peak RSS (``VmHWM``, reset after its imports, minus the resident size then) is its own.
Stages: read the edge list, apply it as events (alchemist only: ``Graph.apply_columns`` of the edge
events, in a process of its own so that the event table stays out of the pipeline's peak), one layout
iteration (ForceAtlas2 for alchemist, Fruchterman–Reingold for igraph), PageRank, weakly connected
components, Louvain (networkit: PLM without refinement), render (alchemist: an 800×800 Datashader
picture), GraphView open (the widget's level-of-detail pyramid and first full 800×600 frame, drawn in
the kernel without a browser) and GraphView frame (the full frame drawn again, as when the view rests);
on a directed graph, strongly connected components of the file read again as directed. Kernels (Numba,
Datashader) are compiled or loaded on a tiny graph before the clock starts. Peak RSS is the process's
peak up to the end of that stage. Components and Louvain, for every library, are timed as the median
of 5 runs when one run takes under 0.1 s (a single run of a few milliseconds is mostly noise here); each
of alchemist's Louvain runs starts without the level-0 adjacency it caches, as the first call does. Full mode takes about 10 minutes on 2 cores, most of it the 10M rows.
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

_WORKER = r"""
import gc, json, os, statistics, sys, time
lib, path, directed = sys.argv[1], sys.argv[2], sys.argv[3] == "directed"
def _status(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
def rss_mb():
    # the peak (VmHWM) starts again from here: ru_maxrss would carry the parent's peak into this child
    gc.collect()
    try:
        import ctypes
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # what earlier objects freed is not counted in the base
    except (OSError, AttributeError):
        pass
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")
    return _status("VmRSS:")
def peak_mb():
    return _status("VmHWM:")
out = {"stages": []}
#: Louvain's modularity is the median over this many runs (alchemist: seeds 0, 1, …; the peers: runs
#: in turn) on graphs of at most this many edges, the first run's above
MODULARITY_RUNS = 5
MODULARITY_RUNS_MAX_EDGES = 2_000_000


def stage(name, fn, repeat=False, reset=None):
    t0 = time.perf_counter()
    value = fn()
    took = time.perf_counter() - t0
    if repeat and took < 0.1:  # a short stage: the median of 5 runs (the first run's value is kept)
        runs = [took]
        for _ in range(4):
            if reset is not None:  # untimed: each run starts as the first did
                reset()
            t0 = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t0)
        took = sorted(runs)[2]
    out["stages"].append([name, took, peak_mb() - base, os.getloadavg()[0]])
    print(json.dumps(out), flush=True)  # what is done so far, should the parent stop this process
    return value
if lib in ("alchemist", "alchemist-events"):
    import numpy as np, pyarrow as pa
    import alchemist
    from alchemist.graph import Graph, pagerank, connected_components, louvain, strongly_connected_components
    from alchemist.layout import forceatlas2
    from alchemist.render import graph_image
    from alchemist.widgets import GraphView
    tiny = Graph.from_edges([("a", "b"), ("b", "c")])
    forceatlas2(tiny, 2, seed=0)  # compile / load kernels first
    pagerank(tiny); louvain(tiny); connected_components(tiny); strongly_connected_components(tiny)
    graph_image(tiny, forceatlas2(tiny, 1, seed=0), width=64, height=64)
    GraphView(tiny, forceatlas2(tiny, 1, seed=0), width=80, height=60, threaded=False).close()
    ring = np.arange(25_000)  # 20,000 nodes and more take the parallel quadtree: compile it too
    forceatlas2((25_000, ring, (ring + 1) % 25_000), 1, seed=0)
    ring = np.arange(240_000)  # small graphs run serial analytics kernels: load the parallel ones too
    for warm_directed in (True, False):  # not `directed`: that is this worker's argument
        big = Graph.from_arrays(ring, (ring + 1) % 240_000, directed=warm_directed)
        pagerank(big); louvain(big); connected_components(big); strongly_connected_components(big)
    del big
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:  # the reader's modules (Arrow's CSV reader) imported too
        with open(os.path.join(tmp, "tiny.txt"), "w") as fh:
            fh.write("a b\nb c\n")
        alchemist.read_graph(os.path.join(tmp, "tiny.txt"))
    Graph("events", strict=False).apply_columns(pa.table({"event_type": ["edge_added"], "source": ["a"],
                                                          "target": ["b"]}))
if lib == "alchemist-events":  # its own process: the event table and the second graph stay out of the pipeline's peak
    g = alchemist.read_graph(path)
    src, dst, _ = g.edge_index()
    ids = pa.array(g.node_ids)
    table = pa.table({"event_type": pa.array(["edge_added"]).take(pa.array(np.zeros(len(src), np.int64))),
                      "source": ids.take(pa.array(src)), "target": ids.take(pa.array(dst))})
    del g, src, dst, ids
    base = rss_mb()  # above the event table
    stage("apply as events", lambda: Graph("events", strict=False).apply_columns(table))
elif lib == "alchemist":
    base = rss_mb()
    out["imports_mb"] = base
    g = stage("read", lambda: alchemist.read_graph(path))
    out["graph_mb"] = g.memory_usage() / 2**20
    out["nodes"], out["edges"] = g.number_of_nodes(), g.number_of_edges()
    pos = stage("layout, 1 iteration", lambda: forceatlas2(g, 1, seed=1))
    stage("PageRank", lambda: pagerank(g))
    stage("weak components", lambda: connected_components(g), True)
    # Louvain on the graph networkit's reader builds (each unordered pair once, self-loops kept): read_graph keeps
    # both directions of a reciprocal pair (soc-Slashdot0902: 948K edges against networkit's 582K), and the two
    # libraries must cluster, and score, the same graph
    es, ed, _ = g.edge_index()
    pairs = np.unique(np.minimum(es, ed).astype(np.int64) * g.number_of_nodes() + np.maximum(es, ed))
    u = g if pairs.shape[0] == g.number_of_edges() else Graph.from_arrays(
        pairs // g.number_of_nodes(), pairs % g.number_of_nodes(), node_ids=g.node_ids)
    # every run as the pipeline's first call: the graph's cache (Louvain's level-0 adjacency) dropped first
    labels = stage("Louvain", lambda: louvain(u), True, reset=lambda: (u.clear_cache(), u.edge_index()))
    scores = [float(alchemist.graph.modularity(u, labels))]
    if u.number_of_edges() <= MODULARITY_RUNS_MAX_EDGES:  # a single run's modularity is mostly its seed's luck
        scores += [float(alchemist.graph.modularity(u, louvain(u, seed=s))) for s in range(1, MODULARITY_RUNS)]
    out["modularity"] = float(statistics.median(scores))
    del u, pairs, es, ed
    del labels
    stage("render 800x800", lambda: graph_image(g, pos, width=800, height=800))
    view = stage("GraphView open 800x600", lambda: GraphView(g, pos, width=800, height=600, threaded=False))
    stage("GraphView frame 800x600", lambda: view.render(*view.full_extent()))
    out["pipeline_peak"] = peak_mb() - base
    if directed:  # the same file read as a directed graph (read off the clock, after the undirected one is gone)
        view.close()
        del view, g, pos
        gd = alchemist.read_graph(path, directed=True)
        stage("strong components (directed)", lambda: strongly_connected_components(gd), True)
elif lib == "networkit":
    import networkit as nk
    nk.setNumberOfThreads(os.cpu_count())
    base = rss_mb()
    reader = nk.graphio.EdgeListReader(" ", 0, continuous=False, directed=False)
    G = stage("read", lambda: reader.read(path))
    out["nodes"], out["edges"] = G.numberOfNodes(), G.numberOfEdges()
    stage("PageRank", lambda: nk.centrality.PageRank(G, tol=1e-6).run())
    stage("weak components", lambda: nk.components.ConnectedComponents(G).run(), True)
    plm = stage("Louvain", lambda: nk.community.PLM(G, refine=False).run(), True)
    scores = [nk.community.Modularity().getQuality(plm.getPartition(), G)]
    if G.numberOfEdges() <= MODULARITY_RUNS_MAX_EDGES:
        scores += [nk.community.Modularity().getQuality(nk.community.PLM(G, refine=False).run().getPartition(), G)
                   for _ in range(1, MODULARITY_RUNS)]
    out["modularity"] = float(statistics.median(scores))
    if directed:
        del G, plm
        gd = nk.graphio.EdgeListReader(" ", 0, continuous=False, directed=True).read(path)
        stage("strong components (directed)", lambda: nk.components.StronglyConnectedComponents(gd).run(), True)
elif lib == "igraph":
    import igraph as ig
    base = rss_mb()
    G = stage("read", lambda: ig.Graph.Read_Ncol(path, directed=False, names=True))
    out["nodes"], out["edges"] = G.vcount(), G.ecount()
    stage("layout, 1 iteration", lambda: G.layout_fruchterman_reingold(niter=1, grid=True))
    stage("PageRank", lambda: G.pagerank())
    stage("weak components", lambda: G.connected_components(), True)
    parts = stage("Louvain", lambda: G.community_multilevel(), True)
    scores = [parts.modularity]
    if G.ecount() <= MODULARITY_RUNS_MAX_EDGES:
        scores += [G.community_multilevel().modularity for _ in range(1, MODULARITY_RUNS)]
    out["modularity"] = float(statistics.median(scores))
    if directed:
        del G, parts
        gd = ig.Graph.Read_Ncol(path, directed=True, names=True)
        stage("strong components (directed)", lambda: gd.connected_components(mode="strong"), True)
print(json.dumps(out))
"""


def generate(m_edges: int, folder: Path) -> Path:
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


def _run(lib: str, path: Path, timeout: int, directed: bool = False) -> dict:
    """One worker's results: its stages so far and, when it failed or ran past ``timeout`` seconds, an
    ``error`` (a stopped worker keeps the stages it finished)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    try:
        proc = subprocess.run([sys.executable, "-c", _WORKER, lib, str(path), "directed" if directed else "undirected"],
                              capture_output=True, text=True, env=env, timeout=timeout)
        stdout, error = proc.stdout, None
        if proc.returncode:
            error = "failed: " + (proc.stderr.strip().splitlines() or ["?"])[-1][:200]
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        error = f"stopped after {timeout} s"
    lines = [line for line in stdout.strip().splitlines() if line.startswith("{")]
    result = json.loads(lines[-1]) if lines else {}
    if error:
        result["error"] = error
    return result


_LIBS = ("alchemist", "networkit", "igraph")


def _table(name: str, results: dict, previous: dict) -> list[str]:
    """The Markdown lines of one graph: its heading, the per-stage table and the notes under it."""
    a = results["alchemist"]
    head = f"### {name}"
    if "edges" in a:
        head += f": {a['nodes']:,} nodes, {a['edges']:,} edges; the graph's own arrays {a['graph_mb']:.0f} MB"
    out = [head + "\n", "| stage | alchemist s | alchemist peak MB | per edge × | networkit s | networkit peak MB | "
           "igraph s | igraph peak MB | load |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows = {lib: {s[0]: s for s in results[lib].get("stages", [])} for lib in _LIBS}
    for stage, mine in rows["alchemist"].items():
        cells = [(f"{rows[lib][stage][1]:.3f}", f"{rows[lib][stage][2]:.0f}") if stage in rows[lib] else ("–", "–")
                 for lib in _LIBS]
        growth = "–"
        if previous and stage in previous["times"] and previous["times"][stage] > 0:
            growth = f"{(mine[1] / a['edges']) / (previous['times'][stage] / previous['edges']):.2f}"
        out.append(f"| {stage} | {cells[0][0]} | {cells[0][1]} | {growth} | {cells[1][0]} | {cells[1][1]} | "
                   f"{cells[2][0]} | {cells[2][1]} | {mine[3]:.1f} |")
    for lib, r in results.items():
        if "error" in r:
            out.append(f"\n{lib}: {r['error']} (the table has the stages it finished).")
    mods = ", ".join(f"{lib} {r['modularity']:.3f}" for lib, r in results.items() if "modularity" in r)
    if "pipeline_peak" in a:
        peak, arrays = a["pipeline_peak"], max(a["graph_mb"], 1e-9)
        out.append(f"\nLouvain modularity: {mods}. alchemist's read peaked {rows['alchemist']['read'][2] / arrays:.1f}× "
                   f"the graph's arrays; its whole pipeline (read to GraphView frame, one process) peaked {peak:.0f} MB "
                   f"above its imports ({peak / arrays:.1f}× the arrays), {peak + a['imports_mb']:.0f} MB in all "
                   f"(imports {a['imports_mb']:.0f} MB).\n")
    return out


def run(full: bool = False) -> str:
    try:
        import networkit  # noqa: F401
    except ImportError:
        return "## Scale\n\n(skipped: networkit, which generates the graphs, is not installed: pip install 'alchemist[bench]')\n"
    sizes = [100_000, 1_000_000] + ([10_000_000] if full else [])
    with tempfile.TemporaryDirectory(prefix="alchemist-scale-") as tmp:  # the 10M-edge file is 130 MB
        return _report(sizes, Path(tmp))


def _report(sizes: list[int], folder: Path) -> str:
    """The section: each graph generated (or converted) into ``folder``, then measured."""
    graphs = [(f"Barabási–Albert, {m // 1000:,}K edges" if m < 10**6 else f"Barabási–Albert, {m // 10**6}M edges",
               generate(m, folder), False) for m in sizes]
    slashdot = DATA / "snap_graphs" / "soc-Slashdot0902.txt.gz"
    if slashdot.exists():
        graphs.insert(2, ("soc-Slashdot0902", _plain(slashdot, folder), True))
    out = ["## Scale: cost as the graph grows\n",
           f"Load average (1 min) at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; the 'load' column "
           "is the 1-minute load average at the end of alchemist's stage. Graphs: networkit's "
           f"`BarabasiAlbertGenerator(k=10)`, `nk.setSeed({SEED}, False)`, and soc-Slashdot0902. Time in s; peak RSS in "
           "MB above the process's resident size after its imports, up to the end of the stage (each library in its own "
           "process per graph; 'apply as events' in a process of its own, above its event table); 'per edge ×' is this "
           "row's time per edge over the same stage's on the Barabási–Albert graph 10× smaller (1.0: linear growth). "
           "alchemist's PageRank row is its first call on the graph (it builds the in-adjacency); 'GraphView open' "
           "builds the widget's level-of-detail pyramid and draws the first full frame in the kernel (no browser), "
           "'GraphView frame' draws the full frame again (what the browser asks for when the view rests). "
           "On a directed graph the strong components are computed on the file read again as directed, off the "
           "clock, after the undirected graph is freed. Compiled kernels are loaded before the clock starts. Components and "
           "Louvain (every library) are the median of 5 runs where one run takes under 0.1 s (each alchemist Louvain run "
           "without the level-0 adjacency it caches on the graph, as a first call); Louvain's modularity is "
           "the median over 5 runs (alchemist's with seeds 0-4) up to 2M edges, the first run's above.\n"]
    previous: dict = {}
    for name, path, directed in graphs:
        big = "10M" in name  # the peers get 4 minutes each there (igraph's Louvain alone takes longer)
        results = {lib: _run(lib, path, (900 if lib == "alchemist" else 240) if big else 600, directed)
                   for lib in _LIBS}
        events = _run("alchemist-events", path, 600)
        if "stages" in results["alchemist"] and "stages" in events:
            results["alchemist"]["stages"].insert(1, events["stages"][0])
        elif "error" in events:
            results["alchemist-events"] = events
        out += _table(name, results, previous if "Barabási" in name else {})
        a = results["alchemist"]
        if "Barabási" in name and "edges" in a:  # the next Barabási–Albert graph is 10× larger
            previous = {"edges": a["edges"], "times": {s[0]: s[1] for s in a["stages"]}}
    return "\n".join(out)


if __name__ == "__main__":
    print(run(full="--full" in sys.argv))
