"""Insights: what agents publish on ``ai.insights.graph`` (the ``AI_INSIGHTS`` work queue), consumed
with the durable ``information-alchemist`` pull consumer; a poison insight is dead-lettered once.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable

from alchemist.errors import InvalidEventError

__all__ = ["consume_insights"]


async def consume_insights(connection, handler: Callable[[dict], Any], max_messages: int | None, timeout: float,
                           nak_delay: float) -> dict:
    """Pull insights with the durable ``information-alchemist`` consumer and hand each to ``handler``.

    An insight ``handler`` accepts is acknowledged; one it raises on is nak'ed (redelivered after
    ``nak_delay`` seconds, at most 10 deliveries). An insight that is not a JSON object (bad JSON,
    bad UTF-8, nesting too deep for the parser, another JSON type) can never be handled: it is
    dead-lettered once on ``alchemist.dlq.AI_INSIGHTS.<stream sequence>`` with the reason and
    terminated (``msg.term()``: never redelivered), and the next insight is taken.

    Parameters
    ----------
    connection : Connection
    handler : callable
        ``handler(insight: dict)``, run in a worker thread; the insight carries its NATS headers
        under ``"_headers"``.
    max_messages : int or None
        Stop after this many messages (handled, nak'ed or dead-lettered).
    timeout : float
        Stop when no message came for this many seconds.
    nak_delay : float
        Seconds before a nak'ed insight is delivered again.

    Returns
    -------
    dict
        ``{"acked": n, "naked": n, "dead_lettered": n}``.

    Raises
    ------
    nats.js.errors.NotFoundError
        The ``AI_INSIGHTS`` stream does not exist (:func:`~alchemist.cim.streams.ensure_streams`
        creates it; :func:`~alchemist.cim.connection.connect` calls it).

    Notes
    -----
    Cost: one pull request (one round trip) per message, one ack/nak/term per message, and a
    publish with acknowledgement to ``ALCHEMIST_DLQ`` per poison message. A failed dead letter
    (:class:`~alchemist.cim.deadletters.DeadLetterError`) is not raised: the message is nak'ed
    and counted as ``naked``, to be tried again.
    """
    from nats.errors import TimeoutError as NatsTimeout

    from alchemist.cim.deadletters import DeadLetterError, DeadLetters
    from alchemist.cim.streams import DLQ_STREAM, INSIGHTS_CONSUMER, INSIGHTS_STREAM, INSIGHTS_SUBJECT

    streams = getattr(connection, "streams", None)
    stream = getattr(streams, "insights", INSIGHTS_STREAM)
    letters = DeadLetters(connection.js, stream=getattr(streams, "dlq", DLQ_STREAM))
    sub = await connection.js.pull_subscribe(INSIGHTS_SUBJECT, durable=INSIGHTS_CONSUMER, stream=stream)
    counts = {"acked": 0, "naked": 0, "dead_lettered": 0}
    loop = asyncio.get_running_loop()
    try:
        while max_messages is None or sum(counts.values()) < max_messages:
            try:
                msgs = await sub.fetch(batch=1, timeout=timeout)
            except NatsTimeout:
                break
            for msg in msgs:
                try:
                    insight = _insight(msg.data)
                except Exception as exc:  # poison: dead-letter once, never deliver again
                    try:
                        await letters.send(msg.data, exc, graph_id="", sequence=msg.metadata.sequence.stream,
                                           stream=stream)
                    except DeadLetterError:  # keep it for a later try
                        await msg.nak(delay=nak_delay)
                        counts["naked"] += 1
                        continue
                    await msg.term()
                    counts["dead_lettered"] += 1
                    continue
                insight["_headers"] = dict(msg.headers or {})
                try:
                    await loop.run_in_executor(None, handler, insight)
                except Exception:
                    await msg.nak(delay=nak_delay)
                    counts["naked"] += 1
                else:
                    await msg.ack()
                    counts["acked"] += 1
    finally:
        await sub.unsubscribe()
    return counts


def _insight(data: bytes) -> dict:
    """An insight's JSON object.

    Raises
    ------
    ValueError
        Not JSON or not UTF-8 (``JSONDecodeError``, ``UnicodeDecodeError``).
    RecursionError
        Nested too deep for the parser.
    InvalidEventError
        Valid JSON, but not an object.
    """
    value = json.loads(data)
    if not isinstance(value, dict):
        raise InvalidEventError(f"an insight must be a JSON object, not {type(value).__name__}; "
                                f"publish {{\"insight_id\": ..., \"kind\": ..., \"result\": ...}}")
    return value
