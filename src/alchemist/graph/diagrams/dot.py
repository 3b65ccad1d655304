"""Graphviz DOT files, parsed and written by pydot [1]_ (pure Python, over pyparsing).

Reading keeps what the file says:

- every node and edge attribute becomes a property (values as written, without their quotes; DOT
  escapes such as ``\\n`` are kept as written so that a written file reads back the same), with the
  ``node [...]`` and ``edge [...]`` defaults in force where the node or edge first appears applied under
  them, as Graphviz applies them [2]_;
- a node's ``label`` (its display text) is the property ``caption`` (as Arrows.app names it: a Graph
  node's ``label`` is its type), its ``type`` its label, an ``id`` attribute the property ``dot_id``;
- an edge's ``label`` is its relationship, its ``weight`` (a number) its weight, its ``id`` its edge id
  (else ``"{source}-{target}"``, ``-2``, ``-3``... for parallel edges, as the original app names them);
- nodes inside ``subgraph`` blocks get the property ``subgraph`` (the innermost one's name; clusters
  included), edges ``a -> {b c}`` become one edge per node of the group, ports (``a:p1 -> b``) become
  the edge properties ``tailport`` / ``headport``;
- ``digraph`` gives a directed Graph, ``graph`` an undirected one; the graph's own attributes are
  not kept on the Graph.

The original Information Alchemist imported DOT (prefixing node ids with ``dot-``, which
:func:`~alchemist.graph.diagrams.import_into`'s ``id_prefix`` does when wanted) and exported its graphs as
Graphviz DOT.

References
----------
.. [1] pydot, https://github.com/pydot/pydot
.. [2] Graphviz, "The DOT Language", https://graphviz.org/doc/info/lang.html
"""

from __future__ import annotations

import json
import math
import threading
import warnings
from pathlib import Path

from alchemist.graph.diagrams.model import MAX_DEPTH, Diagram, format_error, read_text

__all__ = ["read_dot", "parse_dot", "write_dot", "DOT_MAX_BYTES"]

DOT_MAX_BYTES = 256 * 1024
"""Largest DOT text parsed unless ``max_bytes`` says more: pydot's pyparsing grammar is slow (4-10 KB,
80-200 edge statements, per second on a loaded 2-core machine), so a larger file is refused at once
rather than parsed for minutes."""

NODE_PROPERTY = {"label": "caption", "id": "dot_id"}
"""Node attributes read as other property names (a Graph node's ``id`` and ``label`` are its own)."""
NODE_ATTRIBUTE = {v: k for k, v in NODE_PROPERTY.items()}
_LOCK = threading.Lock()  # pydot's parser is not thread-safe (its own docstring says so)


def read_dot(path: str | Path, *, graph_id: str | None = None, max_bytes: int = DOT_MAX_BYTES):
    """Read a Graphviz DOT file into a Graph.

    Parameters
    ----------
    path : str or Path
        ``.dot`` / ``.gv``; the first graph of the file is read.
    graph_id : str, optional
        Defaults to the file name without its extensions.
    max_bytes : int
        Larger files are refused before they are read (:data:`DOT_MAX_BYTES` by default: pydot's parser
        is slow).

    Returns
    -------
    Graph
        Directed for ``digraph``; properties as in the module's docstring.

    Raises
    ------
    GraphFormatError
        The file is missing, too large, not DOT (the message names the line and column pydot's
        parser stopped at), holds no graph, or nests subgraphs deeper than
        :data:`~alchemist.graph.diagrams.model.MAX_DEPTH`.
    MissingDependencyError
        pydot is not installed.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "g.dot"
    ...     _ = path.write_text('digraph { a [label="A"]; a -> b [weight=2]; }')
    ...     g = read_dot(path)
    >>> g.node_ids, g.node("a")["caption"], g.edge("a-b")["weight"], g.directed
    (['a', 'b'], 'A', 2.0, True)
    """
    return parse_dot(read_text(path, max_bytes=max_bytes), path=str(path), max_bytes=max_bytes).to_graph(graph_id)


def parse_dot(text: str, *, path: str = "<text>", max_bytes: int = DOT_MAX_BYTES) -> Diagram:
    """Parse DOT text into a :class:`~alchemist.graph.diagrams.Diagram`.

    Parameters
    ----------
    text : str
    path : str
        Named in error messages.
    max_bytes : int
        Longer text (in UTF-8 bytes) is refused before it is parsed.

    Returns
    -------
    Diagram

    Raises
    ------
    GraphFormatError
        Malformed DOT, naming the line; text longer than ``max_bytes``.
    MissingDependencyError
        pydot is not installed.

    Examples
    --------
    >>> d = parse_dot("graph { a -- {b c} }")
    >>> [(e.source, e.target) for e in d.edges], d.directed
    ([('a', 'b'), ('a', 'c')], False)
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise format_error(path, None, f"{size} bytes of DOT is more than max_bytes={max_bytes} (pydot parses "
                           "a few KB per second); pass a larger max_bytes to wait for it")
    _pydot()
    import pydot
    from pydot.dot_parser import GraphParser
    from pyparsing import ParseBaseException

    try:
        with _LOCK:
            graphs = list(GraphParser.parser.parse_string(text, parse_all=True))
    except ParseBaseException as exc:
        raise format_error(path, exc.lineno, f"not DOT at column {exc.col} ({exc.msg}; the line reads "
                           f"{exc.line.strip()[:80]!r})") from None
    except RecursionError:
        raise format_error(path, None, "DOT nested too deeply to parse") from None
    if not graphs or not isinstance(graphs[0], pydot.Dot):
        raise format_error(path, None, "no graph in it (expected 'graph { ... }' or 'digraph { ... }')")
    root = graphs[0]
    diagram = Diagram(path=path, directed=root.get_type() == "digraph", name=_unquote(root.get_name() or ""))
    _Walker(diagram).scope(root.obj_dict, {}, {}, None, 0)
    return diagram


def write_dot(graph, path: str | Path, *, name: str | None = None) -> Path:
    """Write a Graph as Graphviz DOT (``digraph`` or ``graph``).

    Parameters
    ----------
    graph : Graph
    path : str or Path
    name : str, optional
        The DOT graph's name; the graph id by default.

    Returns
    -------
    Path

    Raises
    ------
    MissingDependencyError
        pydot is not installed.
    OSError
        The file cannot be written.

    Notes
    -----
    Node properties become node attributes (``caption`` as ``label``, ``dot_id`` as ``id``) and a node's
    label (its type) the attribute ``type``; edge properties become edge attributes, with ``id`` (the
    edge id), ``weight`` (when not 1) and ``label`` (the relationship, when not empty). List and dict
    values are written as JSON, other values as text.
    :func:`read_dot` reads the file back to the same ids, labels, relationships and weights.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b", 2.0)], directed=True)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(write_dot(g, pathlib.Path(tmp) / "g.dot").read_text(), end="")
    digraph "graph" {
    a;
    b;
    a -> b [id=e0, weight=2.0];
    }
    """
    pydot = _pydot()
    path = Path(path)
    dot = pydot.Dot(_quote(name if name is not None else graph.graph_id),
                    graph_type="digraph" if graph.directed else "graph")
    for node_id in graph.node_ids:
        record = graph.node(node_id)
        del record["id"]
        label = record.pop("label")
        attrs = {NODE_ATTRIBUTE.get(k, k): _value(v) for k, v in record.items()}
        if label and "type" not in attrs:
            attrs["type"] = label
        dot.add_node(pydot.Node(_quote(node_id), **{k: _quote(v) for k, v in attrs.items()}))
    for edge_id in graph.edge_ids:
        e = graph.edge(edge_id)
        source, target, relationship, weight = e.pop("source"), e.pop("target"), e.pop("relationship"), e.pop("weight")
        del e["id"]
        attrs = {"id": edge_id, **{k: _value(v) for k, v in e.items()}}
        if weight != 1.0:
            attrs["weight"] = repr(float(weight))
        if relationship:
            attrs["label"] = relationship
        dot.add_edge(pydot.Edge(_quote(source), _quote(target), **{k: _quote(v) for k, v in attrs.items()}))
    path.write_text(dot.to_string(), encoding="utf-8")
    return path


# ---------------------------------------------------------------------- helpers
class _Walker:
    """Walks pydot's parse tree scope by scope, in statement order (pydot's ``sequence``)."""

    def __init__(self, diagram: Diagram):
        self.diagram = diagram

    def scope(self, obj: dict, node_defaults: dict, edge_defaults: dict, subgraph: str | None, depth: int) -> list[str]:
        """Read one graph or subgraph; return the ids of the nodes it holds (for ``a -> {b c}``)."""
        if depth > MAX_DEPTH:
            raise format_error(self.diagram.path, None, f"subgraphs nested deeper than {MAX_DEPTH}")
        node_defaults, edge_defaults = dict(node_defaults), dict(edge_defaults)
        items = []
        for kind in ("nodes", "edges", "subgraphs"):
            for entries in (obj.get(kind) or {}).values():
                items.extend((int(entry.get("sequence") or 0), kind, entry) for entry in entries)
        members: list[str] = []
        for _, kind, entry in sorted(items, key=lambda item: item[0]):
            if kind == "nodes":
                name = entry["name"]
                attrs = {k: _unquote(v) for k, v in (entry.get("attributes") or {}).items()}
                if name == "node":
                    node_defaults.update(attrs)
                elif name == "edge":
                    edge_defaults.update(attrs)
                elif name != "graph":
                    node_id = _unquote(_split_port(name)[0])
                    self.node(node_id, node_defaults, subgraph, attrs)
                    members.append(node_id)
            elif kind == "subgraphs":
                name = _unquote(entry.get("name") or "")
                members += self.scope(entry, node_defaults, edge_defaults, name or subgraph, depth + 1)
            else:
                members += self.edge(entry, node_defaults, edge_defaults, subgraph, depth)
        return members

    def node(self, node_id: str, defaults: dict, subgraph: str | None, attrs: dict | None = None) -> None:
        known = node_id in self.diagram.nodes
        node = self.diagram.node(node_id)
        props = node.properties
        if not known:
            props.update(defaults)
            if subgraph:
                props["subgraph"] = subgraph
        props.update(attrs or {})
        for attribute, prop in NODE_PROPERTY.items():
            if attribute in props:
                props[prop] = props.pop(attribute)
        if "type" in props:
            node.label = str(props.pop("type"))

    def edge(self, entry: dict, node_defaults: dict, edge_defaults: dict, subgraph: str | None, depth: int) -> list[str]:
        ends, ports, members = [], [], []
        for point in entry["points"]:
            if isinstance(point, str):
                name, port = _split_port(point)
                node_id = _unquote(name)
                self.node(node_id, node_defaults, subgraph)
                ends.append([node_id])
                ports.append(port)
            else:  # an anonymous subgraph: a group of nodes
                group = self.scope(point, node_defaults, edge_defaults, subgraph, depth + 1)
                ends.append(group)
                ports.append(None)
            members += ends[-1]
        attrs = {**edge_defaults, **{k: _unquote(v) for k, v in (entry.get("attributes") or {}).items()}}
        edge_id = attrs.pop("id", None)
        relationship = str(attrs.pop("label", ""))
        weight = 1.0
        if "weight" in attrs:
            try:
                weight = float(attrs["weight"])
                del attrs["weight"]
            except ValueError:
                pass
            if not math.isfinite(weight):
                raise format_error(self.diagram.path, None, f"edge {ends[0][0]!r} has weight {attrs.get('weight', weight)!r}: "
                                   "not a finite number")
        for (sources, tail), (targets, head) in zip(zip(ends, ports), zip(ends[1:], ports[1:])):
            for s in sources:
                for t in targets:
                    props = dict(attrs)
                    if tail:
                        props["tailport"] = tail
                    if head:
                        props["headport"] = head
                    single = len(ends) == 2 and len(sources) == len(targets) == 1
                    eid = edge_id if single and edge_id and edge_id not in self.diagram.edge_index else None
                    self.diagram.add_edge(s, t, edge_id=eid, relationship=relationship, weight=weight, properties=props)
        return members


def _split_port(name: str) -> tuple[str, str | None]:
    """``'"q r":p1'`` → ``('"q r"', 'p1')``: the node id and its port (a ``:`` outside quotes)."""
    quoted = False
    for i, ch in enumerate(name):
        if ch == '"' and (i == 0 or name[i - 1] != "\\"):
            quoted = not quoted
        elif ch == ":" and not quoted:
            return name[:i], name[i + 1:]
    return name, None


def _unquote(value) -> str:
    s = str(value)
    if len(s) >= 2 and s[0] == s[-1] == '"':
        return s[1:-1].replace('\\"', '"').replace("\\\n", "")
    return s


def _quote(value) -> str:
    s = str(value)
    if s.startswith("<") and s.endswith(">"):
        return s  # an HTML-like label
    if s and (s.replace("_", "a").isalnum() and not s[0].isdigit() and s.isascii()
              and s.lower() not in ("node", "edge", "graph", "digraph", "subgraph", "strict")):
        return s
    try:
        float(s)
        return s
    except ValueError:
        return '"' + s.replace('"', '\\"') + '"'


def _value(v) -> str:
    if isinstance(v, (list, dict, tuple)):
        return json.dumps(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _pydot():
    try:
        with warnings.catch_warnings():  # pydot 4.0 calls pyparsing 3.3's deprecated camelCase names at import
            warnings.simplefilter("ignore", DeprecationWarning)
            import pydot
            import pydot.dot_parser  # noqa: F401
    except ImportError:
        from alchemist.errors import MissingDependencyError

        raise MissingDependencyError("reading and writing DOT needs pydot: pip install pydot") from None
    return pydot
