"""Compare mode in a real browser (issue 20): the Timeline's Compare button pins the state shown, its second
slider moves the pinned state to an earlier version, and the GraphView shows the later state coloured by what
changed — green for the added node, red for the removed one (a ghost at its old place), amber for the changed
ones — with the legend. Voilà on localhost, headless Chromium; the expected pixels come from the positions the
notebook is given and the stage's ranges."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

W, H = 400, 300
RING = "abcdef"
POSITIONS = {n: [10 * float(np.cos(a)), 10 * float(np.sin(a))]
             for n, a in zip(RING, np.linspace(0, 2 * np.pi, 6, endpoint=False))} | {"g": [0.0, 0.0]}
COLOURS = {"added": (44, 160, 44), "removed": (214, 39, 40), "changed": (255, 176, 0)}
STATE = {"g": "added", "f": "removed", "b": "changed", "d": "changed"}

NOTEBOOK = json.dumps({
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [], "id": "p",
         "source": "positions = {}"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "id": "a", "source": (
            "import alchemist, numpy as np\n"
            "from alchemist.widgets import GraphView, Timeline\n"
            "ev = lambda kind, payload: alchemist.new_event(kind, 'ring', payload, timestamp=0)\n"
            "g = alchemist.Graph('ring')\n"
            "g.apply([ev('node_added', {'node_id': n, 'label': 'p', 'properties': {'size': 1}}) for n in 'abcdef'])\n"
            "g.apply([ev('edge_added', {'edge_id': u + v, 'source': u, 'target': v}) for u, v in zip('abcdef', 'bcdefa')])\n"
            "v = g.version\n"
            "g.apply([ev('node_added', {'node_id': 'g'}), ev('edge_added', {'edge_id': 'ag', 'source': 'a', 'target': 'g'}),\n"
            "         ev('edge_removed', {'edge_id': 'ef'}), ev('edge_removed', {'edge_id': 'fa'}),\n"
            "         ev('node_removed', {'node_id': 'f'}), ev('node_updated', {'node_id': 'b', 'label': 'q'}),\n"
            "         ev('node_updated', {'node_id': 'd', 'properties': {'size': 5}})])\n"
            f"view = GraphView(g, np.array([positions[n] for n in g.node_ids], np.float32), width={W}, height={H},\n"
            "                 labels=0, title='compare')\n"
            "timeline = Timeline(g, view, steps=g.version)\n"
            "print('pinned version', v)\n"
            "display(timeline, view)")},
    ],
})


def _stage_ranges(page):
    stage = page.locator("[data-testid=graph-stage]").first
    x = [float(value) for value in stage.get_attribute("data-x-range").split(",")]
    y = [float(value) for value in stage.get_attribute("data-y-range").split(",")]
    return x, y


def test_compare_mode_renders_the_three_colours(voila, page, notebook_copy):
    url = voila(notebook_copy(NOTEBOOK, "compare.ipynb", positions={n: POSITIONS[n] for n in [*RING, "g"]}))
    page.goto(url, timeout=120_000, wait_until="commit")
    page.wait_for_selector("[data-testid=graph-image][src^='blob:']", timeout=120_000)
    assert page.locator("[data-testid=timeline-compare-slider]").first.is_hidden()

    # Compare pins the state shown (the last version); the second slider moves the pin to version 12
    # (the ring: 6 nodes and 6 edges), so the view shows now against the ring
    page.locator("[data-testid=timeline-compare]").first.click()
    pinned = page.locator("[data-testid=timeline-compare-slider]").first
    pinned.wait_for(state="visible", timeout=30_000)
    assert page.locator("[data-testid=timeline-compare]").first.text_content() == "Stop comparing"
    pinned.evaluate("e => { e.value = 12; e.dispatchEvent(new Event('input')); }")
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=timeline-compare-label]').textContent || '')"
        ".includes('nodes +1 −1 ~2, edges +1 −2 ~0')", timeout=60_000)
    legend = page.locator("[data-testid=legend] .alchemist-legend-item")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=legend] .alchemist-legend-item').length === 4",
                           timeout=30_000)
    assert legend.all_text_contents() == ["added: 1 node, 1 edge", "removed: 1 node, 2 edges (ghosts at their old places)",
                                          "changed: 2 nodes, 0 edges", "unchanged"]
    swatches = page.locator("[data-testid=legend] .alchemist-swatch").evaluate_all(
        "els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert swatches[:3] == [f"rgb{c}" for c in COLOURS.values()]

    # the picture: each node's colour where its position puts it; the ghost f, which the final layout does not
    # have, between its old neighbours e and a
    page.wait_for_function("() => document.querySelector('[data-testid=graph-stage]').dataset.draft === 'false'",
                           timeout=30_000)
    page.wait_for_timeout(500)
    shot = np.asarray(Image.open(io.BytesIO(page.locator("[data-testid=graph-stage]").first.screenshot())).convert("RGB"))
    x_range, y_range = _stage_ranges(page)
    for node, state in STATE.items():
        x, y = POSITIONS[node] if node != "f" else (np.add(POSITIONS["e"], POSITIONS["a"]) / 2).tolist()
        px = int((x - x_range[0]) / (x_range[1] - x_range[0]) * W)
        py = int((y_range[1] - y) / (y_range[1] - y_range[0]) * H)
        patch = shot[max(0, py - 2): py + 3, max(0, px - 2): px + 3].reshape(-1, 3).astype(int)
        assert (np.abs(patch - COLOURS[state]).sum(axis=1) < 12).any(), (node, state, patch[:3].tolist())
    for colour in COLOURS.values():  # and each colour is a node's square, not a stray pixel
        assert (np.abs(shot.reshape(-1, 3).astype(int) - colour).sum(axis=1) < 12).sum() >= 9
    screenshot(page, "voila-compare-mode")

    # Stop comparing: the plain view again
    page.locator("[data-testid=timeline-compare]").first.click()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=legend] .alchemist-legend-item').length === 0",
                           timeout=30_000)
    assert page.locator("[data-testid=timeline-compare-slider]").first.is_hidden()
    assert page.dialogs == []
