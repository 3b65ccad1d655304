"""What the analysis agent suggests, computed: a layout and communities, each with a confidence.

- :func:`layout_suggestion`: ForceAtlas2 positions (Jacomy et al. 2014, alchemist's kernel) and,
  as confidence, the layout's neighbourhood preservation (:func:`neighbourhood_preservation`);
  accepting it is one ``layout_applied`` event.
- :func:`community_suggestion`: Louvain communities (Blondel et al. 2008, via NetworkX) and, as
  confidence, their modularity clipped to ``[0, 1]``; accepting it is one ``node_updated`` event per
  node setting its ``community`` property.

:class:`~alchemist.cim.agents.AnalysisAgent` answers ``suggest_layout`` and
``suggest_communities`` with these, as :class:`~alchemist.cim.suggestions.Suggestion` objects.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["layout_suggestion", "community_suggestion", "neighbourhood_preservation"]


def layout_suggestion(graph, *, iterations: int = 100, seed: int = 0,
                      report: Callable[[str, float], object] | None = None) -> tuple[dict, float, str]:
    """ForceAtlas2 positions for ``graph``, with their neighbourhood preservation as confidence.

    Parameters
    ----------
    graph : Graph
        An alchemist graph with at least one node.
    iterations : int
        ForceAtlas2 iterations (>= 1).
    seed : int
        Seed of the initial positions (the result is deterministic for a seed).
    report : callable, optional
        ``report(message, fraction)`` about every tenth of the iterations.

    Returns
    -------
    positions : dict of str to [float, float]
        By node id (a ``layout_applied`` payload's ``positions``).
    confidence : float
        :func:`neighbourhood_preservation` of the positions, in ``[0, 1]``.
    text : str
        One sentence saying what it is and how the confidence was measured.

    References
    ----------
    .. [1] M. Jacomy, T. Venturini, S. Heymann, M. Bastian, "ForceAtlas2, a continuous graph layout
       algorithm", PLoS ONE 9(6) e98679 (2014).

    Examples
    --------
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("x", "y")])
    >>> positions, confidence, text = layout_suggestion(g, iterations=50)
    >>> sorted(positions), 0 <= confidence <= 1
    (['a', 'b', 'c', 'x', 'y'], True)
    """
    from alchemist.layout import forceatlas2

    iterations = max(1, int(iterations))
    step = max(1, iterations // 10)

    def callback(i: int, _positions) -> None:
        if report is not None and (i + 1) % step == 0 and i + 1 < iterations:
            report(f"ForceAtlas2: {i + 1}/{iterations} iterations", 0.1 + 0.8 * (i + 1) / iterations)

    pos = np.asarray(forceatlas2(graph, iterations=iterations, seed=seed, callback=callback), dtype=np.float64)
    if report is not None:
        report("measuring neighbourhood preservation", 0.9)
    confidence = neighbourhood_preservation(graph, pos)
    positions = {n: [float(x), float(y)] for n, (x, y) in zip(graph.node_ids, pos.tolist())}
    text = (f"ForceAtlas2 layout of {len(positions):,} nodes ({iterations} iterations, seed {seed}): "
            f"{confidence:.0%} neighbourhood preservation (a node's graph neighbours among its nearest nodes "
            "in the drawing)")
    return positions, confidence, text


def community_suggestion(graph, *, seed: int = 0) -> tuple[list[list[str]], float, str]:
    """Louvain communities of the undirected simple graph, largest first, with their modularity.

    Parameters
    ----------
    graph : Graph
    seed : int
        Louvain's random seed.

    Returns
    -------
    communities : list of list of str
        Node ids, each community sorted, largest community first.
    confidence : float
        The partition's modularity clipped to ``[0, 1]`` (Newman 2006).
    text : str

    References
    ----------
    .. [1] V. D. Blondel, J.-L. Guillaume, R. Lambiotte, E. Lefebvre, "Fast unfolding of
       communities in large networks", J. Stat. Mech. (2008) P10008.
    .. [2] M. E. J. Newman, "Modularity and community structure in networks", PNAS 103 (2006) 8577.

    Examples
    --------
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("x", "y"), ("y", "z"), ("z", "x")])
    >>> communities, confidence, _ = community_suggestion(g)
    >>> communities, round(confidence, 3)
    ([['a', 'b', 'c'], ['x', 'y', 'z']], 0.5)
    """
    import networkx as nx

    G = nx.Graph(graph.to_networkx().to_undirected())
    parts = sorted((sorted(c) for c in nx.community.louvain_communities(G, seed=seed)), key=lambda c: (-len(c), c))
    modularity = float(nx.community.modularity(G, parts)) if G.number_of_edges() else 0.0
    confidence = min(1.0, max(0.0, modularity))
    sizes = ", ".join(f"{len(c):,}" for c in parts[:5])
    text = (f"{len(parts):,} Louvain communities (largest {sizes} nodes), modularity {modularity:.3f}; "
            "accepting sets each node's 'community' property")
    return parts, confidence, text


def neighbourhood_preservation(graph, positions) -> float:
    """Mean Jaccard similarity of each node's graph neighbours and its nearest nodes in a layout.

    For every node ``i`` with ``d_i >= 1`` neighbours ``N(i)`` in the undirected simple graph
    (self-loops and edge directions ignored), ``K(i)`` are the ``d_i`` nodes nearest to it in the
    layout (Euclidean); the score is the mean of ``|N(i) ∩ K(i)| / |N(i) ∪ K(i)|``. 1 means every
    node's neighbours are exactly its nearest nodes; a random layout of a sparse graph scores near 0.

    Parameters
    ----------
    graph : Graph
    positions : (n_nodes, 2) array_like
        In the graph's row order.

    Returns
    -------
    float
        In ``[0, 1]``; 0 for a graph with no edges.

    References
    ----------
    .. [1] J. F. Kruiger, P. E. Rauber, R. M. Martins, A. Kerren, S. Kobourov, A. C. Telea, "Graph
       Layouts by t-SNE", Computer Graphics Forum 36(3) (2017) 283-294 (neighbourhood preservation).

    Examples
    --------
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b"), ("c", "d")])
    >>> neighbourhood_preservation(g, [[0, 0], [1, 0], [10, 0], [11, 0]])
    1.0
    >>> neighbourhood_preservation(g, [[0, 0], [10, 0], [1, 0], [11, 0]])
    0.0
    """
    from scipy.spatial import cKDTree

    pos = np.asarray(positions, dtype=np.float64)
    ids = graph.node_ids
    index = {n: i for i, n in enumerate(ids)}
    neighbours: list[set[int]] = [set() for _ in ids]
    for u, v in graph.to_networkx().edges():
        if u != v:
            neighbours[index[u]].add(index[v])
            neighbours[index[v]].add(index[u])
    degrees = np.array([len(s) for s in neighbours])
    if not degrees.any():
        return 0.0
    tree = cKDTree(pos)
    scores = []
    for d in np.unique(degrees[degrees > 0]):
        rows = np.flatnonzero(degrees == d)
        k = int(min(len(ids), d + 1))
        _, nearest = tree.query(pos[rows], k=k)
        nearest = np.asarray(nearest).reshape(len(rows), k)
        for row, near in zip(rows, nearest):
            chosen = [j for j in near.tolist() if j != row][:d]
            found = neighbours[row]
            scores.append(len(found.intersection(chosen)) / len(found.union(chosen)))
    return float(np.mean(scores))
