"""GraphView pan/zoom in the kernel: alchemist's widget raster vs re-rendering with Datashader.

Workload: soc-Slashdot0902 (82,168 nodes, 948,464 edges) with a cheap layout (igraph's
Fruchterman–Reingold with its grid, 30 iterations; random positions where igraph is absent),
an 800×600 view, a sequence of pans and zooms. For each viewport we time what the kernel does for
one frame: GraphView's draft (edge sample sized to a 50 ms budget, JPEG), its full frame (every
edge, PNG), and Datashader's ``Canvas.line`` + ``shade`` + PNG (alchemist.render.graph_image's
pipeline with the segments frame cached, i.e. its best case).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

SLASHDOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "snap_graphs" / "soc-Slashdot0902.txt.gz"


def run(full: bool = False) -> str:
    import alchemist
    from alchemist.render import graph as R
    from alchemist.widgets import GraphView

    if not SLASHDOT.exists():
        return f"## Widgets\n\nskipped: {SLASHDOT} is absent\n"
    g = alchemist.read_graph(SLASHDOT, directed=True)
    pos = cheap_layout(g)
    view = GraphView(g, pos, width=800, height=600, threaded=False)
    (x0, x1), (y0, y1) = view.x_range, view.y_range
    views = []
    for k in range(12 if full else 6):  # pans at full extent, then zooms 2× … 8×
        zoom = 1.0 if k < 3 else 2.0 ** (k - 2) if k < 6 else 1.5 ** (k - 4)
        cx = (x0 + x1) / 2 + 0.05 * k * (x1 - x0)
        cy = (y0 + y1) / 2 - 0.03 * k * (y1 - y0)
        hw, hh = (x1 - x0) / 2 / zoom, (y1 - y0) / 2 / zoom
        views.append(([cx - hw, cx + hw], [cy - hh, cy + hh]))

    def timed(fn):
        times = []
        for xr, yr in views:
            t = time.perf_counter()
            fn(xr, yr)
            times.append(time.perf_counter() - t)
        return np.array(times)

    def frame(draft):
        return lambda xr, yr: view._on_custom_msg(view, {"type": "view", "x_range": xr, "y_range": yr, "draft": draft}, [])

    for xr, yr in views[:4]:  # warm up (Numba cache load) and let the draft's edge sample adapt, as a drag does
        frame(True)(xr, yr)
    draft = timed(frame(True))
    draft_edges = view.frame["edges_drawn"]
    final = timed(frame(False))
    segments = R.edge_segments(g, pos.astype(np.float64))
    points = R.node_points(pos.astype(np.float64))

    def datashader(xr, yr):
        cvs = R.canvas(pos, width=800, height=600, x_range=xr, y_range=yr)
        R.to_png(R.shade_graph(R.aggregate_edges(cvs, segments), R.aggregate_nodes(cvs, points)))

    datashader(*views[0])
    ds_times = timed(datashader)
    rows = [("GraphView draft (pan/zoom while moving)", draft), ("GraphView full frame (at rest)", final),
            ("Datashader re-render (cached segments)", ds_times)]
    lines = ["## Widgets", "",
             f"GraphView pan/zoom frame in the kernel, soc-Slashdot0902 ({g.number_of_nodes():,} nodes, "
             f"{g.number_of_edges():,} edges), 800×600, {len(views)} viewports (pans and zooms); "
             f"the draft drew a uniform sample of {draft_edges:,} edges on its last frame.", "",
             "| frame | median ms | max ms | speed-up vs Datashader (median) |", "|---|---|---|---|"]
    ref = np.median(ds_times)
    for name, t in rows:
        lines.append(f"| {name} | {1000 * np.median(t):.0f} | {1000 * t.max():.0f} | {ref / np.median(t):.1f}× |")
    lines += ["", "Kernel-side time per frame (render + encode); the browser round trip adds the comm "
              "transfer and image decode (measured separately in the browser, see the widgets issue notes)."]
    return "\n".join(lines) + "\n"


def cheap_layout(g) -> np.ndarray:
    src, dst, _ = g.edge_index()
    try:
        import igraph

        G = igraph.Graph(n=g.number_of_nodes(), edges=np.column_stack([src, dst]).tolist())
        return np.asarray(G.layout_fruchterman_reingold(niter=30, grid=True).coords, dtype=np.float32)
    except ImportError:
        return np.random.default_rng(0).normal(size=(g.number_of_nodes(), 2)).astype(np.float32)


if __name__ == "__main__":
    print(run())
