"""The widgets in a real browser: Voilà dashboard and JupyterLab, headless Chromium."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import ARTIFACTS, ROOT, screenshot

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


def _collegemsg_prefix(version: int):
    """The graph of the first ``version`` CIM events of CollegeMsg's replay, read with the standard
    library: the events are graph_created, then per message a node_added for each endpoint not seen
    before (source first) and the edge_added. Returns (nodes, edges, first time, last time of the
    file), times in Unix seconds."""
    import gzip

    count, seen, nodes, edges, times = 1, set(), [], [], []
    with gzip.open(ROOT / "data" / "samples" / "CollegeMsg.txt.gz", "rt") as fh:
        for line in fh:
            if not line.strip() or line.startswith("#"):
                continue
            a, b, t = line.split()[:3]
            times.append(int(t))
            for n in (a, b):
                if n not in seen:
                    seen.add(n)
                    count += 1
                    if count <= version:
                        nodes.append(n)
            count += 1
            if count <= version:
                edges.append((a, b))
    return nodes, edges, min(times), max(times)


def test_dashboard_command_in_chromium(page, tmp_path):
    """`alchemist dashboard` as a user runs it: the grid, dated per-event feed rows, the live graph,
    the analysis agent's answer, no raw reprs; then SIGTERM stops everything it started."""
    import re
    import signal
    from datetime import datetime, timezone

    import networkx as nx
    import psutil

    from tests.widgets.dashboard_process import Dashboard

    dashboard = Dashboard(tmp_path, "--rate", "300")
    try:
        page.goto(dashboard.url, timeout=180_000, wait_until="commit")
        _wait_image(page, timeout=240_000)
        assert page.locator("[data-testid=graphview]").count() == 2  # live + snapshot
        grid = page.locator(".widget-gridbox").first
        assert grid.is_visible()
        for testid in ("graphview", "eventfeed", "timeline", "agentpanel"):  # every widget is inside the grid
            assert grid.locator(f"[data-testid={testid}]").count() >= 1, testid

        # the live graph and the feed move
        live = page.locator("[data-testid=live-counter]").first
        total = page.locator("[data-testid=feed-total]").first
        first_version, first_total = int(live.get_attribute("data-version")), int(total.get_attribute("data-value"))
        page.wait_for_function(
            "([v, t]) => +document.querySelector('[data-testid=live-counter]').dataset.version > v &&"
            " +document.querySelector('[data-testid=feed-total]').dataset.value > t",
            arg=[first_version, first_total], timeout=90_000)

        # feed rows: one per event, each labelled by its date, within the file's time span
        _, _, start, end = _collegemsg_prefix(0)
        dates = [d.text_content() for d in page.locator("[data-testid=feed-date]").all()]
        assert len(dates) >= 5
        for text in dates:
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text), text
            when = datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
            assert start <= when <= end
        assert not any(r.text_content().startswith("#") for r in page.locator("[data-testid=feed-row]").all())

        # the timeline shows dates: its ends are the first and the last snapshot event's
        assert page.locator("[data-testid=timeline-start]").first.text_content() == (
            datetime.fromtimestamp(start, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
        assert re.match(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC · ", page.locator("[data-testid=timeline-label]").first.text_content())

        # the analysis agent started by the command answers the panel; its top node is networkx's
        # PageRank winner on the same prefix of the file
        insight = page.locator("[data-testid=insight][data-agent=analysis][data-capability=central_nodes]").first
        insight.wait_for(timeout=180_000)
        text = insight.locator("[data-testid=insight-text]").text_content()
        found = re.match(r"Most central by PageRank at version ([\d,]+): (\S+) \(([\d.]+)\)", text)
        assert found, text
        version = int(found.group(1).replace(",", ""))
        nodes, edges, _, _ = _collegemsg_prefix(version)
        graph = nx.DiGraph(edges)
        graph.add_nodes_from(nodes)
        scores = nx.pagerank(graph)
        best, score = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        assert (found.group(2), found.group(3)) == (best, f"{score:.4f}")
        assert page.locator("[data-testid=agent]").first.text_content().startswith("analysis")

        body = page.locator("body").text_content()
        assert "<alchemist." not in body and "Connection" not in body and "JSONDecodeError" not in body
        # the README's pictures: the whole dashboard (Voilà scrolls inside its page: a viewport that
        # holds it all), and the live GraphView coloured by degree
        ARTIFACTS.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 1260})
        page.wait_for_timeout(3000)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"))
        colour = page.locator("[data-testid=color-by]").first
        if "degree" in colour.locator("option").all_text_contents():
            colour.select_option("degree")
        page.wait_for_timeout(3000)
        page.locator("[data-testid=graphview]").first.screenshot(path=str(ARTIFACTS / "graphview.png"))

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

        # SIGTERM: Voilà, its kernel and the embedded nats-server are gone
        procs = dashboard.descendants()
        assert dashboard.stop(signal.SIGTERM) == 0
        _, alive = psutil.wait_procs(procs, timeout=15)
        assert not alive
    finally:
        dashboard.kill()


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
