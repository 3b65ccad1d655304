"""ConceptSpaceView and GameView in a real browser: Voilà on localhost, headless Chromium.

The fixtures (Chromium, Voilà, notebook copies) are the browser suite's, imported from
:mod:`tests.browser.conftest` by this folder's conftest; screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"


def _notebook(code: str) -> str:
    return json.dumps({
        "nbformat": 4, "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "execution_count": None, "outputs": [],
             "id": "p", "source": "label = 'x'"},
            {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "id": "a", "source": code},
        ],
    })


# ---------------------------------------------------------------- ConceptSpaceView
PROTOTYPES = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]]
OFFSETS = [[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0], [1.0, 1.0], [0.0, 0.0]]
SIZE = 300

CONCEPT_NOTEBOOK = _notebook(
    "import numpy as np\n"
    "from alchemist.widgets import ConceptSpaceView\n"
    "P = np.array(prototypes)\n"
    "X = (P[:, None, :] + np.array(offsets)[None]).reshape(-1, 2)\n"
    "# the plane is the space itself (an identity projection): clicks are categorized in the space\n"
    "view = ConceptSpaceView(X, P, ['warm', 'cool', label], projection=np.vstack([X, P]),\n"
    f"                        width={SIZE}, height={SIZE}, title=label)\n"
    "display(view)")


def test_concept_space_view_click_categorizes_in_the_browser(voila, page, notebook_copy):
    from alchemist.concepts import categorize

    url = voila(notebook_copy(CONCEPT_NOTEBOOK, "concepts.ipynb", label=XSS, prototypes=PROTOTYPES, offsets=OFFSETS))
    page.goto(url, timeout=120_000, wait_until="commit")
    page.wait_for_selector("[data-testid=concept-image][src^='blob:']", timeout=120_000)
    image = page.locator("[data-testid=concept-image]").first
    box = image.bounding_box()
    assert (round(box["width"]), round(box["height"])) == (SIZE, SIZE)

    # the plane spans the points and prototypes with 5 % padding: x, y in [-1.6, 11.6] here
    P = np.array(PROTOTYPES)
    X = (P[:, None, :] + np.array(OFFSETS)[None]).reshape(-1, 2)
    both = np.vstack([X, P])
    lo, hi = both.min(axis=0), both.max(axis=0)
    lo, hi = lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)
    names = ["warm", "cool", XSS]
    result = page.locator("[data-testid=concept-result]").first
    clicks = [(0.0, 0.0), (10.0, 0.0), (0.0, 10.0), (6.0, 5.0), (4.0, 6.5), (9.0, 9.0)]
    for k, (x, y) in enumerate(clicks):
        px = (x - lo[0]) / (hi[0] - lo[0]) * SIZE
        py = (hi[1] - y) / (hi[1] - lo[1]) * SIZE
        page.mouse.click(box["x"] + px, box["y"] + py)
        page.wait_for_function(
            "([x, y]) => { const r = document.querySelector('[data-testid=concept-result]');"
            " return r.dataset.x !== undefined && Math.abs(+r.dataset.x - x) < 0.2"
            " && Math.abs(+r.dataset.y - y) < 0.2; }",
            arg=[x, y], timeout=15_000)
        shown = np.array([[float(result.get_attribute("data-x")), float(result.get_attribute("data-y"))]])
        # the kernel's answer equals alchemist.concepts.categorize of the clicked point (and, by hand,
        # the nearest prototype: each prototype's own pixel is its concept)
        expected = int(categorize(shown, P)[0])
        if k < 3:
            assert expected == k
        assert int(result.get_attribute("data-concept")) == expected
        assert result.text_content().endswith(f"→ {names[expected]}")
        marker = page.locator("[data-testid=concept-marker]").first.bounding_box()  # the click is marked
        assert abs(marker["x"] + marker["width"] / 2 - (box["x"] + px)) < 2
        assert abs(marker["y"] + marker["height"] / 2 - (box["y"] + py)) < 2

    # the concept named with markup shows as text (legend, result, title), and no dialog fired
    legend = page.locator("[data-testid=conceptview] .alchemist-legend").first
    assert XSS in legend.text_content()
    assert XSS in page.locator("[data-testid=conceptview] .alchemist-title").first.text_content()
    assert page.locator("[data-testid=conceptview] img").count() == 1  # only the picture itself
    assert page.dialogs == []
    screenshot(page, "voila-concept-space-view")


# ---------------------------------------------------------------- GameView
A = [[3, 0, 2], [0, 2, 0], [1, 1, 1]]
B = [[2, 0, 1], [0, 3, 1], [0, 1, 0]]

GAME_NOTEBOOK = _notebook(
    "from alchemist.games import support_enumeration\n"
    "from alchemist.widgets import GameView\n"
    "import numpy as np\n"
    "eqs = support_enumeration((np.array(A), np.array(B)))\n"
    "view = GameView(A, B, equilibria=eqs, row_names=['up', label, 'down'], col_names=[label, 'middle', 'right'],\n"
    "                title=label)\n"
    "display(view)")


def test_game_view_highlights_nash_equilibria_in_the_browser(voila, page, notebook_copy):
    import nashpy

    url = voila(notebook_copy(GAME_NOTEBOOK, "game.ipynb", label=XSS, A=A, B=B))
    page.goto(url, timeout=120_000, wait_until="commit")
    page.wait_for_selector("[data-testid=payoff-cell]", timeout=120_000)
    cells = page.locator("[data-testid=payoff-cell]")
    assert cells.count() == 9

    # highlighted cells = the union of the supports of nashpy's equilibria
    equilibria = list(nashpy.Game(np.array(A), np.array(B)).support_enumeration())
    expected = {(i, j) for x, y in equilibria for i in np.flatnonzero(x > 1e-9) for j in np.flatnonzero(y > 1e-9)}
    shown = page.eval_on_selector_all(
        "[data-testid=payoff-cell]",
        "cells => cells.map(c => [+c.dataset.i, +c.dataset.j, c.classList.contains('alchemist-eq'), c.textContent])")
    assert {(i, j) for i, j, eq, _ in shown if eq} == expected
    for i, j, _, text in shown:  # each cell shows (row payoff, column payoff)
        assert [float(v) for v in text.split(",")] == [A[i][j], B[i][j]]
    assert page.locator("[data-testid=game-summary]").first.text_content().startswith(f"{len(equilibria)} equilibria")
    # the listed equilibria (mixed strategies) are nashpy's, each ringed on the Pareto plot
    listed = page.eval_on_selector_all("[data-testid=equilibrium]",
                                       "items => items.map(e => [e.dataset.x, e.dataset.y])")
    ours = sorted((tuple(map(float, x.split(","))), tuple(map(float, y.split(",")))) for x, y in listed)
    theirs = sorted((tuple(x.round(6)), tuple(y.round(6))) for x, y in equilibria)
    assert len(ours) == len(theirs)
    for (x1, y1), (x2, y2) in zip(ours, theirs):
        np.testing.assert_allclose(x1, x2, atol=1e-6)
        np.testing.assert_allclose(y1, y2, atol=1e-6)
    assert page.locator("[data-testid=gameview] circle[data-equilibrium=true]").count() == len(equilibria)
    mixed = page.locator("[data-testid=equilibrium]").filter(has_text="0.6").first.text_content()
    assert mixed == f"row: up 0.6 + {XSS} 0.4 · column: {XSS} 0.4 + middle 0.6 → (1.2, 1.2)"

    # Pareto plot: the orange profiles are the Pareto-optimal ones, found here by brute force
    profiles = [(A[i][j], B[i][j]) for i in range(3) for j in range(3)]
    optimal = [p for p in profiles if not any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in profiles)]
    assert page.locator("[data-testid=gameview] circle[data-pareto=true]").count() == len(optimal)

    # a click selects a cell in the kernel, which marks it
    page.locator("[data-testid=payoff-cell][data-i='2'][data-j='1']").click()
    page.wait_for_selector("[data-testid=payoff-cell][data-i='2'][data-j='1'].alchemist-selected", timeout=15_000)

    # strategy names with markup show as text, no dialog fired
    assert page.locator("[data-testid=row-name]").nth(1).text_content() == XSS
    assert page.locator("[data-testid=col-name]").first.text_content() == XSS
    assert page.locator("[data-testid=gameview] img").count() == 0
    assert page.dialogs == []
    screenshot(page, "voila-game-view")
