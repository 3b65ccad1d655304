"""The gateway's JSON errors: one body for every refusal, ``{"error": message, "code": name}``.

:func:`status_of` maps alchemist's errors to HTTP statuses (401 unauthenticated, 403 forbidden, 404
no such graph, 409 concurrency conflict, 413 upload too large, 400/422 bad input, 429 rate limited,
503 CIM unreachable); :func:`error_response` builds the Starlette response and
:func:`send_error` sends it from pure ASGI middleware (an HTTP request, or a WebSocket handshake
refused before it is accepted). The gateway's own error classes below are
:class:`~alchemist.errors.GatewayError` subclasses.
"""

from __future__ import annotations

import json

from alchemist.errors import (
    CIMConnectionError,
    ConcurrencyError,
    ForbiddenError,
    GatewayError,
    InputFormatError,
    QueryRejectedError,
    RateLimitedError,
    UnauthorizedError,
)

__all__ = ["GatewayConfigError", "UploadTooLargeError", "GraphNotFoundError", "status_of", "error_body",
           "error_response", "send_error"]


class GatewayConfigError(GatewayError, ValueError):
    """A gateway setting that cannot be used (an unreadable key file, an unset secret variable)."""


class UploadTooLargeError(GatewayError, ValueError):
    """An upload larger than ``max_upload_bytes`` (HTTP 413): the limit and how to raise it."""


class GraphNotFoundError(GatewayError, KeyError):
    """A graph id with no events on the CIM (HTTP 404)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


_STATUS = ((UnauthorizedError, 401), (ForbiddenError, 403), (GraphNotFoundError, 404), (ConcurrencyError, 409),
           (UploadTooLargeError, 413), (InputFormatError, 422), (QueryRejectedError, 400), (RateLimitedError, 429),
           (CIMConnectionError, 503))


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an error the gateway answers itself, None for others (a 500).

    Parameters
    ----------
    exc : BaseException

    Returns
    -------
    int or None

    Examples
    --------
    >>> status_of(ForbiddenError("no")), status_of(RuntimeError("bug"))
    (403, None)
    """
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return None


def error_body(exc: BaseException, **extra) -> dict:
    """``{"error": message, "code": class name, **extra}``; an input error adds ``line`` when known.

    Parameters
    ----------
    exc : BaseException
    **extra
        More fields.

    Returns
    -------
    dict

    Examples
    --------
    >>> error_body(UnauthorizedError("credentials required"))
    {'error': 'credentials required', 'code': 'UnauthorizedError'}
    """
    body = {"error": str(exc), "code": type(exc).__name__}
    if isinstance(exc, InputFormatError) and exc.line is not None:
        body["line"] = exc.line
    body.update(extra)
    return body


def error_response(exc: BaseException, status: int | None = None, headers: dict | None = None):
    """A Starlette JSON response for ``exc`` (status from :func:`status_of` unless given; 500 otherwise).

    Parameters
    ----------
    exc : BaseException
    status : int, optional
    headers : dict, optional

    Returns
    -------
    starlette.responses.JSONResponse
    """
    from starlette.responses import JSONResponse

    return JSONResponse(error_body(exc), status_code=status or status_of(exc) or 500, headers=headers)


async def send_error(scope, send, exc: BaseException, status: int | None = None, headers: dict | None = None) -> None:
    """Send the JSON error of ``exc`` on a raw ASGI connection (HTTP, or a WebSocket handshake).

    A WebSocket handshake gets the HTTP response through the ``websocket.http.response`` extension
    where the server offers it (uvicorn does), else a close with code 1008 (policy violation).

    Parameters
    ----------
    scope : dict
        The ASGI scope.
    send : callable
        The ASGI send channel.
    exc : BaseException
    status : int, optional
    headers : dict, optional

    Returns
    -------
    None
    """
    status = status or status_of(exc) or 500
    body = json.dumps(error_body(exc)).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), str(v).encode()) for k, v in (headers or {}).items()]
    if scope["type"] == "websocket":
        if "websocket.http.response" not in scope.get("extensions", {}):
            await send({"type": "websocket.close", "code": 1008, "reason": str(exc)[:120]})
            return
        prefix = "websocket.http.response"
    else:
        prefix = "http.response"
    await send({"type": f"{prefix}.start", "status": status, "headers": raw})
    await send({"type": f"{prefix}.body", "body": body})
