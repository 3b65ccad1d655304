"""The integration gateway: GraphQL, REST and WebSocket collaboration over the CIM (``alchemist serve``).

One ASGI application (Starlette on uvicorn) in front of a :class:`~alchemist.cim.Connection`:

- ``/graphql``: the seed's GraphQL schema (Strawberry; GraphiQL in a browser), queries read the
  event-sourced graph, mutations publish CIM events with optimistic concurrency, subscriptions
  over WebSocket (:mod:`alchemist.gateway.graphql_api`);
- ``/api/v1/...``: REST import/export of graph files, ``/healthz``, ``/readyz``, ``/metrics`` and
  an OpenAPI document (:mod:`alchemist.gateway.rest`);
- ``/ws/graphs/{graph_id}``: presence, cursors and shared selections, fanned out through NATS so
  that several gateway instances share them (:mod:`alchemist.gateway.collab`);
- API keys or JWT bearer tokens, per-graph authorization, rate limiting, CORS
  (:mod:`alchemist.gateway.security`); signed outgoing webhooks (:mod:`alchemist.gateway.webhooks`);
  extension points from entry points (:mod:`alchemist.gateway.plugins`).

Needs the ``gateway`` extra: ``pip install 'alchemist[gateway]'``.
"""

from __future__ import annotations

__all__ = ["create_app", "GatewaySettings", "GatewayContext", "Principal"]


def __getattr__(name: str):
    if name == "create_app":
        from alchemist.gateway.app import create_app
        return create_app
    if name == "GatewaySettings":
        from alchemist.gateway.settings import GatewaySettings
        return GatewaySettings
    if name in ("GatewayContext", "Principal"):
        from alchemist.gateway import context
        return getattr(context, name)
    raise AttributeError(f"module 'alchemist.gateway' has no attribute {name!r}")
