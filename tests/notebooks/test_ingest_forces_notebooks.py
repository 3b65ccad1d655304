"""Execute notebooks/07-documents-and-forces.ipynb with papermill and check what it shows against values
computed here independently (the corpus's own files, YAKE called directly, the layout measured with SciPy)."""

from __future__ import annotations

import base64
import html as html_lib
import importlib.resources
import json
import re
from pathlib import Path

import networkx as nx
import numpy as np
import papermill
import pytest
from scipy.spatial.distance import pdist, squareform

pytestmark = pytest.mark.slow

NOTEBOOK = "07-documents-and-forces.ipynb"


@pytest.fixture(scope="module")
def executed(repo_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("nb") / NOTEBOOK
    papermill.execute_notebook(str(repo_root / "notebooks" / NOTEBOOK), str(out), cwd=str(repo_root / "notebooks"),
                               kernel_name="python3", progress_bar=False)
    return json.loads(out.read_text())


def outputs(nb, mime):
    return ["".join(o["data"][mime]) for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])
            if "data" in o and mime in o["data"]]


def table_row(html: str, first: str) -> list[str]:
    """The cells of the first HTML table row whose first cell is ``first`` (polars' HTML quotes strings)."""
    for row in re.findall(r"<tr>(.*?)</tr>", html, re.S):
        cells = [html_lib.unescape(c).strip().strip('"') for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        if cells and cells[0] == first:
            return cells
    raise AssertionError(f"no row {first!r}")


def occurs_as_words(flat: str, key: str) -> bool:
    """``key`` occurs in ``flat`` with no letter, digit or underscore right before or after it."""
    start = flat.find(key)
    while start >= 0:
        before, after = flat[start - 1], flat[start + len(key)]
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = flat.find(key, start + 1)
    return False


def test_the_corpus_is_ingested_with_yakes_terms(executed):
    import yake

    folder = Path(str(importlib.resources.files("sklearn.datasets") / "descr"))
    files = sorted(folder.glob("*.rst"))
    terms, mentions = set(), 0
    for path in files:  # what ingest must find: YAKE's top 15 (1-2 words) that occur as words in the file
        text = path.read_text(encoding="utf-8-sig")
        flat = " " + " ".join(text.split()).casefold() + " "
        found = []
        for phrase, _ in yake.KeywordExtractor(lan="en", n=2, dedup_lim=0.9, window_size=1, top=15).extract_keywords(text):
            key = " ".join(phrase.casefold().split())
            if key not in found and occurs_as_words(flat, key):
                found.append(key)
        terms.update(found)
        mentions += len(found)
    html = "\n".join(outputs(executed, "text/html"))
    summary = re.search(r"<p id='ingest-summary'>(.*?)</p>", html).group(1)
    assert f"{len(files)} documents, {len(terms)} terms, {mentions} mention edges" in summary


def test_provenance_and_the_rendered_layout(executed):
    plain = "\n".join("".join(o.get("text", "")) for c in executed["cells"] if c["cell_type"] == "code"
                      for o in c.get("outputs", []) if o.get("name") == "stdout")
    occurrences = re.search(r"term:(.+?): (\d+) occurrences shown", plain)
    assert occurrences and int(occurrences.group(2)) >= 2
    html = "\n".join(outputs(executed, "text/html"))
    # each context row shows the occurrence in brackets: the term as written in the file
    term = occurrences.group(1)
    shown = re.findall(r"\[([^\]]+)\]", html)
    assert any(s.casefold() == term for s in shown)
    png = outputs(executed, "image/png")
    assert png and base64.b64decode(png[0]).startswith(b"\x89PNG")
    assert len(re.findall(r"data:image/png;base64,", html)) == 8  # four forces, without and with


def test_the_force_ratios_shown_are_measured(executed):
    from alchemist.layout import forceatlas2
    from alchemist.layout.forces import GroupRepulsion

    html = "\n".join(outputs(executed, "text/html"))
    sizes = [60, 60, 60]
    g = nx.stochastic_block_model(sizes, [[0.08, 0.03, 0.03], [0.03, 0.08, 0.03], [0.03, 0.03, 0.08]], seed=3)
    labels = np.repeat(np.arange(3), sizes)

    def within_between(p):
        d = squareform(pdist(p))
        same = labels[:, None] == labels[None, :]
        return d[same & ~np.eye(len(labels), dtype=bool)].mean() / d[~same].mean()

    before = within_between(forceatlas2(g, 300, seed=1))
    after = within_between(forceatlas2(g, 300, seed=1, forces=[GroupRepulsion(labels, graph=g)]))
    row = table_row(html, "category repulsion")
    assert float(row[2]) == pytest.approx(before, abs=1e-3) and float(row[3]) == pytest.approx(after, abs=1e-3)
    for name in ("category repulsion", "temporal proximity"):
        assert float(table_row(html, name)[4]) < 0.7  # the ratio falls by more than 30 %
    assert float(table_row(html, "competition repulsion")[4]) > 1.5
    utility = table_row(html, "utility gradient")
    assert abs(float(utility[2])) < 0.2 and float(utility[3]) > 0.5
