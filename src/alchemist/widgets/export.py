"""Exported notebooks that show every widget without a network.

A widget's output in a saved notebook carries two views: the live one
(``application/vnd.jupyter.widget-view+json``, drawn by a widget manager in the browser) and
alchemist's static one (``text/html`` with an embedded PNG, see
:class:`alchemist.widgets._base.AlchemistWidget`). nbconvert's HTML exporter ranks the live view
first and writes a ``<script>`` that loads a widget renderer from a CDN: offline, in an e-mail
attachment or behind a firewall the widget is an empty box. :class:`StaticWidgetViews` is an
nbconvert preprocessor that keeps the static view instead, and :func:`export_html` is the export
that ``alchemist demo`` and ``alchemist report`` use.

The preprocessor works on the saved outputs, not on the widgets: it needs no kernel, leaves the
notebook's live display untouched (JupyterLab still shows the interactive widget) and does not
depend on nbconvert's ranking of MIME types or on the template, so it works the same for the
``lab``, ``classic`` and ``webpdf`` exporters. With nbconvert's command line::

    jupyter nbconvert --to html \\
        --HTMLExporter.preprocessors='["alchemist.widgets.export.StaticWidgetViews"]' notebook.ipynb
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from nbconvert.preprocessors import Preprocessor

__all__ = ["WIDGET_VIEW", "WIDGET_STATE", "StaticWidgetViews", "export_html"]

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: MIME types that make a picture or a page without any script
STATIC_TYPES = ("text/html", "image/png", "image/svg+xml", "image/jpeg", "text/markdown")


class StaticWidgetViews(Preprocessor):
    """nbconvert preprocessor: every widget output shows its static view.

    For each output that holds a widget view, the widget MIME type is removed, so that the
    exporter renders the static ``text/html`` (or ``image/png``) that alchemist's widgets put
    beside it. A widget output with no static view (an ipywidgets container, a slider) becomes a
    one-line note naming the widget instead of an empty box or a raw ``repr``. The notebook's
    widget state (``metadata.widgets``) is dropped, so the exporter adds no script that loads a
    renderer from a CDN.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(metadata={"widgets": {WIDGET_STATE: {"state": {}}}})
    >>> out = nbformat.v4.new_output("display_data", data={
    ...     WIDGET_VIEW: {"model_id": "m1", "version_major": 2, "version_minor": 0},
    ...     "text/html": "<img alt='graph'>", "text/plain": "GraphView()"})
    >>> nb.cells.append(nbformat.v4.new_code_cell("view", outputs=[out]))
    >>> nb, _ = StaticWidgetViews().preprocess(nb, {})
    >>> sorted(nb.cells[0].outputs[0]["data"]), "widgets" in nb.metadata
    (['text/html', 'text/plain'], False)
    """

    def preprocess(self, nb, resources):
        """Replace the widget views of every cell and drop the notebook's widget state.

        Parameters
        ----------
        nb : nbformat.NotebookNode
            The notebook (changed in place).
        resources : dict
            nbconvert's resources (passed through).

        Returns
        -------
        nb, resources
        """
        nb, resources = super().preprocess(nb, resources)
        nb.metadata.pop("widgets", None)
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        """Keep the static view of each widget output of one cell.

        Parameters
        ----------
        cell : nbformat.NotebookNode
        resources : dict
        index : int

        Returns
        -------
        cell, resources
        """
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data or WIDGET_VIEW not in data:
                continue
            data.pop(WIDGET_VIEW)
            if not any(kind in data for kind in STATIC_TYPES):
                plain = "".join(data.get("text/plain", "widget"))
                found = re.match(r"\s*<?([\w.]+)", plain)  # "VBox(children=...)", "<pkg.Cls object at 0x...>"
                name = found.group(1).rsplit(".", 1)[-1] if found else "widget"
                data["text/html"] = (f'<div class="alchemist-no-static">{html.escape(name)}: interactive only '
                                     "(open the notebook in JupyterLab to use it)</div>")
                data.pop("text/plain", None)
        return cell, resources


#: the lab template without the two scripts it loads from a CDN (require.js, MathJax)
_NO_CDN_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
"""


def export_html(notebook, html_path, *, exclude_input: bool = False, template: str = "lab",
                title: str | None = None, cdn_scripts: bool = False) -> Path:
    """Export a notebook to a self-contained HTML file in which every widget shows its static view.

    Parameters
    ----------
    notebook : str, os.PathLike, nbformat.NotebookNode or dict
        The (executed) notebook.
    html_path : str or os.PathLike
        Where the HTML goes (folders are created).
    exclude_input : bool
        Leave out the code cells' source and every ``In [n]:`` / ``Out[n]:`` prompt (a report
        for readers of the results); prompts are always left out of outputs.
    template : str
        nbconvert template (``"lab"`` or ``"classic"``).
    title : str, optional
        The HTML ``<title>``; by default the notebook's first ``# heading`` (else its file name).
    cdn_scripts : bool
        Keep the ``<script>`` tags of the lab template that load require.js and MathJax from a CDN
        (needed only for LaTeX in Markdown cells). By default they are left out, so that opening
        the file makes no request at all.

    Returns
    -------
    pathlib.Path
        ``html_path``.

    Examples
    --------
    >>> export_html("notebooks/05-scheduled-report.ipynb", "out/report.html")  # doctest: +SKIP
    PosixPath('out/report.html')
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.from_dict(notebook) if isinstance(notebook, dict) else nbformat.read(str(notebook), as_version=4)
    options = {}
    if template == "lab" and not cdn_scripts:
        from jinja2 import DictLoader

        options = {"extra_loaders": [DictLoader({"alchemist_offline.html.j2": _NO_CDN_TEMPLATE})],
                   "template_file": "alchemist_offline.html.j2"}
    exporter = HTMLExporter(template_name=template, exclude_input=exclude_input,
                            exclude_input_prompt=exclude_input, exclude_output_prompt=True, **options)
    exporter.register_preprocessor(StaticWidgetViews(), enabled=True)
    if title is None:
        headings = [line[2:].strip() for cell in nb.cells if cell.cell_type == "markdown"
                    for line in cell.source.splitlines() if line.startswith("# ")]
        title = headings[0] if headings else None
    resources = {"metadata": {"name": title}} if title else None
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(body, encoding="utf-8")
    return html_path
