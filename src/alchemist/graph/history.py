"""Time travel: :meth:`Graph.at <alchemist.graph.Graph.at>` and the undo records it uses.

Every row of a :class:`~alchemist.graph.Graph` records the version that added it and the one that
removed it, and every in-place update (a weight, a label, properties, positions, the graph's
metadata) leaves an undo record ``(version, what, row, old value)``. The state after version
``v`` is then the prefix of rows added by ``v``, with removals after ``v`` cleared and the
updates after ``v`` undone, newest first (:func:`truncate`): O(rows), with no replay of events.

The functions take the Graph whose columns they read: they are its implementation, split out of
:mod:`alchemist.graph.core`.
"""

from __future__ import annotations

import numpy as np

from alchemist.errors import GraphError
from alchemist.events.times import rfc3339, to_seconds
from alchemist.graph._columns import Column
from alchemist.graph._common import ALIVE, IMPLICIT_ID

__all__ = ["at", "truncate", "undo_one"]


def at(graph, version: int | None = None, *, timestamp=None, sequence: int | None = None):
    """The body of :meth:`Graph.at <alchemist.graph.Graph.at>`: the version to go back to, then
    :func:`truncate`.

    Parameters
    ----------
    graph : Graph
    version : int, optional
        A version in ``0 … graph.version``.
    timestamp : str, float or datetime, optional
        The last version applied at or before this time (RFC 3339 or Unix seconds).
    sequence : int, optional
        The last version whose event had a stream sequence at or below this one.

    Returns
    -------
    Graph
        A new graph of the same class; ``graph`` is unchanged.

    Raises
    ------
    GraphError
        Not exactly one of ``version``, ``timestamp``, ``sequence``, or a version out of range.
        (A ``sequence`` on a graph that recorded none gives version 0.)

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c")])
    >>> past = at(g, 2)              # after graph_created and node_added a
    >>> past.node_ids, past.version, g.version
    (['a'], 2, 6)
    """
    given = [x is not None for x in (version, timestamp, sequence)]
    if sum(given) != 1:
        raise GraphError("give exactly one of version=, timestamp= or sequence=")
    if version is not None:
        if not 0 <= int(version) <= graph.version:
            raise GraphError(f"version {version} is outside 0 … {graph.version}")
        v = int(version)
    elif sequence is not None:
        if graph._vseq is None:
            v = 0
        else:
            seq = graph._vseq.view()
            v = int(np.searchsorted(np.maximum.accumulate(seq), int(sequence), side="right"))
    else:
        limit = float(timestamp) if isinstance(timestamp, (int, float)) else to_seconds(timestamp)
        if "time_prefix" not in graph._cache:
            t = np.where(np.isnan(graph._vtime.view()), -np.inf, graph._vtime.view())
            graph._cache["time_prefix"] = np.maximum.accumulate(t) if t.shape[0] else t
        v = int(np.searchsorted(graph._cache["time_prefix"], limit, side="right"))
    return truncate(graph, v)


def truncate(graph, v: int):
    """A new graph of the same class: ``graph`` as it was after version ``v``.

    Parameters
    ----------
    graph : Graph
    v : int
        A version in ``0 … graph.version`` (not checked here; :func:`at` checks it).

    Returns
    -------
    Graph
        Rows added after ``v`` dropped, removals after ``v`` cleared, in-place updates after ``v``
        undone; O(rows).

    Raises
    ------
    None
    """
    past = type(graph)(graph.graph_id, directed=graph.directed, strict=graph.strict, keep_log=graph.keep_log,
                       name=graph.name)
    n_pre = int(np.searchsorted(graph._node_added.view(), v, side="right"))
    e_pre = int(np.searchsorted(graph._edge_added.view(), v, side="right"))
    nr, er = np.arange(n_pre), np.arange(e_pre)
    past._node_ids = graph._node_ids[:n_pre]
    past._labels = graph._labels.copy()
    past._node_label = graph._node_label.take(nr)
    past._node_time = graph._node_time.take(nr)
    past._node_added = graph._node_added.take(nr)
    removed = graph._node_removed.view()[:n_pre].copy()
    removed[removed > v] = ALIVE
    past._node_removed = Column.of(removed, ALIVE)
    past._node_props = graph._node_props.take(nr)
    past._node_index = None
    past._rels = graph._rels.copy()
    for name in ("_src", "_dst", "_weight", "_edge_rel", "_edge_time", "_edge_added"):
        setattr(past, name, getattr(graph, name).take(er))
    eremoved = graph._edge_removed.view()[:e_pre].copy()
    eremoved[eremoved > v] = ALIVE
    past._edge_removed = Column.of(eremoved, ALIVE)
    past._edge_props = graph._edge_props.take(er)
    past._edge_explicit = {r: e for r, e in graph._edge_explicit.items() if r < e_pre}
    past._edge_index = {e: r for r, e in past._edge_explicit.items() if eremoved[r] == ALIVE}
    past._pattern_max = max((int(m.group(1)) for e in past._edge_index
                             if (m := IMPLICIT_ID.fullmatch(e))), default=-1)
    past._n_alive_nodes = int((removed == ALIVE).sum())
    past._n_alive_edges = int((eremoved == ALIVE).sum())
    past._pos = None if graph._pos is None else graph._pos[:n_pre].copy()
    # undo the in-place updates made after v, newest first
    for ver, what, row, old in reversed(graph._undo):
        if ver <= v:
            break
        limit = n_pre if what.startswith("node") else e_pre
        if row < limit:  # rows added after v are not in the past graph
            undo_one(past, what, row, old)
    past._undo = [u for u in graph._undo if u[0] <= v]
    # history
    past.version = v
    past._vtime = graph._vtime.take(np.arange(v))
    if graph._vseq is not None:
        past._vseq = graph._vseq.take(np.arange(min(v, graph._vseq.size)))
        seq = past._vseq.view()
        past.last_sequence = int(seq[seq >= 0][-1]) if (seq >= 0).any() else None
    past._applied = {e: ver for e, ver in graph._applied.items() if ver <= v}
    k = int(np.searchsorted(graph._log_version.view(), v, side="right"))
    past._log = graph._log[:k]
    past._log_version = graph._log_version.take(np.arange(k))
    if k and past._log_version[k - 1] == v:
        past.last_cid = past._log[-1].cid
        past.last_timestamp = past._log[-1].timestamp
    elif v and np.isfinite(past._vtime[v - 1]):
        past.last_timestamp = rfc3339(float(past._vtime[v - 1]))
    return past


def undo_one(graph, what: str, row: int, old) -> None:
    """Put back the value an in-place update (``what``) of row ``row`` replaced.

    Parameters
    ----------
    graph : Graph
        The graph to change (a fresh copy made by :func:`truncate`).
    what : {"node_label", "node_props", "edge_weight", "edge_rel", "edge_props", "meta", "positions"}
        The kind of update, as recorded in ``graph._undo``.
    row : int
        The raw row it changed.
    old
        The value it replaced.

    Returns
    -------
    None

    Raises
    ------
    None
    """
    if what == "node_label":
        graph._node_label[row] = old
    elif what == "node_props":
        graph._node_props.set_many(np.array([row]), [old])
    elif what == "edge_weight":
        graph._weight[row] = old
    elif what == "edge_rel":
        graph._edge_rel[row] = old
    elif what == "edge_props":
        graph._edge_props.set_many(np.array([row]), [old])
    elif what == "meta":
        graph.directed, graph.name = old
    elif what == "positions":
        graph._pos = None if old is None else old[: len(graph._node_ids)].copy()
