"""The widgets in a real browser: Voilà dashboard and JupyterLab, headless Chromium."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import ROOT, screenshot

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"

XSS_NOTEBOOK = json.dumps({
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [], "id": "p",
         "source": "label = 'x'"},
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "id": "a", "source": (
            "import alchemist, numpy as np\n"
            "from alchemist.widgets import GraphView, AgentPanel\n"
            "g = alchemist.Graph('xss')\n"
            "g.apply([alchemist.new_event('node_added', 'xss', {'node_id': 'evil', 'label': label,\n"
            "                                                  'properties': {'note': label}}),\n"
            "         alchemist.new_event('node_added', 'xss', {'node_id': 'far'})])\n"
            "view = GraphView(g, np.array([[0, 0], [100, 100]], np.float32), width=400, height=400)\n"
            "view.render(x_range=[-50, 50], y_range=[-50, 50])\n"
            "panel = AgentPanel(agents=[{'name': label, 'version': '1', 'capabilities': [label]}])\n"
            "panel.add_insight(label, 0.7, agent=label)\n"
            "display(view, panel)")},
    ],
})


def _wait_image(page, timeout=120_000):
    page.wait_for_selector("[data-testid=graph-image][src^='blob:']", timeout=timeout)


def _check_xss(page):
    stage = page.locator("[data-testid=graph-stage]").first
    box = stage.bounding_box()
    page.mouse.move(box["x"] + 200, box["y"] + 200)  # node "evil" is at the centre
    label = page.locator("[data-testid=tooltip-label]").first
    label.wait_for(state="visible", timeout=30_000)
    assert label.text_content() == XSS
    tooltip = page.locator("[data-testid=tooltip]").first
    assert tooltip.locator("img").count() == 0
    assert XSS in tooltip.text_content()  # the property value too, as text
    insight = page.locator("[data-testid=insight]").first
    assert XSS in insight.text_content() and insight.locator("img").count() == 0
    assert page.locator("[data-testid=agentpanel] img").count() == 0
    assert page.dialogs == []


def test_voila_dashboard_live(voila, page, notebook_copy):
    nb = notebook_copy(ROOT / "notebooks" / "02-live-cim-dashboard.ipynb", "dashboard.ipynb",
                       source=str(ROOT / "data" / "samples" / "CollegeMsg.txt.gz"), rate=300, limit=60000,
                       snapshot_events=300)
    url = voila(nb)
    page.goto(url, timeout=120_000, wait_until="commit")
    _wait_image(page, timeout=150_000)
    assert page.locator("[data-testid=graphview]").count() == 2  # live + snapshot
    live = page.locator("[data-testid=live-counter]").first
    total = page.locator("[data-testid=feed-total]").first
    first_version, first_total = int(live.get_attribute("data-version")), int(total.get_attribute("data-value"))
    screenshot(page, "voila-dashboard-loaded")
    page.wait_for_function(
        "([v, t]) => +document.querySelector('[data-testid=live-counter]').dataset.version > v &&"
        " +document.querySelector('[data-testid=feed-total]').dataset.value > t",
        arg=[first_version, first_total], timeout=90_000)
    screenshot(page, "voila-dashboard")

    # drag the snapshot view (it does not change by itself): viewport and image change
    stage = page.locator("[data-testid=graph-stage]").nth(1)
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    before_range = stage.get_attribute("data-x-range")
    before_src = page.locator("[data-testid=graph-image]").nth(1).get_attribute("src")
    before_seq = stage.get_attribute("data-frame-seq")
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    for i in range(1, 11):
        page.mouse.move(cx + 12 * i, cy + 5 * i)
    page.mouse.up()
    page.wait_for_function(
        "([s]) => { const st = document.querySelectorAll('[data-testid=graph-stage]')[1];"
        " return st.dataset.frameSeq !== s && st.dataset.draft === 'false'; }", arg=[before_seq], timeout=30_000)
    assert stage.get_attribute("data-x-range") != before_range
    assert page.locator("[data-testid=graph-image]").nth(1).get_attribute("src") != before_src
    screenshot(page, "voila-dashboard-dragged")


def test_xss_label_shows_as_text_in_voila(voila, page, notebook_copy):
    url = voila(notebook_copy(XSS_NOTEBOOK, "xss.ipynb", label=XSS))
    page.goto(url, timeout=120_000, wait_until="commit")
    _wait_image(page)
    _check_xss(page)
    screenshot(page, "voila-xss")


def test_jupyterlab_renders_and_pans(jupyterlab, page, notebook_copy):
    nb = notebook_copy(XSS_NOTEBOOK, "lab.ipynb", label=XSS)
    base, token = jupyterlab(nb.parent)
    page.goto(f"{base}lab/tree/{nb.name}?token={token}", timeout=120_000, wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook", timeout=120_000)
    page.get_by_text("| Idle").first.wait_for(timeout=120_000)  # the kernel is up
    page.locator(".jp-Notebook").first.click()
    page.keyboard.press("Escape")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_text("Run All Cells", exact=True).click()
    try:
        _wait_image(page)
    finally:
        screenshot(page, "jupyterlab-run-all")
    _check_xss(page)
    stage = page.locator("[data-testid=graph-stage]").first
    before = stage.get_attribute("data-x-range")
    box = stage.bounding_box()
    page.mouse.move(box["x"] + 100, box["y"] + 100)
    page.mouse.wheel(0, -400)  # zoom in around the pointer
    page.wait_for_function("([r]) => document.querySelector('[data-testid=graph-stage]').dataset.xRange !== r &&"
                           " document.querySelector('[data-testid=graph-stage]').dataset.draft === 'false'",
                           arg=[before], timeout=30_000)
    screenshot(page, "jupyterlab-xss-zoom")
