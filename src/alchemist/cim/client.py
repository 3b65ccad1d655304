"""Opening the NATS client of a connection, with failures classified for the user.

:func:`open_client` connects with every option of a :class:`~alchemist.cim.options.ConnectOptions`
(all servers, credentials, TLS) and turns nats-py's many failure types into
:class:`~alchemist.errors.CIMAuthenticationError` (credentials refused) or
:class:`~alchemist.errors.CIMConnectionError` (unreachable, TLS failed), each naming the servers
with secrets masked. Anything else that opens a client (widgets, agents, the gateway) goes through
here, so it uses the same options.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable

from alchemist.cim.options import ConnectOptions
from alchemist.errors import CIMAuthenticationError, CIMConnectionError

__all__ = ["open_client"]


async def open_client(options: ConnectOptions, *, on_reconnect: Callable[[], Awaitable[Any]] | None = None,
                      on_disconnect: Callable[[], Awaitable[Any]] | None = None, name: str | None = None):
    """A connected ``nats.aio.client.Client`` for ``options``.

    The first connection is tried once per server without reconnecting, so a wrong URL or credential
    fails within ``options.timeout`` seconds; the client returned reconnects as the options say.

    Parameters
    ----------
    options : ConnectOptions
    on_reconnect, on_disconnect : async callable, optional
        Called (with no argument) after the client reconnected / lost its server.
    name : str, optional
        Client name shown by the server (default ``options.name``).

    Returns
    -------
    nats.aio.client.Client

    Raises
    ------
    CIMAuthenticationError
        The server refused the credentials.
    CIMConnectionError
        No server answered within the timeout, or the TLS handshake failed.

    Notes
    -----
    Cost: two TCP connections in a row (the probe, closed at once, then the client kept); each
    is the NATS ``INFO``/``CONNECT``/``PING``/``PONG`` handshake, one round trip after TCP (and
    TLS) set-up.

    Examples
    --------
    >>> from alchemist.cim.loop import LoopThread
    >>> from alchemist.cim.server import free_port
    >>> loop = LoopThread()
    >>> options = ConnectOptions(servers=[f"nats://127.0.0.1:{free_port()}"], timeout=0.5)
    >>> loop.run(open_client(options))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    alchemist.errors.CIMConnectionError: cannot reach a NATS server at nats://127.0.0.1:...
    >>> loop.stop()
    """
    import nats
    from nats.errors import NoServersError

    errors: list[BaseException] = []
    where = ", ".join(options.redacted_servers())

    async def on_error(exc: BaseException) -> None:
        errors.append(exc)

    kwargs = options.nats_kwargs()
    if name is not None:
        kwargs["name"] = name
    callbacks: dict[str, Any] = {"error_cb": on_error}
    if on_reconnect is not None:
        callbacks["reconnected_cb"] = on_reconnect
    if on_disconnect is not None:
        callbacks["disconnected_cb"] = on_disconnect
    try:
        nc = await asyncio.wait_for(nats.connect(**{**kwargs, "allow_reconnect": False}, error_cb=on_error),
                                    timeout=options.timeout + 1)
        await nc.close()
        return await nats.connect(**kwargs, **callbacks)
    except Exception as exc:  # nats-py raises a variety of errors here
        text = " ".join(f"{e.__class__.__name__} {e}" for e in [exc, *errors]).lower()
        if any(w in text for w in ("authorization", "authentication", "permissions violation", "user credentials")):
            raise CIMAuthenticationError(
                f"the NATS server at {where} refused the credentials (check user/password, token, creds or nkey)"
            ) from None
        if any(w in text for w in ("ssl", "tls", "certificate", "secure")):
            raise CIMConnectionError(f"TLS with the NATS server at {where} failed: {_short(exc, errors)}") from None
        if isinstance(exc, (NoServersError, OSError, asyncio.TimeoutError)) or "connect" in text:
            raise CIMConnectionError(f"cannot reach a NATS server at {where}: {_short(exc, errors)}") from None
        raise CIMConnectionError(f"connecting to {where} failed: {_short(exc, errors)}") from None


def _short(exc: BaseException, errors: list[BaseException]) -> str:
    parts = [f"{e.__class__.__name__}: {e}".strip(": ") for e in [*errors, exc]]
    return "; ".join(dict.fromkeys(parts))[:400]
