"""Sizes, lookups, degrees and the arrays kernels read: the part of :class:`~alchemist.graph.Graph`
that answers "how many", "which row" and "who is adjacent" (NetworkX's ``number_of_nodes``,
``degree``, ``has_edge`` family, plus the CSR arrays alchemist's kernels take).

:class:`AccessMixin` is a base class of :class:`~alchemist.graph.Graph` and is not used alone: its
methods read the columns that :mod:`alchemist.graph.core` lays out. Everything here is a read;
results derived from the whole graph (live rows, edge index, CSR) are cached until the next change.
:func:`cached`, :func:`csr_with_edges` and :func:`label_mask` give the query and analytics modules
the same caches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

import numpy as np

from alchemist.errors import EdgeNotFoundError, NodeNotFoundError
from alchemist.graph._common import ALIVE, IMPLICIT_ID
from alchemist.graph.csr import build_csr

if TYPE_CHECKING:
    from alchemist.graph.core import Graph

__all__ = ["AccessMixin", "cached", "csr_with_edges", "label_mask"]


class AccessMixin:
    """Sizes, id ↔ row lookups, single nodes and edges, degrees and CSR adjacency of a
    :class:`~alchemist.graph.Graph`.

    A base class of ``Graph`` (``class Graph(AccessMixin, ViewsMixin)``): its methods are
    documented and called as ``Graph`` methods. Row numbers are positions in :attr:`node_ids`
    (the live nodes in the order they were added), the order of every per-node array.

    See Also
    --------
    alchemist.graph.views.ViewsMixin : the node and edge tables, positions and conversions.
    """

    # ------------------------------------------------------------------ sizes
    def number_of_nodes(self) -> int:
        """Number of live nodes (added and not removed).

        Returns
        -------
        int

        Examples
        --------
        >>> from alchemist import Graph
        >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
        >>> g.number_of_nodes(), len(g)
        (3, 3)
        """
        return self._n_alive_nodes

    def number_of_edges(self) -> int:
        """Number of live edges; parallel edges count once each, as in a NetworkX ``MultiGraph``.

        Returns
        -------
        int

        Examples
        --------
        >>> from alchemist import Graph
        >>> Graph.from_edges([("a", "b"), ("a", "b"), ("b", "b")]).number_of_edges()
        3
        """
        return self._n_alive_edges

    def __len__(self) -> int:
        return self._n_alive_nodes

    def __contains__(self, node_id: object) -> bool:
        return node_id in self._node_index

    def __iter__(self) -> Iterator[str]:
        return iter(self.node_ids)

    def has_edge_id(self, edge_id: str) -> bool:
        """Whether a live edge has this id (``"e<k>"`` ids included).

        Parameters
        ----------
        edge_id : str

        Returns
        -------
        bool
            False for a removed edge and for anything that is not a string id.

        Examples
        --------
        >>> from alchemist import Graph
        >>> g = Graph.from_edges([("a", "b")])
        >>> g.has_edge_id("e0"), g.has_edge_id("e1")
        (True, False)
        """
        return self._edge_row(edge_id) is not None

    # ------------------------------------------------------------------ ids and rows
    @property
    def node_ids(self) -> list[str]:
        """Ids of the live nodes in row order (the order they were added).

        Returns
        -------
        list of str
            ``(n_nodes,)``; the same list object until the graph changes: copy it before editing.

        Examples
        --------
        >>> from alchemist import Graph
        >>> Graph.from_edges([("b", "a"), ("a", "c")]).node_ids
        ['b', 'a', 'c']
        """
        if "node_ids" not in self._cache:
            rows = self._live_node_raw()
            ids = self._node_ids
            self._cache["node_ids"] = list(ids) if rows.shape[0] == len(ids) else [ids[r] for r in rows.tolist()]
        return self._cache["node_ids"]

    @property
    def edge_ids(self) -> list[str]:
        """Ids of the live edges in edge order (the order of :meth:`edge_index`).

        Returns
        -------
        list of str
            ``(n_edges,)``, a new list on each call.

        Examples
        --------
        >>> from alchemist import Graph
        >>> Graph.from_edges([("a", "b"), ("b", "c")]).edge_ids
        ['e0', 'e1']
        """
        explicit = self._edge_explicit
        return [explicit.get(r) or f"e{r}" for r in self._live_edge_raw().tolist()]

    def node_row(self, node_id: str) -> int:
        """Row of ``node_id`` in :attr:`node_ids`, :attr:`nodes` and every per-node array.

        Parameters
        ----------
        node_id : str

        Returns
        -------
        int
            ``0 … n_nodes-1``; rows shift down when an earlier node is removed.

        Raises
        ------
        NodeNotFoundError
            If the node is not in the graph.

        Examples
        --------
        >>> from alchemist import Graph
        >>> Graph.from_edges([("a", "b"), ("b", "c")]).node_row("c")
        2
        """
        raw = self._node_index.get(node_id)
        if raw is None:
            raise NodeNotFoundError(f"node {node_id!r} is not in graph {self.graph_id!r}")
        return int(self._live_rows_map()[raw])

    def node_rows(self, node_ids: Iterable[str]) -> np.ndarray:
        """Rows of several nodes, as :meth:`node_row` gives them.

        Parameters
        ----------
        node_ids : iterable of str

        Returns
        -------
        (k,) int64 ndarray
            In the order of ``node_ids``.

        Raises
        ------
        NodeNotFoundError
            Naming the first id that is not in the graph.

        Examples
        --------
        >>> from alchemist import Graph
        >>> Graph.from_edges([("a", "b"), ("b", "c")]).node_rows(["c", "a"])
        array([2, 0])
        """
        index = self._node_index
        node_ids = list(node_ids)
        raw = [index.get(x, -1) for x in node_ids]
        arr = np.asarray(raw, dtype=np.int64)
        if (arr < 0).any():
            bad = [x for x, r in zip(node_ids, raw) if r < 0]
            raise NodeNotFoundError(f"node {bad[0]!r} is not in graph {self.graph_id!r}")
        return self._live_rows_map()[arr]

    # ------------------------------------------------------------------ one node, one edge
    def node(self, node_id: str) -> dict[str, Any]:
        """One node's id, label and properties.

        Parameters
        ----------
        node_id : str

        Returns
        -------
        dict
            ``{"id", "label", **properties}`` (``label`` is ``""`` when the node has none); a new
            dict, so changing it changes nothing in the graph.

        Raises
        ------
        NodeNotFoundError
            If the node is not in the graph.

        Examples
        --------
        >>> from alchemist import Graph, new_event
        >>> g = Graph("g")
        >>> _ = g.apply(new_event("node_added", "g", {"node_id": "a", "label": "Person",
        ...                                          "properties": {"age": 31}}))
        >>> g.node("a")
        {'id': 'a', 'label': 'Person', 'age': 31}
        """
        raw = self._node_index.get(node_id)
        if raw is None:
            raise NodeNotFoundError(f"node {node_id!r} is not in graph {self.graph_id!r}")
        return {"id": node_id, "label": self._labels.words[self._node_label[raw]], **self._node_props.get(raw)}

    def edge(self, edge_id: str) -> dict[str, Any]:
        """One edge's id, endpoints, relationship type, weight and properties.

        Parameters
        ----------
        edge_id : str

        Returns
        -------
        dict
            ``{"id", "source", "target", "relationship", "weight", **properties}``, a new dict.

        Raises
        ------
        EdgeNotFoundError
            If no live edge has this id.

        Examples
        --------
        >>> from alchemist import Graph
        >>> Graph.from_edges([("a", "b", 2.5)]).edge("e0")
        {'id': 'e0', 'source': 'a', 'target': 'b', 'relationship': '', 'weight': 2.5}
        """
        e = self._edge_row(edge_id)
        if e is None:
            raise EdgeNotFoundError(f"edge {edge_id!r} is not in graph {self.graph_id!r}")
        return {"id": edge_id, "source": self._node_ids[self._src[e]], "target": self._node_ids[self._dst[e]],
                "relationship": self._rels.words[self._edge_rel[e]], "weight": float(self._weight[e]),
                **self._edge_props.get(e)}

    # ------------------------------------------------------------------ arrays for kernels
    def degree(self) -> np.ndarray:
        """Degree of each live node: out-degree when directed; when undirected a self-loop counts
        twice, as in NetworkX. Parallel edges count once each.

        Returns
        -------
        (n_nodes,) int64 ndarray
            In row order (:attr:`node_ids`).

        Examples
        --------
        >>> from alchemist import Graph
        >>> Graph.from_edges([("a", "b"), ("b", "c"), ("c", "c")]).degree()
        array([1, 2, 3])
        >>> Graph.from_edges([("a", "b"), ("a", "c")], directed=True).degree()
        array([2, 0, 0])
        """
        src, dst, _ = self.edge_index()
        n = self._n_alive_nodes
        deg = np.bincount(src, minlength=n)
        if not self.directed:
            deg = deg + np.bincount(dst, minlength=n)
        return deg.astype(np.int64)

    def edge_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Live edges as endpoint and weight arrays, for kernels.

        Returns
        -------
        src, dst : (n_edges,) int64 ndarray
            Endpoint rows (row order of :attr:`node_ids`), edges in :attr:`edge_ids` order.
        weight : (n_edges,) float64 ndarray
            All three are read-only (views of the columns, cached until the graph changes).

        Examples
        --------
        >>> from alchemist import Graph
        >>> src, dst, w = Graph.from_edges([("a", "b"), ("b", "c", 2.5)]).edge_index()
        >>> src, dst, w
        (array([0, 1]), array([1, 2]), array([1. , 2.5]))
        """
        if "edge_index" not in self._cache:
            src, dst, w = self._src.view(), self._dst.view(), self._weight.view()
            if self._n_alive_edges != src.shape[0]:  # (no row array when every edge is alive: 8 bytes an edge)
                rows = self._live_edge_raw()
                src, dst, w = src[rows], dst[rows], w[rows]
            if self._n_alive_nodes != len(self._node_ids):
                remap = self._live_rows_map()
                src, dst = remap[src], remap[dst]
            for arr in (src, dst, w):
                arr.flags.writeable = False  # views of the columns: copy before changing them
            self._cache["edge_index"] = (src, dst, w)
        return self._cache["edge_index"]

    def csr(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Adjacency in CSR form (compressed sparse rows), built on first use after a change.

        For an undirected graph every edge appears in both endpoints' rows; for a directed graph
        rows hold out-neighbours. Parallel edges appear once each; a self-loop once.

        Returns
        -------
        indptr : (n_nodes + 1,) int64 ndarray
            The neighbours of row ``i`` are ``indices[indptr[i]:indptr[i + 1]]``.
        indices : (nnz,) int64 ndarray
            Neighbour rows, sorted within each row.
        weights : (nnz,) float64 ndarray
            The weight of each entry's edge.

        Examples
        --------
        >>> from alchemist import Graph
        >>> indptr, indices, weights = Graph.from_edges([("a", "b"), ("b", "c", 2.5)]).csr()
        >>> indptr, indices, weights
        (array([0, 1, 3, 4]), array([1, 0, 2, 1]), array([1. , 1. , 2.5, 2.5]))
        """
        return csr_with_edges(self)[:3]

    def csr_in(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """In-neighbour CSR of a directed graph (the transpose of :meth:`csr`); for an undirected
        graph the same arrays as :meth:`csr`.

        Returns
        -------
        indptr : (n_nodes + 1,) int64 ndarray
        indices : (nnz,) int64 ndarray
            In-neighbour rows, sorted within each row.
        weights : (nnz,) float64 ndarray

        Examples
        --------
        >>> from alchemist import Graph
        >>> indptr, indices, _ = Graph.from_edges([("a", "b"), ("a", "c")], directed=True).csr_in()
        >>> indptr, indices
        (array([0, 0, 1, 2]), array([0, 0]))
        """
        if not self.directed:
            return self.csr()
        if "csr_in" not in self._cache:
            src, dst, w = self.edge_index()
            self._cache["csr_in"] = build_csr(dst, src, w, self._n_alive_nodes, True)[:3]
        return self._cache["csr_in"]

    def clear_cache(self) -> int:
        """Free the arrays derived from the graph's current state: the edge index, CSR adjacencies
        (PageRank's in-adjacency, the queries' and analytics' CSR), id lists. They are built again on
        their next use; the graph itself is unchanged. Every change to the graph clears them too.

        A pipeline that runs several analytics on a large graph can call it between them, so that
        one kernel's adjacency is not held while the next builds its own (PageRank's in-adjacency is
        about 17 bytes an edge; Louvain's level-0 adjacency, kept on graphs under 2M edges, 24).

        Returns
        -------
        int
            Bytes of NumPy arrays freed (arrays that are views of the graph's columns not counted).

        Examples
        --------
        >>> from alchemist.graph import Graph, pagerank
        >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
        >>> _ = pagerank(g)
        >>> g.clear_cache() > 0, g.clear_cache()
        (True, 0)
        """
        columns = (self._src.view(), self._dst.view(), self._weight.view())
        seen: dict[int, int] = {}  # start address -> bytes (entries may share arrays)
        for value in self._cache.values():
            for a in value if isinstance(value, tuple) else (value,):
                if isinstance(a, np.ndarray) and not any(np.may_share_memory(a, c) for c in columns):
                    start = a.__array_interface__["data"][0]
                    seen[start] = max(seen.get(start, 0), a.nbytes)
        self._cache.clear()
        return sum(seen.values())

    # ------------------------------------------------------------------ live rows (private)
    def _live_node_raw(self) -> np.ndarray:
        if "live_nodes" not in self._cache:
            removed = self._node_removed.view()
            self._cache["live_nodes"] = (np.arange(removed.shape[0]) if self._n_alive_nodes == removed.shape[0]
                                         else np.flatnonzero(removed == ALIVE))
        return self._cache["live_nodes"]

    def _live_edge_raw(self) -> np.ndarray:
        if "live_edges" not in self._cache:
            removed = self._edge_removed.view()
            self._cache["live_edges"] = (np.arange(removed.shape[0]) if self._n_alive_edges == removed.shape[0]
                                         else np.flatnonzero(removed == ALIVE))
        return self._cache["live_edges"]

    def _live_rows_map(self) -> np.ndarray:
        if "live_rows" not in self._cache:
            rows = self._live_node_raw()
            remap = np.full(len(self._node_ids), -1, dtype=np.int64)
            remap[rows] = np.arange(rows.shape[0], dtype=np.int64)
            self._cache["live_rows"] = remap
        return self._cache["live_rows"]

    def _edge_row(self, edge_id: str) -> int | None:
        """Raw row of the live edge ``edge_id``, or None."""
        row = self._edge_index.get(edge_id)
        if row is not None:
            return row
        m = IMPLICIT_ID.fullmatch(edge_id) if isinstance(edge_id, str) else None
        if m:
            k = int(m.group(1))
            if k < self._src.size and k not in self._edge_explicit and self._edge_removed[k] == ALIVE:
                return k
        return None

    def _edge_id(self, row: int) -> str:
        return self._edge_explicit.get(row) or f"e{row}"

    @property
    def _node_index(self) -> dict[str, int]:
        """Id -> raw row of the live nodes, a dict built on first use after a bulk call."""
        index = self._node_index_live
        if index is None:
            ids = self._node_ids
            if self._n_alive_nodes == len(ids):
                index = dict(zip(ids, range(len(ids))))
            else:
                removed = self._node_removed.view()
                live = np.flatnonzero(removed == ALIVE).tolist() + list(range(removed.shape[0], len(ids)))
                index = {ids[r]: r for r in live}
            self._node_index_live = index
        return index

    @_node_index.setter
    def _node_index(self, index: dict[str, int] | None) -> None:
        self._node_index_live = index

    @property
    def _edge_explicit(self) -> dict[int, str]:
        """Raw row -> explicit edge id (rows whose id is not ``e<row>``), all rows ever added."""
        if self._edge_pending:
            self._take_pending_edge_ids()
        return self._edge_explicit_d

    @_edge_explicit.setter
    def _edge_explicit(self, value: dict[int, str]) -> None:
        self._take_pending_edge_ids()
        self._edge_explicit_d = value

    @property
    def _edge_index(self) -> dict[str, int]:
        """Explicit edge id -> raw row, live edges only."""
        if self._edge_pending:
            self._take_pending_edge_ids()
        return self._edge_index_d

    @_edge_index.setter
    def _edge_index(self, value: dict[str, int]) -> None:
        self._take_pending_edge_ids()
        self._edge_index_d = value

    def _take_pending_edge_ids(self) -> None:
        """Move the explicit edge ids of bulk calls into the two dicts (every pending id is live:
        a removal reads the dicts first)."""
        pending, self._edge_pending = self._edge_pending, []
        for rows, ids in pending:
            rows, ids = rows.tolist(), ids.to_pylist()
            self._edge_explicit_d.update(zip(rows, ids))
            self._edge_index_d.update(zip(ids, rows))


# ---------------------------------------------------------------------- accessors for the package


def cached(graph: Graph, key: str, build: Callable[[], Any]) -> Any:
    """A value derived from ``graph``'s current state: ``build()`` on first use, then kept until
    the graph changes (every change clears the cache). For the queries and analytics modules.

    Parameters
    ----------
    graph : Graph
    key : str
        Names the value; distinct per kind of value (``"csr_both"``, ``"simple_csr_out"`` …).
    build : callable
        Computes the value from the graph.

    Returns
    -------
    object
        What ``build`` returned, now or on an earlier call since the last change.

    Raises
    ------
    Exception
        Whatever ``build`` raises (nothing is cached then).

    Examples
    --------
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b")])
    >>> cached(g, "n_twice", lambda: 2 * g.number_of_nodes())
    4
    >>> cached(g, "n_twice", lambda: 0)  # kept until g changes
    4
    """
    cache = graph._cache
    if key not in cache:
        cache[key] = build()
    return cache[key]


def csr_with_edges(graph: Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:meth:`Graph.csr` plus, per entry, the position of its edge in :meth:`Graph.edge_index` order.

    Parameters
    ----------
    graph : Graph

    Returns
    -------
    indptr : (n_nodes + 1,) int64 ndarray
    indices : (nnz,) int64 ndarray
    weights : (nnz,) float64 ndarray
    edge : (nnz,) int64 ndarray
        The edge each entry comes from (an undirected edge gives two entries).

    Examples
    --------
    >>> from alchemist import Graph
    >>> csr_with_edges(Graph.from_edges([("a", "b"), ("b", "c")]))[3]
    array([0, 0, 1, 1])
    """
    return cached(graph, "csr", lambda: build_csr(*graph.edge_index(), graph._n_alive_nodes, graph.directed))


def label_mask(graph: Graph, labels: Iterable[str]) -> np.ndarray:
    """Which live nodes carry one of ``labels`` (compared as vocabulary codes, not strings).

    Parameters
    ----------
    graph : Graph
    labels : iterable of str
        Labels absent from the graph match nothing.

    Returns
    -------
    (n_nodes,) bool ndarray
        In row order.

    Examples
    --------
    >>> from alchemist import Graph, new_event
    >>> g = Graph("g")
    >>> _ = g.apply([new_event("node_added", "g", {"node_id": x, "label": lab})
    ...              for x, lab in (("a", "Person"), ("b", "Place"))])
    >>> label_mask(g, ["Place", "Thing"])
    array([False,  True])
    """
    codes = [graph._labels.codes[w] for w in labels if w in graph._labels.codes]
    rows = graph._live_node_raw()
    return np.isin(graph._node_label.view()[rows], np.asarray(codes, dtype=np.int32))
