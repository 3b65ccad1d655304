"""alchemist as a NetworkX backend: ``nx.pagerank(G, backend="alchemist")``.

NetworkX (≥ 3.2) dispatches its functions to installed backends through the ``networkx.backends``
and ``networkx.backend_info`` entry points, which ``pip install alchemist`` registers. Call a
function with ``backend="alchemist"``, or put ``"alchemist"`` first in
``nx.config.backend_priority`` (or ``NETWORKX_BACKEND_PRIORITY=alchemist``) to use it for every
call it supports; other calls and unsupported arguments run in NetworkX as before. Conversions are
cached on the NetworkX graph (``nx.config.cache_converted_graphs``).

Functions: ``pagerank``, ``betweenness_centrality`` (exact and ``k``-sampled), ``louvain_communities``,
``modularity``, ``clustering``, ``average_clustering``, ``transitivity``, ``connected_components``,
``strongly_connected_components``, ``shortest_path``, ``shortest_path_length``,
``single_source_dijkstra_path_length``, ``forceatlas2_layout``.

References
----------
NetworkX, "Backends", https://networkx.org/documentation/stable/backends.html.

Examples
--------
>>> import networkx as nx
>>> G = nx.karate_club_graph()
>>> pr = nx.pagerank(G, backend="alchemist")
>>> max(pr, key=pr.get), round(sum(pr.values()), 6)
(33, 1.0)
"""

from __future__ import annotations

from alchemist.nx_backend.algorithms import FUNCTIONS, can_run
from alchemist.nx_backend.graph import BackendGraph, convert_from_nx, convert_to_nx

__all__ = ["BackendInterface", "backend_interface", "get_info", "BackendGraph", "convert_from_nx", "convert_to_nx"]


class BackendInterface:
    """What the ``networkx.backends`` entry point loads: the conversions and the functions."""

    convert_from_nx = staticmethod(convert_from_nx)
    convert_to_nx = staticmethod(convert_to_nx)
    can_run = staticmethod(can_run)

    @staticmethod
    def should_run(name, args, kwargs) -> bool:
        """Run whenever NetworkX prefers this backend (the conversion is cached per graph)."""
        return True

    @staticmethod
    def on_start_tests(items) -> None:
        """Mark NetworkX's own tests whose expected values are one of several right answers.

        Run by NetworkX's test suite with ``NETWORKX_TEST_BACKEND=alchemist``; each marked
        test expects NetworkX's particular choice where alchemist makes another valid one.
        """
        import pytest

        for item in items:
            key = f"{getattr(item, 'path', None) and item.path.name}::{item.name}"  # --pyargs ids lack the file
            for fragment, reason in KNOWN_DIFFERENCES.items():
                if fragment in key:
                    item.add_marker(pytest.mark.xfail(reason=reason, strict=False))


for _name, _fn in FUNCTIONS.items():
    setattr(BackendInterface, _name, staticmethod(_fn))

backend_interface = BackendInterface()

#: test-id fragments of NetworkX's suite that expect one particular answer among several right ones
KNOWN_DIFFERENCES: dict[str, str] = {
    "test_louvain.py::test_karate_club_partition": "expects NetworkX's Louvain partition for seed=2 (another run order)",
    "test_louvain.py::test_undirected_selfloops": "expects NetworkX's Louvain partition for seed=2 (another run order)",
    "test_louvain.py::test_none_weight_param": "expects NetworkX's Louvain partition for seed=2 (another run order)",
    "test_louvain.py::test_multigraph": "compares a simple graph's partition (alchemist) with a multigraph's (NetworkX)",
    "::test_condensation_mapping_and_members": "expects NetworkX's order of equal-size strongly connected components",
}


def get_info() -> dict:
    """The ``networkx.backend_info`` entry point: what NetworkX's documentation shows for the backend.

    Returns
    -------
    dict
        ``backend_name``, ``project``, ``package``, ``url``, ``short_summary``, ``functions``.
    """
    return {
        "backend_name": "alchemist",
        "project": "alchemist",
        "package": "alchemist",
        "url": "https://github.com/TheCowboyAI/alchemist",
        "short_summary": "Numba-compiled graph kernels of the alchemist knowledge-graph environment.",
        "default_config": {},
        "functions": {name: {"additional_docs": (fn.__doc__ or "").strip().splitlines()[0]}
                      for name, fn in FUNCTIONS.items()},
    }
