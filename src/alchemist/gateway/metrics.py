"""Prometheus metrics of the gateway's HTTP requests, in a registry of its own per application.

:class:`GatewayMetrics` holds ``alchemist_gateway_requests_total`` (a counter by method, route
template and status) and ``alchemist_gateway_request_duration_seconds`` (a histogram by method
and route template) in its own ``CollectorRegistry``, so two applications in one process (tests,
several instances) do not clash. :class:`MetricsMiddleware` (pure ASGI, outermost) records every
HTTP request, those refused with 401/429 included; the label is the route's template
(``/api/v1/graphs/{graph_id}``), never the raw path, so the number of series stays bounded.
:func:`metrics_endpoint` serves the text exposition at ``/metrics``, with the CIM's own metrics
(:data:`alchemist.cim.observability.REGISTRY`: events published, applied, dead-lettered) after the gateway's.
"""

from __future__ import annotations

import time

__all__ = ["GatewayMetrics", "MetricsMiddleware", "metrics_of", "metrics_endpoint", "route_template", "UNMATCHED"]

UNMATCHED = "<unmatched>"
"""The route label of a request no route matches (a 404)."""

_KEY = "alchemist.gateway.metrics"


class GatewayMetrics:
    """The request counter and latency histogram of one gateway application.

    Attributes
    ----------
    registry : prometheus_client.CollectorRegistry
    requests : prometheus_client.Counter
        ``alchemist_gateway_requests_total{method, route, status}``.
    latency : prometheus_client.Histogram
        ``alchemist_gateway_request_duration_seconds{method, route}`` (seconds, from the request's
        arrival to the end of its response body).

    Examples
    --------
    >>> from prometheus_client import generate_latest
    >>> m = GatewayMetrics()
    >>> m.observe("GET", "/healthz", 200, 0.002)
    >>> m.requests.labels("GET", "/healthz", "200")._value.get()
    1.0
    """

    def __init__(self):
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("alchemist_gateway_requests", "HTTP requests served, by route template and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("alchemist_gateway_request_duration_seconds",
                                 "HTTP request latency (arrival to the end of the response), seconds",
                                 ["method", "route"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                                          10.0, 30.0))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Record one request.

        Parameters
        ----------
        method : str
        route : str
            The route template.
        status : int
        seconds : float

        Returns
        -------
        None
        """
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)


def metrics_of(ctx) -> GatewayMetrics:
    """The :class:`GatewayMetrics` of a gateway (made on first use, kept in ``ctx.extras``).

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    GatewayMetrics
    """
    metrics = ctx.extras.get(_KEY)
    if metrics is None:
        metrics = ctx.extras[_KEY] = GatewayMetrics()
    return metrics


def route_template(scope) -> str:
    """The template of the route that served (or would serve) a request, :data:`UNMATCHED` if none.

    Parameters
    ----------
    scope : dict
        The ASGI scope, after the request (Starlette's router sets ``scope["route"]``; a request
        refused before routing is matched against the application's routes here).

    Returns
    -------
    str
    """
    route = scope.get("route")
    if route is None and scope.get("app") is not None:
        from starlette.routing import Match

        for candidate in getattr(scope["app"], "routes", ()):
            match, _ = candidate.matches({**scope, "method": scope.get("method", "GET")})
            if match is not Match.NONE:
                route = candidate
                break
    return getattr(route, "path", None) or UNMATCHED


async def metrics_endpoint(request):
    """``GET /metrics``: the Prometheus text exposition (the gateway's registry, then the CIM's).

    Parameters
    ----------
    request : starlette.requests.Request

    Returns
    -------
    starlette.responses.Response
    """
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
    from starlette.responses import Response

    from alchemist.cim.observability import REGISTRY

    body = generate_latest(metrics_of(request.app.state.gateway).registry) + generate_latest(REGISTRY)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Pure ASGI middleware recording each HTTP request in :func:`metrics_of` ``(ctx)``.

    Parameters
    ----------
    app : ASGI application
    ctx : GatewayContext
    """

    def __init__(self, app, ctx):
        self.app = app
        self.metrics = metrics_of(ctx)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recording(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            self.metrics.observe(scope["method"], route_template(scope), status, time.perf_counter() - start)
