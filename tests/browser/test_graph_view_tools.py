"""GraphView's tools in a real browser (issue 15): the colour bar of a numeric column, the labels of the
largest nodes on the canvas, the search box that centres a node, Save PNG and the labelled version badge.
Voilà on localhost, headless Chromium; the expected values come from the positions the notebook is given."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

W, H = 400, 300
# a hub "h" linked to 12 spokes around it (directed h -> s), plus a far pair; positions by hand
SPOKES = [f"s{i}" for i in range(12)]
ANGLES = np.linspace(0, 2 * np.pi, 12, endpoint=False)
POSITIONS = {"h": (0.0, 0.0), **{s: (10 * np.cos(a), 10 * np.sin(a)) for s, a in zip(SPOKES, ANGLES)},
             "far": (30.0, 25.0), "farther": (33.0, 27.0)}
EDGES = [("h", s) for s in SPOKES] + [("far", "farther"), ("s0", "far")]

NOTEBOOK = json.dumps({
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [], "id": "p",
         "source": "edges = []\npositions = {}"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "id": "a", "source": (
            "import alchemist, numpy as np\n"
            "from alchemist.widgets import GraphView\n"
            "g = alchemist.Graph.from_edges([tuple(e) for e in edges], directed=True)\n"
            "pos = np.array([positions[n] for n in g.node_ids], np.float32)\n"
            f"view = GraphView(g, pos, width={W}, height={H}, color_by='total_degree', color_scale='linear',\n"
            "                 size_by='total_degree', labels=3, title='tools')\n"
            "display(view)")},
    ],
})


def _stage_ranges(page):
    stage = page.locator("[data-testid=graph-stage]").first
    x = [float(v) for v in stage.get_attribute("data-x-range").split(",")]
    y = [float(v) for v in stage.get_attribute("data-y-range").split(",")]
    return x, y


def test_colour_bar_labels_search_and_save(voila, page, notebook_copy, tmp_path):
    url = voila(notebook_copy(NOTEBOOK, "tools.ipynb", edges=[list(e) for e in EDGES],
                              positions={k: [float(a), float(b)] for k, (a, b) in POSITIONS.items()}))
    page.goto(url, timeout=120_000, wait_until="commit")
    page.wait_for_selector("[data-testid=graph-image][src^='blob:']", timeout=120_000)

    # the colour bar: the viridis gradient; total degrees span 1 .. 12, so the 1-2-5 step for (12 - 1) / 5 = 2.2
    # is 5: ticks 5 and 10, and the ends 1 and 12
    bar = page.locator("[data-testid=colorbar]").first
    bar.wait_for(state="visible", timeout=30_000)
    assert "total_degree" in bar.text_content()
    gradient = page.locator("[data-testid=colorbar-ramp]").first.evaluate("e => getComputedStyle(e).backgroundImage")
    assert gradient.startswith("linear-gradient") and "rgb(68, 1, 84)" in gradient and "rgb(253, 231, 37)" in gradient
    ticks = page.locator("[data-testid=colorbar-tick]").all_text_contents()
    assert ticks == ["1", "5", "10", "12"]
    assert page.locator("[data-testid=legend] .alchemist-legend-item").count() == 0  # not categories

    # labels: the 3 largest by total degree (h 12, s0 2, far 2) are written on the label canvas, not blank
    layer = page.locator("[data-testid=graph-labels]").first
    page.wait_for_function("() => +document.querySelector('[data-testid=graph-labels]').dataset.count > 0",
                           timeout=30_000)
    assert int(layer.get_attribute("data-count")) == 3
    painted = layer.evaluate("c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
                             " let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0; return n; }")
    assert painted > 50

    # the version badge is labelled
    assert page.locator("[data-testid=live-counter]").first.text_content().startswith("version ")

    # search "farther": the view centres it; its screen position is the canvas centre
    before = _stage_ranges(page)
    search = page.locator("[data-testid=search]").first
    search.fill("farther")
    search.press("Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=search]').dataset.found === 'farther'",
                           timeout=30_000)
    page.wait_for_function(
        "([x, y]) => { const s = document.querySelector('[data-testid=graph-stage]');"
        " const xr = (s.dataset.xRange || '').split(',').map(Number), yr = (s.dataset.yRange || '').split(',').map(Number);"
        " return Math.abs((xr[0] + xr[1]) / 2 - x) < 1e-3 && Math.abs((yr[0] + yr[1]) / 2 - y) < 1e-3; }",
        arg=list(POSITIONS["farther"]), timeout=30_000)
    x_range, y_range = _stage_ranges(page)
    px = (POSITIONS["farther"][0] - x_range[0]) / (x_range[1] - x_range[0]) * W
    py = (y_range[1] - POSITIONS["farther"][1]) / (y_range[1] - y_range[0]) * H
    assert abs(px - W / 2) < 2 and abs(py - H / 2) < 2
    assert x_range[1] - x_range[0] == pytest.approx(before[0][1] - before[0][0], rel=1e-6)  # same scale
    # and the picture agrees: the selected node's marker (pink, #ff285a) is drawn at the centre
    page.wait_for_function("() => document.querySelector('[data-testid=graph-stage]').dataset.frameSeq < 0",
                           timeout=30_000)
    page.wait_for_timeout(300)
    shot = np.asarray(Image.open(io.BytesIO(page.locator("[data-testid=graph-stage]").first.screenshot())).convert("RGB"))
    centre = shot[H // 2 - 3: H // 2 + 4, W // 2 - 3: W // 2 + 4].reshape(-1, 3)
    assert ((np.abs(centre.astype(int) - [255, 40, 90]).sum(axis=1)) < 30).any()
    search.fill("no such node")
    search.press("Enter")
    page.wait_for_function("() => document.querySelector('[data-testid=search]').classList.contains('alchemist-search-miss')",
                           timeout=30_000)

    # Save PNG: a download of the picture as shown, W x H
    with page.expect_download(timeout=30_000) as info:
        page.locator("[data-testid=save-png]").first.click()
    path = tmp_path / "saved.png"
    info.value.save_as(str(path))
    assert info.value.suggested_filename == "tools.png"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    saved = np.asarray(Image.open(path).convert("RGB"))
    assert saved.shape == (H, W, 3) and saved.std() > 5  # not blank
    screenshot(page, "voila-graphview-tools")
    assert page.dialogs == []
