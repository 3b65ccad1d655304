"""Tables, per-row arrays, positions and conversions of a :class:`~alchemist.graph.Graph`: the part
that shows the graph as something else (polars or pandas frames, a NetworkX graph, a file, a
notebook summary).

:class:`ViewsMixin` is a base class of :class:`~alchemist.graph.Graph` and is not used alone: its
methods read the columns that :mod:`alchemist.graph.core` lays out. Every table and array here
lists the live nodes in row order (:attr:`Graph.node_ids`) and the live edges in edge order
(:attr:`Graph.edge_ids`). File formats and frame conversions are in :mod:`alchemist.graph.io`
(imported when called: it imports :mod:`alchemist.graph.core`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alchemist.errors import GraphError
from alchemist.graph import convert
from alchemist.graph._common import datetimes, polars_frame, summary_html

__all__ = ["ViewsMixin"]


class ViewsMixin:
    """Node and edge tables, labels and relationship types per row, property columns, positions,
    conversions to pandas, NetworkX and files, and the reprs of a :class:`~alchemist.graph.Graph`.

    A base class of ``Graph`` (``class Graph(AccessMixin, ViewsMixin)``): its methods are
    documented and called as ``Graph`` methods.

    See Also
    --------
    alchemist.graph.access.AccessMixin : sizes, lookups, degrees and CSR arrays.
    """

    # ------------------------------------------------------------------ per-row arrays
    @property
    def labels(self) -> np.ndarray:
        """The label of each live node, ``""`` when it has none.

        Returns
        -------
        (n_nodes,) object ndarray of str
            In row order.

        Examples
        --------
        >>> from alchemist import Graph, new_event
        >>> g = Graph("g")
        >>> _ = g.apply([new_event("node_added", "g", {"node_id": "a", "label": "Person"}),
        ...              new_event("node_added", "g", {"node_id": "b"})])
        >>> g.labels
        array(['Person', ''], dtype=object)
        """
        words = np.asarray(self._labels.words, dtype=object)
        return words[self._node_label.view()[self._live_node_raw()]]

    @property
    def relationships(self) -> np.ndarray:
        """The relationship type of each live edge, ``""`` when it has none.

        Returns
        -------
        (n_edges,) object ndarray of str
            In edge order (:attr:`edge_ids`).

        Examples
        --------
        >>> from alchemist import Graph
        >>> Graph.from_edges([("a", "b")]).relationships
        array([''], dtype=object)
        """
        words = np.asarray(self._rels.words, dtype=object)
        return words[self._edge_rel.view()[self._live_edge_raw()]]

    def node_property(self, key: str) -> tuple[np.ndarray | list, np.ndarray]:
        """A node property as a typed column in row order.

        Parameters
        ----------
        key : str
            The property name.

        Returns
        -------
        values : (n_nodes,) ndarray or list
            A bool, int64 or float64 array when every value has that type (with 0 / False / NaN
            where a node lacks the property), else a list (None where a node lacks it).
        present : (n_nodes,) bool ndarray
            Which nodes have the property.

        Raises
        ------
        GraphError
            No node has this property (the message lists the keys there are).

        Examples
        --------
        >>> from alchemist import Graph, new_event
        >>> g = Graph("g")
        >>> _ = g.apply([new_event("node_added", "g", {"node_id": "a", "properties": {"age": 31}}),
        ...              new_event("node_added", "g", {"node_id": "b"})])
        >>> g.node_property("age")
        (array([31,  0]), array([ True, False]))
        """
        if key not in self._node_props.columns:
            raise GraphError(f"no node property {key!r}; properties: {sorted(self._node_props.columns)}")
        return self._node_props.column(key, self._live_node_raw(), len(self._node_ids))

    # ------------------------------------------------------------------ tables
    @property
    def nodes(self):
        """Live nodes as a polars DataFrame, one row per node in row order.

        Returns
        -------
        polars.DataFrame
            ``(n_nodes, 4 + n_properties)``: ``id`` (str), ``label`` (str, ``""`` when none),
            ``degree`` (int64, as :meth:`degree`), ``first_seen`` (datetime[ms] UTC of the
            ``node_added`` event, null when unknown) and one typed column per property key (null
            where a node lacks it). A new frame on each call.

        Examples
        --------
        >>> from alchemist import Graph, new_event
        >>> g = Graph("g")
        >>> _ = g.apply([new_event("node_added", "g", {"node_id": "a", "label": "Person",
        ...                                            "properties": {"age": 31}}, timestamp=0),
        ...              new_event("node_added", "g", {"node_id": "b"}, timestamp=1),
        ...              new_event("edge_added", "g", {"edge_id": "k", "source": "a", "target": "b"})])
        >>> g.nodes.columns
        ['id', 'label', 'degree', 'first_seen', 'age']
        >>> g.nodes.select("id", "label", "degree", "age").rows()
        [('a', 'Person', 1, 31), ('b', '', 1, None)]
        >>> str(g.nodes["first_seen"][1])
        '1970-01-01 00:00:01'
        """
        rows = self._live_node_raw()
        data: dict[str, Any] = {
            "id": self.node_ids,
            "label": self._labels.decode(self._node_label.view()[rows]),
            "degree": self.degree(),
            "first_seen": datetimes(self._node_time.view()[rows]),
        }
        return polars_frame(data, self._node_props, rows, len(self._node_ids))

    @property
    def edges(self):
        """Live edges as a polars DataFrame, one row per edge in edge order.

        Returns
        -------
        polars.DataFrame
            ``(n_edges, 6 + n_properties)``: ``id``, ``source``, ``target``, ``relationship``
            (str), ``weight`` (float64), ``timestamp`` (datetime[ms] UTC of the ``edge_added``
            event, null when unknown) and one typed column per property key. A new frame on
            each call.

        Examples
        --------
        >>> from alchemist import Graph
        >>> g = Graph.from_edges([("a", "b"), ("b", "c", 2.5)])
        >>> g.edges.columns
        ['id', 'source', 'target', 'relationship', 'weight', 'timestamp']
        >>> g.edges.select("id", "source", "target", "weight").rows()
        [('e0', 'a', 'b', 1.0), ('e1', 'b', 'c', 2.5)]
        """
        rows = self._live_edge_raw()
        ids = np.asarray(self._node_ids, dtype=object)
        data: dict[str, Any] = {
            "id": self.edge_ids,
            "source": ids[self._src.view()[rows]].tolist(),
            "target": ids[self._dst.view()[rows]].tolist(),
            "relationship": self._rels.decode(self._edge_rel.view()[rows]),
            "weight": self._weight.view()[rows],
            "timestamp": datetimes(self._edge_time.view()[rows]),
        }
        return polars_frame(data, self._edge_props, rows, self._src.size)

    def to_frames(self, backend: str = "polars"):
        """The node and edge tables (:attr:`nodes`, :attr:`edges`), with positions as ``x``,
        ``y`` float32 columns of the node table when the graph has them.

        Parameters
        ----------
        backend : {"polars", "pandas"}

        Returns
        -------
        nodes, edges : polars.DataFrame or pandas.DataFrame

        Raises
        ------
        ValueError
            An unknown ``backend``.

        Examples
        --------
        >>> from alchemist import Graph
        >>> g = Graph.from_edges([("a", "b")])
        >>> g.positions = [[0.0, 0.0], [1.0, 0.5]]
        >>> nodes, edges = g.to_frames()
        >>> nodes.select("id", "x", "y").rows()
        [('a', 0.0, 0.0), ('b', 1.0, 0.5)]

        See Also
        --------
        alchemist.graph.io.from_frames : the way back.
        """
        from alchemist.graph.io import to_frames

        return to_frames(self, backend=backend)

    def to_pandas(self):
        """The node and edge tables as pandas DataFrames (``to_frames("pandas")``).

        Returns
        -------
        nodes, edges : pandas.DataFrame
            The columns of :attr:`nodes` (plus ``x``, ``y`` with positions) and :attr:`edges`.

        Examples
        --------
        >>> from alchemist import Graph
        >>> nodes, edges = Graph.from_edges([("a", "b")]).to_pandas()
        >>> edges[["source", "target", "weight"]].values.tolist()
        [['a', 'b', 1.0]]
        """
        return self.to_frames("pandas")

    def to_arrow(self):
        """The node and edge tables as ``pyarrow.Table`` objects (:func:`alchemist.graph.arrow.to_arrow`).

        Returns
        -------
        GraphTables
            ``(nodes, edges)``: the columns of :attr:`nodes` (plus ``x``, ``y``) and :attr:`edges`.

        Examples
        --------
        >>> from alchemist import Graph
        >>> Graph.from_edges([("a", "b")]).to_arrow().edges.num_rows
        1
        """
        from alchemist.graph.arrow import to_arrow

        return to_arrow(self)

    def __arrow_c_stream__(self, requested_schema=None):
        """The edge table as an Arrow C stream: DuckDB, polars and pyarrow read a Graph directly."""
        from alchemist.graph.arrow import edge_stream

        return edge_stream(self, requested_schema)

    def events_frame(self, *, event_types=None, types=None, since=None, until=None, correlation=None, columns=None):
        """The applied events (:attr:`events`) as a polars frame, one row each, in order.

        Parameters
        ----------
        event_types, types, since, until, correlation, columns
            As :func:`alchemist.graph.event_frames.events_frame`.

        Returns
        -------
        polars.DataFrame
            ``sequence, time, type, aggregate, event_id, correlation, causation, cid, previous_cid, actor,
            payload``; empty for a graph built in bulk or with ``keep_log=False`` (no events kept).

        Raises
        ------
        ValueError
            As :func:`~alchemist.graph.event_frames.events_frame`.

        Examples
        --------
        >>> from alchemist import Graph, new_event
        >>> g = Graph("g")
        >>> _ = g.apply([new_event("node_added", "g", {"node_id": x}) for x in "ab"])
        >>> g.events_frame()["payload"].to_list()
        ['{"node_id":"a"}', '{"node_id":"b"}']
        """
        from alchemist.graph.event_frames import events_frame

        return events_frame(self._log, event_types=event_types, types=types, since=since, until=until,
                            correlation=correlation, columns=columns)

    # ------------------------------------------------------------------ positions
    @property
    def positions(self) -> np.ndarray | None:
        """Node positions: the last ``layout_applied`` event's, or what was assigned.

        Assign an ``(n_nodes, 2)`` array-like in row order to set them (stored as float32), or
        None to drop them; assigning records no event.

        Returns
        -------
        (n_nodes, 2) float32 ndarray or None
            NaN for nodes without a position (added after the layout); None when the graph has
            no positions.

        Raises
        ------
        GraphError
            On assignment, an array whose shape is not ``(n_nodes, 2)``.

        Examples
        --------
        >>> from alchemist import Graph
        >>> g = Graph.from_edges([("a", "b")])
        >>> g.positions is None
        True
        >>> g.positions = [[0, 0], [1, 2]]
        >>> g.positions
        array([[0., 0.],
               [1., 2.]], dtype=float32)
        """
        if self._pos is None:
            return None
        pos = self._pos
        if pos.shape[0] < len(self._node_ids):
            grown = np.full((len(self._node_ids), 2), np.nan, dtype=np.float32)
            grown[: pos.shape[0]] = pos
            self._pos = pos = grown
        return pos[self._live_node_raw()]

    @positions.setter
    def positions(self, value) -> None:
        """Set (or with None drop) the positions; see the getter.

        Parameters
        ----------
        value : (n_nodes, 2) array-like or None

        Raises
        ------
        GraphError
            The shape is not ``(n_nodes, 2)``.
        """
        if value is None:
            self._pos = None
            return
        arr = np.asarray(value, dtype=np.float32)
        if arr.shape != (self._n_alive_nodes, 2):
            raise GraphError(f"positions must have shape ({self._n_alive_nodes}, 2), got {arr.shape}")
        pos = np.full((len(self._node_ids), 2), np.nan, dtype=np.float32)
        pos[self._live_node_raw()] = arr
        self._pos = pos

    # ------------------------------------------------------------------ conversions
    def to_networkx(self):
        """The graph as a NetworkX graph.

        A ``Graph`` or ``DiGraph``, or a ``MultiGraph`` / ``MultiDiGraph`` when there are
        parallel edges (keys are the edge ids). Nodes in row order with ``label`` (when not
        empty) and their properties; edges with ``weight``, ``id``, ``relationship`` (when not
        empty) and their properties. :meth:`from_networkx` reads it back.

        Returns
        -------
        networkx.Graph, networkx.DiGraph, networkx.MultiGraph or networkx.MultiDiGraph

        Examples
        --------
        >>> from alchemist import Graph
        >>> G = Graph.from_edges([("a", "b", 2.5)]).to_networkx()
        >>> type(G).__name__, list(G.edges(data=True))
        ('Graph', [('a', 'b', {'weight': 2.5, 'id': 'e0'})])
        >>> type(Graph.from_edges([("a", "b"), ("a", "b")], directed=True).to_networkx()).__name__
        'MultiDiGraph'
        """
        return convert.to_networkx(self)

    def write(self, path, *, format: str | None = None):
        """Write the graph to a file whose extension names the format.

        Parameters
        ----------
        path : str or Path
            ``.graphml``, ``.gexf``, ``.gml``, ``.json`` (node-link), ``.parquet`` or an edge list
            (``.txt``, ``.tsv``, optionally ``.gz``); see :func:`alchemist.graph.io.write_graph`.
        format : str, optional
            Force a format (``"arrows"`` for Arrows.app JSON, …).

        Returns
        -------
        Path
            The file written (for Parquet, the nodes file).

        Raises
        ------
        GraphFormatError
            An unknown format.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> from alchemist import Graph, read_graph
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = Graph.from_edges([("a", "b")]).write(pathlib.Path(folder) / "g.graphml")
        ...     read_graph(path).edges.select("source", "target").rows()
        [('a', 'b')]
        """
        from alchemist.graph.io import write_graph

        return write_graph(self, path, format=format)

    def diff(self, other=None, until=None, *, edges_by: str = "id"):
        """What changed: from this graph to ``other`` (a Graph), or between two of its own states.

        Parameters
        ----------
        other : Graph, int, str, float or datetime, optional
            A Graph: compare this one (before) with it (after). Otherwise a state of this graph
            (an int is a version, anything else a time, as :meth:`at` takes them) compared with
            ``until`` (default: the graph now).
        until : int, str, float or datetime, optional
            The later state, when ``other`` is a state.
        edges_by : {"id", "endpoints"}
            See :func:`alchemist.graph.diff.diff`.

        Returns
        -------
        GraphDiff
            Frames of the nodes and edges added, removed and changed (:mod:`alchemist.graph.diff`).

        Raises
        ------
        GraphError
            Nothing to compare with, a version out of range, or an unknown ``edges_by``.

        Examples
        --------
        >>> from alchemist import Graph
        >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
        >>> g.diff(2)  # version 2 (graph_created, node a) against now
        <GraphDiff 'graph' v2 → 'graph' v6: nodes +2 −0 ~0, edges +2 −0 ~0>
        >>> g.diff(Graph.from_edges([("a", "b")])).nodes_removed["id"].to_list()
        ['c']
        """
        from alchemist.graph.diff import diff

        if other is None:
            raise GraphError("diff needs another Graph, or a version or time of this one (g.diff(version))")
        if hasattr(other, "node_ids"):
            return diff(self, other, edges_by=edges_by)
        before, after = (self._state(s) if s is not None else self for s in (other, until))
        return diff(before, after, edges_by=edges_by)

    def _state(self, when):
        """:meth:`at` a version (int) or a time (anything else)."""
        return self.at(int(when)) if isinstance(when, (int, np.integer)) else self.at(timestamp=when)

    def memory_usage(self) -> int:
        """Approximate bytes held by the graph's arrays: the columns, property tables, positions,
        the id table of bulk loads and the cached edge index and CSR arrays (node id strings and
        the event log not included).

        Returns
        -------
        int
            Bytes.

        Examples
        --------
        >>> from alchemist import Graph
        >>> Graph.from_edges([("a", "b")]).memory_usage() > 0
        True
        """
        cols = (self._node_label, self._node_time, self._node_added, self._node_removed, self._src, self._dst,
                self._weight, self._edge_rel, self._edge_time, self._edge_added, self._edge_removed, self._vtime)
        total = sum(c.nbytes() for c in cols) + self._node_props.nbytes() + self._edge_props.nbytes()
        if self._pos is not None:
            total += self._pos.nbytes
        if self._ids_table is not None:
            total += self._ids_table.nbytes()
        for key in ("edge_index", "csr", "csr_in"):  # caches built by queries and kernels
            if key in self._cache:
                total += sum(a.nbytes for a in self._cache[key])
        return total

    # ------------------------------------------------------------------ reprs
    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return (f"<alchemist.Graph {self.graph_id!r}: {self._n_alive_nodes:,} nodes, "
                f"{self._n_alive_edges:,} edges, {kind}, version {self.version:,}>")

    def _repr_html_(self) -> str:
        """A notebook summary: sizes, degree range, labels and relationship types, properties."""
        return summary_html(self, [("labels", self._labels, self._node_label.view()),
                                   ("relationships", self._rels, self._edge_rel.view())],
                            [("node properties", self._node_props), ("edge properties", self._edge_props)])
