"""GraphView's draft / full-frame requests in a real browser (issue 18): while the view moves the page asks
for drafts only, however slowly a drag moves; once it rests it asks for one full frame, and stamps the stage
with the time from the last pointer event to that frame (``settleMs``, what bench_widgets reports).
Voilà on localhost, headless Chromium; ``lod_edges=0`` gives even this small graph its pyramid, so the kernel
answers a draft request with a draft frame."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = json.dumps({
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "id": "a", "source": (
            "import alchemist, numpy as np\n"
            "from alchemist.widgets import GraphView\n"
            "n = 400\n"
            "g = alchemist.Graph.from_edges([(str(i), str((i + 1) % n)) for i in range(n)])\n"
            "angle = 2 * np.pi * np.arange(n) / n\n"
            "pos = np.column_stack([np.cos(angle), np.sin(angle)]).astype(np.float32)\n"
            "view = GraphView(g, pos, width=400, height=300, lod_edges=0, title='settle')\n"
            "display(view)")},
    ],
})

# every request the page sends, as [seq, draft], and every frame it shows, as [seq, draft]
RECORD = """() => {
  const st = document.querySelector('[data-testid=graph-stage]');
  window.sent = []; window.shown = [];
  const x = st.dataset.xRange.split(',').map(Number);
  window.framedWidth = x[1] - x[0];
  new MutationObserver(() => {
    const d = st.dataset, last = window.sent[window.sent.length - 1];
    if (d.requestSeq && (!last || last[0] !== +d.requestSeq)) window.sent.push([+d.requestSeq, d.requestDraft === 'true']);
    const seen = window.shown[window.shown.length - 1];
    if (d.frameSeq && (!seen || seen[0] !== +d.frameSeq)) window.shown.push([+d.frameSeq, d.draft === 'true']);
  }).observe(st, { attributes: true });
}"""

AT_REST = ("() => { const d = document.querySelector('[data-testid=graph-stage]').dataset; "
           "return d.draft === 'false' && d.frameSeq === d.requestSeq && d.settleSeq === d.requestSeq; }")


def _open(voila, page, notebook_copy):
    url = voila(notebook_copy(NOTEBOOK, "settle.ipynb"))
    page.goto(url, timeout=120_000, wait_until="commit")
    page.wait_for_selector("[data-testid=graph-stage][data-first-full-ms]", timeout=120_000)
    stage = page.locator("[data-testid=graph-stage]").first
    box = stage.bounding_box()
    page.evaluate(RECORD)
    return stage, box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_slow_drag_asks_for_drafts_until_released_then_one_full_frame(voila, page, notebook_copy):
    stage, cx, cy = _open(voila, page, notebook_copy)
    page.mouse.move(cx, cy)
    page.mouse.down()
    for k in range(1, 7):  # 200 ms between moves: longer than the settle delay, and still no full frame
        page.mouse.move(cx + 8 * k, cy + 3 * k)
        page.wait_for_timeout(200)
    page.wait_for_timeout(400)  # held still, button down: the view has not been let go
    during = page.evaluate("() => window.sent.slice()")
    page.mouse.up()
    page.wait_for_function(AT_REST, timeout=30_000)
    sent = page.evaluate("() => window.sent")
    shown = page.evaluate("() => window.shown")

    assert during and all(draft for _, draft in during)  # the held drag sent drafts only
    fulls = [seq for seq, draft in sent if not draft]
    assert fulls == [sent[-1][0]]  # one full frame, the last request, after the release
    assert [seq for seq, draft in shown if not draft and seq > 0] == fulls  # (seq < 0: frames the kernel sent itself)
    assert stage.get_attribute("data-settle-seq") == str(fulls[0])
    assert float(stage.get_attribute("data-settle-ms")) > 0


def test_one_wheel_gesture_asks_for_one_full_frame(voila, page, notebook_copy):
    stage, cx, cy = _open(voila, page, notebook_copy)
    page.mouse.move(cx, cy)
    for _ in range(6):  # one gesture: steps 30 ms apart, under the settle delay
        page.mouse.wheel(0, -100)
        page.wait_for_timeout(30)
    page.wait_for_function(AT_REST, timeout=30_000)
    page.wait_for_timeout(500)  # nothing more is asked once the view rests
    sent = page.evaluate("() => window.sent")
    shown = page.evaluate("() => window.shown")

    assert len(sent) >= 2 and all(draft for _, draft in sent[:-1])
    assert sent[-1][1] is False  # the last request, and only it, is the full frame
    assert shown[-1] == [sent[-1][0], False]
    # the frame shown matches the view the wheel left: 6 zoom-in steps of exp(-100 × 0.002) each
    x = [float(v) for v in stage.get_attribute("data-x-range").split(",")]
    assert x[1] - x[0] == pytest.approx(_framed_width(page) * 0.8187307530779818 ** 6, rel=1e-6)


def _framed_width(page) -> float:
    return page.evaluate("() => window.framedWidth")
