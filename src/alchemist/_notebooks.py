"""Running the shipped notebooks: find them, execute them with papermill, export HTML.

Used by ``alchemist demo`` (``notebooks/report.ipynb``) and ``alchemist report``
(``notebooks/05-scheduled-report.ipynb``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alchemist.errors import InputFormatError

__all__ = ["notebook_path", "execute_to_html"]


def notebook_path(name: str) -> Path:
    """Path of a shipped notebook (the checkout's ``notebooks/`` or the installed package's).

    Raises
    ------
    InputFormatError
        If no such notebook ships with this installation.
    """
    here = Path(__file__).resolve()
    for folder in (here.parents[2] / "notebooks", here.parent / "notebooks"):
        if (folder / name).exists():
            return folder / name
    raise InputFormatError(f"notebook {name} is not shipped with this installation", path=name)


def execute_to_html(name: str, out: Path, parameters: dict[str, Any], *, cwd: Path | None = None,
                    exclude_input: bool = False, template: str = "lab") -> Path:
    """Execute notebook ``name`` with papermill into ``out/<stem>.ipynb`` and export
    ``out/<stem>.html``; returns the HTML path."""
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    notebook = notebook_path(name)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    stem = "report"
    executed = out / f"{stem}.ipynb"
    papermill.execute_notebook(str(notebook), str(executed), parameters=parameters, progress_bar=False,
                               kernel_name="python3", cwd=str(cwd or notebook.parent))
    exporter = HTMLExporter(template_name=template, exclude_input=exclude_input)
    body, _ = exporter.from_notebook_node(nbformat.read(executed, as_version=4))
    html = out / f"{stem}.html"
    html.write_text(body, encoding="utf-8")
    return html
