"""The JetStream streams alchemist uses (DESIGN.md §2) and how it sets them up.

``GRAPH_EVENTS`` on ``graph.events.>`` (limits retention, file storage, 30 days, 2-minute
duplicate window), ``AI_INSIGHTS`` on ``ai.insights.>`` (work queue, durable pull consumer
``information-alchemist`` on ``ai.insights.graph``) and ``ALCHEMIST_DLQ`` on ``alchemist.dlq.>``
(dead letters, with the reason in headers).
"""

from __future__ import annotations

from alchemist.events import DEFAULT_SUBJECTS, SubjectTemplate

__all__ = [
    "GRAPH_STREAM", "INSIGHTS_STREAM", "INSIGHTS_CONSUMER", "INSIGHTS_SUBJECT", "DLQ_STREAM", "DLQ_PREFIX",
    "stream_config", "insights_stream_config", "dlq_stream_config", "ensure_streams",
]

GRAPH_STREAM = "GRAPH_EVENTS"
INSIGHTS_STREAM = "AI_INSIGHTS"
INSIGHTS_CONSUMER = "information-alchemist"
INSIGHTS_SUBJECT = "ai.insights.graph"
DLQ_STREAM = "ALCHEMIST_DLQ"
DLQ_PREFIX = "alchemist.dlq"
_DAY = 24 * 3600


def stream_config(subjects: SubjectTemplate = DEFAULT_SUBJECTS, replicas: int = 1):
    """The ``GRAPH_EVENTS`` stream of DESIGN.md §2: limits retention, file storage, 30-day max
    age, 2-minute duplicate window, on ``graph.events.>``."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(name=GRAPH_STREAM, subjects=[subjects.stream_filter("events")],
                        retention=RetentionPolicy.LIMITS, storage=StorageType.FILE, max_age=30 * _DAY,
                        duplicate_window=120, num_replicas=replicas)


def insights_stream_config(replicas: int = 1):
    """``AI_INSIGHTS``: work-queue retention on ``ai.insights.>``, file storage, 30 days."""
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(name=INSIGHTS_STREAM, subjects=["ai.insights.>"], retention=RetentionPolicy.WORK_QUEUE,
                        storage=StorageType.FILE, max_age=30 * _DAY, duplicate_window=120, num_replicas=replicas)


def dlq_stream_config(replicas: int = 1):
    """``ALCHEMIST_DLQ``: dead letters on ``alchemist.dlq.>``, limits retention, 30 days."""
    from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(name=DLQ_STREAM, subjects=[DLQ_PREFIX + ".>"], retention=RetentionPolicy.LIMITS,
                        storage=StorageType.FILE, max_age=30 * _DAY, duplicate_window=120, num_replicas=replicas,
                        max_msgs_per_subject=1, discard=DiscardPolicy.NEW, discard_new_per_subject=True)


async def ensure_streams(js, subjects: SubjectTemplate = DEFAULT_SUBJECTS, replicas: int = 1) -> None:
    """Create ``GRAPH_EVENTS``, ``AI_INSIGHTS`` (with its durable consumer) and ``ALCHEMIST_DLQ``
    where they are missing (idempotent)."""
    from nats.js.api import AckPolicy, ConsumerConfig
    from nats.js.errors import NotFoundError

    for config in (stream_config(subjects, replicas), insights_stream_config(replicas),
                   dlq_stream_config(replicas)):
        try:
            await js.stream_info(config.name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
    await js.add_consumer(INSIGHTS_STREAM, ConsumerConfig(
        durable_name=INSIGHTS_CONSUMER, filter_subject=INSIGHTS_SUBJECT, ack_policy=AckPolicy.EXPLICIT,
        ack_wait=60, max_deliver=10))
