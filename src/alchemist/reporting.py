"""The pieces of an analyst's report on a temporal graph: who is central, which communities,
activity over time, the degree distribution, and a picture worth sending.

Used by ``notebooks/report.ipynb`` (``alchemist demo``) and ``notebooks/05-scheduled-report.ipynb``
(``alchemist report``). Every picture is self-contained (a PNG as a data URL, or inline SVG), so
an exported report shows it with no script and no network.
"""

from __future__ import annotations

import base64
import html
import math
from typing import Sequence

import numpy as np

__all__ = ["PALETTE", "OTHER", "node_analytics", "messages_per_day", "community_picture", "legend_html",
           "daily_chart_svg", "loglog_svg", "number", "png_img"]

#: Tableau 10 (colour-blind aware), one colour per large community
PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
           "#9c755f", "#17becf"]
#: colour of the nodes outside the coloured communities
OTHER = "#b5b5b5"


def number(value, digits: int = 0) -> str:
    """A number as people write it: thousands separators, ``digits`` decimals.

    Parameters
    ----------
    value : int or float
    digits : int
        Decimals (0 for whole numbers).

    Returns
    -------
    str

    Examples
    --------
    >>> number(61735.0), number(0.35646, 2), number(1234567)
    ('61,735', '0.36', '1,234,567')
    """
    return f"{float(value):,.{int(digits)}f}"


def png_img(png: bytes, alt: str, width: int | None = None) -> str:
    """An ``<img>`` holding ``png`` as a data URL (no file, no network).

    Parameters
    ----------
    png : bytes
    alt : str
        Text alternative (escaped).
    width : int, optional
        Display width in CSS pixels.

    Returns
    -------
    str
    """
    size = f' width="{int(width)}"' if width else ""
    return (f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{html.escape(alt)}"{size}'
            ' style="max-width:100%;height:auto">')


def node_analytics(graph, *, betweenness_sources: int | None = None, seed: int = 0):
    """Per-node figures of a (multi-)graph of messages.

    Parameters
    ----------
    graph : alchemist.Graph
        One edge per message (parallel edges allowed).
    betweenness_sources : int, optional
        Sample this many sources for betweenness (Brandes & Pich 2007); exact by default.
    seed : int
        Seeds Louvain and the betweenness sample.

    Returns
    -------
    polars.DataFrame
        In node row order: ``id``; ``sent``, ``received`` (messages); ``degree`` (distinct
        correspondents, either direction); ``community`` (Louvain on the undirected message
        counts, numbered by decreasing size); ``pagerank`` (weighted by message counts);
        ``betweenness`` (hop-count shortest paths, normalised).

    Examples
    --------
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b"), ("a", "b"), ("b", "c")], directed=True)
    >>> node_analytics(g).select("id", "sent", "received", "degree").rows()
    [('a', 2, 0, 1), ('b', 1, 2, 2), ('c', 0, 1, 1)]
    """
    import polars as pl

    from alchemist.graph import betweenness_centrality, louvain, pagerank

    n = graph.number_of_nodes()
    src, dst, _ = graph.edge_index()
    src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    pairs = np.unique(np.minimum(src, dst) * n + np.maximum(src, dst))
    a, b = pairs // n, pairs % n
    loops = a == b
    degree = np.bincount(a[~loops], minlength=n) + np.bincount(b[~loops], minlength=n) + np.bincount(a[loops], minlength=n)
    return pl.DataFrame({
        "id": graph.node_ids,
        "sent": np.bincount(src, minlength=n),
        "received": np.bincount(dst, minlength=n),
        "degree": degree,
        "community": louvain(graph, seed=seed),
        "pagerank": pagerank(graph),
        "betweenness": betweenness_centrality(graph, k=betweenness_sources, seed=seed),
    })


def messages_per_day(timestamps):
    """Messages per calendar day (UTC), days without messages included as 0.

    Parameters
    ----------
    timestamps : array_like of datetime64 or polars Series
        One per message.

    Returns
    -------
    polars.DataFrame
        ``day`` (date) and ``messages`` (int), one row per day from the first to the last.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array(["2004-04-15T10:00", "2004-04-15T23:00", "2004-04-17T01:00"], "datetime64[ms]")
    >>> messages_per_day(t)["messages"].to_list()
    [2, 0, 1]
    """
    import polars as pl

    days = np.asarray(timestamps, dtype="datetime64[ms]").astype("datetime64[D]")
    days = days[~np.isnat(days)]
    if days.size == 0:
        return pl.DataFrame({"day": [], "messages": []}, schema={"day": pl.Date, "messages": pl.Int64})
    first = days.min()
    counts = np.bincount((days - first).astype(np.int64))
    return pl.DataFrame({"day": first + np.arange(counts.size), "messages": counts.astype(np.int64)})


def community_picture(graph, positions, communities, sizes, *, width: int = 900, height: int = 700,
                      colored: int = len(PALETTE), max_radius: float | None = None, background: str = "white",
                      frame=None):
    """A node-link picture: nodes coloured by community, their area proportional to ``sizes``,
    edges underneath (translucent, so that dense regions come out darker), the layout framed to
    fit and centred with equal scale on both axes.

    Drawn with Pillow, so it needs no Datashader (whose import alone takes seconds); it suits
    graphs up to some 10⁵ edges (one line per connected pair). For larger graphs use
    :func:`alchemist.render.graph_image`.

    Parameters
    ----------
    graph : alchemist.Graph
    positions : (n_nodes, 2) array
        Layout in node row order.
    communities : (n_nodes,) int array
        Community of each node, numbered by decreasing size (as :func:`alchemist.graph.louvain`).
    sizes : (n_nodes,) array
        Node sizes (e.g. degree); a node's disc area is proportional to its size.
    width, height : int
        Picture size in pixels.
    colored : int
        The largest communities that get a colour of :data:`PALETTE`; the others are grey.
    max_radius : float, optional
        Radius of the largest disc in pixels (default: 1.4 % of the smaller side).
    background : str
        Background colour (a name or ``#rrggbb``).
    frame : (n_nodes,) bool array, optional
        Frame these nodes (e.g. the largest connected component, so that a few far-away pairs
        do not shrink the picture); nodes outside the frame are left out of the picture; the
        legend still counts every node.

    Returns
    -------
    png : bytes
    legend : list of (label, colour, number of nodes)
        The coloured communities in order, then the grey rest (if any).

    Raises
    ------
    ValueError
        If the arrays do not have one row per node.

    Examples
    --------
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> png, legend = community_picture(g, [[0, 0], [1, 0], [2, 1]], [0, 0, 1], [1, 2, 1], width=80, height=60)
    >>> png[1:4], legend
    (b'PNG', [('community 1', '#4e79a7', 2), ('community 2', '#f28e2b', 1)])
    """
    import io

    from PIL import Image, ImageDraw

    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 2)
    communities = np.asarray(communities, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.float64)
    n = graph.number_of_nodes()
    framed = np.ones(n, bool) if frame is None else np.asarray(frame, dtype=bool)
    if pos.shape != (n, 2) or communities.shape != (n,) or sizes.shape != (n,) or framed.shape != (n,):
        raise ValueError(f"positions {pos.shape}, communities {communities.shape}, sizes {sizes.shape} and frame "
                         f"{framed.shape} must have one row per node ({n})")
    colored = max(0, min(int(colored), len(PALETTE)))
    max_radius = float(max_radius or 0.014 * min(width, height))
    min_radius = max(1.2, max_radius / 9)
    top = float(sizes.max()) if n and sizes.max() > 0 else 1.0
    radius = min_radius + (max_radius - min_radius) * np.sqrt(np.clip(sizes, 0, None) / top)
    # frame: equal scale on both axes, centred, a margin of the largest disc
    margin = max_radius + 6
    lo, hi = (pos[framed].min(axis=0), pos[framed].max(axis=0)) if framed.any() else (np.zeros(2), np.ones(2))
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    scale = min((width - 2 * margin) / span[0], (height - 2 * margin) / span[1])  # pixels per unit
    centre = (lo + hi) / 2
    px = width / 2 + (pos[:, 0] - centre[0]) * scale
    py = height / 2 - (pos[:, 1] - centre[1]) * scale  # image rows grow downwards
    inside = (px >= radius) & (px <= width - radius) & (py >= radius) & (py <= height - radius)
    image = Image.new("RGB", (int(width), int(height)), background)
    draw = ImageDraw.Draw(image, "RGBA")  # RGBA drawing blends onto the picture
    src, dst, _ = graph.edge_index()
    src, dst = np.asarray(src, np.int64), np.asarray(dst, np.int64)
    pairs = np.unique(np.minimum(src, dst) * max(n, 1) + np.maximum(src, dst))
    a, b = pairs // max(n, 1), pairs % max(n, 1)
    keep = (a != b) & inside[a] & inside[b]
    alpha = int(np.clip(40 * (2000 / max(keep.sum(), 1)) ** 0.35, 14, 90))  # fainter as edges grow in number
    edge = (70, 80, 120, alpha)
    for i, j in zip(a[keep].tolist(), b[keep].tolist()):
        draw.line([(px[i], py[i]), (px[j], py[j])], fill=edge, width=1)
    for i in np.argsort(-sizes, kind="stable"):  # large discs first, small ones stay visible
        if not inside[i]:
            continue
        fill = PALETTE[communities[i]] if communities[i] < colored else OTHER
        r = radius[i]
        rgb = tuple(int(fill[k:k + 2], 16) for k in (1, 3, 5))
        draw.ellipse([px[i] - r, py[i] - r, px[i] + r, py[i] + r], fill=rgb + (235,),
                     outline=(255, 255, 255, 230) if r > 3 else None, width=1)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    counts = np.bincount(communities) if n else np.zeros(0, np.int64)
    legend = [(f"community {c + 1}", PALETTE[c], int(counts[c])) for c in range(min(colored, counts.size))]
    if counts.size > colored:
        rest = counts.size - colored
        legend.append((f"{rest} smaller communit{'y' if rest == 1 else 'ies'}", OTHER, int(counts[colored:].sum())))
    return buffer.getvalue(), legend


def legend_html(legend: Sequence[tuple[str, str, int]], unit: str = "people") -> str:
    """A legend of colour swatches with labels and counts (from :func:`community_picture`).

    Parameters
    ----------
    legend : sequence of (label, colour, count)
    unit : str
        What the counts count.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> legend_html([("community 1", "#4e79a7", 1326)])[:40]
    '<div class="alchemist-legend" style="dis'
    """
    items = "".join(
        f'<span style="display:inline-flex;align-items:center;margin:2px 14px 2px 0;white-space:nowrap">'
        f'<span style="display:inline-block;width:12px;height:12px;border-radius:6px;background:{html.escape(colour)};'
        f'margin-right:6px"></span>{html.escape(label)} <span style="color:#666;margin-left:4px">'
        f"({number(count)} {html.escape(unit)})</span></span>"
        for label, colour, count in legend)
    return f'<div class="alchemist-legend" style="display:flex;flex-wrap:wrap;font-size:13px">{items}</div>'


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / max(ticks, 1) if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * magnitude >= raw:
            return m * magnitude
    return 10 * magnitude


def daily_chart_svg(days, counts, *, width: int = 760, height: int = 240, rolling: int = 7,
                    title: str = "messages per day") -> str:
    """Bars of a daily count with its centred rolling mean, as inline SVG.

    Parameters
    ----------
    days : sequence of datetime.date or datetime64[D]
        Consecutive days.
    counts : sequence of int
    width, height : int
    rolling : int
        Window of the mean line in days (0: none).
    title : str
        Accessible title (``<title>``) and y-axis label.

    Returns
    -------
    str
        ``<svg>`` markup.
    """
    days = np.asarray(days, dtype="datetime64[D]")
    counts = np.asarray(counts, dtype=np.float64)
    left, right, top, bottom = 56, 12, 14, 34
    w, h = width - left - right, height - top - bottom
    n = max(len(counts), 1)
    step = _nice_step(float(counts.max()) if counts.size else 1.0)
    y_max = step * math.ceil((float(counts.max()) if counts.size else 1.0) / step) or 1.0
    bar = w / n
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" style="font:11px sans-serif;max-width:100%;height:auto">',
             f"<title>{html.escape(title)}</title>"]
    for k in range(int(round(y_max / step)) + 1):
        v = k * step
        y = top + h - v / y_max * h
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{number(v)}</text>')
    for i, c in enumerate(counts):
        bh = c / y_max * h
        parts.append(f'<rect x="{left + i * bar:.2f}" y="{top + h - bh:.2f}" width="{max(bar - 0.4, 0.6):.2f}" '
                     f'height="{bh:.2f}" fill="#9ecae1"/>')
    if rolling and counts.size >= rolling:
        mean = np.convolve(counts, np.ones(rolling) / rolling, mode="same")
        points = " ".join(f"{left + (i + 0.5) * bar:.1f},{top + h - m / y_max * h:.1f}" for i, m in enumerate(mean))
        parts.append(f'<polyline points="{points}" fill="none" stroke="#08519c" stroke-width="2"/>')
    if days.size:  # a tick on the first day of each month
        months = np.unique(days.astype("datetime64[M]"))
        for m in months:
            d = m.astype("datetime64[D]")
            if d < days[0]:
                continue
            x = left + float((d - days[0]).astype(np.int64)) * bar
            label = str(np.datetime_as_string(m)).split("-")
            name = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][int(label[1]) - 1]
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + h}" y2="{top + h + 4}" stroke="#555"/>'
                         f'<text x="{x + 2:.1f}" y="{top + h + 16}" fill="#555">{name} {label[0]}</text>')
    parts.append(f'<line x1="{left}" x2="{left + w}" y1="{top + h}" y2="{top + h}" stroke="#555"/>'
                 f'<text transform="translate(12 {top + h / 2}) rotate(-90)" text-anchor="middle" fill="#333">'
                 f"{html.escape(title)}</text>")
    if rolling:
        parts.append(f'<text x="{left + w}" y="{top + 10}" text-anchor="end" fill="#08519c">'
                     f"line: {rolling}-day mean</text>")
    parts.append("</svg>")
    return "".join(parts)


def loglog_svg(values, *, width: int = 420, height: int = 300, xlabel: str = "degree k",
               ylabel: str = "nodes with degree k") -> str:
    """The distribution of positive integer values (e.g. degrees) on log–log axes, as inline SVG.

    Parameters
    ----------
    values : array_like of int
        One value per item; values below 1 are left out (they have no logarithm).
    width, height : int
    xlabel, ylabel : str

    Returns
    -------
    str
        ``<svg>`` markup with one dot per distinct value (x: value, y: how many items have it).
    """
    values = np.asarray(values, dtype=np.int64)
    values = values[values >= 1]
    counts = np.bincount(values) if values.size else np.zeros(2, np.int64)
    k = np.flatnonzero(counts)
    k = k[k >= 1]
    left, right, top, bottom = 56, 14, 12, 40
    w, h = width - left - right, height - top - bottom
    x_hi = 10 ** math.ceil(math.log10(max(int(k.max()) if k.size else 10, 10)))
    y_hi = 10 ** math.ceil(math.log10(max(int(counts.max()), 10)))

    def sx(v):
        return left + math.log10(v) / math.log10(x_hi) * w

    def sy(v):
        return top + h - math.log10(v) / math.log10(y_hi) * h

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" style="font:11px sans-serif;max-width:100%;height:auto">',
             f"<title>{html.escape(ylabel)} against {html.escape(xlabel)}, log–log</title>"]
    for e in range(int(math.log10(x_hi)) + 1):
        x = sx(10 ** e)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + h}" stroke="#e4e4e4"/>'
                     f'<text x="{x:.1f}" y="{top + h + 15}" text-anchor="middle" fill="#555">{number(10 ** e)}</text>')
    for e in range(int(math.log10(y_hi)) + 1):
        y = sy(10 ** e)
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">{number(10 ** e)}</text>')
    for v in k:
        parts.append(f'<circle cx="{sx(v):.1f}" cy="{sy(counts[v]):.1f}" r="2.6" fill="#e15759" fill-opacity="0.8"/>')
    parts.append(f'<text x="{left + w / 2}" y="{height - 6}" text-anchor="middle" fill="#333">{html.escape(xlabel)}</text>'
                 f'<text transform="translate(12 {top + h / 2}) rotate(-90)" text-anchor="middle" fill="#333">'
                 f"{html.escape(ylabel)}</text></svg>")
    return "".join(parts)
