"""What every diagram reader returns before it becomes a Graph: a :class:`Diagram` of nodes and edges
with their properties and the line each came from, and the limits that keep hostile input bounded.

The readers of :mod:`alchemist.graph.diagrams` (Mermaid, DOT, Cypher, Cytoscape.js) parse a file into
a :class:`Diagram`; :meth:`Diagram.to_graph` builds a new :class:`~alchemist.Graph` from it and
:func:`~alchemist.graph.diagrams.import_into` turns it into events for an existing graph.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alchemist.errors import DuplicateIdError, GraphFormatError, NodeNotFoundError

__all__ = ["Diagram", "DiagramNode", "DiagramEdge", "MAX_BYTES", "MAX_DEPTH", "read_text", "format_error"]

MAX_BYTES = 16 * 1024 * 1024
"""Largest diagram file read (bytes); a larger one is refused before it is parsed (the Mermaid and Cypher
parsers read about 0.5-0.7 MB/s on a loaded 2-core machine, so this bounds a parse to half a minute)."""

MAX_DEPTH = 64
"""Deepest nesting accepted (Mermaid subgraphs, DOT subgraphs, Cypher maps and lists, JSON)."""


@dataclass
class DiagramNode:
    """One node of a diagram.

    Attributes
    ----------
    node_id : str
    label : str
        The node's type (a Cypher label; ``""`` where the format has none).
    properties : dict
        Display text (``"label"``), shape, subgraph, attributes, as the format gives them.
    line : int or None
        1-based line where the node first appears.
    """

    node_id: str
    label: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    def payload(self) -> dict[str, Any]:
        """The ``node_added`` payload of this node.

        Returns
        -------
        dict
        """
        return {"node_id": self.node_id, "label": self.label, "properties": dict(self.properties)}


@dataclass
class DiagramEdge:
    """One edge of a diagram.

    Attributes
    ----------
    edge_id : str
    source, target : str
        Node ids.
    relationship : str
        The edge type (a Cypher relationship type, a Mermaid link text).
    weight : float
    properties : dict
    line : int or None
    """

    edge_id: str
    source: str
    target: str
    relationship: str = ""
    weight: float = 1.0
    properties: dict[str, Any] = field(default_factory=dict)
    line: int | None = None

    def payload(self) -> dict[str, Any]:
        """The ``edge_added`` payload of this edge.

        Returns
        -------
        dict
        """
        return {"edge_id": self.edge_id, "source": self.source, "target": self.target,
                "relationship": self.relationship, "weight": float(self.weight), "properties": dict(self.properties)}


@dataclass
class Diagram:
    """Nodes and edges read from a diagram file, in the order the file gives them.

    Attributes
    ----------
    nodes : dict of str to DiagramNode
        By id, in order of first appearance.
    edges : list of DiagramEdge
    directed : bool
    name : str
        The diagram's name where the format has one (DOT's graph id).
    positions : dict of str to (float, float)
        Node positions where the format gives them (Cytoscape.js ``position``), in its units.
    path : str
        The file read (for error messages).
    edge_index : set of str
        The edge ids (kept by :meth:`add_edge`).
    parallel : dict of str to int
        The last suffix given to each ``"{source}-{target}"`` id (so that many parallel edges cost
        O(1) each).
    """

    nodes: dict[str, DiagramNode] = field(default_factory=dict)
    edges: list[DiagramEdge] = field(default_factory=list)
    directed: bool = True
    name: str = ""
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    path: str = "<text>"
    edge_index: set[str] = field(default_factory=set, repr=False)
    parallel: dict[str, int] = field(default_factory=dict, repr=False)

    def node(self, node_id: str, *, line: int | None = None) -> DiagramNode:
        """The node ``node_id``, added (with no properties) when it is new.

        Parameters
        ----------
        node_id : str
        line : int, optional

        Returns
        -------
        DiagramNode
        """
        found = self.nodes.get(node_id)
        if found is None:
            found = self.nodes[node_id] = DiagramNode(node_id, line=line)
        return found

    def add_edge(self, source: str, target: str, *, edge_id: str | None = None, line: int | None = None,
                 **fields) -> DiagramEdge:
        """Add an edge (and its end nodes when new); without ``edge_id`` the id is
        ``"{source}-{target}"`` as the original app names them, ``"-2"``, ``"-3"``... appended for
        parallel edges.

        Parameters
        ----------
        source, target : str
        edge_id : str, optional
        line : int, optional
        **fields
            ``relationship``, ``weight``, ``properties``.

        Returns
        -------
        DiagramEdge
        """
        self.node(source, line=line)
        self.node(target, line=line)
        if edge_id is None:
            edge_id = base = f"{source}-{target}"
            k = self.parallel.get(base, 1)
            while edge_id in self.edge_index:
                k += 1
                edge_id = f"{base}-{k}"
            self.parallel[base] = k
        edge = DiagramEdge(edge_id, source, target, line=line, **fields)
        self.edges.append(edge)
        self.edge_index.add(edge_id)
        return edge

    def to_graph(self, graph_id: str | None = None, *, directed: bool | None = None):
        """A new Graph holding the diagram.

        Parameters
        ----------
        graph_id : str, optional
            Defaults to the file name without its extensions.
        directed : bool, optional
            Defaults to what the diagram says.

        Returns
        -------
        Graph
            Nodes and edges in the diagram's order; ``positions`` set when the diagram has any
            (NaN for nodes without one).

        Raises
        ------
        GraphFormatError
            Two edges share an id (Cytoscape ids, Cypher variables are the file's own).
        """
        from alchemist.events import new_event
        from alchemist.graph.core import Graph

        gid = graph_id or Path(self.path).name.split(".")[0] or "graph"
        graph = Graph(gid, directed=self.directed if directed is None else directed)
        events = [new_event("node_added", gid, n.payload(), timestamp=0, validate=False) for n in self.nodes.values()]
        events += [new_event("edge_added", gid, e.payload(), timestamp=0, validate=False) for e in self.edges]
        try:
            graph.apply(events)
        except (NodeNotFoundError, DuplicateIdError) as exc:
            raise GraphFormatError(f"{self.path}: {exc}", path=self.path) from None
        if self.positions:
            graph.positions = np.array([self.positions.get(n, (np.nan, np.nan)) for n in graph.node_ids],
                                       dtype=np.float32)
        return graph


def read_text(path: str | Path, *, max_bytes: int = MAX_BYTES) -> str:
    """The text of a diagram file, refused before reading when it is larger than ``max_bytes``.

    Parameters
    ----------
    path : str or Path
    max_bytes : int

    Returns
    -------
    str

    Raises
    ------
    GraphFormatError
        The file is missing, unreadable, not UTF-8, or too large.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise GraphFormatError(f"{path}: {size} bytes is more than the {max_bytes} a diagram may have; "
                                   "pass max_bytes= to read it anyway", path=str(path))
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GraphFormatError(f"{path}: no such file", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GraphFormatError(f"{path}: cannot be read ({exc})", path=str(path)) from None


def format_error(path: str, line: int | None, message: str) -> GraphFormatError:
    """A :class:`~alchemist.errors.GraphFormatError` whose message starts ``"{path}, line {line}: "``
    as the other readers' do.

    Parameters
    ----------
    path : str
    line : int or None
    message : str

    Returns
    -------
    GraphFormatError
    """
    where = f"{path}, line {line}" if line is not None else str(path)
    return GraphFormatError(f"{where}: {message}", path=str(path), line=line)
