"""The gateway's GraphQL part: the seed's schema (seed 000 §2) at ``/graphql`` with Strawberry.

``POST /graphql`` (or ``GET`` with ``?query=``) runs queries and mutations; a browser's ``GET``
gets GraphiQL; a WebSocket with the ``graphql-transport-ws`` protocol runs subscriptions. The
modules, read in order: :mod:`~.types` (the schema's types), :mod:`~.queries`,
:mod:`~.mutations`, :mod:`~.subscriptions`, :mod:`~.store` (live event-sourced graphs and
appends under optimistic concurrency) and :mod:`~.guards` (limits, timeouts, principals and
error codes).

Why Strawberry: types are Python dataclasses with type hints (the schema reads like the seed's
SDL and is checked by mypy), it has an ASGI app for Starlette with GraphiQL and both WebSocket
protocols, and its extensions give the depth, alias and token limits this part needs; Ariadne
(schema-first) would have us keep the SDL and the resolvers in step by hand.

Guards: depth (``graphql_max_depth``, Strawberry's ``QueryDepthLimiter``), aliases
(``MaxAliasesLimiter``), tokens (``MaxTokensLimiter``), cost (``graphql_max_complexity``,
:class:`~.guards.CostLimiter`), page size (``max_page_size``) and per-resolver time
(``request_timeout_s``); every refusal is a GraphQL error whose ``extensions.code`` says why
(:mod:`~.guards`). Every resolver authenticates the request (:func:`alchemist.gateway.security.authenticate`,
headers, or the ``connection_init`` payload of a WebSocket) and authorizes each graph it touches.
"""

from __future__ import annotations

import asyncio

__all__ = ["routes", "startup", "shutdown", "build_schema", "GraphQLApp", "schema_sdl"]

PART_KEY = "alchemist.gateway.graphql_api"

PARSED_QUERIES = 512
"""Distinct query texts whose parse and validation are cached (clients send the same few again and
again; validating a document against this schema costs about 6 ms on the benchmark machine)."""


def build_schema(settings):
    """The Strawberry schema with the gateway's guards.

    Parameters
    ----------
    settings : GatewaySettings

    Returns
    -------
    strawberry.Schema
    """
    import strawberry
    from strawberry.extensions import (
        AddValidationRules,
        MaxAliasesLimiter,
        MaxTokensLimiter,
        ParserCache,
        QueryDepthLimiter,
        ValidationCache,
    )

    from alchemist.gateway.graphql_api.guards import CostLimiter, annotate_errors, limits_of
    from alchemist.gateway.graphql_api.mutations import Mutation
    from alchemist.gateway.graphql_api.queries import Query
    from alchemist.gateway.graphql_api.subscriptions import Subscription

    Query = _with_plugin_fields(Query)
    limits = limits_of(settings)
    # the depth and alias rules made once, so that every request's rules are the same classes and
    # the validation cache (keyed by document and rules) hits
    rules = [*QueryDepthLimiter(max_depth=limits["graphql_max_depth"]).validation_rules,
             *MaxAliasesLimiter(max_alias_count=limits["graphql_max_aliases"]).validation_rules]

    class Schema(strawberry.Schema):
        def process_errors(self, errors, execution_context=None):
            annotate_errors(errors, limits)

    return Schema(query=Query, mutation=Mutation, subscription=Subscription, extensions=[  # one per request
        lambda: AddValidationRules(rules),
        lambda: MaxTokensLimiter(max_token_count=limits["graphql_max_tokens"]),
        lambda: CostLimiter(max_cost=limits["graphql_max_complexity"], max_page=limits["max_page_size"]),
        lambda: ParserCache(maxsize=PARSED_QUERIES), lambda: ValidationCache(maxsize=PARSED_QUERIES),
    ])


def _with_plugin_fields(query):
    """``query`` with the fields of the installed ``alchemist.graphql`` plugin types merged in."""
    import warnings

    from alchemist.gateway.plugins import PluginWarning, graphql_types

    extra = graphql_types()
    if not extra:
        return query
    from strawberry.tools import merge_types

    try:
        return merge_types("Query", (query, *extra))
    except (TypeError, ValueError) as exc:
        warnings.warn(f"the alchemist.graphql plugin types {[t.__name__ for t in extra]} were not merged into "
                      f"Query: {exc}", PluginWarning, stacklevel=2)
        return query


def schema_sdl(settings=None) -> str:
    """The schema in GraphQL SDL (what ``docs/gateway.md`` shows).

    Parameters
    ----------
    settings : GatewaySettings, optional

    Returns
    -------
    str

    Examples
    --------
    >>> sdl = schema_sdl()
    >>> "findPath(from: ID!, to: ID!, maxDepth: Int! = 10" in sdl, "graphUpdates(graphId: ID!" in sdl
    (True, True)
    """
    from alchemist.gateway.settings import GatewaySettings

    return str(build_schema(settings or GatewaySettings()))


def _view_class():
    from strawberry.asgi import GraphQL

    class GraphQLApp(GraphQL):
        """Strawberry's ASGI app, with the gateway in each request's context."""

        def __init__(self, ctx, schema, **kwargs):
            super().__init__(schema, **kwargs)
            self.gateway = ctx

        async def get_context(self, request, response):
            """``request``, ``response``, ``gateway`` (the GatewayContext), ``store``, ``jobs``, ``tasks``."""
            part = self.gateway.extras[PART_KEY]
            return {"request": request, "response": response, "gateway": self.gateway, "store": part["store"],
                    "jobs": part["jobs"], "tasks": part["tasks"]}

    return GraphQLApp


def __getattr__(name: str):
    if name == "GraphQLApp":
        return _view_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def routes(ctx) -> list:
    """The GraphQL route (``/graphql``: HTTP and WebSocket).

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    list of starlette routes
    """
    from starlette.routing import Route, WebSocketRoute

    from alchemist.gateway.graphql_api.store import GraphStore

    ctx.extras[PART_KEY] = {"store": GraphStore(ctx.connection, ctx.settings), "jobs": {}, "tasks": set()}
    app = _view_class()(ctx, build_schema(ctx.settings), graphql_ide="graphiql",
                        allowed_origins=tuple(ctx.settings.cors_origins))
    return [Route("/graphql", app, methods=["GET", "POST"]), WebSocketRoute("/graphql", app)]


async def startup(ctx) -> None:
    """Nothing to open: graphs are followed on first use."""


async def shutdown(ctx) -> None:
    """Cancel the layout jobs still running (their events are not published)."""
    part = ctx.extras.get(PART_KEY) or {}
    tasks = list(part.get("tasks", ()))
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
