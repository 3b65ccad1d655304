"""GraphView: a large graph drawn in the kernel and shown in the browser as image bytes.

The kernel rasterizes (:mod:`alchemist.render.raster`, Numba) and sends each frame as a binary
buffer (the ``image`` trait, never base64 in JSON). The browser only pans and zooms the picture
it has (a CSS transform, instantly) and asks for a new frame; it keeps at most one request in
flight and replaces the waiting one, and the kernel renders only the newest request
(:class:`~alchemist.widgets._base.LatestWorker`), so a fast drag never queues stale renders.
While the view moves, frames are drafts (half size, JPEG; the browser stretches them); when it
rests, the browser asks for the full frame (PNG). Graphs of 200,000 edges or more get a level of
detail (:mod:`~alchemist.widgets.graph_view_lod`): an edge-density pyramid built once in the
background, from which any view near the framed one is resampled with every edge in milliseconds;
elsewhere frames draw every edge (past a pixel budget, the long ones by an unbiased importance
sample), and drafts a uniform sample sized to a time budget (:mod:`~alchemist.widgets.graph_view_render`). The browser decodes each frame off
screen and swaps it in with its transform, and sends its next request as soon as a frame
arrives, so rendering and decoding overlap.

Hover, click and lasso are answered in the kernel with a KD-tree (SciPy ``cKDTree``) over the
node positions; the selection is the ``selected`` trait (node ids), synced both ways.

Nodes are coloured by a column (categories with a legend, or numbers on a viridis ramp with a colour
bar), sized by one, and the largest nodes in view are labelled on the canvas; the search box centres
the view on a node, and Save PNG downloads the picture (:mod:`alchemist.widgets.node_style` has the
arithmetic).
"""

from __future__ import annotations

import threading
import time
from typing import Any, Sequence

import numpy as np
import traitlets as t

from alchemist.errors import LayoutError, WidgetError
from alchemist.render import raster
from alchemist.widgets import node_style
from alchemist.widgets._base import AlchemistWidget, LatestWorker, asset, escape, png_html
from alchemist.widgets.collaboration import CollaborationMixin
from alchemist.widgets.graph_view_lod import EdgeLevelOfDetail
from alchemist.widgets.graph_view_render import (DIRECT_MASS, default_layout, draft_edges, draw_frame,
                                                 label_items, points_in_polygon, short_text)
from alchemist.widgets.node_style import PALETTE

__all__ = ["GraphView", "PALETTE"]

_NODE = "#ffb347"
#: Most edges a draft draws (a uniform random sample drawn when the graph is set; its prefix is the draft's).
DRAFT_SAMPLE = 500_000
#: Edges per batch of a full frame; a newer request waiting after a batch abandons the frame.
_FULL_FRAME_BATCH = 400_000


class GraphView(CollaborationMixin, AlchemistWidget):
    """Interactive view of a graph with 100K+ nodes and 1M+ edges.

    Parameters
    ----------
    graph : alchemist.Graph
        The graph (anything with ``edge_index()``, ``number_of_nodes()``, ``node_ids``, ``nodes``
        and ``node(id)``).
    positions : (n_nodes, 2) array, optional
        Node positions in the row order of ``graph.nodes``; ``graph.positions`` or a
        ForceAtlas2 layout (``layout_iterations``) when omitted.
    width, height : int
        Size of the picture in pixels.
    color_by : str, optional
        A node column that colours the nodes: text (and columns given as categories to
        :meth:`set_node_values`) as categories, the 15 most frequent with their own colour and a
        legend; numbers on the viridis ramp with a colour bar
        (:func:`~alchemist.widgets.node_style.ramp_colors`). The columns are those of
        ``graph.nodes``, ``in_degree``, ``out_degree`` and ``total_degree`` for a directed graph, and
        those added with :meth:`set_node_values`.
    color_scale : {"auto", "linear", "log"}
        Scale of a numeric colour (and size) column; ``"auto"`` is log (``log10(1 + v)``) for skewed
        counts such as degrees.
    size_by : str, optional
        A numeric node column that sizes the nodes (area grows linearly with the value).
    labels : int
        How many of the largest nodes in view (by ``size_by``, else total degree) get their label drawn.
    label_by : str, optional
        The node column the labels show (the node id by default).
    background : str
        ``"black"``, ``"white"`` or ``"#rrggbb"``.
    draft_budget : float
        Seconds a draft frame may spend on edges while the view moves (the sample of edges
        adapts to it).
    draft_scale : float
        Size of a draft frame relative to the picture (0 < scale ≤ 1; the browser stretches it):
        half size by default, a quarter of the pixels to shade, encode and send while moving.
    threaded : bool
        Render in a background thread (the interactive default); False renders inline.
    lod_edges : int
        Graphs with at least this many edges get the level-of-detail pyramid
        (:class:`~alchemist.widgets.graph_view_lod.EdgeLevelOfDetail`; a negative value: never), and
        their first picture is a draft that does not wait for it.

    Attributes (synced traits)
    --------------------------
    image : bytes — the current frame (``image_format`` ``"png"`` or ``"jpeg"``).
    x_range, y_range : [float, float] — the viewport of ``image`` in position units.
    frame : dict — ``seq``, ``draft``, ``render_ms``, ``edges_drawn``, ``nodes_in_view``.
    selected : list of str — selected node ids (click, shift-click, shift-drag lasso, or set it).
    hovered : dict — ``id``, ``label``, ``properties`` (strings) and pixel ``x``, ``y`` of the
      node under the pointer, or ``{}``.
    color_by : str — the colouring column; ``columns`` lists the choices; ``legend`` the colours of
      categories, ``colorbar`` the ramp of a numeric column (see :func:`~alchemist.widgets.node_style.ramp_colors`).
    size_by, color_scale : str — see the parameters.
    labels : list of dict — ``id``, ``text`` and data position ``x``, ``y`` of the labelled nodes.
    search_result : dict — ``query``, ``id`` (None when nothing matches) of the last search.
    version : int — the graph version shown (rises in live mode).

    Raises
    ------
    LayoutError
        If ``positions`` has the wrong shape or holds NaN/inf.
    WidgetError
        If ``color_by`` is not a column of ``graph.nodes``.

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> view = GraphView(g, np.array([[0, 0], [10, 0], [5, 10]], np.float32), width=64, height=48)
    >>> view.nodes_in_polygon([[0, 0], [64, 0], [64, 48], [0, 48]])  # the whole picture
    ['a', 'b', 'c']
    >>> view.static_png()[1:4]
    b'PNG'
    >>> view.close()
    """

    _esm = asset("dom.js", "collaboration.js", "graph_view.js")

    image = t.Bytes(b"").tag(sync=True)
    image_format = t.Unicode("png").tag(sync=True)
    width = t.Int(800).tag(sync=True)
    height = t.Int(600).tag(sync=True)
    x_range = t.List(t.Float(), default_value=[0.0, 1.0]).tag(sync=True)
    y_range = t.List(t.Float(), default_value=[0.0, 1.0]).tag(sync=True)
    frame = t.Dict().tag(sync=True)
    selected = t.List(t.Unicode()).tag(sync=True)
    hovered = t.Dict().tag(sync=True)
    color_by = t.Unicode("", allow_none=True).tag(sync=True)
    columns = t.List(t.Unicode()).tag(sync=True)
    legend = t.List(t.Dict()).tag(sync=True)
    colorbar = t.Dict().tag(sync=True)
    color_scale = t.Unicode("auto").tag(sync=True)
    size_by = t.Unicode("", allow_none=True).tag(sync=True)
    size_columns = t.List(t.Unicode()).tag(sync=True)
    labels = t.List(t.Dict()).tag(sync=True)
    label_count = t.Int(12).tag(sync=True)
    search_result = t.Dict().tag(sync=True)
    title = t.Unicode("").tag(sync=True)
    status = t.Unicode("").tag(sync=True)
    live = t.Bool(False).tag(sync=True)
    version = t.Int(0).tag(sync=True)
    node_count = t.Int(0).tag(sync=True)
    edge_count = t.Int(0).tag(sync=True)

    def __init__(self, graph, positions=None, *, width: int = 800, height: int = 600, color_by: str | None = None,
                 background: str = "black", title: str = "", draft_budget: float = 0.03, draft_scale: float = 0.5,
                 layout_iterations: int = 100, threaded: bool = True, seed: int = 0, color_scale: str = "auto",
                 size_by: str | None = None, labels: int = 12, label_by: str | None = None, lod_edges: int = 200_000):
        if not 0 < draft_scale <= 1:
            raise WidgetError(f"draft_scale={draft_scale!r} must be in (0, 1]; 0.5 draws drafts at half size")
        super().__init__(width=int(width), height=int(height), title=title, color_scale=color_scale,
                         label_count=int(labels))
        self._label_by = label_by
        self._background = raster.parse_color(background)
        self._draft_budget = float(draft_budget)
        self._draft_scale = float(draft_scale)
        self._full_batch = _FULL_FRAME_BATCH
        self._layout_iterations = int(layout_iterations)
        self._rng = np.random.default_rng(seed)
        self._lock = threading.RLock()
        self._seq = 0
        self._tree = None
        self._row_of: dict[str, int] | None = None
        self._live_thread: threading.Thread | None = None
        self._live_stop = threading.Event()
        self.graph = None
        self._nodes = node_style.NodeColumns(None)
        self.positions = np.zeros((0, 2), np.float32)
        self._worker = LatestWorker(self._render_request) if threaded else None
        self.lod = EdgeLevelOfDetail(lod_edges, threaded=threaded)
        self._constructed = False
        self.set_graph(graph, positions, color_by=color_by or None, render=False)
        if size_by:
            self.size_by = size_by
            self._on_size_by({"new": size_by})
        x_range, y_range = self.full_extent()
        if threaded and self.lod.wanted(self.edge_count):
            # a large graph shows a draft at once; the full frame follows when its pyramid is built
            self.render(x_range, y_range, draft=True)
            self._reset_lod()
        else:
            self._reset_lod()
            self.render(x_range, y_range)
        self.on_msg(self._on_custom_msg)
        self._constructed = True
        self.observe(self._on_color_by, names=["color_by", "color_scale"])
        self.observe(self._on_size_by, names="size_by")
        self.observe(lambda change: self.render(wait=False), names="label_count")
        self.observe(self._on_selected, names="selected")

    # ------------------------------------------------------------------ public API
    def set_graph(self, graph, positions=None, *, color_by: str | None = "keep", keep_viewport: bool = True,
                  render: bool = True) -> None:
        """Show another graph (or a new state of the same one).

        ``positions`` follow the row order of ``graph.nodes``; ``color_by="keep"`` keeps the
        current colouring. The viewport stays unless ``keep_viewport=False``.
        """
        pos = self._check_positions(graph, positions)
        src, dst, _ = graph.edge_index()
        m = int(src.shape[0])
        # drafts draw a prefix of a uniform random sample of the edges, in random order (no permutation of them all)
        sample = self._rng.choice(m, min(m, DRAFT_SAMPLE), replace=False) if m else np.zeros(0, np.int64)
        column = self.color_by if color_by == "keep" else color_by
        with self._lock:
            self.graph = graph
            self.positions = pos
            self._src = np.array(src, dtype=np.int32)
            self._dst = np.array(dst, dtype=np.int32)
            self._sample = sample
            self._sample_src, self._sample_dst = self._src[sample], self._dst[sample]
            self._edge_budget = min(sample.shape[0], max(getattr(self, "_edge_budget", 0) or
                                                         draft_edges(pos, self._sample_src, self._sample_dst), 20_000))
            self._tree = None
            self._row_of = None
            self._nodes = node_style.NodeColumns(graph, (src, dst), previous=self._nodes)
            self._node_colors, legend, colorbar = self._nodes.colors(column or None, self.color_scale, _NODE)
            self._node_sizes = self._nodes.sizes(self.size_by or None, self.color_scale)
        with self.hold_sync():
            self.columns = self._nodes.names()
            self.size_columns = [c for c in self.columns if self._nodes.is_numeric(c)]
            self.legend = legend
            self.colorbar = colorbar
            if (column or "") != (self.color_by or ""):
                self.color_by = column or ""
            self.version = int(getattr(graph, "version", 0))
            self.node_count = int(graph.number_of_nodes())
            self.edge_count = m
        if not keep_viewport:
            self.reset(render=False)
        if self._constructed:  # (the constructor builds it after the first picture)
            self._reset_lod()
        if render:
            self.render()

    def set_node_values(self, name: str, values, *, kind: str = "auto") -> None:
        """Add a per-node column (``(n_nodes,)`` values in row order, e.g. communities, coalitions,
        strategies, scores) that ``color_by`` and ``size_by`` can choose, and colour by it.

        Parameters
        ----------
        name : str
        values : sequence
            One value per node, in the row order of ``graph.nodes``.
        kind : {"auto", "category", "number"}
            How the colour treats the values: ``"auto"`` colours numbers on the ramp and anything
            else as categories; ``"category"`` makes numbers (community ids) categories.

        Raises
        ------
        WidgetError
            If there is not one value per node, or ``kind`` is unknown.
        """
        values = list(values)
        if len(values) != self.graph.number_of_nodes():
            raise WidgetError(f"{len(values)} values for {self.graph.number_of_nodes()} nodes; give one per node")
        self._nodes.add(name, values, kind)
        self.columns = self._nodes.names()
        self.size_columns = [c for c in self.columns if self._nodes.is_numeric(c)]
        if self.color_by == name:
            self._on_color_by({"new": name})
        else:
            self.color_by = name

    def set_node_colors(self, colors, legend: list) -> None:
        """Colour the nodes as given, with a legend, until ``color_by`` changes (compare mode: :mod:`~.compare`).

        Parameters
        ----------
        colors : (n_nodes, 3) uint8 array in row order
        legend : list of ``{"label", "color"}`` dicts
        """
        self.color_by = ""  # its observer draws the default colour first
        with self._lock:
            self._node_colors = np.ascontiguousarray(colors, dtype=np.uint8).reshape(-1, 3)
        self.legend, self.colorbar = list(legend), {}
        self.render(wait=False)

    def find(self, query: str) -> str | None:
        """The node a search box query names.

        Parameters
        ----------
        query : str
            A node id or label: an exact id first, then an exact label, then the first id or label
            that contains the query, ignoring case (the node of largest total degree among several).

        Returns
        -------
        str or None
            The node's id, or None when none matches.
        """
        if self.graph is None or not self.graph.number_of_nodes():
            return None
        labels = [str(v) for v in self.graph.nodes["label"].to_list()]
        return node_style.find_node(query, self.graph.node_ids, labels, self._nodes.weight(self.size_by))

    def center_on(self, node: str, *, zoom: float = 1.0, select: bool = True, wait: bool = True) -> None:
        """Centre the view on a node (the search box's answer), keeping the scale unless ``zoom``.

        Parameters
        ----------
        node : str
            The node id.
        zoom : float
            > 1 zooms in by that factor.
        select : bool
            Also make the node the selection.
        wait : bool
            Block until the frame is rendered.

        Raises
        ------
        WidgetError
            If ``node`` is not a node of the graph, or ``zoom`` is not positive.
        """
        rows = self._rows_of([node])
        if not rows.size:
            raise WidgetError(f"{node!r} is not a node of the graph shown; GraphView.find(text) finds one by id or label")
        x_range, y_range = node_style.centred_ranges(self.positions[rows[0]], self.x_range, self.y_range, zoom)
        with self.hold_sync():
            self.x_range, self.y_range = x_range, y_range  # the selection's own render draws the new view too
            self._fit = False
            if select and list(self.selected) != [node]:
                self.selected = [node]
        self.render(x_range, y_range, wait=wait)

    def reset(self, render: bool = True) -> None:
        """Frame the bulk of the nodes (the 0.2–99.8 % quantiles) with equal scale on both axes.

        Parameters
        ----------
        render : bool
            Render and send the new frame (else only set ``x_range`` and ``y_range``).
        """
        x_range, y_range = self.full_extent()
        if render:
            self.render(x_range, y_range)
        else:
            with self.hold_sync():
                self.x_range, self.y_range = x_range, y_range

    def full_extent(self) -> tuple[list[float], list[float]]:
        """The viewport that frames the nodes, with 3 % padding and the aspect of the picture.

        Returns
        -------
        x_range, y_range : list of float
            ``[min, max]`` in position units, the narrower one widened so that both axes have the
            same scale.
        """
        from alchemist.render.graph import frame_ranges

        (x0, x1), (y0, y1) = frame_ranges(self.positions.astype(np.float64))
        # equal scale on both axes: widen the range that is narrow for the picture's aspect
        sx, sy = (x1 - x0) / self.width, (y1 - y0) / self.height
        s = max(sx, sy)
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        return ([cx - s * self.width / 2, cx + s * self.width / 2], [cy - s * self.height / 2, cy + s * self.height / 2])

    def render(self, x_range: Sequence[float] | None = None, y_range: Sequence[float] | None = None, *,
               draft: bool = False, wait: bool = True) -> None:
        """Render a viewport and send the frame to the browser.

        Parameters
        ----------
        x_range, y_range : (float, float), optional
            The viewport in position units (the current one by default).
        draft : bool
            A draft frame (half size, a sample of the edges, JPEG) instead of the full one.
        wait : bool
            Block until the frame is rendered.

        Raises
        ------
        Exception
            With ``wait``, the error the render raised, if any.
        """
        request = {"x_range": list(x_range or self.x_range), "y_range": list(y_range or self.y_range),
                   "draft": bool(draft), "seq": None}
        self._submit(request)
        if wait:
            self.wait()

    def wait(self, timeout: float = 60.0) -> None:
        """Block until every requested frame is rendered.

        Parameters
        ----------
        timeout : float
            Seconds to wait at most.

        Raises
        ------
        Exception
            The error a render raised, if any.
        """
        if self._worker is not None:
            self._worker.wait(timeout)
            if self._worker.errors:
                raise self._worker.errors.pop()

    def node_at(self, x: float, y: float, *, radius: float = 6.0, x_range=None, y_range=None) -> str | None:
        """The node nearest to a pixel of the viewport (the hover and click answer).

        Parameters
        ----------
        x, y : float
            Pixel ``(column, row)``, row 0 at the top.
        radius : float
            Largest distance in pixels.
        x_range, y_range : (float, float), optional
            The viewport (the current one by default).

        Returns
        -------
        str or None
            The node's id, or None when no node is within ``radius`` pixels.
        """
        view = self._viewport(x_range, y_range)
        tree = self._kdtree()
        if tree is None:
            return None
        point = view.to_data(np.array([[x, y]]))[0]
        dist, row = tree.query(point, k=1, distance_upper_bound=radius / min(view.sx, view.sy))
        if not np.isfinite(dist):
            return None
        return self.graph.node_ids[int(row)]

    def nodes_in_polygon(self, polygon_px, *, x_range=None, y_range=None) -> list[str]:
        """The nodes inside a polygon drawn on the viewport (the lasso answer; even–odd rule).

        Parameters
        ----------
        polygon_px : array_like, shape ``(k, 2)``
            Vertices in pixels ``(column, row)``; fewer than 3 select nothing.
        x_range, y_range : (float, float), optional
            The viewport (the current one by default).

        Returns
        -------
        list of str
            Node ids, in row order.
        """
        polygon = np.asarray(polygon_px, dtype=np.float64).reshape(-1, 2)
        if polygon.shape[0] < 3:
            return []
        view = self._viewport(x_range, y_range)
        poly = view.to_data(polygon)
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        pos = self.positions
        box = np.flatnonzero((pos[:, 0] >= lo[0]) & (pos[:, 0] <= hi[0]) & (pos[:, 1] >= lo[1]) & (pos[:, 1] <= hi[1]))
        inside = box[points_in_polygon(pos[box].astype(np.float64), poly)]
        ids = self.graph.node_ids
        return [ids[r] for r in inside]

    def follow(self, source, graph_id: str | None = None, *, interval: float = 0.3, iterations: int = 10,
               deliver: str = "all", layout=None, fit: bool = True) -> "GraphView":
        """Live mode: follow a graph as it changes and re-render at most once per ``interval`` s.

        ``source`` is a Graph that something else updates (its ``version`` is polled), or a
        connection-like object with a ``url`` and ``subjects`` (see
        :class:`~alchemist.widgets.live.EventStream`), whose events for ``graph_id`` are applied
        to this view's graph in batches. New nodes are placed by ``layout(graph, previous_positions)``
        (``(n_old, 2)`` → ``(n_nodes, 2)``), by default :func:`alchemist.layout.incremental_layout`
        with ``iterations`` local iterations (ForceAtlas2 for the first nodes). With ``fit`` each
        update re-frames the view on the whole graph (:meth:`full_extent`), so a growing graph is
        never clipped, until the user pans or zooms; Reset (or a double click) turns it back on.
        """
        import alchemist.layout  # noqa: F401  (import here, not in the live thread: it compiles kernels)
        from alchemist.widgets.live import EventStream

        self.unfollow()
        stream = None
        if isinstance(source, EventStream):
            stream = source
        elif hasattr(source, "subjects") and hasattr(source, "url"):
            if graph_id is None:
                raise WidgetError("follow(connection) needs graph_id= (the aggregate id of the graph to follow)")
            stream = self._own_stream = EventStream(source, graph_id, deliver=deliver)
        elif source is not self.graph:
            self.set_graph(source, None if source.number_of_nodes() else np.zeros((0, 2), np.float32))
        if stream is not None and getattr(self.graph, "graph_id", None) != stream.graph_id:
            from alchemist.graph import Graph

            self.set_graph(Graph(stream.graph_id, directed=True, strict=False), np.zeros((0, 2), np.float32),
                           render=False)
        self._live_stop.clear()
        self._fit = bool(fit)
        self.live = True
        self._stream = stream
        inbox: list = []
        if stream is not None:
            lock = threading.Lock()

            def receive(events, info):
                with lock:
                    inbox.extend(events)

            self._unsubscribe = stream.subscribe(receive)
        else:
            lock = threading.Lock()
            self._unsubscribe = None

        def loop():
            while not self._live_stop.wait(interval):
                with lock:
                    batch = inbox[:]
                    inbox.clear()
                try:
                    self._live_step(batch, layout or (lambda g, old: default_layout(g, old, iterations)))
                except Exception as exc:  # keep following; show the problem
                    self.status = f"live update failed: {exc!r}"

        self._live_thread = threading.Thread(target=loop, name="alchemist-graphview-live", daemon=True)
        self._live_thread.start()
        return self

    def unfollow(self) -> None:
        """Leave live mode: stop following the graph (a no-op when not following)."""
        if not hasattr(self, "_live_stop"):  # a constructor that raised: nothing was started
            return
        self._live_stop.set()
        if getattr(self, "_unsubscribe", None):
            self._unsubscribe()
            self._unsubscribe = None
        if getattr(self, "_own_stream", None) is not None:
            self._own_stream.close()
            self._own_stream = None
        if self._live_thread is not None:
            self._live_thread.join(5)
            self._live_thread = None
        self.live = False

    def close(self) -> None:
        """Leave live mode, stop the render worker and close the widget."""
        self.unfollow()
        if hasattr(self, "lod"):
            self.lod.reset(self.positions[:0], np.zeros(0, np.int32), np.zeros(0, np.int32), [0, 1], [0, 1], 1, 1)
        super().close()

    def static_png(self) -> bytes:
        """A PNG of the whole current viewport with every edge (no level of detail) and the labels of
        the largest nodes, for reports.

        Returns
        -------
        bytes
        """
        from PIL import Image, ImageDraw

        image, info = self._draw(raster.Viewport(self.x_range, self.y_range, self.width, self.height), limit=None,
                                 exact=True)
        picture = Image.fromarray(image)
        draw = ImageDraw.Draw(picture)
        view = self._viewport()
        for item in info["labels"]:
            x, y = view.to_pixels(np.array([[item["x"], item["y"]]]))[0]
            draw.text((x + 6, y), item["text"], fill=(255, 255, 255), anchor="lm", stroke_width=2, stroke_fill=(0, 0, 0))
        return raster.encode_image(np.asarray(picture))

    def static_html(self) -> str:
        """HTML shown where no widget manager runs (nbconvert, papermill reports).

        Returns
        -------
        str
            The picture of :meth:`static_png` and a caption (nodes, edges, version, colour), with
            every user-given text escaped.
        """
        caption = (f"{escape(self.title) + ' · ' if self.title else ''}{self.node_count:,} nodes · "
                   f"{self.edge_count:,} edges · version {self.version:,}")
        if self.color_by:
            caption += f" · colour: {escape(self.color_by)}"
        return (png_html(self.static_png(), f"graph {self.title}", self.width) + f"<div>{caption}</div>"
                + node_style.key_html(self.legend, self.colorbar))

    # ------------------------------------------------------------------ messages from the browser
    def _on_custom_msg(self, _widget, content, buffers) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "view":
            self._fit = False  # the user moves the view: live updates keep it where it is
            self._submit({"x_range": content["x_range"], "y_range": content["y_range"],
                          "draft": bool(content.get("draft")), "seq": content.get("seq")})
        elif kind == "reset":
            self._fit = True  # framed again on every live update
            x_range, y_range = self.full_extent()
            self._submit({"x_range": x_range, "y_range": y_range, "draft": False, "seq": content.get("seq")})
        elif kind == "search":
            node = self.find(content.get("query", ""))
            self.search_result = {"query": str(content.get("query", "")), "id": node}
            if node is not None:
                self.center_on(node, wait=False)
        elif kind == "hover":
            self.hovered = self._hover_info(content)
        elif kind == "click":
            node = self.node_at(content["x"], content["y"], x_range=content.get("x_range"),
                                y_range=content.get("y_range"))
            if content.get("shift"):
                chosen = list(self.selected)
                if node is not None:
                    chosen = [s for s in chosen if s != node] if node in chosen else chosen + [node]
                self.selected = chosen
            else:
                self.selected = [node] if node is not None else []
        elif kind == "lasso":
            inside = self.nodes_in_polygon(content["points"], x_range=content.get("x_range"),
                                           y_range=content.get("y_range"))
            if content.get("shift"):
                have = set(self.selected)
                inside = list(self.selected) + [n for n in inside if n not in have]
            self.selected = inside

    def _hover_info(self, content) -> dict:
        node = self.node_at(content["x"], content["y"], x_range=content.get("x_range"),
                            y_range=content.get("y_range"))
        if node is None:
            return {}
        info = self.graph.node(node)
        view = self._viewport(content.get("x_range"), content.get("y_range"))
        px = view.to_pixels(self.positions[[self._rows_of([node])[0]]])[0]
        props = {str(k): short_text(v) for k, v in info.items() if k not in ("id", "label")}
        return {"id": str(node), "label": short_text(info.get("label") or node), "properties": props,
                "x": float(px[0]), "y": float(px[1])}

    def _on_color_by(self, change) -> None:
        with self._lock:
            self._node_colors, legend, colorbar = self._nodes.colors(self.color_by or None, self.color_scale, _NODE)
            self._node_sizes = self._nodes.sizes(self.size_by or None, self.color_scale)  # the scale may have changed
        with self.hold_sync():
            self.legend = legend
            self.colorbar = colorbar
        self.render(wait=False)

    def _on_size_by(self, change) -> None:
        with self._lock:
            self._node_sizes = self._nodes.sizes(self.size_by or None, self.color_scale)
        self.render(wait=False)

    def _on_selected(self, change) -> None:
        self.render(wait=False)

    # ------------------------------------------------------------------ rendering
    def _submit(self, request: dict) -> None:
        if self._worker is None:
            self._render_request(request)
        else:
            self._worker.submit(request)

    def _render_request(self, request: dict) -> None:
        start = time.perf_counter()
        view = raster.Viewport(request["x_range"], request["y_range"], self.width, self.height)
        if not (view.x1 > view.x0 and view.y1 > view.y0):
            raise WidgetError(f"viewport x_range={request['x_range']}, y_range={request['y_range']} is empty")
        draft = request["draft"] and (self._src.shape[0] > self._edge_budget or self.lod.ready)
        if draft and self._draft_scale < 1:
            view = raster.Viewport((view.x0, view.x1), (view.y0, view.y1), max(1, round(self.width * self._draft_scale)),
                                    max(1, round(self.height * self._draft_scale)))
        # a full frame gives way to a newer request (a drag that starts again) between edge batches
        worker = self._worker
        stop = None if draft or worker is None else (lambda: worker.pending)
        image, info = self._draw(view, limit=self._edge_budget if draft else None, stop=stop, max_mass=DIRECT_MASS)
        if image is None:  # superseded: the newer request is drawn instead
            return
        if draft and info["lod"] == "sample" and info["edge_seconds"] > 0:
            # adapt the sample so that the next draft spends about draft_budget seconds on edges
            scale = self._draft_budget / info["edge_seconds"]
            self._edge_budget = int(np.clip(self._edge_budget * min(max(scale, 0.5), 2.0), 20_000, self._sample.shape[0]))
        data = raster.encode_image(image, "jpeg" if draft else "png")
        self._seq += 1
        frame = {"seq": request.get("seq") if request.get("seq") is not None else -self._seq, "draft": bool(draft),
                 "render_ms": round((time.perf_counter() - start) * 1000, 1), "edges_drawn": info["edges_drawn"],
                 "nodes_in_view": info["nodes_in_view"], "bytes": len(data), "size": [view.width, view.height],
                 "lod": info["lod"]}
        self._last_draft = bool(draft) and request.get("seq") is None  # a draft no browser request will settle
        with self.hold_sync():
            self.labels = info.get("labels", [])
            self.image = data
            self.image_format = "jpeg" if draft else "png"
            self.x_range = [view.x0, view.x1]
            self.y_range = [view.y0, view.y1]
            self.frame = frame
            self.status = (f"{self.node_count:,} nodes · {self.edge_count:,} edges · "
                           f"{'draft ' if draft else ''}{frame['render_ms']:.0f} ms")

    def _draw(self, view, *, limit: int | None, stop=None, exact: bool = False,
              max_mass: float | None = None) -> tuple[np.ndarray | None, dict]:
        """The frame's ``(h, w, 3)`` uint8 image and its info (:func:`~.graph_view_render.draw_frame`);
        ``exact`` draws every edge's pixels, not the pyramid's resample; past ``max_mass`` pixels a
        direct frame samples its long edges by importance."""
        with self._lock:
            pos, src, dst, colors, sizes = self.positions, self._src, self._dst, self._node_colors, self._node_sizes
            sample = (self._sample_src, self._sample_dst)
            selected_rows = self._rows_of(self.selected)
        image, info = draw_frame(view, pos, src, dst, colors, sizes, selected_rows, self._background, limit=limit,
                                 stop=stop, batch=self._full_batch, lod=None if exact else self.lod, sample=sample,
                                 max_mass=None if exact else max_mass)
        if image is not None:
            info["labels"] = self._labels_for(info["rows"])
        return image, info

    def _labels_for(self, rows: np.ndarray) -> list[dict]:
        """The labels of the :attr:`label_count` largest nodes among ``rows`` (data positions)."""
        label_by = self._label_by
        texts_of = (lambda chosen: [str(v) for v in self._nodes.series(label_by)[chosen].to_list()]) if label_by else None
        return label_items(rows, self._nodes.weight(self.size_by), self.label_count, self.graph.node_ids,
                           self.positions, texts_of)

    def _reset_lod(self) -> None:
        """Start building the level-of-detail pyramid of the graph state shown (or drop the old one)."""
        if self.lod.wanted(self.edge_count) or self.lod.pyramid is not None:
            x_range, y_range = self.full_extent() if self.positions.shape[0] else ([0.0, 1.0], [0.0, 1.0])
            self.lod.reset(self.positions, self._src, self._dst, x_range, y_range, self.width, self.height,
                           self._lod_ready)

    def _lod_ready(self) -> None:
        """The pyramid is built: a view still showing a draft gets its full frame (unless a request waits)."""
        if getattr(self, "_last_draft", False) and not (self._worker is not None and self._worker.pending):
            self.render(wait=False)

    # ------------------------------------------------------------------ helpers
    def _viewport(self, x_range=None, y_range=None) -> raster.Viewport:
        return raster.Viewport(x_range or self.x_range, y_range or self.y_range, self.width, self.height)

    def _kdtree(self):
        from scipy.spatial import cKDTree

        with self._lock:
            if self._tree is None and self.positions.shape[0]:
                self._tree = cKDTree(self.positions.astype(np.float64))
            return self._tree

    def _rows_of(self, ids: Sequence[str]) -> np.ndarray:
        if not ids:
            return np.zeros(0, np.int64)
        if self._row_of is None:
            self._row_of = {node: i for i, node in enumerate(self.graph.node_ids)}
        return np.array([self._row_of[i] for i in ids if i in self._row_of], dtype=np.int64)

    def _check_positions(self, graph, positions) -> np.ndarray:
        if positions is None:
            positions = getattr(graph, "positions", None)
        if positions is None:
            from alchemist.layout import forceatlas2

            positions = forceatlas2(graph, iterations=self._layout_iterations, seed=0)
        pos = np.asarray(positions, dtype=np.float32)
        n = graph.number_of_nodes()
        if pos.ndim != 2 or pos.shape != (n, 2):
            raise LayoutError(f"positions must have shape ({n}, 2) for this graph, got {pos.shape}")
        if not np.isfinite(pos).all():
            bad = int(np.flatnonzero(~np.isfinite(pos).all(axis=1))[0])
            raise LayoutError(f"positions of node row {bad} are not finite ({pos[bad].tolist()}); lay the graph out first")
        return np.ascontiguousarray(pos)

    def _live_step(self, events: list, layout) -> None:
        graph = self.graph
        before = graph.version
        if events:
            graph.apply(events, errors="collect")
        if graph.version == before and graph.version == self.version:
            return
        n_old, n = self.positions.shape[0], graph.number_of_nodes()
        if n == 0:
            return
        positions = layout(graph, self.positions) if n != n_old else self.positions
        fit = getattr(self, "_fit", False)
        self.set_graph(graph, positions, keep_viewport=n_old > 0 and not fit, render=False)
        if fit:  # the frame of these positions (x_range may still be the one of a frame in flight)
            x_range, y_range = self.full_extent()
            self.render(x_range, y_range, wait=False)
        else:
            self.render(wait=False)
