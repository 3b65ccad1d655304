"""GraphView pan/zoom in the kernel: alchemist's widget raster vs re-rendering with Datashader.

Workload: soc-Slashdot0902 (82,168 nodes, 948,464 edges) with a cheap layout (igraph's
Fruchterman–Reingold with its grid, 30 iterations; random positions where igraph is absent),
an 800×600 view, a sequence of pans and zooms. For each viewport we time what the kernel does for
one frame: GraphView's draft (half size, edge sample sized to a 30 ms budget, JPEG), its full
frame (every edge, PNG), and Datashader's ``Canvas.line`` + ``shade`` + PNG
(alchemist.render.graph_image's pipeline with the segments frame cached, i.e. its best case).

Then the round trip a user feels: the same GraphView served by Voilà on localhost and driven by
headless Chromium (Playwright, ``/usr/bin/chromium``), one wheel zoom or drag per step; the
browser times each request from sending it to showing the decoded frame (``roundTripMs`` on the
stage). Skipped, with the reason, where Chromium or Voilà is absent.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SLASHDOT = ROOT.parent / "shared" / "data" / "snap_graphs" / "soc-Slashdot0902.txt.gz"


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
        return lambda xr, yr: view._on_custom_msg(view, {"type": "view", "x_range": xr, "y_range": yr,
                                                         "draft": draft}, [])

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
    lines += ["", "Kernel-side time per frame (render + encode); the browser round trip below adds the comm "
              "transfer and the image decode."]
    lines += ["", *browser_round_trip(pos, steps=30 if full else 16)]
    return "\n".join(lines) + "\n"


def browser_round_trip(pos: np.ndarray, steps: int) -> list[str]:
    """Markdown lines: request → frame shown in headless Chromium, GraphView served by Voilà."""
    sys.path.insert(0, str(ROOT))
    from tests.browser.conftest import ARGS, CHROMIUM, Server, free_port

    if not Path(CHROMIUM).exists():
        return [f"Browser round trip: skipped ({CHROMIUM} is absent)."]
    try:
        from playwright import sync_api
    except ImportError:
        return ["Browser round trip: skipped (playwright is not installed)."]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "positions.npy", pos)
        code = ("import numpy as np, alchemist\nfrom alchemist.widgets import GraphView\n"
                f"g = alchemist.read_graph({str(SLASHDOT)!r}, directed=True)\n"
                "view = GraphView(g, np.load('positions.npy'), width=800, height=600)\ndisplay(view)")
        kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": kernelspec},
              "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "id": "a",
                         "source": code}]}
        (folder / "view.ipynb").write_text(json.dumps(nb))
        port = free_port()
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), JUPYTER_RUNTIME_DIR=str(folder / "rt"))
        server = Server([sys.executable, "-m", "voila", str(folder / "view.ipynb"), f"--port={port}", "--no-browser",
                         "--Voila.ip=127.0.0.1", f"--Voila.root_dir={folder}"], folder, env,
                        f"tcp://127.0.0.1:{port}", folder / "voila.log")
        try:
            with sync_api.sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                page = browser.new_page(viewport={"width": 1280, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}/", timeout=180_000, wait_until="commit")
                page.wait_for_selector("[data-testid=graph-image][src^='blob:']", timeout=180_000)
                drafts, fulls = _drive(page, steps)
                browser.close()
        finally:
            server.stop()
    load = os.getloadavg()
    return [f"Browser round trip (Voilà + headless Chromium, request sent → decoded frame shown), {len(drafts)} "
            f"pan/zoom steps after 4 warm-up steps; load average during the run {load[0]:.1f} / {load[1]:.1f} "
            f"(1 / 5 min) on {os.cpu_count()} cores.", "",
            "| frame | median ms | p90 ms | max ms | kernel render, median ms |", "|---|---|---|---|---|",
            *(f"| {name} | {np.median(t[:, 0]):.0f} | {np.percentile(t[:, 0], 90):.0f} | {np.max(t[:, 0]):.0f} | "
              f"{np.median(t[:, 1]):.0f} |"
              for name, t in (("draft while moving (JPEG, half size)", np.array(drafts)),
                              ("full frame at rest (PNG)", np.array(fulls))))]


def _drive(page, steps: int) -> tuple[list, list]:
    """Alternate wheel zooms and drags on the stage; after each, the draft's and then the settled
    full frame's ``(round trip, kernel render)`` in ms, as the browser saw them."""
    stage = page.locator("[data-testid=graph-stage]").first
    box = stage.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    drafts, fulls = [], []
    shown = "([s]) => +(document.querySelector('[data-testid=graph-stage]').dataset.frameSeq || 0) >= s"

    def measured(s):  # (round trip, kernel render, was a draft) of frame s, None where the browser did not time it
        page.wait_for_function(shown, arg=[s], timeout=90_000)
        if stage.get_attribute("data-round-trip-seq") != str(s):
            return None
        return (float(stage.get_attribute("data-round-trip-ms")), float(stage.get_attribute("data-render-ms")),
                stage.get_attribute("data-draft") == "true")

    for k in range(steps + 4):
        before = int(stage.get_attribute("data-request-seq") or 0)
        if k % 2 == 0:
            page.mouse.move(cx + 40 * ((k // 2) % 3 - 1), cy)
            page.mouse.wheel(0, -240 if (k // 2) % 4 < 2 else 240)
        else:
            page.mouse.move(cx, cy)
            page.mouse.down()
            page.mouse.move(cx + (60 if k % 4 == 1 else -60), cy + 25)
            page.mouse.up()
        page.wait_for_function("([s]) => +(document.querySelector('[data-testid=graph-stage]').dataset.requestSeq"
                               " || 0) > s", arg=[before], timeout=30_000)
        first = int(stage.get_attribute("data-request-seq"))
        # the draft, then the settle request 250 ms after the last move; on a slow machine both may be
        # out before the first is read, so each frame is classed by its own draft flag
        frames = [measured(first)]
        if frames[0] is not None and frames[0][2]:
            frames.append(measured(first + 1))
        page.wait_for_function("() => document.querySelector('[data-testid=graph-stage]').dataset.draft === 'false'",
                               timeout=90_000)
        if k >= 4:  # after the warm-up (the kernel loads its compiled code on the first frames)
            drafts += [f[:2] for f in frames if f and f[2]]
            fulls += [f[:2] for f in frames if f and not f[2]]
    return drafts, fulls


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
