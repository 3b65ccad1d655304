"""alchemist.widgets.export: the static view of each widget output, without a browser."""

from __future__ import annotations

import re

import nbformat

from alchemist.widgets.export import WIDGET_STATE, WIDGET_VIEW, StaticWidgetViews, export_html

VIEW = {"model_id": "m1", "version_major": 2, "version_minor": 0}


def _notebook(*outputs):
    nb = nbformat.v4.new_notebook(metadata={"widgets": {WIDGET_STATE: {"state": {"m1": {}}, "version_major": 2}}})
    for i, data in enumerate(outputs):
        nb.cells.append(nbformat.v4.new_code_cell(f"cell{i}", outputs=[nbformat.v4.new_output("display_data", data=data)]))
    nb.cells.append(nbformat.v4.new_code_cell("1 + 1", outputs=[nbformat.v4.new_output(
        "execute_result", data={"text/plain": "2"}, execution_count=3)], execution_count=3))
    return nb


def test_widget_outputs_keep_their_static_view_and_others_are_untouched():
    nb = _notebook({WIDGET_VIEW: VIEW, "text/html": "<img alt='g'>", "text/plain": "GraphView('g')"},
                   {WIDGET_VIEW: VIEW, "text/plain": "VBox(children=(IntSlider(value=0),))"},
                   {"text/html": "<b>table</b>"})
    nb, _ = StaticWidgetViews().preprocess(nb, {})
    data = [c.outputs[0]["data"] for c in nb.cells]
    assert data[0] == {"text/html": "<img alt='g'>", "text/plain": "GraphView('g')"}
    assert data[1] == {"text/html": '<div class="alchemist-no-static">VBox: interactive only '
                                    "(open the notebook in JupyterLab to use it)</div>"}
    assert data[2] == {"text/html": "<b>table</b>"}
    assert data[3] == {"text/plain": "2"}
    assert "widgets" not in nb.metadata


def test_export_html_has_no_widget_view_no_script_source_and_no_prompts(tmp_path):
    nb = _notebook({WIDGET_VIEW: VIEW, "text/html": "<p id='static'>picture</p>", "text/plain": "GraphView()"})
    path = export_html(nb, tmp_path / "out" / "r.html", exclude_input=True, title="a report")
    page = path.read_text()
    assert re.search(r"<p id=.static.>picture</p>", page)
    assert WIDGET_VIEW not in page and WIDGET_STATE not in page
    assert not re.search(r"<script[^>]*\ssrc=", page)  # no require.js, MathJax or widget renderer to fetch
    assert 'class="jp-InputPrompt' not in page and 'class="jp-OutputPrompt' not in page
    assert "cell0" not in page  # no code
    assert "<title>a report</title>" in page
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("intro\n# Weekly messages\ntext"))
    kept = export_html(nb, tmp_path / "k.html", cdn_scripts=True).read_text()
    assert "<title>Weekly messages</title>" in kept  # the first heading by default
    assert re.search(r"<script[^>]*\ssrc=\"https://", kept) and "cell0" in kept


def test_plain_nbconvert_prefers_the_widget_view(tmp_path):
    """What the preprocessor changes: nbconvert alone renders the widget view, not the picture."""
    from nbconvert import HTMLExporter

    nb = _notebook({WIDGET_VIEW: VIEW, "text/html": "<p id='static'>picture</p>", "text/plain": "GraphView()"})
    page, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    assert not re.search(r"<p id=.static.>picture</p>", page) and WIDGET_VIEW in page
