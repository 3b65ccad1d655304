"""The original Information Alchemist's diagram formats: Mermaid flowcharts (also in Markdown), Graphviz DOT,
Cypher ``CREATE``/``MERGE`` scripts and Cytoscape.js JSON — readers into a :class:`~alchemist.Graph`, writers
where the original app wrote the format (DOT, Cytoscape.js, Mermaid) and for Cypher, and :func:`import_into`
an existing graph or CIM connection as events, with the original app's merge policies.

Each reader parses into a :class:`Diagram` (nodes and edges with their properties and source lines) that
:meth:`Diagram.to_graph` turns into a new Graph and :func:`import_into` into events.
"""

from alchemist.graph.diagrams.cypher import parse_cypher, read_cypher, write_cypher
from alchemist.graph.diagrams.cytoscape import parse_cytoscape, read_cytoscape, write_cytoscape
from alchemist.graph.diagrams.dot import parse_dot, read_dot, write_dot
from alchemist.graph.diagrams.importing import (
    DIAGRAM_FORMATS,
    MERGE_POLICIES,
    ImportReport,
    diagram_format_of,
    diagram_of,
    import_into,
    read_diagram,
)
from alchemist.graph.diagrams.mermaid import mermaid_blocks, parse_mermaid, read_mermaid, write_mermaid
from alchemist.graph.diagrams.model import Diagram, DiagramEdge, DiagramNode

__all__ = [
    "Diagram", "DiagramNode", "DiagramEdge", "read_mermaid", "parse_mermaid", "write_mermaid", "mermaid_blocks",
    "read_dot", "parse_dot", "write_dot", "read_cypher", "parse_cypher", "write_cypher", "read_cytoscape",
    "parse_cytoscape", "write_cytoscape", "import_into", "read_diagram", "diagram_of", "diagram_format_of",
    "ImportReport", "MERGE_POLICIES", "DIAGRAM_FORMATS",
]
