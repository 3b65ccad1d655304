"""What guards the GraphQL endpoint: limits checked before a query runs, per-resolver timeouts, the
principal of a request, and one error code per refusal.

Every error a client receives carries ``extensions.code``:

==================  ===========================================================================
code                when
==================  ===========================================================================
UNAUTHENTICATED     no credentials, or credentials that do not verify (HTTP 401 on REST)
FORBIDDEN           the principal may not read or write that graph (403)
QUERY_REJECTED      refused before it ran: depth, aliases, tokens, cost or page size; ``limit``
                    names the setting and ``max`` its value
VERSION_CONFLICT    ``expectedVersion`` is not the graph's version (another writer came first);
                    ``expectedVersion`` and ``actualVersion`` in the extensions
NOT_FOUND           no such graph, node or edge
BAD_USER_INPUT      an argument the graph refuses (a duplicate node id, a negative weight, ...)
TIMEOUT             a resolver ran longer than ``request_timeout_s``
RATE_LIMITED        more requests than the principal's limit
CIM_UNAVAILABLE     the CIM (NATS) could not be reached; nothing was written
INTERNAL            anything else (the message is kept; the server logs the traceback)
==================  ===========================================================================

The cost of a query (:class:`CostLimiter`) is counted as in GitHub's GraphQL API: each field costs
1, and the fields under a paginated field count once per item it may return (its ``first`` or
``limit`` argument, or its default), so ``nodes(first: 1000) { neighbors(first: 100) { id } }``
costs about 100,000 and is refused under the default ``graphql_max_complexity`` of 10,000.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Callable

from graphql import FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode, OperationDefinitionNode
from graphql.language import IntValueNode, VariableNode
from strawberry.extensions import SchemaExtension

from alchemist.errors import (
    AlchemistError,
    CIMConnectionError,
    ConcurrencyError,
    EdgeNotFoundError,
    ForbiddenError,
    GraphError,
    InputFormatError,
    NodeNotFoundError,
    QueryRejectedError,
    RateLimitedError,
    UnauthorizedError,
)

__all__ = ["error_code", "annotate_errors", "CostLimiter", "query_cost", "check_page", "with_timeout",
           "principal_of", "authorize", "limits_of", "VersionConflictError", "DEFAULT_PAGE"]

log = logging.getLogger("alchemist.gateway.graphql")

DEFAULT_PAGE = 20
"""Items a paginated field returns when the query gives no ``first``/``limit``."""

PAGE_ARGUMENTS = ("first", "limit")


class VersionConflictError(ConcurrencyError):
    """``expectedVersion`` differs from the graph's version: nothing was written.

    Parameters
    ----------
    graph_id : str
    expected, actual : int
        The version the client expected and the graph's version now (the stream sequence of its
        last event).
    """

    def __init__(self, graph_id: str, expected: int, actual: int):
        super().__init__(f"graph {graph_id!r} is at version {actual}, not expectedVersion {expected}: another "
                         "writer changed it first; read it again and retry with the new version")
        self.graph_id, self.expected, self.actual = graph_id, expected, actual


def limits_of(settings) -> dict[str, int]:
    """The limits the GraphQL endpoint enforces, by setting name.

    Parameters
    ----------
    settings : GatewaySettings

    Returns
    -------
    dict of str to int
        ``graphql_max_depth``, ``graphql_max_complexity``, ``graphql_max_aliases``,
        ``graphql_max_tokens`` and ``max_page_size`` (the aliases and tokens limits are 30 and
        5,000 unless the settings name them).
    """
    return {"graphql_max_depth": settings.graphql_max_depth,
            "graphql_max_complexity": settings.graphql_max_complexity,
            "graphql_max_aliases": getattr(settings, "graphql_max_aliases", 30),
            "graphql_max_tokens": getattr(settings, "graphql_max_tokens", 5_000),
            "max_page_size": settings.max_page_size}


def error_code(error: BaseException | None) -> str:
    """The ``extensions.code`` of an error raised while serving a request (table above).

    Parameters
    ----------
    error : Exception or None

    Returns
    -------
    str

    Examples
    --------
    >>> from alchemist.errors import ForbiddenError
    >>> error_code(ForbiddenError("no")), error_code(KeyError("x"))
    ('FORBIDDEN', 'INTERNAL')
    """
    table = ((UnauthorizedError, "UNAUTHENTICATED"), (ForbiddenError, "FORBIDDEN"),
             (QueryRejectedError, "QUERY_REJECTED"), (ConcurrencyError, "VERSION_CONFLICT"),
             (RateLimitedError, "RATE_LIMITED"), (asyncio.TimeoutError, "TIMEOUT"),
             (CIMConnectionError, "CIM_UNAVAILABLE"), (NodeNotFoundError, "NOT_FOUND"),
             (EdgeNotFoundError, "NOT_FOUND"), (KeyError, "NOT_FOUND"), (GraphError, "BAD_USER_INPUT"),
             (InputFormatError, "BAD_USER_INPUT"), (ValueError, "BAD_USER_INPUT"))
    for cls, code in table:
        if isinstance(error, cls) and (cls is not KeyError or isinstance(error, AlchemistError)):
            return code
    return "INTERNAL"


_VALIDATION_LIMITS = (("exceeds maximum operation depth", "graphql_max_depth"),
                      ("aliases found. Allowed", "graphql_max_aliases"),
                      ("tokens.", "graphql_max_tokens"))


def annotate_errors(errors: list[GraphQLError], limits: dict[str, int]) -> None:
    """Give every error its ``extensions.code`` (in place); a limit's refusal also names the setting.

    Parameters
    ----------
    errors : list of GraphQLError
    limits : dict
        :func:`limits_of` the settings.

    Returns
    -------
    None
    """
    for error in errors:
        extensions = dict(error.extensions or {})
        if "code" in extensions:
            continue
        original = error.original_error
        if original is None:
            for needle, setting in _VALIDATION_LIMITS:
                if needle in error.message:
                    extensions.update(code="QUERY_REJECTED", limit=setting, max=limits[setting])
                    error.message = f"{error.message} (the gateway's {setting} is {limits[setting]})"
                    break
            else:
                extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
        else:
            extensions["code"] = error_code(original)
            extensions.update(getattr(original, "extensions", None) or {})
            if isinstance(original, VersionConflictError):
                extensions.update(expectedVersion=original.expected, actualVersion=original.actual)
            if extensions["code"] == "INTERNAL":
                log.error("GraphQL resolver failed", exc_info=original)
        error.extensions = extensions


def query_cost(document, variables: dict | None, operation_name: str | None, *, max_page: int) -> tuple[int, int]:
    """The cost of the operation to run (module docstring): fields, each list weighted by its page
    size; and the largest page it asks for.

    Parameters
    ----------
    document : graphql.DocumentNode
        Parsed and validated.
    variables : dict, optional
        The request's variables (a ``first: $n`` counts as the value of ``n``).
    operation_name : str, optional
        Which operation of the document runs (the only one by default).
    max_page : int
        The page size counted for a ``first`` given by a variable without a value.

    Returns
    -------
    cost, largest_page : int
    """
    variables = variables or {}
    largest = [0]
    fragments = {d.name.value: d for d in document.definitions if d.kind == "fragment_definition"}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [op for op in operations if operation_name is None or (op.name and op.name.value == operation_name)]

    def page(field: FieldNode, under_page: bool) -> int:
        if under_page and not field.arguments and field.name.value == "edges":
            return 1  # the edge list of a connection: its page was counted on the connection's field
        for argument in field.arguments or ():
            if argument.name.value in PAGE_ARGUMENTS:
                value = argument.value
                if isinstance(value, IntValueNode):
                    largest[0] = max(largest[0], int(value.value))
                    return max(1, int(value.value))
                if isinstance(value, VariableNode):
                    given = variables.get(value.name.value)
                    largest[0] = max(largest[0], given if isinstance(given, int) else 0)
                    return max(1, int(given)) if isinstance(given, int) else max_page
        return DEFAULT_PAGE if field.name.value in _PAGINATED else 1

    def cost(selection_set, seen: frozenset, under_page: bool) -> int:
        total = 0
        for selection in (selection_set.selections if selection_set else ()):
            if isinstance(selection, FieldNode):
                size = page(selection, under_page)
                inner = cost(selection.selection_set, seen, size > 1) if selection.selection_set else 0
                total += 1 + size * inner
            elif isinstance(selection, InlineFragmentNode):
                total += cost(selection.selection_set, seen, under_page)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    total += cost(fragment.selection_set, seen | {selection.name.value}, under_page)
        return total

    return sum(cost(op.selection_set, frozenset(), False) for op in chosen[:1]), largest[0]


# fields that return lists without a page argument in the query still count as a default page
_PAGINATED = {"nodes", "edges", "graphs", "neighbors", "searchNodes", "clusterAnalysis", "members"}


class CostLimiter(SchemaExtension):
    """Refuse an operation whose :func:`query_cost` is over ``graphql_max_complexity``, or that asks
    for a page over ``max_page_size``, before it runs.

    Parameters
    ----------
    max_cost : int
    max_page : int
        See :func:`query_cost`.
    """

    def __init__(self, *, max_cost: int, max_page: int):
        self.max_cost, self.max_page = max_cost, max_page

    def on_execute(self):
        """Before execution: count the cost; over the limit, the result is the refusal."""
        from graphql import ExecutionResult

        ctx = self.execution_context
        if ctx.graphql_document is not None:
            cost, largest = query_cost(ctx.graphql_document, ctx.variables, ctx.operation_name, max_page=self.max_page)
            if largest > self.max_page:
                error = GraphQLError(
                    f"a page of {largest} items is larger than the gateway's max_page_size of {self.max_page}; "
                    "page with first/after", extensions={"code": "QUERY_REJECTED", "limit": "max_page_size",
                                                         "max": self.max_page})
                ctx.result = ExecutionResult(data=None, errors=[error])
            elif cost > self.max_cost:
                error = GraphQLError(
                    f"query cost {cost} exceeds the gateway's graphql_max_complexity of {self.max_cost} (each field "
                    "costs 1, and the fields under a list once per item its first/limit asks); ask smaller pages",
                    extensions={"code": "QUERY_REJECTED", "limit": "graphql_max_complexity", "max": self.max_cost,
                                "cost": cost})
                ctx.result = ExecutionResult(data=None, errors=[error])
        yield


def check_page(first: int | None, settings, *, argument: str = "first", default: int = DEFAULT_PAGE) -> int:
    """The page size to serve: ``first`` (or ``default``), refused above ``max_page_size``.

    Parameters
    ----------
    first : int or None
    settings : GatewaySettings
    argument : str
        The argument's name, for the message.
    default : int

    Returns
    -------
    int

    Raises
    ------
    QueryRejectedError
        ``first`` is negative or larger than ``settings.max_page_size``.

    Examples
    --------
    >>> from alchemist.gateway.settings import GatewaySettings
    >>> check_page(None, GatewaySettings()), check_page(50, GatewaySettings())
    (20, 50)
    >>> check_page(10**6, GatewaySettings())
    Traceback (most recent call last):
    ...
    alchemist.errors.QueryRejectedError: first: 1000000 is larger than the gateway's max_page_size of 1000; page with first/after
    """
    n = default if first is None else int(first)
    if n < 0:
        raise QueryRejectedError(f"{argument}: {n} is negative; ask for 0 to {settings.max_page_size} items")
    if n > settings.max_page_size:
        error = QueryRejectedError(f"{argument}: {n} is larger than the gateway's max_page_size of "
                                   f"{settings.max_page_size}; page with first/after")
        error.extensions = {"limit": "max_page_size", "max": settings.max_page_size}
        raise error
    return n


async def with_timeout(settings, function: Callable[..., Any], *args, what: str = "the resolver") -> Any:
    """Run a blocking function in a worker thread, off the event loop, within ``request_timeout_s``.

    Parameters
    ----------
    settings : GatewaySettings
    function : callable
        Called with ``args`` in a thread.
    what : str
        Named in the timeout's message.

    Returns
    -------
    object
        What ``function`` returns.

    Raises
    ------
    asyncio.TimeoutError
        It ran longer (the thread finishes on its own; its result is dropped).
    """
    try:
        return await asyncio.wait_for(asyncio.to_thread(functools.partial(function, *args)),
                                      settings.request_timeout_s)
    except asyncio.TimeoutError:
        raise asyncio.TimeoutError(f"{what} ran longer than the gateway's request_timeout_s of "
                                   f"{settings.request_timeout_s} s; ask for less (a smaller page, a shorter "
                                   "maxDepth) or raise the limit") from None


def principal_of(info):
    """The principal of the request a resolver serves (authenticated once per request).

    Parameters
    ----------
    info : strawberry.Info

    Returns
    -------
    Principal

    Raises
    ------
    UnauthorizedError
        No credentials, or credentials that do not verify (:func:`alchemist.gateway.security.authenticate`).
    """
    from alchemist.gateway import security

    context = info.context
    if "principal" not in context:
        headers = {k.lower(): v for k, v in context["request"].headers.items()}
        params = context.get("connection_params")
        if isinstance(params, dict):  # graphql-transport-ws: browsers cannot set headers on a WebSocket
            headers.update({str(k).lower(): str(v) for k, v in params.items() if isinstance(v, str)})
        try:
            context["principal"] = security.authenticate(context["gateway"], headers)
        except UnauthorizedError as exc:
            context["principal"] = exc
    principal = context["principal"]
    if isinstance(principal, BaseException):
        raise principal
    return principal


def authorize(info, graph_id: str, action: str):
    """Authenticate the request and check ``action`` (``"read"``/``"write"``) on ``graph_id``.

    Parameters
    ----------
    info : strawberry.Info
    graph_id : str
    action : {"read", "write"}

    Returns
    -------
    Principal

    Raises
    ------
    UnauthorizedError, ForbiddenError
        From :mod:`alchemist.gateway.security`.
    """
    from alchemist.gateway import security

    principal = principal_of(info)
    security.authorize(principal, graph_id, action)
    return principal
