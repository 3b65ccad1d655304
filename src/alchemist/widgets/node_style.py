"""How GraphView styles nodes: colours (categories or a numeric ramp with its colour bar), sizes,
degree columns, the labels of the largest nodes and the viewport that centres a node.

Plain functions on NumPy arrays, so that the arithmetic is tested without a widget.

The numeric ramp is viridis (van der Walt and Smith, matplotlib 2.0, 2015), sampled at 8 stops and
interpolated linearly in RGB between them; perceptually uniform and readable in grey scale and by
readers with colour-vision deficiencies.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from alchemist.errors import WidgetError
from alchemist.render import raster
from alchemist.widgets._base import escape

__all__ = [
    "NodeColumns", "PALETTE", "RAMP", "OTHER", "categorical_colors", "ramp_colors", "ramp_scale", "node_sizes", "degree_columns",
    "largest_in_view", "centred_ranges", "find_node", "key_html",
]

#: Categorical colours (Tableau 10, then 6 more); a column with more categories shows its 15 most
#: frequent ones and draws the others in grey.
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#bab0ac", "#17becf", "#bcbd22", "#d62728", "#8c564b", "#e377c2", "#7f7f7f"]
#: The numeric ramp: viridis at 8 evenly spaced stops, low to high.
RAMP = ["#440154", "#46327e", "#365c8d", "#277f8e", "#1fa187", "#4ac16d", "#a0da39", "#fde725"]
#: Colour of missing values (and of the categories past the palette).
OTHER = "#555555"
_SCALES = ("auto", "linear", "log")


class NodeColumns:
    """The node columns a GraphView colours, sizes and labels by: those of ``graph.nodes``, the
    in/out/total degrees of a directed graph (:func:`degree_columns`) and the values added with
    :meth:`add` (kept across new states of the graph while they have one value per node).

    Parameters
    ----------
    graph : alchemist.Graph or None
    edges : (src, dst) arrays of node rows, optional
        The graph's edge index (computed when omitted).
    previous : NodeColumns, optional
        The columns of the previous state, whose added values carry over.
    """

    def __init__(self, graph, edges=None, *, previous: "NodeColumns | None" = None):
        self.graph = graph
        self.added: dict[str, list] = dict(previous.added) if previous else {}
        self.kinds: dict[str, str] = dict(previous.kinds) if previous else {}
        n = graph.number_of_nodes() if graph is not None else 0
        src, dst = edges if edges is not None else (graph.edge_index()[:2] if graph is not None else ([], []))
        self.degrees = degree_columns(src, dst, n, bool(getattr(graph, "directed", False))) if n else {}
        self._frame = None  # graph.nodes, built once per state (a frame of every node: costly at 1M nodes)
        self._degree = None  # total degrees as float64, for labels: computed once per state (0.2 s at 10M edges)

    def frame(self):
        """``graph.nodes`` of this state (built on first use, then kept)."""
        if self._frame is None:
            import polars as pl

            self._frame = self.graph.nodes if self.graph is not None else pl.DataFrame()
        return self._frame

    def names(self) -> list[str]:
        """Every column, ``graph.nodes``' first."""
        base = list(self.frame().columns) if self.graph is not None and self.graph.number_of_nodes() else []
        return list(dict.fromkeys([*base, *self.degrees, *self.added]))

    def add(self, name: str, values: list, kind: str = "auto") -> None:
        """Add (or replace) a column; ``kind`` ``"category"`` colours numbers as categories.

        Raises
        ------
        WidgetError
            If ``kind`` is not ``"auto"``, ``"category"`` or ``"number"``.
        """
        if kind not in ("auto", "category", "number"):
            raise WidgetError(f"kind={kind!r} is not one of 'auto', 'category', 'number'")
        self.added[name] = list(values)
        self.kinds[name] = kind

    def series(self, name: str):
        """The column as a polars Series.

        Raises
        ------
        WidgetError
            If there is no such column.
        """
        import polars as pl

        n = self.graph.number_of_nodes() if self.graph is not None else 0
        if name in self.added and len(self.added[name]) == n:
            return pl.Series(name, self.added[name])
        if name in self.degrees:
            return pl.Series(name, self.degrees[name])
        frame = self.frame()
        if name not in frame.columns:
            raise WidgetError(f"{name!r} is not a node column; choose one of {self.names()}")
        return frame[name]

    def is_numeric(self, name: str) -> bool:
        """Whether the column is coloured on the ramp (numbers not added as categories)."""
        if self.kinds.get(name) == "category":
            return False
        try:
            return self.series(name).dtype.is_numeric()  # polars: booleans are not numeric
        except WidgetError:
            return False

    def numbers(self, name: str) -> np.ndarray:
        """The column as float64, NaN where missing."""
        return self.series(name).cast(float).fill_null(float("nan")).to_numpy()

    def colors(self, name: str | None, scale: str, default: str) -> tuple[np.ndarray, list[dict], dict]:
        """Per-node ``(n, 3)`` uint8 colours (one ``(3,)`` colour ``default`` for no column), the
        legend (categories) and the colour bar (numbers)."""
        if name is None:
            return np.array(raster.parse_color(default), np.uint8), [], {}
        if self.is_numeric(name):
            colors, bar = ramp_colors(self.numbers(name), scale=scale, column=name)
            return colors, [], bar
        colors, legend = categorical_colors(self.series(name).to_list())
        return colors, legend, {}

    def sizes(self, name: str | None, scale: str) -> np.ndarray | None:
        """Per-node odd sides in pixels (:func:`node_sizes`), or None for no column.

        Raises
        ------
        WidgetError
            If the column is not numeric.
        """
        if name is None:
            return None
        if not self.is_numeric(name):
            numeric = [c for c in self.names() if self.is_numeric(c)]
            raise WidgetError(f"size_by={name!r} is not a numeric node column; choose one of {numeric}")
        return node_sizes(self.numbers(name), scale=scale)

    def weight(self, size_by: str | None) -> np.ndarray:
        """What makes a node large (for labels and search): its size column, else its total degree."""
        if size_by and self.is_numeric(size_by):
            return self.numbers(size_by)
        if self._degree is None:  # every frame labels its largest nodes: the degrees once per state
            degree = self.degrees["total_degree"] if "total_degree" in self.degrees else self.graph.degree()
            self._degree = np.asarray(degree, np.float64)
        return self._degree


def categorical_colors(labels: Sequence) -> tuple[np.ndarray, list[dict]]:
    """One colour per category, the most frequent first.

    Parameters
    ----------
    labels : sequence
        One value per node (compared as text).

    Returns
    -------
    colors : ndarray, shape ``(n, 3)``, uint8
        Each node's colour: :data:`PALETTE` in order of frequency (ties in order of the text), the
        categories past the 15th in :data:`OTHER`.
    legend : list of dict
        ``{"label", "color"}`` per category shown, then ``"k others"`` when some are grouped.

    Examples
    --------
    >>> colors, legend = categorical_colors(["b", "a", "b"])
    >>> [item["label"] for item in legend]
    ['b', 'a']
    """
    text = np.array([str(v) for v in labels], dtype=object)
    kinds, inverse, counts = np.unique(text, return_inverse=True, return_counts=True)
    ranked = np.argsort(-counts, kind="stable")
    many = len(kinds) > len(PALETTE)
    top = ranked[: len(PALETTE) - 1] if many else ranked
    lut = np.full((len(kinds), 3), raster.parse_color(OTHER), np.uint8)
    legend = []
    for i, k in enumerate(top):
        lut[k] = raster.parse_color(PALETTE[i])
        legend.append({"label": str(kinds[k]), "color": PALETTE[i]})
    if many:
        legend.append({"label": f"{len(kinds) - len(top)} others", "color": OTHER})
    return lut[inverse.reshape(-1)], legend


def ramp_scale(values: np.ndarray, scale: str = "auto") -> str:
    """The scale a numeric column is coloured (or sized) on.

    Parameters
    ----------
    values : ndarray, shape ``(n,)``
        The values (NaN for missing).
    scale : {"auto", "linear", "log"}
        ``"auto"`` picks ``"log"`` for a skewed column of values ≥ 0 (the largest more than 20 times
        the median, both plus one: degrees, counts), else ``"linear"``.

    Returns
    -------
    str
        ``"linear"`` or ``"log"``.

    Raises
    ------
    WidgetError
        If ``scale`` is unknown, or ``"log"`` is asked for a column with negative values.
    """
    if scale not in _SCALES:
        raise WidgetError(f"color scale {scale!r} is not one of {_SCALES}")
    finite = values[np.isfinite(values)]
    if scale == "log" and finite.size and finite.min() < 0:
        raise WidgetError(f"a log scale needs values >= 0 (the smallest is {finite.min():g}); use scale='linear'")
    if scale != "auto":
        return scale
    if finite.size and finite.min() >= 0 and (finite.max() + 1) > 20 * (np.median(finite) + 1):
        return "log"
    return "linear"


def ramp_colors(values, *, scale: str = "auto", column: str = "") -> tuple[np.ndarray, dict]:
    """Colours of a numeric column on the :data:`RAMP`, and the colour bar that explains them.

    A value ``v`` is placed at ``t = (f(v) − f(lo)) / (f(hi) − f(lo))`` between the smallest and
    the largest finite value (``f(v) = v`` on a linear scale, ``log10(1 + v)`` on a log scale),
    and coloured by interpolating linearly (in RGB) between the two :data:`RAMP` stops around
    ``t · 7``. A column of one value sits in the middle of the ramp; NaN is :data:`OTHER`.

    Parameters
    ----------
    values : array_like, shape ``(n,)``
        Numbers (None or NaN for missing).
    scale : {"auto", "linear", "log"}
        See :func:`ramp_scale`.
    column : str
        The column's name, for the colour bar's title.

    Returns
    -------
    colors : ndarray, shape ``(n, 3)``, uint8
    colorbar : dict
        ``column``, ``scale``, ``min``, ``max`` (the data range), ``stops`` (the :data:`RAMP`,
        low to high) and ``ticks``: ``{"value", "label", "position"}`` with ``position`` in
        [0, 1] along the bar: round values (1-2-5 steps, or powers of ten on a log scale) and the
        data's ends.

    Raises
    ------
    WidgetError
        If ``scale`` is unknown or does not suit the values (see :func:`ramp_scale`).

    Examples
    --------
    >>> colors, bar = ramp_colors([0, 7, 14], scale="linear")
    >>> ["#%02x%02x%02x" % tuple(c) for c in colors]  # both ends and the middle of stops 3 and 4
    ['#440154', '#23908a', '#fde725']
    >>> [tick["label"] for tick in bar["ticks"]]
    ['0', '5', '10', '14']
    """
    data = np.array([np.nan if v is None else v for v in values] if not isinstance(values, np.ndarray) else values,
                    dtype=np.float64).reshape(-1)
    used = ramp_scale(data, scale)
    finite = np.isfinite(data)
    colors = np.empty((data.shape[0], 3), np.uint8)
    colors[:] = raster.parse_color(OTHER)
    stops = np.array([raster.parse_color(c) for c in RAMP], np.float64)
    lo = float(data[finite].min()) if finite.any() else 0.0
    hi = float(data[finite].max()) if finite.any() else 1.0
    f = np.log10 if used == "log" else (lambda x: x)
    flo, fhi = f(1 + lo) if used == "log" else lo, f(1 + hi) if used == "log" else hi

    def position(v):
        fv = f(1 + v) if used == "log" else v
        return (fv - flo) / (fhi - flo) if fhi > flo else np.full_like(np.asarray(fv, np.float64), 0.5)

    if finite.any():
        t = np.clip(position(data[finite]), 0.0, 1.0) * (len(RAMP) - 1)
        k = np.minimum(np.floor(t).astype(np.int64), len(RAMP) - 2)
        w = (t - k)[:, None]
        colors[finite] = np.rint(stops[k] * (1 - w) + stops[k + 1] * w).astype(np.uint8)
    ticks = []
    if fhi > flo:
        whole = bool(np.all(data[finite] == np.round(data[finite])))
        values = _tick_values(lo, hi, used, whole)
        # the ends of the data too, unless a round tick is within 8 % of the bar from them
        values = ([lo] if position(values[0]) > 0.08 else []) + values + ([hi] if position(values[-1]) < 0.92 else [])
        for value in values:
            ticks.append({"value": float(value), "label": _number(value), "position": float(position(value))})
    else:
        ticks.append({"value": lo, "label": _number(lo), "position": 0.5})
    bar = {"column": column, "scale": used, "min": lo, "max": hi, "stops": list(RAMP), "ticks": ticks}
    return colors, bar


def node_sizes(values, *, smallest: int = 3, largest: int = 15, scale: str = "auto") -> np.ndarray:
    """Side of each node's square, in pixels, with area growing linearly with the value.

    ``side = smallest + (largest − smallest) · sqrt(t)`` with ``t`` in [0, 1] the value's place
    between the column's smallest and largest (on the scale of :func:`ramp_scale`), rounded to
    the nearest odd number of pixels so that the square centres on the node. Missing values get ``smallest``.

    Parameters
    ----------
    values : array_like, shape ``(n,)``
    smallest, largest : int
        Sides of the smallest and largest nodes, pixels.
    scale : {"auto", "linear", "log"}

    Returns
    -------
    ndarray, shape ``(n,)``, int64
        Odd sides.

    Examples
    --------
    >>> node_sizes([0, 1, 4], smallest=1, largest=9, scale="linear").tolist()  # sqrt(0), sqrt(1/4), sqrt(1)
    [1, 5, 9]
    """
    data = np.asarray(values, dtype=np.float64).reshape(-1)
    used = ramp_scale(data, scale)
    finite = np.isfinite(data)
    f = (lambda x: np.log10(1 + x)) if used == "log" else (lambda x: x)
    t = np.zeros(data.shape[0])
    if finite.any():
        fv = f(data[finite])
        span = fv.max() - fv.min()
        t[finite] = (fv - fv.min()) / span if span > 0 else 0.5
    side = smallest + (largest - smallest) * np.sqrt(t)
    return (2 * np.rint((side - 1) / 2) + 1).astype(np.int64)  # the nearest odd side


def degree_columns(src: np.ndarray, dst: np.ndarray, n_nodes: int, directed: bool) -> dict[str, np.ndarray]:
    """In-, out- and total degree of each node (directed), or nothing new (undirected: ``degree``
    is already a node column).

    Parameters
    ----------
    src, dst : ndarray, shape ``(m,)``
        Edge endpoints as node rows.
    n_nodes : int
    directed : bool

    Returns
    -------
    dict
        ``{"in_degree", "out_degree", "total_degree"}`` → ``(n_nodes,)`` int64 (a self-loop counts
        once in each of in and out), empty when undirected.

    Examples
    --------
    >>> import numpy as np
    >>> cols = degree_columns(np.array([0, 0, 1]), np.array([1, 2, 2]), 3, True)
    >>> cols["in_degree"].tolist(), cols["out_degree"].tolist(), cols["total_degree"].tolist()
    ([0, 1, 2], [2, 1, 0], [2, 2, 2])
    """
    if not directed:
        return {}
    out_degree = np.bincount(np.asarray(src, np.int64), minlength=n_nodes).astype(np.int64)
    in_degree = np.bincount(np.asarray(dst, np.int64), minlength=n_nodes).astype(np.int64)
    return {"in_degree": in_degree, "out_degree": out_degree, "total_degree": in_degree + out_degree}


def largest_in_view(rows: np.ndarray, weight: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` rows (of the nodes in view) with the largest weight, largest first (ties by row).

    Parameters
    ----------
    rows : ndarray, shape ``(k,)``, int
        Rows of the nodes in view.
    weight : ndarray, shape ``(n_nodes,)``
        What makes a node large (its size column, else its degree); NaN counts as smallest.
    count : int

    Returns
    -------
    ndarray, int64

    Examples
    --------
    >>> import numpy as np
    >>> largest_in_view(np.array([0, 2, 3]), np.array([5.0, 9.0, 1.0, 7.0]), 2).tolist()
    [3, 0]
    """
    rows = np.asarray(rows, np.int64)
    if count <= 0 or rows.size == 0:
        return np.zeros(0, np.int64)
    w = np.nan_to_num(np.asarray(weight, np.float64)[rows], nan=-np.inf)
    if rows.size > 4 * count:  # only the nodes at least as large as the count-th largest (ties kept) are sorted
        keep = np.flatnonzero(w >= np.partition(w, rows.size - count)[rows.size - count])
        rows, w = rows[keep], w[keep]
    order = np.lexsort((rows, -w))[:count]
    return rows[order]


def centred_ranges(point, x_range, y_range, zoom: float = 1.0) -> tuple[list[float], list[float]]:
    """The viewport of the same size (divided by ``zoom``) whose centre is ``point``.

    Parameters
    ----------
    point : (float, float)
        The data position to centre on.
    x_range, y_range : (float, float)
        The current viewport.
    zoom : float
        > 1 zooms in, < 1 out.

    Returns
    -------
    x_range, y_range : list of float

    Raises
    ------
    WidgetError
        If ``zoom`` is not a positive finite number.

    Examples
    --------
    >>> centred_ranges((5, 5), (0, 4), (0, 2))
    ([3.0, 7.0], [4.0, 6.0])
    """
    if not (np.isfinite(zoom) and zoom > 0):
        raise WidgetError(f"zoom={zoom!r} must be a positive number (2 doubles the scale)")
    x, y = float(point[0]), float(point[1])
    hw = (float(x_range[1]) - float(x_range[0])) / 2 / zoom
    hh = (float(y_range[1]) - float(y_range[0])) / 2 / zoom
    return [x - hw, x + hw], [y - hh, y + hh]


def find_node(query: str, ids: Sequence[str], labels: Sequence[str], weight: np.ndarray) -> str | None:
    """The node a search box query names: an exact id, else an exact label, else the largest
    (by ``weight``) of the nodes whose id or label contains the query, ignoring case.

    Parameters
    ----------
    query : str
    ids, labels : sequence of str
        Node ids and labels, in row order.
    weight : ndarray, shape ``(n,)``
        What makes a node large (its degree).

    Returns
    -------
    str or None
        The node id, or None when nothing matches.

    Examples
    --------
    >>> import numpy as np
    >>> find_node("ALI", ["alice", "bob", "malik"], ["", "", ""], np.array([1, 5, 3]))  # malik has the larger degree
    'malik'
    """
    query = str(query).strip()
    if not query:
        return None
    ids = np.asarray(ids, dtype=object)
    labels = np.asarray(labels, dtype=object)
    for exact in (ids == query, labels == query):
        hit = np.flatnonzero(exact)
        if hit.size:
            return str(ids[hit[0]])
    q = query.casefold()
    hits = np.flatnonzero([q in str(i).casefold() or q in str(label).casefold() for i, label in zip(ids, labels)])
    if not hits.size:
        return None
    return str(ids[largest_in_view(hits, weight, 1)[0]])


def key_html(legend: list[dict], colorbar: dict) -> str:
    """The legend (categories) or the colour bar (a numeric column) as static HTML, for reports.

    Parameters
    ----------
    legend : list of dict
        ``{"label", "color"}`` items (:func:`categorical_colors`).
    colorbar : dict
        As :func:`ramp_colors` returns it; it wins when it has stops.

    Returns
    -------
    str
        HTML with every text escaped (empty when there is nothing to explain).
    """
    if colorbar.get("stops"):
        ticks = "".join(f'<span style="position:absolute;left:{100 * t["position"]:.2f}%;transform:translateX(-50%)">'
                        f'{escape(t["label"])}</span>' for t in colorbar["ticks"])
        scale = " (log scale)" if colorbar.get("scale") == "log" else ""
        return (f'<div style="width:320px;max-width:100%"><div>{escape(colorbar["column"])}</div>{scale}'
                f'<div style="height:10px;background:linear-gradient(to right, {", ".join(colorbar["stops"])})"></div>'
                f'<div style="position:relative;height:16px;font-size:11px">{ticks}</div></div>')
    items = "".join(f'<span style="margin-right:10px"><span style="display:inline-block;width:10px;height:10px;'
                    f'background:{escape(item["color"])}"></span> {escape(item["label"])}</span>' for item in legend)
    return f"<div>{items}</div>" if items else ""


def _tick_values(lo: float, hi: float, scale: str, whole: bool = False) -> list[float]:
    """Round values inside [lo, hi] for the colour bar: 1-2-5 steps (linear; whole steps for whole
    numbers) or 0 and powers of ten (log)."""
    if scale == "log":
        ticks = [0.0] if lo <= 0 else []
        p = 10.0 ** np.floor(np.log10(max(lo, 1.0)))
        while p <= hi:
            if p >= lo:
                ticks.append(p)
            p *= 10
        if len(ticks) < 2:
            ticks = [lo, hi]
        return ticks
    raw = (hi - lo) / 5
    step = 10.0 ** np.floor(np.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if m * step >= raw)
    if whole:
        step = max(step, 1.0)
    first = np.ceil(lo / step) * step
    return [float(v) for v in np.arange(first, hi + step * 1e-9, step)]


def _number(value: float) -> str:
    """A tick's text: whole numbers without decimals, others to 3 significant figures."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.3g}"
