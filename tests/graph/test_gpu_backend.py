"""``backend=`` of the graph analytics without a GPU (the ordinary test session, no simulator):
``"cuda"`` raises the same BackendError as the layout, ``"auto"`` runs on the CPU.

The GPU is hidden by replacing ``alchemist.backend.gpu_available`` so that the test means the same
on a machine that has one.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import alchemist.backend
from alchemist.errors import BackendError
from alchemist.graph import (
    Graph,
    average_clustering,
    clustering,
    connected_components,
    louvain,
    pagerank,
    shortest_path_length,
    strongly_connected_components,
    transitivity,
)

CALLS = {
    "pagerank": lambda g, b: pagerank(g, backend=b),
    "connected_components": lambda g, b: connected_components(g, backend=b),
    "strongly_connected_components": lambda g, b: strongly_connected_components(g, backend=b),
    "clustering": lambda g, b: clustering(g, backend=b),
    "average_clustering": lambda g, b: average_clustering(g, backend=b),
    "transitivity": lambda g, b: transitivity(g, backend=b),
    "louvain": lambda g, b: louvain(g, backend=b),
    "shortest_path_length": lambda g, b: shortest_path_length(g, "a", backend=b),
    "shortest_path_length weighted": lambda g, b: shortest_path_length(g, "a", weight="weight", backend=b),
}


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(alchemist.backend, "gpu_available", lambda: False)


@pytest.fixture
def graph():
    return Graph.from_edges([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")], directed=True)


@pytest.mark.parametrize("name", list(CALLS))
def test_cuda_without_a_gpu_is_the_layouts_backend_error(name, graph, no_gpu):
    from alchemist.layout import forceatlas2

    with pytest.raises(BackendError) as layout_error:
        forceatlas2(nx.path_graph(3), 1, backend="cuda")
    with pytest.raises(BackendError) as error:
        CALLS[name](graph, "cuda")
    assert str(error.value) == str(layout_error.value)
    assert "backend='cpu'" in str(error.value)


@pytest.mark.parametrize("name", list(CALLS))
def test_auto_without_a_gpu_is_the_cpu(name, graph, no_gpu):
    auto, cpu = CALLS[name](graph, "auto"), CALLS[name](graph, "cpu")
    np.testing.assert_array_equal(auto, cpu)


def test_unknown_backend_is_named(graph):
    with pytest.raises(BackendError, match="unknown backend 'gpu'; use one of 'auto', 'cpu', 'cuda'"):
        pagerank(graph, backend="gpu")


def test_cuda_is_refused_on_an_empty_graph_too(no_gpu):
    """Validation comes first: the request for a missing device fails even when there is nothing to compute."""
    empty = Graph.from_edges([])
    for fn in (pagerank, connected_components, clustering, louvain):
        with pytest.raises(BackendError):
            fn(empty, backend="cuda")
