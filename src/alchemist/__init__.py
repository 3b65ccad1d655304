"""alchemist — a notebook-first analytical environment for knowledge graphs on a Composable
Information Machine (CIM).

Every change to a CIM graph is an event on NATS JetStream; alchemist streams those events into an
event-sourced columnar :class:`Graph`, lays it out with ForceAtlas2, analyses it (graphs,
Gärdenfors conceptual spaces, game theory) on the CPU or a GPU, and renders it with Datashader.

Quick start::

    import alchemist
    g = alchemist.read_graph("data/samples/CollegeMsg.txt.gz", directed=True)
    pos = alchemist.layout.forceatlas2(g, iterations=200, seed=1)
    png = alchemist.render.graph_image(g, pos)
"""

from importlib import import_module as _import_module
from typing import Any as _Any

from alchemist import errors
from alchemist.backend import get_backend, gpu_available, set_backend
from alchemist.events import Event, cid, new_event
from alchemist.graph import Graph, read_edge_list, read_graph

__version__ = "0.1.0"

__all__ = [
    "Event", "Graph", "cid", "concepts", "connect", "errors", "games", "get_backend", "gpu_available", "layout",
    "new_event", "read_edge_list", "read_graph", "render", "set_backend", "widgets", "__version__",
]

_LAZY = {"layout", "render", "concepts", "games", "widgets", "cim"}


def connect(url: str | None = None, **options: _Any):
    """Connect to the CIM; with no URL, start the embedded nats-server. See :func:`alchemist.cim.connect`."""
    from alchemist.cim import connect as _connect

    return _connect(url, **options)


def __getattr__(name: str):
    # subpackages load on first use so that `import alchemist` stays fast
    if name in _LAZY:
        module = _import_module(f"alchemist.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'alchemist' has no attribute {name!r}")
