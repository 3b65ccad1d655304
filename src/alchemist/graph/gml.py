"""What GML cannot hold, encoded so that a GML file keeps it: node labels and booleans.

GML (Himsolt 1997) gives each node a ``label`` that NetworkX's reader and writer use for the node
id, and has no boolean type (``networkx.write_gml`` writes ``True`` / ``False`` as 1 / 0).
:func:`gml_encoded` moves an alchemist node label to the field ``alchemistLabel`` and lists the
keys that held booleans (JSON, ``{"node": [...], "edge": [...]}``) in the graph field
``alchemistBooleans``; :func:`gml_decoded` undoes both on what ``networkx.read_gml`` read. Other
readers see a valid GML file: ids as labels, the extra fields as ordinary attributes.
"""

from __future__ import annotations

import json

__all__ = ["gml_encoded", "gml_decoded", "LABEL_FIELD", "BOOLEANS_FIELD"]

#: GML node field that holds an alchemist node's label (GML's ``label`` holds the node id).
LABEL_FIELD = "alchemistLabel"
#: GML graph field listing (JSON) the node and edge keys whose 1 / 0 values are booleans.
BOOLEANS_FIELD = "alchemistBooleans"


def gml_encoded(G):
    """Prepare a NetworkX graph for ``networkx.write_gml`` (in place).

    Parameters
    ----------
    G : networkx graph
        Node attribute ``label`` is the alchemist label; values already GML-writable.

    Returns
    -------
    networkx graph
        ``G``, with labels under :data:`LABEL_FIELD` and :data:`BOOLEANS_FIELD` set when some
        key holds booleans.

    Raises
    ------
    None

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_node("a", label="Person", vip=True)
    >>> gml_encoded(G).nodes["a"], G.graph
    ({'vip': True, 'alchemistLabel': 'Person'}, {'alchemistBooleans': '{"node": ["vip"], "edge": []}'})
    """
    edge_data = [d for *_, d in (G.edges(keys=True, data=True) if G.is_multigraph() else G.edges(data=True))]
    booleans = {"node": _boolean_keys(d for _, d in G.nodes(data=True)), "edge": _boolean_keys(edge_data)}
    for _, data in G.nodes(data=True):
        if "label" in data:
            data[LABEL_FIELD] = data.pop("label")
    if booleans["node"] or booleans["edge"]:
        G.graph[BOOLEANS_FIELD] = json.dumps(booleans)
    return G


def gml_decoded(G):
    """Undo :func:`gml_encoded` on a graph ``networkx.read_gml`` read (in place).

    Parameters
    ----------
    G : networkx graph

    Returns
    -------
    networkx graph
        ``G``, with node labels back under ``label`` and the listed keys as booleans; a file
        without the fields is left as it is.

    Raises
    ------
    None
        A malformed :data:`BOOLEANS_FIELD` is ignored.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph(alchemistBooleans='{"node": ["vip"], "edge": []}')
    >>> G.add_node("a", alchemistLabel="Person", vip=1)
    >>> gml_decoded(G).nodes["a"]
    {'vip': True, 'label': 'Person'}
    """
    booleans = G.graph.pop(BOOLEANS_FIELD, None)
    try:
        booleans = json.loads(booleans) if isinstance(booleans, str) else {}
    except ValueError:
        booleans = {}
    booleans = booleans if isinstance(booleans, dict) else {}
    node_bools, edge_bools = set(booleans.get("node", ())), set(booleans.get("edge", ()))
    for _, data in G.nodes(data=True):
        if LABEL_FIELD in data:
            data["label"] = str(data.pop(LABEL_FIELD))
        for k in node_bools & data.keys():
            data[k] = bool(data[k])
    for *_, data in (G.edges(keys=True, data=True) if G.is_multigraph() else G.edges(data=True)):
        for k in edge_bools & data.keys():
            data[k] = bool(data[k])
    return G


def _boolean_keys(records) -> list:
    """Keys whose values are booleans wherever they are set."""
    kinds: dict = {}
    for data in records:
        for k, v in data.items():
            kinds.setdefault(k, set()).add(isinstance(v, bool))
    return sorted(k for k, seen in kinds.items() if seen == {True})
