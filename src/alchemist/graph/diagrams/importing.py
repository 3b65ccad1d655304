"""Importing a diagram file into an existing graph, as events, with the original app's merge policies.

:func:`import_into` reads a file (Mermaid, Markdown, DOT, Cypher, Cytoscape.js JSON, or any format
:func:`~alchemist.graph.io.read_graph` reads), compares it with the graph it goes into, and emits the
events that make the graph hold it: ``node_added`` / ``edge_added`` for what is new, ``node_updated`` /
``edge_updated`` (or ``edge_removed`` then ``edge_added`` when a replaced edge changes ends) for what
exists, and one ``layout_applied`` when the file gives positions (and, for a graph new on a connection,
``graph_created`` first). The events go to a
:class:`~alchemist.Graph` (applied atomically: all or nothing) or to a CIM connection (published,
chained after the graph's last event).

Merge policies (the original Information Alchemist's ``MergeBehavior``, its
``doc/user-guide/importing-graphs.md``), for an imported node or edge whose id the graph already has:

- ``"skip"``: leave it as it is (the default);
- ``"replace"``: make it what the file says: label, weight, relationship and properties (properties the
  file does not give are unset);
- ``"merge_properties"``: set the properties the file gives, keep the others; the file's label,
  relationship and weight win (the original's ``MergePreferImported``);
- ``"merge_prefer_existing"``: set only the properties it does not have yet; label and relationship only
  when empty (``MergePreferExisting``);
- ``"always_create"``: add it under a new id (``"{id}-2"``, ``"{id}-3"``...; edges follow);
- ``"error"``: refuse the whole import (:class:`~alchemist.errors.DuplicateIdError`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alchemist.errors import ConcurrencyError, DuplicateIdError, GraphFormatError
from alchemist.graph.diagrams.model import MAX_BYTES, Diagram, DiagramEdge, DiagramNode, read_text

__all__ = ["import_into", "read_diagram", "diagram_of", "ImportReport", "MERGE_POLICIES", "DIAGRAM_FORMATS",
           "diagram_format_of"]

MERGE_POLICIES = ("skip", "replace", "merge_properties", "merge_prefer_existing", "always_create", "error")
"""The accepted ``merge=`` values (``"merge_prefer_imported"`` is another name of ``"merge_properties"``)."""

DIAGRAM_FORMATS = {".mmd": "mermaid", ".mermaid": "mermaid", ".md": "markdown", ".markdown": "markdown",
                   ".dot": "dot", ".gv": "dot", ".cypher": "cypher", ".cql": "cypher", ".cyp": "cypher",
                   ".cyjs": "cytoscape"}
"""File suffix → diagram format."""


@dataclass
class ImportReport:
    """What :func:`import_into` did.

    Attributes
    ----------
    events : list of Event
        The events emitted, in order.
    nodes_added, nodes_updated, nodes_skipped, edges_added, edges_updated, edges_skipped : int
    id_map : dict of str to str
        File node id → graph node id (differs with ``id_prefix`` or ``"always_create"``).
    published : list of Event or None
        The stored events, with their stream ``sequence``, when the target was a connection.
    """

    events: list = field(default_factory=list)
    nodes_added: int = 0
    nodes_updated: int = 0
    nodes_skipped: int = 0
    edges_added: int = 0
    edges_updated: int = 0
    edges_skipped: int = 0
    id_map: dict = field(default_factory=dict)
    published: Any = None


def import_into(target, source, *, merge: str = "skip", id_prefix: str | None = None, max_nodes: int | None = None,
                format: str | None = None, graph_id: str | None = None, max_bytes: int | None = None,
                actor: str | None = None, attempts: int = 5) -> ImportReport:
    """Import a diagram file into an existing graph (or a graph on a CIM connection) as events.

    Parameters
    ----------
    target : Graph or Connection
        A :class:`~alchemist.Graph` (the events are applied to it) or a connection from
        :func:`alchemist.connect` (the events are published to ``graph_id``, chained after its last event).
    source : str, Path or Diagram
        The file (its format from its suffix, see :data:`DIAGRAM_FORMATS`; other suffixes through
        :func:`~alchemist.graph.io.read_graph`), or a parsed :class:`~alchemist.graph.diagrams.Diagram`.
    merge : str
        What to do with ids the graph already has; one of :data:`MERGE_POLICIES` (see the module's
        docstring).
    id_prefix : str, optional
        Prepended to every imported node and edge id as ``"{id_prefix}-{id}"`` (the original app's form).
    max_nodes : int, optional
        Refuse, before anything is applied or published, a file of more nodes.
    format : str, optional
        Force a format: ``"mermaid"``, ``"markdown"``, ``"dot"``, ``"cypher"``, ``"cytoscape"``, or a
        :func:`~alchemist.graph.io.read_graph` format.
    graph_id : str, optional
        The graph to import into when ``target`` is a connection (required then).
    max_bytes : int, optional
        Larger files are refused before they are read (by default 16 MiB, DOT 256 KiB: see
        :data:`~alchemist.graph.diagrams.dot.DOT_MAX_BYTES`).
    actor : str, optional
        Recorded in each event's metadata with the file's name (``{"import": ..., "actor": ...}``).
    attempts : int
        On a connection: plans (and publishes) tried while other writers append to the graph.

    Returns
    -------
    ImportReport

    Raises
    ------
    GraphFormatError
        The file is missing, too large, malformed (naming the line), or holds more than ``max_nodes`` nodes.
    DuplicateIdError
        ``merge="error"`` and an imported id is in the graph already; nothing is applied.
    ValueError
        An unknown ``merge``; a connection without ``graph_id``.
    ConcurrencyError
        On a connection: other writers appended to the graph ``attempts`` times while the import
        was planned, or between two of its messages (the graph then holds a prefix of the events,
        ``report.published``).

    Notes
    -----
    The events are planned against the graph as it is when the call starts (for a connection, as
    ``connection.graph(graph_id, live=False)`` folds it) and share one correlation id (the first event's),
    each caused by the one before; metadata ``{"import": file name}``. On a connection they are published
    with :meth:`~alchemist.cim.Connection.publish_chain`, chained after the graph's last event, each
    message stored only if the graph is still at the version the plan was made on (optimistic
    concurrency): a writer appending meanwhile makes the import plan again (nothing was stored) or
    stop with a prefix stored, never a forked chain. ``layout_applied`` carries the graph's finite positions as well as
    the file's (the event sets every node's position).

    Examples
    --------
    >>> from alchemist import Graph
    >>> from alchemist.graph.diagrams import parse_mermaid
    >>> g = Graph("g", directed=True)
    >>> report = import_into(g, parse_mermaid("graph TD\\n  A[Start] --> B[End]"))
    >>> g.node_ids, [e.event_type for e in report.events]
    (['A', 'B'], ['node_added', 'node_added', 'edge_added'])
    >>> report = import_into(g, parse_mermaid("graph TD\\n  A[Begin] --> C"), merge="merge_properties")
    >>> g.node("A")["caption"], report.nodes_updated, report.nodes_added, report.edges_added
    ('Begin', 1, 1, 1)
    """
    merge = {"merge_prefer_imported": "merge_properties"}.get(merge, merge)
    if merge not in MERGE_POLICIES:
        raise ValueError(f"merge={merge!r}; use one of {', '.join(MERGE_POLICIES)}")
    diagram = source if isinstance(source, Diagram) else read_diagram(source, format=format, max_bytes=max_bytes)
    if max_nodes is not None and len(diagram.nodes) > max_nodes:
        raise GraphFormatError(f"{diagram.path}: holds {len(diagram.nodes)} nodes, more than max_nodes={max_nodes}; "
                               "pass a larger max_nodes to import it", path=diagram.path)
    connection = hasattr(target, "publish_chain") and hasattr(target, "last_event")
    if connection and not graph_id:
        raise ValueError("importing into a connection needs graph_id= (the graph to publish to)")
    meta = {"import": Path(diagram.path).name}
    if actor:
        meta["actor"] = actor
    if not connection:
        report = _plan(target, diagram, merge, id_prefix)
        report.events = _events(report.events, target.graph_id, meta, None, chain=False)
        if report.events:
            target.apply(report.events)
        return report

    for _ in range(max(1, attempts)):
        # the version first, then the graph and its head: the plan holds only if nobody appended since
        version = target.aggregate_sequence(graph_id)
        report = _plan(target.graph(graph_id, live=False), diagram, merge, id_prefix)
        last = target.last_event(graph_id)
        if last is not None and int(last.sequence or 0) > version:
            continue
        if last is None:  # a new graph on the CIM: it begins with graph_created (directed as the file says)
            report.events.insert(0, ("graph_created", {"name": diagram.name or graph_id, "directed": diagram.directed}))
        report.events = _events(report.events, graph_id, meta, None if last is None else last.cid, chain=True)
        report.published = []
        try:
            target.publish_chain(report.events, expected_sequence=version, stored=report.published)
        except ConcurrencyError:
            if report.published:
                raise
            continue
        return report
    raise ConcurrencyError(f"other writers appended to {graph_id!r} while the import was planned, {attempts} times "
                           "in a row; retry later or with more attempts=")


def read_diagram(path: str | Path, *, format: str | None = None, max_bytes: int | None = None) -> Diagram:
    """Read a diagram file into a :class:`~alchemist.graph.diagrams.Diagram`, by its suffix.

    Parameters
    ----------
    path : str or Path
    format : str, optional
        See :func:`import_into`.
    max_bytes : int, optional
        See :func:`import_into`.

    Returns
    -------
    Diagram

    Raises
    ------
    GraphFormatError
        As the format's reader.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "g.cypher"
    ...     _ = path.write_text("CREATE (a)-[:R]->(b)")
    ...     d = read_diagram(path)
    >>> list(d.nodes), len(d.edges)
    (['a', 'b'], 1)
    """
    from alchemist.graph.diagrams import cypher, cytoscape, dot, mermaid

    path = Path(path)
    fmt = format or diagram_format_of(path)
    if fmt is None:
        from alchemist.graph.io import read_graph

        return diagram_of(read_graph(path), path=str(path))
    if fmt == "dot":
        limit = dot.DOT_MAX_BYTES if max_bytes is None else max_bytes
        return dot.parse_dot(read_text(path, max_bytes=limit), path=str(path), max_bytes=limit)
    text = read_text(path, max_bytes=MAX_BYTES if max_bytes is None else max_bytes)
    if fmt in ("mermaid", "markdown"):
        return mermaid.parse_mermaid(text, path=str(path), markdown=True if fmt == "markdown" else None)
    parsers = {"cypher": cypher.parse_cypher, "cytoscape": cytoscape.parse_cytoscape}
    if fmt not in parsers:
        from alchemist.graph.io import read_graph

        return diagram_of(read_graph(path, format=fmt), path=str(path))
    return parsers[fmt](text, path=str(path))


def diagram_format_of(path: str | Path) -> str | None:
    """The diagram format a file name says, or None (``.json`` only when named ``*.cy.json``).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    str or None

    Examples
    --------
    >>> diagram_format_of("flow.mmd"), diagram_format_of("net.gv"), diagram_format_of("g.graphml")
    ('mermaid', 'dot', None)
    """
    path = Path(path)
    if path.name.lower().endswith(".cy.json"):
        return "cytoscape"
    return DIAGRAM_FORMATS.get(path.suffix.lower())


def diagram_of(graph, *, path: str = "<graph>") -> Diagram:
    """A Graph as a :class:`~alchemist.graph.diagrams.Diagram` (to import a graph read by another reader).

    Parameters
    ----------
    graph : Graph
    path : str

    Returns
    -------
    Diagram

    Examples
    --------
    >>> from alchemist import Graph
    >>> d = diagram_of(Graph.from_edges([("a", "b", 2.0)]))
    >>> list(d.nodes), d.edges[0].weight
    (['a', 'b'], 2.0)
    """
    diagram = Diagram(path=path, directed=graph.directed, name=graph.graph_id)
    for node_id in graph.node_ids:
        record = graph.node(node_id)
        del record["id"]
        label = record.pop("label")
        diagram.nodes[node_id] = DiagramNode(node_id, label, record)
    for edge_id in graph.edge_ids:
        e = graph.edge(edge_id)
        diagram.add_edge(e.pop("source"), e.pop("target"), edge_id=e.pop("id"), relationship=e.pop("relationship"),
                         weight=e.pop("weight"), properties=e)
    positions = getattr(graph, "positions", None)
    if positions is not None:
        for row, node_id in enumerate(graph.node_ids):
            x, y = float(positions[row][0]), float(positions[row][1])
            if math.isfinite(x) and math.isfinite(y):
                diagram.positions[node_id] = (x, y)
    return diagram


# ---------------------------------------------------------------------- planning
def _plan(graph, diagram: Diagram, merge: str, id_prefix: str | None) -> ImportReport:
    """The ``(event_type, payload)`` pairs (in ``report.events``) that bring ``diagram`` into ``graph``."""
    report = ImportReport()
    out = report.events
    taken_nodes, taken_edges = set(graph.node_ids), set(graph.edge_ids)
    fresh_nodes, fresh_edges = set(taken_nodes), set(taken_edges)
    node_ids, edge_ids = {}, {}
    for node in diagram.nodes.values():
        node_ids[node.node_id] = _fresh(_prefixed(node.node_id, id_prefix), fresh_nodes, merge)
    for edge in diagram.edges:
        edge_ids[id(edge)] = _fresh(_prefixed(edge.edge_id, id_prefix), fresh_edges, merge)
    if merge == "error":
        clashes = [i for i in node_ids.values() if i in taken_nodes] + [i for i in edge_ids.values() if i in taken_edges]
        if clashes:
            raise DuplicateIdError(f"{diagram.path}: {len(clashes)} imported ids are in graph {graph.graph_id!r} already "
                                   f"({', '.join(map(repr, clashes[:5]))}); nothing was imported. Use merge='skip', "
                                   "'replace' or 'merge_properties', or an id_prefix")
    for node in diagram.nodes.values():
        nid = node_ids[node.node_id]
        if nid not in taken_nodes:
            out.append(("node_added", {**node.payload(), "node_id": nid}))
            report.nodes_added += 1
            continue
        update = _node_update(graph.node(nid), node, merge)
        if update is None:
            report.nodes_skipped += 1
        else:
            out.append(("node_updated", {"node_id": nid, **update}))
            report.nodes_updated += 1
    for edge in diagram.edges:
        eid = edge_ids[id(edge)]
        payload = {**edge.payload(), "edge_id": eid, "source": node_ids[edge.source], "target": node_ids[edge.target]}
        if eid not in taken_edges:
            out.append(("edge_added", payload))
            report.edges_added += 1
            continue
        old = graph.edge(eid)
        if merge == "replace" and (old["source"], old["target"]) != (payload["source"], payload["target"]):
            out += [("edge_removed", {"edge_id": eid}), ("edge_added", payload)]
            report.edges_updated += 1
            continue
        update = _edge_update(old, edge, merge)
        if update is None:
            report.edges_skipped += 1
        else:
            out.append(("edge_updated", {"edge_id": eid, **update}))
            report.edges_updated += 1
    if diagram.positions:
        positions = _positions(graph)
        positions.update({node_ids[n]: [float(x), float(y)] for n, (x, y) in diagram.positions.items()})
        out.append(("layout_applied", {"algorithm": "import", "positions": positions}))
    report.id_map = node_ids
    return report


def _node_update(old: dict, node: DiagramNode, merge: str) -> dict | None:
    old_label = old.pop("label")
    del old["id"]
    if merge == "skip":
        return None
    if merge == "replace":
        props = {k: None for k in old if k not in node.properties}
        props.update(node.properties)
        return {"label": node.label, "properties": props}
    if merge == "merge_properties":
        update = {"properties": dict(node.properties)}
        if node.label:
            update["label"] = node.label
        return update
    # merge_prefer_existing
    update = {"properties": {k: v for k, v in node.properties.items() if k not in old}}
    if node.label and not old_label:
        update["label"] = node.label
    return update if update["properties"] or "label" in update else None


def _edge_update(old: dict, edge: DiagramEdge, merge: str) -> dict | None:
    for key in ("id", "source", "target"):
        del old[key]
    old_rel, old_weight = old.pop("relationship"), old.pop("weight")
    if merge == "skip":
        return None
    if merge == "replace":
        props = {k: None for k in old if k not in edge.properties}
        props.update(edge.properties)
        return {"relationship": edge.relationship, "weight": float(edge.weight), "properties": props}
    if merge == "merge_properties":
        update = {"properties": dict(edge.properties), "weight": float(edge.weight)}
        if edge.relationship:
            update["relationship"] = edge.relationship
        return update
    update = {"properties": {k: v for k, v in edge.properties.items() if k not in old}}
    if edge.relationship and not old_rel:
        update["relationship"] = edge.relationship
    if old_weight == 1.0 and edge.weight != 1.0:
        update["weight"] = float(edge.weight)
    return update if update["properties"] or len(update) > 1 else None


def _prefixed(i: str, prefix: str | None) -> str:
    return i if not prefix else f"{prefix}-{i}"


def _fresh(i: str, taken: set, merge: str) -> str:
    if merge != "always_create" or i not in taken:
        return i
    k = 2
    while f"{i}-{k}" in taken:
        k += 1
    taken.add(f"{i}-{k}")
    return f"{i}-{k}"


def _positions(graph) -> dict:
    positions = getattr(graph, "positions", None)
    if positions is None:
        return {}
    return {n: [float(x), float(y)] for n, (x, y) in zip(graph.node_ids, positions.tolist())
            if math.isfinite(x) and math.isfinite(y)}


def _events(planned, graph_id: str, meta: dict, previous: str | None, *, chain: bool) -> list:
    """Events of one import: one correlation id, each caused by the one before; with ``chain``, each names
    the one before by CID (the first names ``previous``)."""
    from alchemist.events import new_event

    out, correlation, causation = [], None, None
    for event_type, payload in planned:
        event = new_event(event_type, graph_id, payload, correlation_id=correlation, causation_id=causation,
                          previous_cid=previous, metadata=meta)
        out.append(event)
        correlation = correlation or event.event_id
        causation = event.event_id
        if chain:
            previous = event.cid
    return out
