"""The event-sourced columnar Graph, its readers and writers."""

from alchemist.graph.core import ApplyResult, Graph
from alchemist.graph.io import EdgeList, read_edge_list, read_graph

__all__ = ["ApplyResult", "EdgeList", "Graph", "read_edge_list", "read_graph"]
