"""Metrics (prometheus-client) and structured log lines of the CIM layer.

Metrics live in their own :class:`prometheus_client.CollectorRegistry` (one per process), so that
importing alchemist never touches the global registry; :func:`serve_metrics` exports them over
HTTP on demand. Log lines go to the ``alchemist.cim`` logger as ``event key=value ...`` with
values quoted when needed (logfmt); credentials are never passed to it.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server

__all__ = ["METRICS", "serve_metrics", "log", "metrics_text", "progress_bar"]

REGISTRY = CollectorRegistry(auto_describe=True)


class _Metrics:
    def __init__(self, registry: CollectorRegistry):
        self.published = Counter("alchemist_events_published", "Events published to JetStream", ["stream"],
                                 registry=registry)
        self.received = Counter("alchemist_events_received", "Events received from JetStream", ["graph"],
                                registry=registry)
        self.applied = Counter("alchemist_events_applied", "Events applied to a graph", ["graph"], registry=registry)
        self.dead_lettered = Counter("alchemist_events_dead_lettered", "Messages or events dead-lettered",
                                     ["reason"], registry=registry)
        self.publish_latency = Histogram("alchemist_publish_latency_seconds", "Publish-to-ack latency",
                                         registry=registry,
                                         buckets=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1, 3))
        self.consumer_lag = Gauge("alchemist_consumer_lag", "Messages pending for a graph consumer", ["graph"],
                                  registry=registry)
        self.outbox_depth = Gauge("alchemist_outbox_depth", "Messages waiting in the local outbox", registry=registry)


METRICS = _Metrics(REGISTRY)
_LOGGER = logging.getLogger("alchemist.cim")
_SERVED: dict[int, object] = {}


def serve_metrics(port: int = 0, addr: str = "127.0.0.1") -> int:
    """Serve the metrics at ``http://addr:port/metrics`` (Prometheus text format) from a
    background thread; returns the port (a free one when ``port=0``).

    Parameters
    ----------
    port : int
        TCP port; 0 picks a free one.
    addr : str
        Listen address (loopback by default: the metrics are not exposed to the network).

    Returns
    -------
    int
        The port served.

    Raises
    ------
    OSError
        The port is taken, or ``addr`` is not an address of this machine.

    Examples
    --------
    >>> import urllib.request
    >>> port = serve_metrics(0)
    >>> text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
    >>> "alchemist_outbox_depth" in text
    True
    """
    server, _thread = start_http_server(port, addr=addr, registry=REGISTRY)
    actual = server.server_address[1]
    _SERVED[actual] = server
    return actual


def metrics_text() -> str:
    """The current metrics in the Prometheus text format.

    Returns
    -------
    str
        ``alchemist_events_published``, ``_received``, ``_applied``, ``_dead_lettered``,
        ``alchemist_publish_latency_seconds``, ``alchemist_consumer_lag`` and
        ``alchemist_outbox_depth``, with their labels.

    References
    ----------
    .. [1] Prometheus, "Exposition formats",
       https://prometheus.io/docs/instrumenting/exposition_formats/

    Examples
    --------
    >>> "# TYPE alchemist_publish_latency_seconds histogram" in metrics_text()
    True
    """
    return generate_latest(REGISTRY).decode()


def log(event: str, level: int = logging.INFO, **fields) -> None:
    """One structured log line: ``event key=value ...`` on the ``alchemist.cim`` logger.

    Values with a space, ``"`` or ``=`` (or empty) are quoted (logfmt); the record also carries
    ``cim_event`` and ``cim_fields`` for a structured handler. Nothing is formatted when the
    level is disabled.

    Parameters
    ----------
    event : str
        What happened (``cim.connected``, ``cim.dead_lettered`` ...).
    level : int
        A :mod:`logging` level.
    **fields
        Key-value pairs (never credentials).

    Returns
    -------
    None

    Examples
    --------
    >>> import logging, sys
    >>> handler = logging.StreamHandler(sys.stdout)
    >>> logger = logging.getLogger("alchemist.cim")
    >>> logger.addHandler(handler); logger.setLevel(logging.INFO)
    >>> log("cim.connected", servers="nats://127.0.0.1:4222", note="two words")
    cim.connected servers=nats://127.0.0.1:4222 note="two words"
    >>> logger.removeHandler(handler); logger.setLevel(logging.NOTSET)
    """
    if not _LOGGER.isEnabledFor(level):
        return
    parts = [event]
    for key, value in fields.items():
        text = str(value)
        if not text or any(c in text for c in ' "='):
            text = '"' + text.replace('"', '\\"') + '"'
        parts.append(f"{key}={text}")
    _LOGGER.log(level, " ".join(parts), extra={"cim_event": event, "cim_fields": fields})


def progress_bar(progress, total: int | None, description: str, unit: str):
    """A function ``update(n)`` (``update(None)`` closes) for a tqdm bar or a user callback.

    Parameters
    ----------
    progress : bool or callable
        False: no bar (returns None); True: a tqdm bar; a callable: called with the running total.
    total : int, optional
        Expected number of units.
    description, unit : str
        The bar's label and unit name.

    Returns
    -------
    callable or None
        ``update(n)`` adds ``n`` units; ``update(None)`` closes the bar.

    Examples
    --------
    >>> seen = []
    >>> update = progress_bar(seen.append, 10, "publishing", "events")
    >>> update(3); update(4); update(None)
    >>> seen
    [3, 7]
    >>> progress_bar(False, 10, "publishing", "events") is None
    True
    """
    if not progress:
        return None
    if callable(progress) and progress is not True:
        done = [0]

        def call(n):
            if n is not None:
                done[0] += n
                progress(done[0])

        return call
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=description, unit=f" {unit}", unit_scale=True, leave=False)

    def update(n):
        if n is None:
            bar.close()
        else:
            bar.update(n)

    return update
