"""Grid: widgets laid out in named areas (an ipywidgets ``GridBox``) that also has a static view.

A plain ``GridBox`` shows its children live, but where no widget manager runs (a notebook
exported with nbconvert, executed with papermill, viewed on a code host) it falls back to its
``text/plain`` repr, ``GridBox(children=(…))``. :class:`Grid` puts the same grid in its
``text/html`` view, each area filled with the static view of its widget.
"""

from __future__ import annotations

import html
from typing import Sequence

import ipywidgets

__all__ = ["Grid"]


class Grid(ipywidgets.GridBox):
    """Widgets in a CSS grid of named areas.

    Parameters
    ----------
    areas : sequence of str
        One string per row naming the area of each column, as CSS ``grid-template-areas``
        (``["header header", "live feed"]``).
    columns : str
        CSS ``grid-template-columns`` (``"minmax(0, 640px) minmax(320px, 1fr)"``).
    gap : str
        Space between cells (CSS length).
    **widgets
        The widget of each area, by the area's name.

    Raises
    ------
    ValueError
        If an area has no widget or a widget no area.

    Examples
    --------
    >>> import ipywidgets as w
    >>> grid = Grid(["a b"], a=w.HTML("<b>left</b>"), b=w.HTML("right"))
    >>> [child.layout.grid_area for child in grid.children]
    ['a', 'b']
    >>> "<b>left</b>" in grid._repr_mimebundle_()["text/html"]
    True
    """

    def __init__(self, areas: Sequence[str], columns: str = "repeat(auto-fit, minmax(320px, 1fr))", *,
                 gap: str = "12px", **widgets):
        names = list(dict.fromkeys(name for row in areas for name in row.split() if name != "."))
        if set(names) != set(widgets):
            raise ValueError(f"areas {names} and widgets {sorted(widgets)} differ; give one widget per area")
        for name in names:
            widgets[name].layout.grid_area = name
        template = " ".join(f'"{row}"' for row in areas)
        super().__init__([widgets[n] for n in names], layout=ipywidgets.Layout(
            grid_template_columns=columns, grid_template_areas=template, grid_gap=gap, width="100%"))

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data = dict(bundle[0] if isinstance(bundle, tuple) else bundle or {})
        layout = self.layout
        cells = "".join(f'<div style="grid-area:{html.escape(str(child.layout.grid_area))};min-width:0">'
                        f"{_static(child)}</div>" for child in self.children)
        data["text/html"] = (f'<div class="alchemist-grid" style="display:grid;'
                             f"grid-template-columns:{html.escape(str(layout.grid_template_columns))};"
                             f"grid-template-areas:{html.escape(str(layout.grid_template_areas))};"
                             f'gap:{html.escape(str(layout.grid_gap))}">{cells}</div>')
        data["text/plain"] = f"Grid of {len(self.children)} widgets"
        return (data, bundle[1]) if isinstance(bundle, tuple) else data


def _static(widget) -> str:
    """The static HTML of a widget: its own static view, an HTML widget's value, a box's children."""
    if callable(getattr(widget, "static_html", None)):
        try:
            return widget.static_html()
        except Exception as exc:  # a static view must never break the export
            return f"<pre>{html.escape(type(widget).__name__)}: static view failed ({html.escape(str(exc))})</pre>"
    if isinstance(widget, (ipywidgets.HTML, ipywidgets.HTMLMath)):
        return str(widget.value)
    if isinstance(widget, ipywidgets.Box):
        return "".join(f"<div>{_static(child)}</div>" for child in widget.children)
    return f"<div>{html.escape(type(widget).__name__)}</div>"
