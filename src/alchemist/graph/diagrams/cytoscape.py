"""Cytoscape.js JSON (``elements``), as Cytoscape.js [1]_, Cytoscape desktop's ``.cyjs`` and the original
Information Alchemist write it.

Accepted layouts:

- ``{"elements": {"nodes": [...], "edges": [...]}}`` (Cytoscape desktop, the original app's reader);
- ``{"elements": [...]}`` or a bare list ``[...]`` of elements, each with ``"group": "nodes"`` or
  ``"edges"``, or without ``group`` and told apart by ``data.source``/``data.target`` (the original
  app's export writes no ``group``).

Each element's ``data`` is kept: ``data.id`` is the node or edge id (an edge without one gets
``"{source}-{target}"``, ``-2``... for parallel edges), ``data.source``/``data.target`` the edge's ends;
a node's ``data.label`` is the property ``caption`` (a Graph node's ``label`` is its type) and its
``data.type`` its label; an edge's ``data.label`` (else ``data.interaction``, Cytoscape desktop's edge
type) its relationship and a numeric ``data.weight`` its weight; every other ``data`` key is a
property. ``position: {x, y}`` becomes the node's position (Cytoscape's pixels, ``y`` downwards);
``classes`` the property ``classes``, ``parent`` (compound nodes) the property ``parent``.

References
----------
.. [1] Cytoscape.js, "Notation for elements", https://js.cytoscape.org/#notation/elements-json
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from alchemist.graph.diagrams.model import MAX_BYTES, Diagram, format_error, read_text

__all__ = ["read_cytoscape", "parse_cytoscape", "write_cytoscape"]


def read_cytoscape(path: str | Path, *, graph_id: str | None = None, max_bytes: int = MAX_BYTES):
    """Read a Cytoscape.js JSON file into a Graph.

    Parameters
    ----------
    path : str or Path
        ``.cyjs`` or ``.json``.
    graph_id : str, optional
        Defaults to the file name without its extensions.
    max_bytes : int
        Larger files are refused before they are read.

    Returns
    -------
    Graph
        Directed (Cytoscape.js edges have a source and a target); ``positions`` set when the
        elements have any.

    Raises
    ------
    GraphFormatError
        The file is missing, too large, not JSON (the message names the line), nested too deeply, or
        an element lacks ``data.id`` (nodes) or ``data.source``/``data.target`` (edges).

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> doc = {"elements": [{"data": {"id": "a", "label": "A"}, "position": {"x": 1, "y": 2}},
    ...                     {"data": {"id": "b"}}, {"data": {"id": "ab", "source": "a", "target": "b"}}]}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "g.cyjs"
    ...     _ = path.write_text(json.dumps(doc))
    ...     g = read_cytoscape(path)
    >>> g.node_ids, g.edge_ids, g.node("a")["caption"], g.positions[0].tolist()
    (['a', 'b'], ['ab'], 'A', [1.0, 2.0])
    """
    return parse_cytoscape(read_text(path, max_bytes=max_bytes), path=str(path)).to_graph(graph_id)


def parse_cytoscape(text: str, *, path: str = "<text>") -> Diagram:
    """Parse Cytoscape.js JSON text into a :class:`~alchemist.graph.diagrams.Diagram`.

    Parameters
    ----------
    text : str
    path : str
        Named in error messages.

    Returns
    -------
    Diagram

    Raises
    ------
    GraphFormatError
        As :func:`read_cytoscape`.

    Examples
    --------
    >>> d = parse_cytoscape('{"elements": {"nodes": [{"data": {"id": "a"}}], "edges": []}}')
    >>> list(d.nodes)
    ['a']
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise format_error(path, exc.lineno, f"invalid JSON at column {exc.colno} ({exc.msg})") from None
    except RecursionError:
        raise format_error(path, None, "JSON nested too deeply to read") from None
    nodes, edges = _elements(doc, path)
    diagram = Diagram(path=path, directed=True, name=str(doc.get("data", {}).get("name", "")) if isinstance(doc, dict)
                      and isinstance(doc.get("data"), dict) else "")
    for where, element in nodes:
        data = _data(element, where, path)
        if data.get("id") is None:
            raise format_error(path, None, f"{where} has no data.id; every node needs one")
        node_id = str(data.pop("id"))
        if node_id in diagram.nodes:
            raise format_error(path, None, f"{where}: node id {node_id!r} is used twice")
        node = diagram.node(node_id)
        if "label" in data:
            data["caption"] = data.pop("label")
        if "type" in data:
            node.label = str(data.pop("type"))
        _extras(element, data)
        node.properties.update({k: v for k, v in data.items() if v is not None})
        pos = element.get("position")
        if isinstance(pos, dict) and _finite(pos.get("x")) and _finite(pos.get("y")):
            diagram.positions[node_id] = (float(pos["x"]), float(pos["y"]))
    for where, element in edges:
        data = _data(element, where, path)
        if data.get("source") is None or data.get("target") is None:
            raise format_error(path, None, f"{where} needs data.source and data.target")
        source, target = str(data.pop("source")), str(data.pop("target"))
        edge_id = data.pop("id", None)
        if edge_id is not None and str(edge_id) in diagram.edge_index:
            raise format_error(path, None, f"{where}: edge id {edge_id!r} is used twice")
        relationship = data.pop("label", None)
        if relationship is None:
            relationship = data.pop("interaction", "")
        weight = data.pop("weight") if _finite(data.get("weight")) else 1.0
        _extras(element, data)
        diagram.add_edge(source, target, edge_id=None if edge_id is None else str(edge_id),
                         relationship="" if relationship is None else str(relationship), weight=float(weight),
                         properties={k: v for k, v in data.items() if v is not None})
    return diagram


def write_cytoscape(graph, path: str | Path) -> Path:
    """Write a Graph as Cytoscape.js JSON: ``{"elements": [...]}``, nodes first, as the original app
    exported it, with ``"group"`` on every element.

    Parameters
    ----------
    graph : Graph
    path : str or Path

    Returns
    -------
    Path

    Raises
    ------
    OSError
        The file cannot be written.

    Notes
    -----
    Node ``data``: ``id``, ``label`` (the ``caption`` property), ``type`` (the node's label, when not
    empty) and the other properties; ``position`` when the graph has positions. Edge ``data``: ``id``,
    ``source``, ``target``, ``label`` (the relationship, when not empty), ``weight`` (when not 1) and
    the properties. :func:`read_cytoscape` reads the file back to the same graph.

    Examples
    --------
    >>> import json, pathlib, tempfile
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b")], directed=True)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     doc = json.loads(write_cytoscape(g, pathlib.Path(tmp) / "g.cyjs").read_text())
    >>> [element["data"] for element in doc["elements"]]
    [{'id': 'a'}, {'id': 'b'}, {'id': 'e0', 'source': 'a', 'target': 'b'}]
    """
    path = Path(path)
    positions = getattr(graph, "positions", None)
    elements = []
    for row, node_id in enumerate(graph.node_ids):
        record = graph.node(node_id)
        label = record.pop("label")
        data = {"id": record.pop("id")}
        if "caption" in record:
            data["label"] = record.pop("caption")
        if label:
            data["type"] = label
        data.update(record)
        element = {"group": "nodes", "data": data}
        if positions is not None and len(positions) > row and all(math.isfinite(float(v)) for v in positions[row]):
            element["position"] = {"x": float(positions[row][0]), "y": float(positions[row][1])}
        elements.append(element)
    for edge_id in graph.edge_ids:
        e = graph.edge(edge_id)
        data = {"id": e.pop("id"), "source": e.pop("source"), "target": e.pop("target")}
        relationship, weight = e.pop("relationship"), e.pop("weight")
        if relationship:
            data["label"] = relationship
        if weight != 1.0:
            data["weight"] = float(weight)
        data.update(e)
        elements.append({"group": "edges", "data": data})
    path.write_text(json.dumps({"elements": elements}, indent=1, default=str), encoding="utf-8")
    return path


# ---------------------------------------------------------------------- helpers
def _elements(doc, path) -> tuple[list, list]:
    """``(where, element)`` pairs of nodes and of edges, ``where`` naming the element in messages."""
    if isinstance(doc, dict):
        if "elements" not in doc:
            raise format_error(path, None, "not Cytoscape.js JSON: no 'elements' key (expected "
                               "{'elements': {'nodes': [...], 'edges': [...]}} or {'elements': [...]})")
        elements = doc["elements"]
    else:
        elements = doc
    if isinstance(elements, dict):
        nodes, edges = elements.get("nodes") or [], elements.get("edges") or []
        if not isinstance(nodes, list) or not isinstance(edges, list):
            raise format_error(path, None, "elements.nodes and elements.edges must be lists")
        return ([(f"elements.nodes[{i}]", x) for i, x in enumerate(nodes)],
                [(f"elements.edges[{i}]", x) for i, x in enumerate(edges)])
    if not isinstance(elements, list):
        raise format_error(path, None, f"'elements' is a {type(elements).__name__}; expected a list or "
                           "{'nodes': [...], 'edges': [...]}")
    nodes, edges = [], []
    for i, element in enumerate(elements):
        where = f"elements[{i}]"
        data = element.get("data") if isinstance(element, dict) else None
        group = element.get("group") if isinstance(element, dict) else None
        if group not in (None, "nodes", "edges"):
            raise format_error(path, None, f"{where} has group {group!r}; use 'nodes' or 'edges'")
        is_edge = group == "edges" or (group is None and isinstance(data, dict) and "source" in data and "target" in data)
        (edges if is_edge else nodes).append((where, element))
    return nodes, edges


def _data(element, where, path) -> dict:
    if not isinstance(element, dict) or not isinstance(element.get("data"), dict):
        raise format_error(path, None, f"{where} has no 'data' object")
    return dict(element["data"])


def _extras(element: dict, data: dict) -> None:
    classes = element.get("classes")
    if classes:
        data["classes"] = classes if isinstance(classes, str) else " ".join(str(c) for c in classes)


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
