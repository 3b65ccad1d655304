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

import os as _os
from importlib import import_module as _import_module
from typing import Any as _Any

# The parallel kernels (Numba on GNU OpenMP) run many short parallel regions. libgomp's threads spin up
# to ~3 ms (300,000 spins) for the next one; on a machine where other processes want the cores, a
# spinning thread keeps the core its descheduled partner needs: Louvain on soc-Slashdot0902 beside three
# busy processes took 0.9-1.8 s, and 0.3-0.5 s with 20,000 spins (~0.2 ms), which keep the quiet speed
# (0.073-0.078 s either way, 2 cores). A user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT is left as it is.
if "OMP_WAIT_POLICY" not in _os.environ:
    _os.environ.setdefault("GOMP_SPINCOUNT", "20000")

__version__ = "0.1.0"

__all__ = [
    "Event", "Graph", "cid", "concepts", "connect", "errors", "games", "get_backend", "gpu_available", "ingest",
    "layout", "new_event", "read_edge_list", "read_graph", "render", "set_backend", "widgets", "__version__",
]

# Every public name loads on first use (PEP 562), so that `import alchemist` imports neither Numba (~0.6 s
# here) nor NumPy, pyarrow or the compute packages: name -> the module that defines it.
_LAZY_NAMES = {
    "Event": "alchemist.events", "cid": "alchemist.events", "new_event": "alchemist.events",
    "Graph": "alchemist.graph", "read_edge_list": "alchemist.graph", "read_graph": "alchemist.graph",
    "get_backend": "alchemist.backend", "gpu_available": "alchemist.backend", "set_backend": "alchemist.backend",
}
# alchemist.ingest is a package whose module object is callable: alchemist.ingest(documents) is ingest(documents)
_LAZY_MODULES = {"backend", "cim", "concepts", "errors", "events", "games", "graph", "ingest", "layout", "render",
                 "widgets"}


def connect(url: str | None = None, **options: _Any):
    """Connect to the CIM; with no URL, start the embedded nats-server. See :func:`alchemist.cim.connect`.

    Imports :mod:`alchemist.cim` (and nats-py) on first call only, so ``import alchemist`` stays
    light.

    Parameters
    ----------
    url : str, optional
        NATS server URL(s), comma separated for a cluster; default ``$ALCHEMIST_NATS_URL`` or
        ``$NATS_URL``, else an embedded server under ``$ALCHEMIST_HOME``.
    **options
        The keyword arguments of :func:`alchemist.cim.connect` (credentials, TLS, ``replicas``,
        ``outbox``, ``timeout``, stream options).

    Returns
    -------
    alchemist.cim.Connection

    Raises
    ------
    CIMConnectionError
        No server answers at the URL within the timeout (or the TLS handshake fails).
    CIMAuthenticationError
        The server refused the credentials.
    ServerStartError
        The embedded server could not start.
    StreamConflictError
        A stream alchemist did not create has the same name or overlapping subjects.

    Examples
    --------
    >>> import alchemist
    >>> cim = alchemist.connect()                       # doctest: +SKIP
    >>> cim.publish(alchemist.new_event("node_added", "g", {"node_id": "a"}))   # doctest: +SKIP
    """
    from alchemist.cim import connect as _connect

    return _connect(url, **options)


def __getattr__(name: str):
    if name in _LAZY_NAMES:
        value = getattr(_import_module(_LAZY_NAMES[name]), name)
    elif name in _LAZY_MODULES:
        value = _import_module(f"alchemist.{name}")
    else:
        raise AttributeError(f"module 'alchemist' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
