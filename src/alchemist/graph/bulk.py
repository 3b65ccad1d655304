"""Applying ``node_added`` / ``edge_added`` / ``graph_created`` events column-wise.

The fast path of :meth:`Graph.apply <alchemist.graph.Graph.apply>` (64 events or more), of
:meth:`Graph.apply_columns <alchemist.graph.Graph.apply_columns>` and of the bulk constructors. A
call is a :class:`Batch` (events as columns): validate first, then apply, as two steps rather than
a try and a rollback. :func:`plan` checks every event against the state it would meet and changes
nothing the graph shows; :func:`commit` applies the :class:`Plan` that passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alchemist.errors import DuplicateIdError, EventError, GraphError, InvalidEventError, NodeNotFoundError
from alchemist.events import Event, new_event
from alchemist.events.times import rfc3339, seconds_of
from alchemist.events.types import validate_payload
from alchemist.graph._common import (
    BULK_KINDS,
    CREATED,
    EDGE,
    NODE,
    as_strings,
    one_array,
    pattern_numbers,
    release_memory,
    repeats_or_hits,
    slot_strings,
)
from alchemist.graph._intern import NodeTable, fill_range
from alchemist.graph.mutation import ApplyResult, note_sequences

__all__ = ["Batch", "Plan", "apply", "apply_columns", "apply_events", "commit", "plan", "table_events"]

_RESERVED = frozenset({"event_type", "node_id", "edge_id", "source", "target", "label", "relationship", "weight",
                       "event_id", "timestamp", "sequence"})


@dataclass
class Batch:
    """A sequence of node_added (:data:`NODE`), edge_added (:data:`EDGE`) and graph_created
    (:data:`CREATED`) events given as columns.

    Attributes
    ----------
    kinds : (n,) int8
    a, b : pyarrow strings
        The node id (node events) or source (edge events); the target (edge events, else null).
    edge_ids, label, relationship : pyarrow strings, optional
        Per event (null or absent: an implicit id ``e<row>``, no label, no relationship).
    weight, times : (n,) float64, optional
        Edge weights (1.0 by default) and Unix seconds (NaN: no time).
    props : list of dict or None, optional
        Properties per event; ``prop_columns``: properties as Arrow columns, per event.
    sequences : (n,) int64, optional
        JetStream sequences (-1: none).
    event_ids : list of str or None, optional
    created : list of dict, optional
        The payloads of the graph_created events, in order.
    where : str
        How errors name an event (``"event"``, ``"row"``, ``"<file>: edge line index"``).
    events : list of Event, optional
        The Event objects, kept in the log and named by id in errors.
    """

    kinds: np.ndarray
    a: Any
    b: Any
    edge_ids: Any = None
    label: Any = None
    relationship: Any = None
    weight: np.ndarray | None = None
    props: list | None = None
    times: np.ndarray | None = None
    sequences: np.ndarray | None = None
    event_ids: list | None = None
    created: list | None = None
    prop_columns: dict | None = None
    where: str = "event"
    events: list[Event] | None = None

    def name(self, k: int) -> str:
        """How an error names event ``k``."""
        return f"{self.where} {k}" if self.events is None else f"event {self.events[k].event_id}"


@dataclass
class Plan:
    """A :class:`Batch` whose ids are resolved to raw rows and whose events all passed the checks.

    Attributes
    ----------
    batch : Batch
    v0, n0, r0 : int
        The graph's version, node rows and edge rows before the call.
    a_row, b_row : (n,) int64
        Raw node row of each event's ``a`` and ``b`` (-1 where null); for an all-edge call, views of
        the spare room of the edge columns.
    first : (n_new,) int64
        First slot (``2k``: ``a`` of event k, ``2k + 1``: its ``b``) of each new node id, in row order.
    first_explicit : (n_new,) bool
        Whether a new node comes from a node_added event (else it is an endpoint, strict=False).
    ek : (m,) int64 or None
        Positions of the edge events (None: every event is one).
    weight : (m,) float64 or None
    rows : (m,) int64 or None
        Raw rows of the new edges, when ids or properties need them.
    explicit_rows, explicit_ids, pattern_k
        The new edges whose id is not ``e<row>``: rows, ids (pyarrow strings, None when none) and
        the k of ids of the form ``e<k>`` (-1 for the others).
    """

    batch: Batch
    table: Any
    v0: int
    n0: int
    r0: int
    a_row: np.ndarray
    b_row: np.ndarray
    first: np.ndarray
    first_explicit: np.ndarray = field(default=None)
    ek: np.ndarray | None = None
    weight: np.ndarray | None = None
    rows: np.ndarray | None = None
    explicit_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    explicit_ids: Any = None
    pattern_k: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of events."""
        return int(self.batch.kinds.shape[0])

    @property
    def m(self) -> int:
        """Number of edge events."""
        return self.n if self.ek is None else int(self.ek.shape[0])

    def at_edges(self, x):
        """The entries of the per-event array ``x`` at the edge events."""
        return x if self.ek is None else x[self.ek]

    def event_of(self, j: int) -> int:
        """The event of the ``j``-th edge."""
        return int(j) if self.ek is None else int(self.ek[j])

    def node_id(self, graph, row: int) -> str:
        """The id of raw node row ``row`` (an existing node or one this call adds)."""
        if row < self.n0:
            return graph._node_ids[row]
        s = int(self.first[row - self.n0])
        return (self.batch.a if s % 2 == 0 else self.batch.b)[s // 2].as_py()


# ---------------------------------------------------------------------- entry points


def apply(graph, batch: Batch) -> None:
    """Check, then apply, ``batch`` (raises before any change; an empty batch changes nothing).

    Parameters
    ----------
    graph : Graph
    batch : Batch

    Raises
    ------
    InvalidEventError, DuplicateIdError, NodeNotFoundError
        As :func:`plan`; the graph is then unchanged.
    """
    if batch.kinds.shape[0]:
        commit(graph, plan(graph, batch))


def apply_events(graph, events: list[Event]) -> ApplyResult | None:
    """Check and apply an all-add call of Event objects column-wise; None when the call does not
    qualify or a check fails (the per-event path then gives the exact outcome).

    Parameters
    ----------
    graph : Graph
    events : list of Event

    Returns
    -------
    ApplyResult or None
    """
    batch = _events_batch(graph, events)
    if batch is None:
        return None
    batch, duplicates = batch
    try:
        apply(graph, batch)
    except (EventError, GraphError):
        return None
    result = ApplyResult()
    result.applied = len(batch.events)
    result.duplicates = duplicates
    graph.duplicates_skipped += duplicates
    return result


def apply_columns(graph, table) -> ApplyResult:
    """The body of :meth:`Graph.apply_columns <alchemist.graph.Graph.apply_columns>` with
    ``errors="raise"``: the table's rows as a :class:`Batch`, less the event ids applied before.

    Parameters
    ----------
    graph : Graph
    table : Arrow table, polars or pandas DataFrame

    Returns
    -------
    ApplyResult

    Raises
    ------
    InvalidEventError
        A required column is missing (the message lists the columns), or as :func:`plan`.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    names = set(table.column_names)
    n = table.num_rows

    def col(c):
        return one_array(table.column(c)) if c in names else None

    kinds = _table_kinds(col("event_type"), n, names)
    need = (["node_id"] if (kinds == NODE).any() else []) + (["source", "target"] if (kinds == EDGE).any() else [])
    for c in need:
        if c not in names:
            raise InvalidEventError(f"apply_columns: the table has no {c!r} column (columns: {sorted(names)})")
    nulls = pa.nulls(n, pa.string())
    a = as_strings(col("node_id")) if "node_id" in names else nulls
    if (kinds == EDGE).all():
        a, b = as_strings(col("source")), as_strings(col("target"))
    elif (kinds == EDGE).any():
        a = pc.if_else(pa.array(kinds == EDGE), as_strings(col("source")), a)
        b = pc.if_else(pa.array(kinds == EDGE), as_strings(col("target")), nulls)
    else:
        b = nulls
    weight = None
    if "weight" in names:
        weight = col("weight").cast(pa.float64())
        weight = (weight.fill_null(1.0) if weight.null_count else weight).to_numpy(zero_copy_only=False)
    times = seconds_of(col("timestamp")) if "timestamp" in names else None
    seq = col("sequence").cast(pa.int64()).fill_null(-1).to_numpy(zero_copy_only=False) if "sequence" in names else None
    prop_cols = {c: col(c) for c in table.column_names if c not in _RESERVED}
    event_ids = as_strings(col("event_id")).to_pylist() if "event_id" in names else None
    keep = None if event_ids is None else _fresh(event_ids, graph._applied)
    dups = 0 if keep is None else int((~keep).sum())
    idx = None
    if keep is not None:
        idx = pa.array(np.flatnonzero(keep))
        kinds, a, b = kinds[keep], a.take(idx), b.take(idx)
        weight = None if weight is None else weight[keep]
        times = None if times is None else times[keep]
        seq = None if seq is None else seq[keep]
        event_ids = [e for e, k in zip(event_ids, keep.tolist()) if k]
        prop_cols = {c: v.take(idx) for c, v in prop_cols.items()}

    def sub(c):
        return (col(c) if idx is None else col(c).take(idx)) if c in names else None

    result = ApplyResult()
    result.duplicates = dups
    graph.duplicates_skipped += dups
    apply(graph, Batch(kinds, a, b, edge_ids=as_strings(sub("edge_id")) if "edge_id" in names else None,
                       label=sub("label"), relationship=sub("relationship"), weight=weight, times=times,
                       sequences=seq, event_ids=event_ids, prop_columns=prop_cols, where="row"))
    result.applied = int(kinds.shape[0])
    return result


def table_events(graph_id: str, table) -> list[Event]:
    """The rows of an :meth:`~alchemist.graph.Graph.apply_columns` table as unvalidated Event
    objects, for ``errors="collect"``; a null ``edge_id`` gives ``e?<row>``, no time gives 0.

    Parameters
    ----------
    graph_id : str
    table : pyarrow.Table

    Returns
    -------
    list of Event
    """
    rows = table.to_pylist()
    events = []
    reserved = {"event_type", "event_id", "timestamp", "sequence"}
    for i, row in enumerate(rows):
        kind = row.get("event_type") or ("edge_added" if "source" in row and "target" in row else "node_added")
        if kind == "edge_added":
            payload = {"edge_id": row.get("edge_id") or f"e?{i}", "source": row.get("source"),
                       "target": row.get("target"), "relationship": row.get("relationship") or "",
                       "weight": 1.0 if row.get("weight") is None else row["weight"]}
        else:
            payload = {"node_id": row.get("node_id"), "label": row.get("label") or ""}
        skip = reserved | {"node_id", "label", "edge_id", "source", "target", "relationship", "weight"}
        props = {k: v for k, v in row.items() if k not in skip and v is not None}
        if props:
            payload["properties"] = props
        t = row.get("timestamp")
        events.append(new_event(kind, graph_id, payload, event_id=row.get("event_id"), validate=False,
                                timestamp=0 if t is None else t))
    return events


# ---------------------------------------------------------------------- plan: check, change nothing


def plan(graph, batch: Batch) -> Plan:
    """Resolve the ids of ``batch`` to raw rows and check every event; raises on the first bad one.

    The ids resolve through the graph's id table (:class:`~alchemist.graph._intern.NodeTable`):
    a new id gets the next row, in order of first appearance over the slots (a of event k at 2k,
    b at 2k + 1), pending until :func:`commit` (the table drops it at its next lookup otherwise,
    so a plan that raises leaves nothing behind); an all-edge call writes the rows into the edge
    columns' spare room, which only :func:`commit` claims.

    Parameters
    ----------
    graph : Graph
    batch : Batch

    Raises
    ------
    InvalidEventError
        A null id, a non-finite weight, event ids that repeat.
    DuplicateIdError
        A node or edge id that exists already or repeats in the call.
    NodeNotFoundError
        An edge to a node that is neither in the graph nor added earlier in the call (strict).
    """
    kinds = batch.kinds
    n = int(kinds.shape[0])
    batch.a, batch.b = as_strings(batch.a), as_strings(batch.b)
    is_edge = kinds == EDGE
    all_edges = bool(is_edge.all())
    table = _id_table(graph)
    n0 = table.size
    if graph._node_removed.is_uniform:
        removed = np.zeros(0, np.int64)
    else:
        graph._node_removed.pad_to(n0)
        removed = graph._node_removed.view()
    if all_edges:  # the edge columns' spare room: nothing changes until claim()
        a_row, b_row = graph._src.spare(n), graph._dst.spare(n)
    else:
        a_row, b_row = np.empty(n, np.int64), np.empty(n, np.int64)
    first = table.resolve(batch.a, batch.b, removed, a_row, b_row)
    p = Plan(batch, table, graph.version, n0, graph._src.size, a_row, b_row, first,
             ek=None if all_edges else np.flatnonzero(is_edge))
    _check_ids_present(p)
    p.first_explicit = (first % 2 == 0) & (kinds == NODE)[first // 2]
    _check_nodes_are_new(graph, p)
    _check_endpoints_exist(graph, p)
    _check_weights(p)
    _plan_edge_ids(graph, p)
    _check_implicit_ids_free(graph, p)
    _check_event_ids(p)
    return p


def _check_ids_present(p: Plan) -> None:
    """Every node id, source and target is given."""
    batch = p.batch
    if batch.a.null_count or batch.b.null_count:
        nulls = (p.a_row < 0) & (batch.kinds != CREATED) | (p.b_row < 0) & (batch.kinds == EDGE)
        if nulls.any():
            k = int(np.flatnonzero(nulls)[0])
            raise InvalidEventError(f"{batch.name(k)}: a node id, source or target is null")


def _check_nodes_are_new(graph, p: Plan) -> None:
    """A node_added's id is new to the graph and this is its first appearance in the call."""
    if p.ek is None:
        return
    nk = np.flatnonzero(p.batch.kinds == NODE)
    r = p.a_row[nk] - p.n0
    seen_first = np.full(nk.shape[0], -1, dtype=np.int64)
    seen_first[r >= 0] = p.first[r[r >= 0]]
    bad = seen_first != 2 * nk
    if bad.any():
        k = int(nk[np.flatnonzero(bad)[0]])
        raise DuplicateIdError(f"{p.batch.name(k)}: node {p.node_id(graph, int(p.a_row[k]))!r} already exists")


def _check_endpoints_exist(graph, p: Plan) -> None:
    """An edge's endpoints are live nodes of the graph or added by an earlier node_added of the
    call (only new rows need a look: rows below ``n0`` are live nodes of the graph)."""
    if not (graph.strict and p.m and p.first.shape[0]):
        return
    for side, rows_side in ((0, p.a_row), (1, p.b_row)):
        c = p.at_edges(rows_side)
        j_new = np.flatnonzero(c >= p.n0)
        if not j_new.shape[0]:
            continue
        r = c[j_new] - p.n0
        pos = 2 * (j_new if p.ek is None else p.ek[j_new]) + side
        bad = ~(p.first_explicit[r] & (p.first[r] < pos))
        if bad.any():
            j = int(j_new[np.flatnonzero(bad)[0]])
            k = p.event_of(j)
            raise NodeNotFoundError(
                f"{p.batch.name(k)}: edge {_edge_name(graph, p, k, j)!r} refers to unknown node "
                f"{p.node_id(graph, int(c[j]))!r} (send node_added first, or use Graph(strict=False) to create "
                "endpoints)")


def _check_weights(p: Plan) -> None:
    """Edge weights are finite; keeps them as :attr:`Plan.weight`."""
    if p.batch.weight is None:
        return
    w = p.at_edges(np.asarray(p.batch.weight, dtype=np.float64))
    if not np.isfinite(w).all():
        j = int(np.flatnonzero(~np.isfinite(w))[0])
        raise InvalidEventError(f"{p.batch.name(p.event_of(j))}: (edge_added) weight must be finite, got {w[j]!r}")
    p.weight = w


def _plan_edge_ids(graph, p: Plan) -> None:
    """Split the edge ids into implicit (``e<row>``: nothing stored) and explicit ones, and check
    that the explicit ones are new and distinct."""
    batch, m, r0 = p.batch, p.m, p.r0
    if batch.edge_ids is not None or batch.props is not None or batch.prop_columns:
        p.rows = r0 + np.arange(m)
    if batch.edge_ids is None or not m:
        return
    import pyarrow as pa

    eid = as_strings(batch.edge_ids)
    if p.ek is not None:
        eid = eid.take(pa.array(p.ek))
    if eid.null_count == m:
        return
    numbers = pattern_numbers(eid)
    implicit = numbers == p.rows
    if eid.null_count:
        implicit |= np.asarray(eid.is_null().to_numpy(zero_copy_only=False))
    ex = np.flatnonzero(~implicit)
    if not ex.shape[0]:
        return
    p.explicit_ids = eid if ex.shape[0] == m else eid.take(pa.array(ex))
    p.explicit_rows = p.rows[ex]
    p.pattern_k = numbers[ex]
    _check_explicit_ids_free(graph, p)


def _check_explicit_ids_free(graph, p: Plan) -> None:
    """No explicit id repeats in the call or names a live edge; an explicit ``e<k>`` also clashes
    with row k of this call when that row keeps its implicit id."""
    ids, rows, pattern_k, r0, m = p.explicit_ids, p.explicit_rows, p.pattern_k, p.r0, p.m
    n_ex = len(ids)
    clash = np.zeros(n_ex, dtype=bool)
    live_ids = _live_explicit_ids(graph)
    if repeats_or_hits(ids, live_ids):  # then find which, in Python
        seen: set[str] = set()
        ids_list = ids.to_pylist()
        for j, e in enumerate(ids_list):
            if e in seen:
                raise DuplicateIdError(f"{p.batch.name(p.event_of(rows[j] - r0))}: edge {e!r} already exists")
            seen.add(e)
        live_set = set() if live_ids is None else set(live_ids.to_pylist())
        clash |= np.fromiter((e in live_set for e in ids_list), dtype=bool, count=n_ex)
    if r0:
        old = (pattern_k >= 0) & (pattern_k < r0)
        for j in np.flatnonzero(old).tolist():
            clash[j] |= graph._edge_row(ids[j].as_py()) is not None
    in_call = (pattern_k >= r0) & (pattern_k < r0 + m)
    if in_call.any():
        is_explicit = np.zeros(m, dtype=bool)
        is_explicit[rows - r0] = True
        clash[in_call] |= ~is_explicit[pattern_k[in_call] - r0]
    if clash.any():
        j = int(np.flatnonzero(clash)[0])
        raise DuplicateIdError(f"{p.batch.name(p.event_of(rows[j] - r0))}: edge {ids[j].as_py()!r} already exists")


def _check_implicit_ids_free(graph, p: Plan) -> None:
    """A new row r that keeps its implicit id ``e<r>`` does not meet a live edge given that id
    explicitly earlier."""
    r0, m = p.r0, p.m
    if graph._pattern_max < r0 or not m:
        return
    stop = min(r0 + m, graph._pattern_max + 1)
    keeps_implicit = np.ones(stop - r0, dtype=bool)
    keeps_implicit[p.explicit_rows[p.explicit_rows < stop] - r0] = False
    for r in (r0 + np.flatnonzero(keeps_implicit)).tolist():
        if f"e{r}" in graph._edge_index:
            raise DuplicateIdError(f"{p.batch.name(p.event_of(r - r0))}: edge 'e{r}' already exists")


def _check_event_ids(p: Plan) -> None:
    """The event ids of the call are distinct."""
    if p.batch.event_ids is not None:
        named = [e for e in p.batch.event_ids if e is not None]
        if len(set(named)) != len(named):
            raise InvalidEventError(f"{p.batch.where}s: event_id values repeat within the call")


def _edge_name(graph, p: Plan, k: int, j: int) -> str:
    if p.batch.edge_ids is not None:
        e = as_strings(p.batch.edge_ids)[k].as_py()
        if e is not None:
            return e
    return f"e{graph._src.size + j}"


# ---------------------------------------------------------------------- commit: apply a plan that passed


def commit(graph, p: Plan) -> None:
    """Apply a :class:`Plan` that :func:`plan` made on the same, unchanged graph: nodes, edges,
    properties, metadata, history; then clear the caches. Cannot fail on the events' account.

    Parameters
    ----------
    graph : Graph
    p : Plan
    """
    n = p.n
    times = None if p.batch.times is None else np.asarray(p.batch.times, dtype=np.float64)
    _commit_nodes(graph, p, times)
    _commit_edges(graph, p, times)
    _commit_properties(graph, p)
    _commit_metadata(graph, p)
    _commit_history(graph, p, times)
    graph._cache.clear()
    if n >= 500_000:
        release_memory()


def _commit_nodes(graph, p: Plan, times) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    new_arrow = slot_strings(p.batch.a, p.batch.b, p.first)
    p.table.commit(new_arrow)
    new_ids = new_arrow.to_pylist()
    nn, n0 = len(new_ids), p.n0
    graph._node_ids.extend(new_ids)
    index = graph._node_index_live
    if index is not None:  # a dict smaller than the update is dropped (built again on first use)
        if nn < len(index):
            index.update(zip(new_ids, range(n0, n0 + nn)))
        elif nn:
            graph._node_index_live = None
    node_event = p.first // 2
    if p.batch.label is not None:
        lab = pc.dictionary_encode(as_strings(p.batch.label).take(pa.array(node_event)).fill_null(""))
        codes = graph._labels.encode_unique(lab.dictionary.to_pylist(), lab.indices.to_numpy(zero_copy_only=False))
        codes[~p.first_explicit] = 0
        graph._node_label.extend(codes)
    else:
        graph._node_label.pad_to(graph._node_label.size + nn)
    if times is None:
        graph._node_time.pad_to(graph._node_time.size + nn)
    else:
        graph._node_time.extend(times[node_event])
    graph._node_added.extend(p.v0 + 1 + node_event)
    graph._node_removed.pad_to(len(graph._node_ids))
    graph._n_alive_nodes += nn


def _commit_edges(graph, p: Plan, times) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    m = p.m
    if p.ek is None:
        graph._src.claim(m)
        graph._dst.claim(m)
    else:
        graph._src.extend(p.a_row[p.ek])
        graph._dst.extend(p.b_row[p.ek])
    if p.weight is None:
        graph._weight.spare(m)[:] = 1.0
        graph._weight.claim(m)
    else:
        graph._weight.extend(p.weight)
    if p.batch.relationship is not None and m:
        rel_arr = as_strings(p.batch.relationship)
        rel = pc.dictionary_encode((rel_arr if p.ek is None else rel_arr.take(pa.array(p.ek))).fill_null(""))
        graph._edge_rel.extend(graph._rels.encode_unique(rel.dictionary.to_pylist(),
                                                         rel.indices.to_numpy(zero_copy_only=False)))
    else:
        graph._edge_rel.pad_to(graph._edge_rel.size + m)
    if times is None:
        graph._edge_time.pad_to(graph._edge_time.size + m)
    else:
        graph._edge_time.extend(p.at_edges(times))
    if p.ek is None:
        fill_range(graph._edge_added.spare(m), p.v0 + 1)
        graph._edge_added.claim(m)
    else:
        graph._edge_added.extend(p.v0 + 1 + p.ek)
    graph._edge_removed.pad_to(graph._src.size)
    graph._n_alive_edges += m
    if p.explicit_ids is not None:  # kept as columns: the id dicts take them on first use
        graph._edge_pending.append((p.explicit_rows, p.explicit_ids))
        graph._pattern_max = max(graph._pattern_max, int(p.pattern_k.max()))


def _commit_properties(graph, p: Plan) -> None:
    import pyarrow as pa

    batch, explicit_new = p.batch, p.first_explicit
    node_event = p.first // 2
    if batch.props is not None:
        node_rows = p.n0 + np.flatnonzero(explicit_new)
        node_props = [batch.props[k] for k in node_event[explicit_new].tolist()]
        if any(node_props):
            graph._node_props.set_many(node_rows, node_props)
        edge_props = batch.props if p.ek is None else [batch.props[k] for k in p.ek.tolist()]
        if any(edge_props):
            graph._edge_props.set_many(p.rows, edge_props)
    if batch.prop_columns:
        node_take = pa.array(node_event[explicit_new])
        for key, values in batch.prop_columns.items():
            nv = values.take(node_take)
            if nv.null_count < len(nv):
                graph._node_props.set_arrow(key, p.n0 + np.flatnonzero(explicit_new), nv)
            ev = values if p.ek is None else values.take(pa.array(p.ek))
            if ev.null_count < len(ev):
                graph._edge_props.set_arrow(key, p.rows, ev)


def _commit_metadata(graph, p: Plan) -> None:
    if p.batch.created:
        for k, payload in zip(np.flatnonzero(p.batch.kinds == CREATED).tolist(), p.batch.created):
            graph._undo.append((p.v0 + 1 + k, "meta", -1, (graph.directed, graph.name)))
            graph.directed = bool(payload.get("directed", graph.directed))
            graph.name = payload.get("name", graph.name) or graph.name


def _commit_history(graph, p: Plan, times) -> None:
    batch, v0, n = p.batch, p.v0, p.n
    if batch.event_ids is not None:
        graph._applied.update((e, v0 + 1 + k) for k, e in enumerate(batch.event_ids) if e is not None)
    if batch.events is not None and graph.keep_log:
        graph._log.extend(batch.events)
        graph._log_version.extend(v0 + 1 + np.arange(n))
    if times is None:
        graph._vtime.pad_to(graph._vtime.size + n)
    else:
        graph._vtime.extend(times)
    if batch.sequences is not None:
        note_sequences(graph, batch.sequences)
        s = batch.sequences[batch.sequences >= 0]
        if s.shape[0]:
            graph.last_sequence = int(s[-1])
    elif graph._vseq is not None:
        graph._vseq.pad_to(v0 + n)
    graph.version = v0 + n
    if batch.events is not None:
        graph.last_cid = batch.events[-1].cid
        graph.last_timestamp = batch.events[-1].timestamp
    elif times is not None and np.isfinite(times).any():
        graph.last_timestamp = rfc3339(float(times[np.isfinite(times)][-1]))


# ---------------------------------------------------------------------- inputs


def _events_batch(graph, events: list[Event]) -> tuple[Batch, int] | None:
    """An all-add call of Event objects as a :class:`Batch` (less the events applied before) and
    the number of duplicates; None when the call does not qualify."""
    import pyarrow as pa

    try:
        kinds = np.fromiter((BULK_KINDS[e.event_type] for e in events), dtype=np.int8, count=len(events))
    except KeyError:
        return None
    ids = [e.event_id for e in events]
    fresh = [i not in graph._applied for i in ids]
    keep = np.asarray(fresh, dtype=bool)
    if not keep.all():
        events = [e for e, f in zip(events, fresh) if f]
        kinds = kinds[keep]
        ids = [e.event_id for e in events]
    if len(set(ids)) != len(ids):
        return None
    gid = graph.graph_id
    pays = [e.payload for e in events]
    if any(e.aggregate_id != gid for e in events) or any(type(p) is not dict for p in pays):
        return None
    is_node, is_edge = kinds == NODE, kinds == EDGE
    kl = kinds.tolist()
    try:
        a = pa.array([p["node_id"] if k == NODE else p["source"] if k == EDGE else None
                      for p, k in zip(pays, kl)], type=pa.string())
        b = pa.array([p["target"] if k == EDGE else None for p, k in zip(pays, kl)], type=pa.string())
        eids = pa.array([p["edge_id"] if k == EDGE else None for p, k in zip(pays, kl)], type=pa.string())
        label = pa.array([(p.get("label") or ((p.get("labels") or [""])[0])) if k == NODE else ""
                          for p, k in zip(pays, kl)], type=pa.string())
        rel = pa.array([p.get("relationship", "") if k == EDGE else "" for p, k in zip(pays, kl)], type=pa.string())
        wl = [p.get("weight", 1.0) if k == EDGE else 1.0 for p, k in zip(pays, kl)]
        if any(type(w) not in (float, int) for w in wl):
            return None
        weight = np.asarray(wl, dtype=np.float64)
        times = seconds_of(pa.array([e.timestamp for e in events], type=pa.string()))
    except (KeyError, TypeError, ValueError, pa.ArrowException):
        return None
    if a.null_count != int((kinds == CREATED).sum()) or b.null_count != int((~is_edge).sum()):
        return None
    if eids.null_count != int((~is_edge).sum()) or rel.null_count or label.null_count:
        return None
    props = [p.get("properties") for p in pays]
    if any(x is not None and type(x) is not dict for x in props):
        return None
    for k in np.flatnonzero(is_node).tolist():
        labels = pays[k].get("labels")
        if labels is not None:
            if type(labels) is not list or any(type(x) is not str for x in labels):
                return None
            if len(labels) > 1:
                props[k] = {**(props[k] or {}), "labels": list(labels)}
    created = []
    for k in np.flatnonzero(kinds == CREATED).tolist():
        try:
            validate_payload("graph_created", pays[k], ids[k])
        except EventError:
            return None
        created.append(pays[k])
    seqs = [e.sequence for e in events]
    sequences = None
    if any(s is not None for s in seqs):
        sequences = np.asarray([-1 if s is None else s for s in seqs], dtype=np.int64)
    batch = Batch(kinds, a, b, edge_ids=eids, label=label, relationship=rel, weight=weight, props=props, times=times,
                  sequences=sequences, event_ids=ids, created=created, where="event", events=events)
    return batch, int((~keep).sum())


def _table_kinds(event_type, n: int, names: set) -> np.ndarray:
    """The kind of each row of an apply_columns table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if event_type is None:
        return np.full(n, EDGE if {"source", "target"} <= names else NODE, dtype=np.int8)
    et = event_type.cast(pa.string())
    kinds = np.full(n, -1, dtype=np.int8)
    kinds[pc.equal(et, "node_added").fill_null(False).to_numpy(zero_copy_only=False)] = NODE
    kinds[pc.equal(et, "edge_added").fill_null(False).to_numpy(zero_copy_only=False)] = EDGE
    if (kinds < 0).any():
        k = int(np.flatnonzero(kinds < 0)[0])
        raise InvalidEventError(
            f"row {k}: event_type {et[k].as_py()!r}; apply_columns takes node_added and edge_added "
            "(use Graph.apply for the other event types)")
    return kinds


def _fresh(event_ids: list, applied: dict) -> np.ndarray | None:
    """Mask of the rows whose event id is neither applied before nor seen earlier in the call
    (null ids always pass); None when every row passes."""
    seen: set[str] = set()
    keep = []
    for e in event_ids:
        if e is None or (e not in applied and e not in seen):
            keep.append(True)
            if e is not None:
                seen.add(e)
        else:
            keep.append(False)
    mask = np.asarray(keep, dtype=bool)
    return None if mask.all() else mask


# ---------------------------------------------------------------------- the graph's id lookups


def _id_table(graph):
    """The graph's id -> raw row table, brought up to date with rows added one by one."""
    import pyarrow as pa

    t = graph._ids_table
    if t is None or t.ids is not graph._node_ids or t.size > len(graph._node_ids):
        t = graph._ids_table = NodeTable(graph._node_ids)
    if t.size < len(graph._node_ids):
        t.append(pa.array(graph._node_ids[t.size:], type=pa.string()))
    return t


def _live_explicit_ids(graph):
    """The explicit ids of the live edges as one pyarrow StringArray (None when there are none),
    without building the dicts."""
    import pyarrow as pa

    parts = [ids for _, ids in graph._edge_pending]
    if graph._edge_index_d:
        parts.append(pa.array(list(graph._edge_index_d), type=pa.string()))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else pa.concat_arrays(parts)
