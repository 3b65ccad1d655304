"""The seed's subscriptions (seed 000 §2), over WebSocket (graphql-transport-ws): ``graphUpdates``
(a graph's events as they land on the CIM), ``aiInsights`` (what agents publish about it) and
``collaboratorActivity`` (presence, cursors and selections of its collaboration channel).

Each reads NATS, so a client sees the same through any gateway instance:

- ``graphUpdates``: a JetStream ordered consumer on the graph's subjects (its own, per
  subscription), from the next event on, or from the first event after ``afterVersion`` — a client
  that reads a graph at version *v* and subscribes with ``afterVersion: v`` misses nothing in
  between. An ``events_batch`` message gives each of its events.
- ``aiInsights``: a core-NATS subscription on ``ai.insights.>`` (observing: the work queue's own
  consumer still gets every insight), the insights whose ``graph_id`` is the graph.
- ``collaboratorActivity``: a core-NATS subscription on
  :data:`alchemist.gateway.collab.COLLAB_SUBJECT` (``alchemist.collab.<graph_id>``), where the
  collaboration channel fans out its events.

A subscriber slower than its bounded queue (:data:`QUEUE_LIMIT` messages) is ended with an error
rather than let the queue grow.
"""

from __future__ import annotations

import asyncio
import json
from typing import AsyncGenerator, Optional

import strawberry
from strawberry.types import Info

from alchemist.errors import GatewayError
from alchemist.gateway.graphql_api.guards import authorize
from alchemist.gateway.graphql_api.types import AIInsight, CollaboratorEvent, GraphUpdate

__all__ = ["Subscription", "nats_messages", "collaboration_subject", "QUEUE_LIMIT", "INSIGHTS_FILTER", "COLLAB_FALLBACK"]

QUEUE_LIMIT = 10_000
"""Messages a subscription may hold for a slow client before it is ended."""

INSIGHTS_FILTER = "ai.insights.>"
COLLAB_FALLBACK = "alchemist.collab.{graph_id}"


def collaboration_subject(graph_id: str) -> str:
    """The NATS subject of a graph's collaboration events (:func:`alchemist.gateway.collab.collab_subject`)."""
    try:
        from alchemist.gateway.collab import collab_subject
    except ImportError:  # the collaboration part not installed: its documented subject
        return COLLAB_FALLBACK.format(graph_id=graph_id)
    return collab_subject(graph_id)


async def nats_messages(connection, subscribe) -> AsyncGenerator[tuple, None]:
    """Messages of a NATS subscription made on the connection's loop, delivered on this loop.

    Parameters
    ----------
    connection : alchemist.cim.Connection
    subscribe : callable
        ``subscribe(cb) -> coroutine`` returning the subscription (``nc.subscribe(..., cb=cb)`` or
        ``js.subscribe(..., cb=cb)``); run on the connection's loop.

    Yields
    ------
    (data, headers, stream_sequence)
        ``stream_sequence`` is None for a core-NATS message.

    Raises
    ------
    GatewayError
        The client fell :data:`QUEUE_LIMIT` messages behind.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    overflow = []

    def offer(item) -> None:
        if queue.qsize() >= QUEUE_LIMIT:
            overflow.append(True)
            queue.put_nowait(None)
        else:
            queue.put_nowait(item)

    async def cb(msg) -> None:
        metadata = None
        try:
            metadata = msg.metadata.sequence.stream
        except Exception:  # a core-NATS message has no JetStream metadata  # noqa: BLE001
            metadata = None
        loop.call_soon_threadsafe(offer, (msg.data, dict(msg.headers or {}), metadata))

    sub = await connection.run_async(subscribe(cb))
    try:
        while True:
            item = await queue.get()
            if overflow:
                raise GatewayError(f"this subscription fell {QUEUE_LIMIT} messages behind and was ended; "
                                   "subscribe again with afterVersion to resume")
            yield item
    finally:
        try:
            await connection.run_async(sub.unsubscribe())
        except Exception:  # noqa: BLE001 - the connection may be closing
            pass


@strawberry.type
class Subscription:
    """Live views of a graph."""

    @strawberry.subscription
    async def graph_updates(self, info: Info, graph_id: strawberry.ID,
                            after_version: Optional[int] = None) -> AsyncGenerator[GraphUpdate, None]:
        """The graph's events as they are stored (from ``afterVersion`` on when given)."""
        from nats.js.api import ConsumerConfig, DeliverPolicy

        from alchemist.events import decode_message

        authorize(info, graph_id, "read")
        connection = info.context["gateway"].connection
        subject = connection.subjects.aggregate_filter(graph_id)
        if after_version is None:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
        else:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after_version + 1)

        def subscribe(cb):
            return connection.js.subscribe(subject, stream=connection.graph_stream, cb=cb, ordered_consumer=True,
                                           config=config)

        async for data, headers, sequence in nats_messages(connection, subscribe):
            try:
                events = decode_message(data, headers, verify=False)
            except Exception:  # noqa: BLE001 - poison is the dead-letter stream's business, not a subscriber's
                continue
            for event in events:
                yield GraphUpdate(graph_id=strawberry.ID(graph_id), event_id=event.event_id,
                                  event_type=event.event_type, version=int(sequence or 0), timestamp=event.timestamp,
                                  actor=(event.metadata or {}).get("actor"), cid=event.cid, payload=event.payload)

    @strawberry.subscription
    async def ai_insights(self, info: Info, graph_id: strawberry.ID) -> AsyncGenerator[AIInsight, None]:
        """Insights agents publish about the graph (``ai.insights.*`` with its ``graph_id``)."""
        authorize(info, graph_id, "read")
        connection = info.context["gateway"].connection
        async for data, _headers, _seq in nats_messages(connection,
                                                         lambda cb: connection.nc.subscribe(INSIGHTS_FILTER, cb=cb)):
            try:
                body = json.loads(data)
            except ValueError:
                continue
            if not isinstance(body, dict) or body.get("graph_id") != graph_id:
                continue
            yield AIInsight(insight_id=str(body.get("insight_id", "")), graph_id=strawberry.ID(graph_id),
                            agent=str(body.get("agent", "")), kind=str(body.get("kind", "")),
                            result=body.get("result"))

    @strawberry.subscription
    async def collaborator_activity(self, info: Info,
                                    graph_id: strawberry.ID) -> AsyncGenerator[CollaboratorEvent, None]:
        """Who joins and leaves the graph's collaboration channel, their cursors and selections."""
        authorize(info, graph_id, "read")
        connection = info.context["gateway"].connection
        subject = collaboration_subject(graph_id)
        async for data, _headers, _seq in nats_messages(connection,
                                                         lambda cb: connection.nc.subscribe(subject, cb=cb)):
            try:
                body = json.loads(data)
            except ValueError:
                continue
            if not isinstance(body, dict):
                continue
            user = body.get("user")
            user_id = user.get("id") if isinstance(user, dict) else user
            payload = {k: v for k, v in body.items() if k not in ("type", "graph_id")}
            yield CollaboratorEvent(graph_id=strawberry.ID(graph_id), kind=str(body.get("type", "")),
                                    user=None if user_id is None else str(user_id), payload=payload)
