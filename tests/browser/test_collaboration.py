"""GraphView's collaboration mode in a real browser: two Chromium pages (two Voilà kernels), each a
GraphView collaborating through one real gateway over a real nats-server; each page sees the other's
cursor where the other's pointer is on the graph, and the other's selection ringed in its colour.
The expected pixels come from the positions the notebook is given and each page's own viewport."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from tests.browser.conftest import screenshot
from tests.gateway.conftest import conn, gateway_factory, nats_server  # noqa: F401  (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

W, H = 400, 300
SPOKES = [f"s{i}" for i in range(8)]
ANGLES = np.linspace(0, 2 * np.pi, 8, endpoint=False)
POSITIONS = {"h": (0.0, 0.0), **{s: (10 * np.cos(a), 10 * np.sin(a)) for s, a in zip(SPOKES, ANGLES)},
             "far": (20.0, 14.0)}
EDGES = [("h", s) for s in SPOKES] + [("s0", "far")]
ANA, BO = ("Ana", "#e6194b"), ("Bo", "#3cb44b")

NOTEBOOK = json.dumps({
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [], "id": "p",
         "source": "edges = []\npositions = {}\ngateway = ''\nuser_name = ''\ncolor = ''"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "id": "a", "source": (
            "import alchemist, numpy as np\n"
            "from alchemist.widgets import GraphView\n"
            "g = alchemist.Graph.from_edges([tuple(e) for e in edges], graph_id='shared')\n"
            "pos = np.array([positions[n] for n in g.node_ids], np.float32)\n"
            f"view = GraphView(g, pos, width={W}, height={H}, labels=0, title=user_name)\n"
            "display(view.collaborate(gateway, name=user_name, color=color, user=user_name))")},
    ],
})


def _ranges(page):
    stage = page.locator("[data-testid=graph-stage]").first
    x = [float(v) for v in stage.get_attribute("data-x-range").split(",")]
    y = [float(v) for v in stage.get_attribute("data-y-range").split(",")]
    return x, y


def _to_pixels(page, x, y):
    (x0, x1), (y0, y1) = _ranges(page)
    return (x - x0) / (x1 - x0) * W, (y1 - y) / (y1 - y0) * H


def _to_data(page, px, py):
    (x0, x1), (y0, y1) = _ranges(page)
    return x0 + px / W * (x1 - x0), y1 - py / H * (y1 - y0)


def _open(page, url):
    page.goto(url, timeout=120_000, wait_until="commit")
    page.wait_for_selector("[data-testid=graph-image][src^='blob:']", timeout=120_000)
    page.wait_for_selector("[data-testid=collab-status][data-state=open]", timeout=60_000)
    return page.locator("[data-testid=graph-stage]").first.bounding_box()


def test_two_pages_see_each_others_cursor_and_selection(voila, browser, page, notebook_copy, gateway_factory):
    gateway = gateway_factory()
    params = dict(edges=[list(e) for e in EDGES], positions={k: [float(a), float(b)] for k, (a, b) in POSITIONS.items()},
                  gateway=gateway.ws_url)
    url_a = voila(notebook_copy(NOTEBOOK, "ana.ipynb", user_name=ANA[0], color=ANA[1], **params))
    url_b = voila(notebook_copy(NOTEBOOK, "bo.ipynb", user_name=BO[0], color=BO[1], **params))
    context_b = browser.new_context(viewport={"width": 1280, "height": 1000})
    page_b = context_b.new_page()
    try:
        box_a, box_b = _open(page, url_a), _open(page_b, url_b)
        page_b.wait_for_function("() => document.querySelector('[data-testid=collab-status]').textContent.includes('1 other')",
                                 timeout=30_000)

        # Ana's pointer at a spot of her picture: Bo sees her cursor on the same spot of the graph
        page.mouse.move(box_a["x"] + 150, box_a["y"] + 100)
        page.mouse.move(box_a["x"] + 151, box_a["y"] + 101)
        cursor = page_b.locator("[data-testid=collab-cursor][data-user=Ana]").first
        cursor.wait_for(timeout=30_000)
        gx, gy = _to_data(page, 151, 101)
        ex, ey = _to_pixels(page_b, gx, gy)
        assert abs(float(cursor.get_attribute("data-x")) - ex) < 1.5
        assert abs(float(cursor.get_attribute("data-y")) - ey) < 1.5
        assert cursor.text_content() == "Ana"

        # and Bo's in Ana's page
        page_b.mouse.move(box_b["x"] + 60, box_b["y"] + 220)
        page_b.mouse.move(box_b["x"] + 61, box_b["y"] + 221)
        other = page.locator("[data-testid=collab-cursor][data-user=Bo]").first
        other.wait_for(timeout=30_000)
        ex, ey = _to_pixels(page, *_to_data(page_b, 61, 221))
        assert abs(float(other.get_attribute("data-x")) - ex) < 1.5
        assert abs(float(other.get_attribute("data-y")) - ey) < 1.5

        # Ana clicks node "far": Bo's page rings it in Ana's colour
        fx, fy = _to_pixels(page, *POSITIONS["far"])
        page.mouse.click(box_a["x"] + fx, box_a["y"] + fy)
        page_b.wait_for_function("() => document.querySelector('[data-testid=collab-marks]').dataset.ids === 'far'",
                                 timeout=30_000)
        marks = page_b.locator("[data-testid=collab-marks]").first
        assert marks.get_attribute("data-count") == "1"
        bx, by = _to_pixels(page_b, *POSITIONS["far"])
        ring = np.asarray(Image.open(io.BytesIO(page_b.screenshot(clip={
            "x": box_b["x"] + bx - 12, "y": box_b["y"] + by - 12, "width": 24, "height": 24}))).convert("RGB"))
        assert (np.abs(ring.astype(int) - [0xe6, 0x19, 0x4b]).sum(axis=2) < 30).sum() > 10

        # Bo clicks the hub: Ana's page rings "h" in Bo's colour
        hx, hy = _to_pixels(page_b, *POSITIONS["h"])
        page_b.mouse.click(box_b["x"] + hx, box_b["y"] + hy)
        page.wait_for_function("() => document.querySelector('[data-testid=collab-marks]').dataset.ids === 'h'",
                               timeout=30_000)
        ax, ay = _to_pixels(page, *POSITIONS["h"])
        ring = np.asarray(Image.open(io.BytesIO(page.screenshot(clip={
            "x": box_a["x"] + ax - 12, "y": box_a["y"] + ay - 12, "width": 24, "height": 24}))).convert("RGB"))
        assert (np.abs(ring.astype(int) - [0x3c, 0xb4, 0x4b]).sum(axis=2) < 30).sum() > 10
        screenshot(page, "voila-graphview-collaboration-ana")
        screenshot(page_b, "voila-graphview-collaboration-bo")

        # Bo leaves: his cursor disappears from Ana's page
        page_b.close()
        page.wait_for_function("() => document.querySelector('[data-testid=collab-cursors]').dataset.count === '0'",
                               timeout=30_000)
        assert page.dialogs == []
    finally:
        context_b.close()
