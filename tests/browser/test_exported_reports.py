"""Exported reports in headless Chromium, offline: every widget and every figure shows a picture.

Each HTML file is opened from disk with every request that is not ``file:`` or ``data:`` refused,
as an e-mail attachment would be read on a machine without a network. The exports: the demo's
report (``alchemist demo``), the scheduled report (``alchemist report``, notebook 05), and a
notebook that displays each widget kind exported by nbconvert's own command line with
alchemist's preprocessor.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import ROOT, screenshot

pytestmark = pytest.mark.browser

WIDGETS_NOTEBOOK = {
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [{"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "id": cid, "source": src}
              for cid, src in [
        ("graph", "import alchemist, numpy as np, networkx as nx\n"
                  "from alchemist.widgets import GraphView, ConceptSpaceView, GameView, Timeline, EventFeed, AgentPanel\n"
                  "g = alchemist.Graph.from_networkx(nx.karate_club_graph())\n"
                  "pos = alchemist.layout.forceatlas2(g, iterations=50, seed=1)\n"
                  "GraphView(g, pos, width=360, height=260, title='karate club', threaded=False)"),
        ("space", "rng = np.random.default_rng(0)\n"
                  "ConceptSpaceView(rng.normal(size=(300, 3)), 2 * np.eye(3), ['x', 'y', 'z'], width=320, height=240,\n"
                  "                 title='three concepts')"),
        ("game", "A = np.array([[3, 0], [5, 1]])\n"
                 "GameView(A, A.T, equilibria=alchemist.games.support_enumeration(alchemist.games.NormalFormGame(A, A.T)),\n"
                 "         title=\"prisoner's dilemma\")"),
        ("timeline", "past = GraphView(g, pos, width=360, height=260, title='karate at a version', threaded=False)\n"
                     "timeline = Timeline(g, past, steps=10, threaded=False)\n"
                     "display(timeline, past)"),
        ("feed", "feed = EventFeed(title='CIM events')\n"
                 "feed.push([alchemist.new_event('node_added', 'demo', {'node_id': f'n{i}'}) for i in range(12)])\n"
                 "feed.flush()\n"
                 "feed"),
        ("agents", "panel = AgentPanel(agents=[{'name': 'analysis', 'version': '1', 'capabilities': ['summary']}])\n"
                   "panel.add_insight('node 0 is the best connected member', 0.9, agent='analysis')\n"
                   "panel"),
    ]],
}
# the widget outputs of WIDGETS_NOTEBOOK, in page order
WIDGET_KINDS = ["GraphView", "ConceptSpaceView", "GameView", "Timeline", "GraphView", "EventFeed", "AgentPanel"]


def _open_offline(page, path):
    """Open ``path`` with every request but ``file:`` and ``data:`` refused; returns the refused URLs."""
    refused = []

    def route(r):
        if r.request.url.startswith(("file:", "data:")):
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_load_state("networkidle")
    return refused


def _pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.float64)


def _check_picture(locator, name):
    """The element is visible, its own screenshot is not one flat colour, and every <img> in it
    is loaded and decodes to a picture that is not one flat colour."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    assert box and box["width"] > 20 and box["height"] > 10, (name, box)
    shot = _pixels(locator.screenshot())
    assert shot.std() > 8, f"{name}: the element's screenshot is blank (std {shot.std():.1f})"
    images = locator.locator("img")
    for i in range(images.count()):
        img = images.nth(i)
        assert img.evaluate("e => e.complete && e.naturalWidth > 0"), f"{name}: image {i} did not load"
        src = img.get_attribute("src")
        assert src.startswith("data:image/png;base64,"), f"{name}: image {i} is not inside the file"
        pixels = _pixels(base64.b64decode(src.split(",", 1)[1]))
        assert pixels.std() > 8, f"{name}: image {i} is blank (std {pixels.std():.1f})"
    return images.count()


def _no_widget_renderer(page, refused, report=True):
    assert page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count() == 0
    assert page.locator('script[type="application/vnd.jupyter.widget-state+json"]').count() == 0
    assert not [u for u in refused if "jupyter-widgets" in u or "html-manager" in u or "embed-amd" in u], refused
    if report:  # alchemist's own export: no request at all, no code prompts
        assert refused == []
        assert "Out[" not in page.inner_text("body") and "In\xa0[" not in page.inner_text("body")


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    """The three exports (made once for the module)."""
    base = tmp_path_factory.mktemp("exports")
    return base


@pytest.mark.integration
def test_demo_report_offline(page, exports, monkeypatch):
    from alchemist.demo import run_demo

    monkeypatch.setenv("ALCHEMIST_HOME", str(exports / "home"))
    metrics = run_demo(output=str(exports / "demo"), iterations=40, echo=lambda *a, **k: None)
    html = exports / "demo" / "report.html"
    refused = _open_offline(page, html)
    _no_widget_renderer(page, refused)
    screenshot(page, "exported-demo-report")
    assert page.locator(".jp-InputArea-editor, .highlight").count() == 0  # no code in the report
    figures = page.locator("figure")
    assert figures.count() == 1
    assert _check_picture(figures.first, "community picture") == 1
    assert _check_picture(figures.first.locator(".alchemist-legend"), "legend") == 0
    assert "Figure 1." in figures.first.inner_text()
    charts = page.locator("svg[role=img]")
    assert charts.count() == 2  # messages per day, degree distribution
    for i in range(2):
        _check_picture(charts.nth(i), f"chart {i}")
    body = page.inner_text("body")
    assert f"{metrics['events_total']:,}" in body and f"{metrics['edges']:,} messages" in body
    assert "Appendix" in body and body.index("Central people") < body.index("Appendix")


def test_scheduled_report_offline(page, exports):
    from alchemist.widgets.cli import run_report

    html = run_report(window_days=20, output=str(exports / "scheduled"))
    refused = _open_offline(page, html)
    _no_widget_renderer(page, refused)
    screenshot(page, "exported-scheduled-report")
    assert page.locator(".jp-InputArea-editor, .highlight").count() == 0
    widgets = page.locator(".alchemist-static")
    assert widgets.count() == 1  # the GraphView of the Explore section
    assert _check_picture(widgets.first, "GraphView") == 1
    assert _check_picture(page.locator("figure").first, "community picture") == 1
    assert page.locator("svg[role=img]").count() == 2


def test_nbconvert_export_of_every_widget_kind_offline(page, exports):
    import papermill

    source = exports / "widgets.ipynb"
    source.write_text(json.dumps(WIDGETS_NOTEBOOK))
    executed = exports / "widgets-run.ipynb"
    papermill.execute_notebook(str(source), str(executed), kernel_name="python3", progress_bar=False, cwd=str(exports))
    run = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", str(executed),
                          '--HTMLExporter.preprocessors=["alchemist.widgets.export.StaticWidgetViews"]'],
                         capture_output=True, text=True, timeout=300, cwd=str(exports))
    assert run.returncode == 0, run.stderr[-2000:]
    html = exports / "widgets-run.html"
    refused = _open_offline(page, html)
    _no_widget_renderer(page, refused, report=False)
    assert page.locator(".jp-InputArea-editor").count() == 6  # code shown here (and the selector the reports check works)
    screenshot(page, "exported-widgets")
    widgets = page.locator(".alchemist-static")
    assert widgets.count() == len(WIDGET_KINDS)
    with_images = {}
    for i, kind in enumerate(WIDGET_KINDS):
        with_images[kind] = with_images.get(kind, 0) + _check_picture(widgets.nth(i), f"{kind} #{i}")
    # the pictures carry a PNG each; the game (a bimatrix table), the timeline, the feed and the agent
    # panel are HTML text
    assert with_images == {"GraphView": 2, "ConceptSpaceView": 1, "GameView": 0, "Timeline": 0, "EventFeed": 0,
                           "AgentPanel": 0}
    text = page.inner_text("body")
    assert "node 0 is the best connected member" in text and "12 events" in text

    # the failure this fixes, kept visible: plain nbconvert writes the widget views (empty boxes
    # offline: their renderer comes from a CDN) instead of the pictures
    run = subprocess.run([sys.executable, "-m", "nbconvert", "--to", "html", str(executed), "--output", "plain"],
                         capture_output=True, text=True, timeout=300, cwd=str(exports))
    assert run.returncode == 0, run.stderr[-2000:]
    page.unroute("**/*")
    _open_offline(page, exports / "plain.html")
    assert page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count() == len(WIDGET_KINDS)
    assert page.locator(".alchemist-static").count() == 0

