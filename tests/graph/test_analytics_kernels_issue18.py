"""Kernels tuned for small graphs (issue 18): Rem's union–find, Tarjan without on-stack flags,
the degree-ordered triangle count and the serial PageRank path — each against an independent
computation (scipy.sparse.csgraph, NetworkX)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components as scipy_components

from alchemist.graph import Graph, clustering, connected_components, pagerank, strongly_connected_components


def _same_partition(a, b):
    """Two labellings are the same partition when the pairs (a, b) are one-to-one."""
    pairs = np.unique(np.stack([a, b]), axis=1)
    return pairs.shape[1] == np.unique(a).shape[0] == np.unique(b).shape[0]


@pytest.mark.parametrize("seed", range(12))
def test_components_match_scipy_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 400))
    m = int(rng.integers(0, 3 * n))
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    g = Graph.from_arrays(src, dst, node_ids=[str(i) for i in range(n)], directed=True)
    A = sp.coo_matrix((np.ones(m), (src, dst)), shape=(n, n)).tocsr()
    _, weak = scipy_components(A, directed=True, connection="weak")
    _, strong = scipy_components(A, directed=True, connection="strong")
    assert _same_partition(connected_components(g), weak)
    assert _same_partition(strongly_connected_components(g), strong)
