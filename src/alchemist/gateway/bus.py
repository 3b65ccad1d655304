"""The gateway's own NATS client, on the ASGI event loop (shared by the parts that need one).

A :class:`~alchemist.cim.Connection` runs its ``nats`` client on a loop thread of its own
(:class:`~alchemist.cim.loop.LoopThread`); uvicorn runs the gateway on another event loop. A part
that exchanges many small messages with WebSocket clients (collaboration) or waits on HTTP calls
(webhooks) would hop between the two loops twice per message with
``asyncio.run_coroutine_threadsafe`` / ``call_soon_threadsafe``. Instead the first part that needs
NATS opens a second client with the connection's own options (servers, credentials, TLS:
:func:`alchemist.cim.client.open_client`) on the ASGI loop at start-up, every part shares it
(:func:`acquire` counts the users), and the last :func:`release` at shutdown drains it. Subscription
callbacks then run on the same loop as the WebSockets they feed. Cost: one more TCP connection
to NATS per gateway instance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["acquire", "release", "BUS_KEY"]

#: The key of the shared client in :attr:`GatewayContext.extras <alchemist.gateway.context.GatewayContext.extras>`.
BUS_KEY = "alchemist.gateway.bus"


@dataclass
class _Bus:
    nc: Any
    users: int = 0


async def acquire(ctx) -> Any:
    """The gateway's NATS client on the running (ASGI) loop, opened on first use.

    Parameters
    ----------
    ctx : GatewayContext
        The gateway; its connection's ``options`` give the servers and credentials.

    Returns
    -------
    nats.aio.client.Client
        Shared by every caller; give it back with :func:`release`.

    Raises
    ------
    CIMConnectionError, CIMAuthenticationError
        As :func:`alchemist.cim.client.open_client`.
    """
    bus = ctx.extras.get(BUS_KEY)
    if bus is None:
        from alchemist.cim.client import open_client

        nc = await open_client(ctx.connection.options, name=f"alchemist-gateway-{ctx.instance_id or 'instance'}")
        bus = ctx.extras[BUS_KEY] = _Bus(nc)
    bus.users += 1
    return bus.nc


async def release(ctx) -> None:
    """Give back the client of :func:`acquire`; the last user drains and closes it.

    Parameters
    ----------
    ctx : GatewayContext

    Returns
    -------
    None
    """
    bus = ctx.extras.get(BUS_KEY)
    if bus is None:
        return
    bus.users -= 1
    if bus.users <= 0:
        ctx.extras.pop(BUS_KEY, None)
        try:
            await bus.nc.drain()
        except Exception:  # already closed or the server is gone: nothing left to flush
            await bus.nc.close()
