"""GraphView pan/zoom in the kernel: alchemist's widget raster vs re-rendering with Datashader.

Workload: soc-Slashdot0902 (82,168 nodes, 948,464 edges) with a cheap layout (igraph's
Fruchterman–Reingold with its grid, 30 iterations; random positions where igraph is absent),
an 800×600 view, a sequence of pans and zooms. First the level of detail (issue 18): the time from
``GraphView(...)`` to its first picture (a draft) and to its first full frame, and the build time and
memory of its edge-density pyramid (:mod:`alchemist.widgets.graph_view_lod`). Then, for each viewport,
what the kernel does for one frame: GraphView's draft (half size, JPEG) and full frame (PNG), with
the pyramid (the default: views it covers are resampled from it, deeper zooms drawn directly) and
without it (``lod_edges=-1``: drafts a uniform edge sample sized to a 30 ms budget, full frames every
edge), and Datashader's ``Canvas.line`` + ``shade`` + PNG (alchemist.render.graph_image's pipeline
with the segments frame cached, i.e. its best case).

Then the round trip a user feels: the same GraphView served by Voilà on localhost and driven by
headless Chromium (Playwright, ``/usr/bin/chromium``), one wheel zoom or drag per step; the
browser times each request from sending it to showing the decoded frame (``roundTripMs`` on the
stage), and the first picture and first full frame from the moment the view was shown
(``firstPictureMs``, ``firstFullMs``). Skipped, with the reason, where Chromium or Voilà is absent.

``python benchmarks/bench_widgets.py [--full] [--repeat N]`` prints the section (N browser runs,
medians of their figures, with the load average of each). ``--graph ba10m`` does the same on ten
million edges: ``bench_scale``'s Barabási–Albert graph (networkit, k = 10, seed 42; 1M nodes), laid
out by 10 ForceAtlas2 iterations (seed 1, timed apart, cached with the edge list in the temporary
directory), GraphView's first picture, pyramid and peak memory in the kernel, then the browser runs.
"After the view rests" is timed in the page from the event time of the last wheel step or drag
release to the full frame shown (``settleMs``), so it includes the debounce.
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


def run(full: bool = False, repeat: int = 1, large: bool = False) -> str:
    import alchemist
    from alchemist.render import graph as R
    from alchemist.widgets import GraphView

    if not SLASHDOT.exists():
        return f"## Widgets\n\nskipped: {SLASHDOT} is absent\n"
    g = alchemist.read_graph(SLASHDOT, directed=True)
    pos = cheap_layout(g)
    start = time.perf_counter()
    live = GraphView(g, pos, width=800, height=600)  # threaded, as in a notebook: the first picture is a draft
    first_picture = time.perf_counter() - start
    live.lod.wait(300)
    live.wait(300)
    first_full = time.perf_counter() - start
    build, nbytes, base = live.lod.build_seconds, live.lod.pyramid.nbytes, live.lod.pyramid.levels[0].shape
    live.close()
    view = GraphView(g, pos, width=800, height=600, threaded=False)
    direct = GraphView(g, pos, width=800, height=600, threaded=False, lod_edges=-1)
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

    def frame(widget, draft, kinds=None):
        def one(xr, yr):
            widget._on_custom_msg(widget, {"type": "view", "x_range": xr, "y_range": yr, "draft": draft}, [])
            if kinds is not None:
                kinds.append(widget.frame["lod"])
        return one

    for widget in (view, direct):
        for xr, yr in views[:4]:  # warm up (Numba cache load) and let the draft's edge sample adapt, as a drag does
            frame(widget, True)(xr, yr)
    lod_kinds: list[str] = []
    draft = timed(frame(view, True))
    final = timed(frame(view, False, lod_kinds))
    direct_draft = timed(frame(direct, True))
    draft_edges = direct.frame["edges_drawn"]
    direct_final = timed(frame(direct, False))
    segments = R.edge_segments(g, pos.astype(np.float64))
    points = R.node_points(pos.astype(np.float64))

    def datashader(xr, yr):
        cvs = R.canvas(pos, width=800, height=600, x_range=xr, y_range=yr)
        R.to_png(R.shade_graph(R.aggregate_edges(cvs, segments), R.aggregate_nodes(cvs, points)))

    datashader(*views[0])
    ds_times = timed(datashader)
    rows = [("GraphView draft (pan/zoom while moving)", draft), ("GraphView full frame (at rest)", final),
            ("GraphView without level of detail: draft", direct_draft),
            ("GraphView without level of detail: full frame", direct_final),
            ("Datashader re-render (cached segments)", ds_times)]
    served = ", ".join(f"{lod_kinds.count(k)} {k}" for k in sorted(set(lod_kinds)))
    load = os.getloadavg()
    lines = ["## Widgets", "",
             f"GraphView of soc-Slashdot0902 ({g.number_of_nodes():,} nodes, {g.number_of_edges():,} edges), 800×600, "
             f"in the kernel; load average {load[0]:.1f} / {load[1]:.1f} (1 / 5 min) on {os.cpu_count()} cores.", "",
             f"- `GraphView(...)` to its first picture (a draft; in a new process this includes loading the compiled "
             f"kernels): {first_picture:.2f} s; to its first full frame (after the pyramid is built): {first_full:.2f} s.",
             f"- Edge-density pyramid: built in {build:.2f} s in the background, base grid {base[1]}×{base[0]}, "
             f"{nbytes / 1e6:.0f} MB.", "",
             f"Pan/zoom frames over {len(views)} viewports (pans and zooms up to 8×); with the level of detail the full "
             f"frames came from: {served}. Without it, the draft drew a uniform sample of {draft_edges:,} edges on its "
             "last frame.", "",
             "| frame | median ms | max ms | speed-up vs Datashader (median) |", "|---|---|---|---|"]
    ref = np.median(ds_times)
    for name, t in rows:
        lines.append(f"| {name} | {1000 * np.median(t):.0f} | {1000 * t.max():.0f} | {ref / np.median(t):.1f}× |")
    lines += ["", "Kernel-side time per frame (render + encode); the browser round trip below adds the comm "
              "transfer and the image decode."]
    for widget in (view, direct):
        widget.close()
    lines += ["", *browser_round_trip(pos, steps=30 if full else 16, repeat=repeat)]
    if full or large:
        lines += ["", *large_graph_frames()]
    return "\n".join(lines) + "\n"


def browser_round_trip(pos: np.ndarray, steps: int, repeat: int = 1, read: str | None = None) -> list[str]:
    """Markdown lines: request → frame shown in headless Chromium, GraphView served by Voilà; with
    ``repeat`` > 1, that many runs (each a new Voilà kernel) and the medians of their figures.

    ``read`` is the Python expression the kernel reads the graph with (soc-Slashdot0902 by default);
    ``pos`` are its positions."""
    sys.path.insert(0, str(ROOT))
    from tests.browser.conftest import CHROMIUM

    if not Path(CHROMIUM).exists():
        return [f"Browser round trip: skipped ({CHROMIUM} is absent)."]
    try:
        from playwright import sync_api  # noqa: F401
    except ImportError:
        return ["Browser round trip: skipped (playwright is not installed)."]
    read = read or f"alchemist.read_graph({str(SLASHDOT)!r}, directed=True)"
    runs = [_browser_run(pos, steps, read) for _ in range(max(1, repeat))]

    def med(values) -> float:
        return float(np.median(values))

    loads = ", ".join(f"{r['load']:.1f}" for r in runs)
    lines = [f"Browser (Voilà + headless Chromium), {len(runs)} run(s), each a new kernel and {steps} pan/zoom steps "
             f"after 4 warm-up steps; load average (1 min) at the end of each run: {loads} on {os.cpu_count()} cores. "
             "Medians over the runs of each run's figure.", "",
             f"- First picture after the view is shown: {med([r['first_picture'] for r in runs]):.0f} ms; first full "
             f"frame: {med([r['first_full'] for r in runs]):.0f} ms (it waits for the pyramid).",
             f"- Kernel memory: {med([r['rss_before'] for r in runs]):.0f} MB resident with the graph and its positions "
             f"before `GraphView(...)`; the kernel's peak from there to the end of the drive (VmHWM reset before "
             f"`GraphView(...)`): {med([r['widget_peak'] for r in runs]):.0f} MB above it (the widget's own peak: "
             "pyramid, samples, frames).", "",
             "| round trip (request sent → decoded frame shown) | median ms | p90 ms | max ms | kernel render, median ms |",
             "|---|---|---|---|---|"]
    for name, key in (("draft while moving (JPEG, half size)", "drafts"), ("full frame at rest (PNG)", "fulls")):
        per_run = [np.array(r[key]) for r in runs if r[key]]
        if per_run:
            lines.append(f"| {name} | {med([np.median(t[:, 0]) for t in per_run]):.0f} | "
                         f"{med([np.percentile(t[:, 0], 90) for t in per_run]):.0f} | "
                         f"{med([np.max(t[:, 0]) for t in per_run]):.0f} | "
                         f"{med([np.median(t[:, 1]) for t in per_run]):.0f} |")
    settles = [np.array(r["settles"]) for r in runs if r["settles"]]
    if settles:
        lines.append(f"| full frame after the view rests (last wheel step or drag release → full frame shown) | "
                     f"{med([np.median(t) for t in settles]):.0f} | {med([np.percentile(t, 90) for t in settles]):.0f} | "
                     f"{med([np.max(t) for t in settles]):.0f} | – |")
    lines += ["", "The full frame is asked for at a drag's release and 120 ms (`SETTLE_MS` in widgets/graph_view.js) "
              "after the last wheel step; its round trip starts at that request. 'After the view rests' is timed in the page "
              "from the event time (`Event.timeStamp`) of the last pointer event that moved the view to the full "
              "frame decoded and shown (`settleMs` on the stage), so it includes the debounce."]
    return lines


def _browser_run(pos: np.ndarray, steps: int, read: str) -> dict:
    """One Voilà kernel and one Chromium page: first picture, first full frame (ms since the view was
    shown), the drive's round trips and the kernel's memory (MB: resident before ``GraphView(...)``,
    peak above that to the end of the drive)."""
    from playwright import sync_api

    from tests.browser.conftest import ARGS, CHROMIUM, Server, free_port

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        np.save(folder / "positions.npy", pos)
        code = ("import json, os, numpy as np, alchemist\nfrom alchemist.widgets import GraphView\n"
                f"g = {read}\npos = np.load('positions.npy')\n"
                "open('/proc/self/clear_refs', 'w').write('5')  # the peak (VmHWM) starts again here\n"
                "rss = [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS:')][0]\n"
                "json.dump({'pid': os.getpid(), 'rss_kb': rss}, open('kernel.json', 'w'))\n"
                "view = GraphView(g, pos, width=800, height=600)\ndisplay(view)")
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
                page.wait_for_selector("[data-testid=graph-stage][data-first-full-ms]", timeout=300_000)
                stage = page.locator("[data-testid=graph-stage]").first
                first = (float(stage.get_attribute("data-first-picture-ms")),
                         float(stage.get_attribute("data-first-full-ms")))
                drafts, fulls, settles = _drive(page, steps)
                kernel = json.loads((folder / "kernel.json").read_text())
                status = {line.split(":")[0]: int(line.split()[1])
                          for line in Path(f"/proc/{kernel['pid']}/status").read_text().splitlines()
                          if line.startswith(("VmHWM", "VmRSS"))}
                browser.close()
        finally:
            server.stop()
    return {"first_picture": first[0], "first_full": first[1], "drafts": drafts, "fulls": fulls, "settles": settles,
            "load": os.getloadavg()[0], "rss_before": kernel["rss_kb"] / 1024,
            "widget_peak": (status["VmHWM"] - kernel["rss_kb"]) / 1024}


def _drive(page, steps: int) -> tuple[list, list, list]:
    """Alternate wheel zooms and drags on the stage; after each, the draft's and then the settled
    full frame's ``(round trip, kernel render)`` in ms, as the browser saw them, and the time from
    the step's last pointer event to its full frame shown (ms)."""
    stage = page.locator("[data-testid=graph-stage]").first
    box = stage.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    drafts, fulls, settles = [], [], []
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
        # at rest: the newest request is a full frame, shown, and timed from the step's last pointer event
        page.wait_for_function("() => { const d = document.querySelector('[data-testid=graph-stage]').dataset; "
                               "return d.draft === 'false' && d.settleSeq === d.requestSeq && d.frameSeq === d.requestSeq; }",
                               timeout=90_000)
        if k >= 4:  # after the warm-up (the kernel loads its compiled code on the first frames)
            drafts += [f[:2] for f in frames if f and f[2]]
            fulls += [f[:2] for f in frames if f and not f[2]]
            settles.append(float(stage.get_attribute("data-settle-ms")))
    return drafts, fulls, settles


def large_graph_frames(n_nodes: int = 1_000_000, n_edges: int = 10_000_000, blocks: int = 1000,
                       p_inside: float = 0.9, seed: int = 0) -> list[str]:
    """Markdown lines: GraphView in the kernel on a 10M-edge planted-partition graph.

    A stochastic block model drawn with NumPy (seed ``seed``): ``blocks`` equal communities, each edge
    inside one community with probability ``p_inside`` (ends uniform in it), else between two uniform
    nodes; positions as a good force layout would place them, each community a Gaussian cloud (sd 1)
    around a centre drawn from N(0, 15²) per axis. Times the first picture (a draft), the pyramid's
    build, frames with it (full and draft) and the full frame without it, at the framed view and 2×
    in.
    """
    import alchemist
    from alchemist.widgets import GraphView

    rng = np.random.default_rng(seed)
    size = n_nodes // blocks
    block = rng.integers(0, blocks, n_edges)
    inside = rng.random(n_edges) < p_inside
    src = np.where(inside, block * size + rng.integers(0, size, n_edges), rng.integers(0, n_nodes, n_edges))
    dst = np.where(inside, block * size + rng.integers(0, size, n_edges), rng.integers(0, n_nodes, n_edges))
    g = alchemist.Graph.from_arrays(src, dst, node_ids=[str(i) for i in range(n_nodes)], directed=True)
    del src, dst, block, inside
    centres = rng.normal(0, 15, (blocks, 2))
    pos = (centres[np.arange(n_nodes) // size] + rng.normal(0, 1, (n_nodes, 2))).astype(np.float32)
    GraphView(alchemist.Graph.from_edges([("a", "b")]), np.eye(2, dtype=np.float32)).close()  # load the kernels
    start = time.perf_counter()
    view = GraphView(g, pos, width=800, height=600)
    first_picture = time.perf_counter() - start
    view.lod.wait(900)
    view.wait(300)
    first_full = time.perf_counter() - start
    (x0, x1), (y0, y1) = view.x_range, view.y_range
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    rows = []
    for zoom in (1.0, 2.0):
        hx, hy = (x1 - x0) / 2 / zoom, (y1 - y0) / 2 / zoom
        xr, yr = [cx - hx, cx + hx], [cy - hy, cy + hy]
        times = {}
        for name, draft in (("draft", True), ("full", False)):
            t = []
            for _ in range(3):
                begin = time.perf_counter()
                view.render(xr, yr, draft=draft)
                t.append(time.perf_counter() - begin)
            times[name] = (np.median(t), view.frame["lod"])
        begin = time.perf_counter()
        image, _ = view._draw(view._viewport(xr, yr), limit=None, exact=True)
        times["direct"] = (time.perf_counter() - begin, "direct")
        rows.append((zoom, times))
    view.close()
    load = os.getloadavg()
    lines = [f"GraphView in the kernel on a planted-partition graph ({n_nodes:,} nodes, {g.number_of_edges():,} edges, "
             f"{blocks} communities, {p_inside:.0%} of the edges inside one, seed {seed}; communities laid out as "
             f"Gaussian clouds), 800×600; load average {load[0]:.1f} / {load[1]:.1f} on {os.cpu_count()} cores.", "",
             f"- `GraphView(...)` to its first picture (a draft; compiled kernels loaded beforehand by a 2-node "
             f"GraphView): {first_picture:.2f} s; to its first full frame: "
             f"{first_full:.2f} s (pyramid built in {view.lod.build_seconds:.1f} s in the background).", "",
             "| view | draft ms (source) | full frame ms (source) | full frame without level of detail, ms |",
             "|---|---|---|---|"]
    for zoom, times in rows:
        lines.append(f"| {zoom:g}× | {1000 * times['draft'][0]:.0f} ({times['draft'][1]}) | "
                     f"{1000 * times['full'][0]:.0f} ({times['full'][1]}) | {1000 * times['direct'][0]:.0f} |")
    return lines


#: The 10M-edge graph: bench_scale's Barabási–Albert generator (networkit, k = 10, seed 42), laid out by
#: this many ForceAtlas2 iterations (seed 1) from random positions.
SCALE_EDGES, SCALE_LAYOUT_ITERATIONS = 10_000_000, 10


def scale_graph(folder: Path | None = None) -> tuple[Path, object, np.ndarray, float]:
    """The 10M-edge Barabási–Albert graph (``bench_scale``'s generator, seed 42), read with
    ``alchemist.read_graph``, and its positions (ForceAtlas2, :data:`SCALE_LAYOUT_ITERATIONS`
    iterations, seed 1); edge list and positions are cached in ``folder`` (default: the temporary
    directory). Returns ``(edge list path, graph, positions, layout seconds)``."""
    import alchemist
    from alchemist.layout import forceatlas2

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_scale

    folder = folder or Path(tempfile.gettempdir()) / "alchemist-widgets-10m"
    folder.mkdir(parents=True, exist_ok=True)
    path = bench_scale.generate(SCALE_EDGES, folder)
    g = alchemist.read_graph(path)
    cached, timing = folder / f"fa2_{SCALE_LAYOUT_ITERATIONS}.npy", folder / f"fa2_{SCALE_LAYOUT_ITERATIONS}.json"
    if cached.exists() and timing.exists():
        return path, g, np.load(cached), json.loads(timing.read_text())["seconds"]
    forceatlas2(alchemist.Graph.from_edges([("a", "b"), ("b", "c")]), 2, seed=0)  # compile / load the kernels first
    ring = np.arange(25_000)  # 20,000 nodes and more take the parallel quadtree
    forceatlas2((25_000, ring, (ring + 1) % 25_000), 1, seed=0)
    start = time.perf_counter()
    pos = forceatlas2(g, SCALE_LAYOUT_ITERATIONS, seed=1).astype(np.float32)
    seconds = time.perf_counter() - start
    np.save(cached, pos)
    timing.write_text(json.dumps({"seconds": seconds}))
    return path, g, pos, seconds


def _vm(field: str) -> float:
    """``VmRSS`` / ``VmHWM`` of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_scale(repeat: int = 1, steps: int = 16) -> str:
    """The Widgets section on the 10M-edge graph: GraphView in the kernel (first picture, pyramid, the
    widget's peak memory) and in Chromium (the browser round trips of :func:`browser_round_trip`)."""
    from alchemist import Graph
    from alchemist.widgets import GraphView

    path, g, pos, layout_seconds = scale_graph()
    GraphView(Graph.from_edges([("a", "b")]), np.eye(2, dtype=np.float32)).close()  # load the kernels
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again here
    before = _vm("VmRSS")
    start = time.perf_counter()
    view = GraphView(g, pos, width=800, height=600)
    first_picture = time.perf_counter() - start
    while view.frame.get("draft", True) and time.perf_counter() - start < 900:  # the full frame follows the pyramid
        time.sleep(0.01)
    first_full, full_ms = time.perf_counter() - start, view.frame["render_ms"]
    view.lod.wait(900)  # then the length classes for direct frames
    view.wait(300)
    built = time.perf_counter() - start
    build, nbytes, base = view.lod.build_seconds, view.lod.pyramid.nbytes, view.lod.pyramid.levels[0].shape
    classes = view.lod.classes.nbytes
    peak = _vm("VmHWM") - before
    view.close()
    load = os.getloadavg()
    lines = ["## Widgets at 10M edges", "",
             f"GraphView of a Barabási–Albert graph ({g.number_of_nodes():,} nodes, {g.number_of_edges():,} edges; "
             f"`bench_scale`'s networkit generator, k = 10, seed {42}), 800×600; positions from "
             f"{SCALE_LAYOUT_ITERATIONS} ForceAtlas2 iterations (seed 1) in {layout_seconds:.1f} s, not part of the "
             f"timings below. In the kernel, load average {load[0]:.1f} / {load[1]:.1f} (1 / 5 min) on "
             f"{os.cpu_count()} cores:", "",
             f"- `GraphView(...)` to its first picture (a draft; kernels loaded beforehand by a 2-node GraphView): "
             f"{first_picture:.2f} s; to its first full frame (after the pyramid): {first_full:.2f} s "
             f"(that frame rendered in {full_ms:.0f} ms); background builds done (pyramid, then the length classes "
             f"for direct frames): {built:.1f} s.",
             f"- Edge-density pyramid: built in {build:.1f} s in the background, base grid {base[1]}×{base[0]}, "
             f"{nbytes / 1e6:.0f} MB; length classes {classes / 1e6:.0f} MB.",
             f"- The widget's peak memory: {peak:.0f} MB above the process's resident {before:.0f} MB with the graph "
             "and positions (VmHWM reset before `GraphView(...)`, read after the background builds).", ""]
    del g
    lines += browser_round_trip(pos, steps=steps, repeat=repeat, read=f"alchemist.read_graph({str(path)!r})")
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
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="more viewports and browser steps")
    parser.add_argument("--repeat", type=int, default=1, help="browser runs (medians are reported)")
    parser.add_argument("--large", action="store_true", help="also the 10M-edge graph (always with --full)")
    parser.add_argument("--large-only", action="store_true", help="only the 10M-edge graph")
    parser.add_argument("--graph", choices=("slashdot", "ba10m"), default="slashdot",
                        help="ba10m: GraphView in the kernel and in Chromium on the 10M-edge Barabási–Albert graph")
    options = parser.parse_args()
    if options.graph == "ba10m":
        print(run_scale(repeat=options.repeat, steps=30 if options.full else 16))
    elif options.large_only:
        print("\n".join(large_graph_frames()))
    else:
        print(run(full=options.full, repeat=options.repeat, large=options.large))
