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
                    exclude_input: bool = True, template: str = "lab") -> Path:
    """Execute notebook ``name`` with papermill into ``out/report.ipynb`` and export
    ``out/report.html``, every widget as its static picture (see
    :mod:`alchemist.widgets.export`: no script, no network needed to read it).

    Parameters
    ----------
    name : str
        A shipped notebook (see :func:`notebook_path`).
    out : pathlib.Path
        Output folder.
    parameters : dict
        Papermill parameters.
    cwd : pathlib.Path, optional
        Working folder of the kernel (default: the notebook's folder).
    exclude_input : bool
        Leave out code and prompts (default: a report for readers of the results).
    template : str
        nbconvert template.

    Returns
    -------
    pathlib.Path
        The HTML file.
    """
    import papermill

    from alchemist.widgets.export import export_html

    notebook = notebook_path(name)
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    stem = "report"
    executed = out / f"{stem}.ipynb"
    papermill.execute_notebook(str(notebook), str(executed), parameters=parameters, progress_bar=False,
                               kernel_name="python3", cwd=str(cwd or notebook.parent))
    return export_html(executed, out / f"{stem}.html", exclude_input=exclude_input, template=template)
