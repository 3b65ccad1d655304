"""The event-sourced columnar Graph, its readers and writers, queries and analytics."""

from alchemist.graph.analytics import (
    average_clustering,
    betweenness_centrality,
    clustering,
    connected_components,
    degree_statistics,
    louvain,
    modularity,
    pagerank,
    strongly_connected_components,
    transitivity,
)
from alchemist.graph.arrow import GraphTables, from_arrow, to_arrow
from alchemist.graph.core import ApplyResult, Graph
from alchemist.graph.diagrams import import_into, read_cypher, read_cytoscape, read_dot, read_mermaid
from alchemist.graph.diff import GraphDiff, diff
from alchemist.graph.queries import find_nodes, k_hop, neighbors, shortest_path, shortest_path_length, subgraph
from alchemist.graph.io import (
    EdgeList,
    from_frames,
    read_arrows,
    read_edge_list,
    read_gexf,
    read_gml,
    read_graph,
    read_graphml,
    read_node_link,
    read_parquet,
    to_frames,
    write_arrows,
    write_gexf,
    write_gml,
    write_graph,
    write_graphml,
    write_node_link,
    write_parquet,
)

__all__ = [
    "ApplyResult", "EdgeList", "Graph", "GraphDiff", "diff", "GraphTables", "from_arrow", "from_frames", "read_arrows", "read_edge_list", "read_gexf", "read_gml",
    "read_graph", "read_graphml", "read_node_link", "read_parquet", "to_arrow", "to_frames", "write_arrows", "write_gexf",
    "write_gml", "write_graph", "write_graphml", "write_node_link", "write_parquet",
    # analytics
    "average_clustering", "betweenness_centrality", "clustering", "connected_components", "degree_statistics",
    "louvain", "modularity", "pagerank", "strongly_connected_components", "transitivity",
    # the original app's diagram formats
    "import_into", "read_cypher", "read_cytoscape", "read_dot", "read_mermaid",
    # queries
    "find_nodes", "k_hop", "neighbors", "shortest_path", "shortest_path_length", "subgraph",
]
