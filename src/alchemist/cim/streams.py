"""The JetStream streams alchemist uses (DESIGN.md §2) and how it sets them up without harming others.

``GRAPH_EVENTS`` on ``graph.events.>`` (limits retention, file storage, 30 days, 2-minute
duplicate window), ``AI_INSIGHTS`` on ``ai.insights.>`` (work queue, durable pull consumer
``information-alchemist`` on ``ai.insights.graph``) and ``ALCHEMIST_DLQ`` on ``alchemist.dlq.>``
(dead letters, with the reason in headers).

A CIM is shared (DESIGN.md §9): the original Information Alchemist (Rust) owns ``GRAPH_EVENTS`` on
``graph.>``, cim-graph owns ``CIM_GRAPH_EVENTS`` on ``local.cim.>``. So :func:`ensure_streams`
marks what it creates (``metadata={"created_by": "alchemist"}`` and a description) and changes only
streams and consumers that carry that mark. A stream of alchemist's name or with overlapping
subjects that alchemist did not create is used as it is when its configuration is the one
alchemist would create, read as it is when asked to (``use_existing=True``) and its subjects cover
alchemist's, and otherwise left alone with a :class:`~alchemist.errors.StreamConflictError` naming
the stream, its subjects and the ``connect()`` option that resolves the conflict.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from alchemist.cim.observability import log
from alchemist.errors import StreamConflictError
from alchemist.events import DEFAULT_SUBJECTS, SubjectTemplate

__all__ = [
    "GRAPH_STREAM", "INSIGHTS_STREAM", "INSIGHTS_CONSUMER", "INSIGHTS_SUBJECT", "DLQ_STREAM", "DLQ_PREFIX",
    "OWNER_KEY", "OWNER", "StreamNames", "stream_config", "insights_stream_config", "dlq_stream_config",
    "ensure_streams", "is_alchemists", "subject_covers", "subjects_overlap",
]

GRAPH_STREAM = "GRAPH_EVENTS"
INSIGHTS_STREAM = "AI_INSIGHTS"
INSIGHTS_CONSUMER = "information-alchemist"
INSIGHTS_SUBJECT = "ai.insights.graph"
DLQ_STREAM = "ALCHEMIST_DLQ"
DLQ_PREFIX = "alchemist.dlq"
OWNER_KEY = "created_by"
"""Metadata key of the mark on every stream and consumer alchemist creates."""
OWNER = "alchemist"
"""Value of :data:`OWNER_KEY` on what alchemist created (and may therefore update)."""
_DAY = 24 * 3600
_NAME_IN_USE, _SUBJECTS_OVERLAP = 10058, 10065  # JetStream API error codes
_DESCRIPTIONS = {
    "graph": "alchemist graph events (created by alchemist; DESIGN.md section 2)",
    "insights": "alchemist AI insights work queue (created by alchemist)",
    "dlq": "alchemist dead letters (created by alchemist)",
}


@dataclass(frozen=True)
class StreamNames:
    """The streams a connection uses, by role (what :func:`ensure_streams` found or created).

    Attributes
    ----------
    graph : str
        Graph events (``GRAPH_EVENTS`` unless another name was asked for, or an existing stream
        is read as it is).
    insights : str
        AI insights (``AI_INSIGHTS``).
    dlq : str
        Dead letters (``ALCHEMIST_DLQ``).

    Parameters
    ----------
    graph, insights, dlq : str

    Examples
    --------
    >>> StreamNames()
    StreamNames(graph='GRAPH_EVENTS', insights='AI_INSIGHTS', dlq='ALCHEMIST_DLQ')
    >>> StreamNames(graph="CIM_GRAPH_EVENTS").graph
    'CIM_GRAPH_EVENTS'
    """

    graph: str = GRAPH_STREAM
    insights: str = INSIGHTS_STREAM
    dlq: str = DLQ_STREAM


def stream_config(subjects: SubjectTemplate = DEFAULT_SUBJECTS, replicas: int = 1, name: str = GRAPH_STREAM):
    """The graph-events stream of DESIGN.md §2: limits retention, file storage, 30-day max age,
    2-minute duplicate window, on ``graph.events.>``, marked as alchemist's.

    Parameters
    ----------
    subjects : SubjectTemplate
        The subject convention; the stream captures ``subjects.stream_filter("events")``.
    replicas : int
        Replicas (1 on a single server, 3 or 5 in a cluster).
    name : str
        Stream name.

    Returns
    -------
    nats.js.api.StreamConfig

    Examples
    --------
    >>> config = stream_config()
    >>> config.name, config.subjects, config.metadata
    ('GRAPH_EVENTS', ['graph.events.>'], {'created_by': 'alchemist'})
    """
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(name=name, description=_DESCRIPTIONS["graph"], subjects=[subjects.stream_filter("events")],
                        retention=RetentionPolicy.LIMITS, storage=StorageType.FILE, max_age=30 * _DAY,
                        duplicate_window=120, num_replicas=replicas, metadata={OWNER_KEY: OWNER})


def insights_stream_config(replicas: int = 1):
    """``AI_INSIGHTS``: work-queue retention on ``ai.insights.>``, file storage, 30 days, marked as
    alchemist's.

    Parameters
    ----------
    replicas : int

    Returns
    -------
    nats.js.api.StreamConfig

    Examples
    --------
    >>> config = insights_stream_config()
    >>> config.name, config.subjects, config.retention.value
    ('AI_INSIGHTS', ['ai.insights.>'], 'workqueue')
    """
    from nats.js.api import RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(name=INSIGHTS_STREAM, description=_DESCRIPTIONS["insights"], subjects=["ai.insights.>"],
                        retention=RetentionPolicy.WORK_QUEUE, storage=StorageType.FILE, max_age=30 * _DAY,
                        duplicate_window=120, num_replicas=replicas, metadata={OWNER_KEY: OWNER})


def dlq_stream_config(replicas: int = 1):
    """``ALCHEMIST_DLQ``: dead letters on ``alchemist.dlq.>``, limits retention, 30 days, one
    message per subject.

    Every dead letter has a subject of its own (:func:`alchemist.cim.deadletters.dead_letter_subject`)
    and the stream refuses a second message on a subject (``max_msgs_per_subject=1``,
    ``discard=new``, ``discard_new_per_subject=True``), so a message judged on every read is
    stored once, beyond the 2-minute duplicate window.

    Parameters
    ----------
    replicas : int

    Returns
    -------
    nats.js.api.StreamConfig

    Examples
    --------
    >>> config = dlq_stream_config()
    >>> config.subjects, config.max_msgs_per_subject, config.discard_new_per_subject
    (['alchemist.dlq.>'], 1, True)
    """
    from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig

    return StreamConfig(name=DLQ_STREAM, subjects=[DLQ_PREFIX + ".>"], retention=RetentionPolicy.LIMITS,
                        storage=StorageType.FILE, max_age=30 * _DAY, duplicate_window=120, num_replicas=replicas,
                        max_msgs_per_subject=1, discard=DiscardPolicy.NEW, discard_new_per_subject=True)


# --------------------------------------------------------------------------- subjects
def subject_covers(pattern: str, subject: str) -> bool:
    """Whether every subject that ``subject`` matches is matched by ``pattern`` (NATS wildcards:
    ``*`` one token, ``>`` one or more trailing tokens).

    Parameters
    ----------
    pattern, subject : str
        Subjects, each possibly with wildcards.

    Returns
    -------
    bool

    References
    ----------
    .. [1] NATS documentation, "Subject-Based Messaging" (wildcards),
       https://docs.nats.io/nats-concepts/subjects

    Examples
    --------
    >>> subject_covers("graph.>", "graph.events.>"), subject_covers("graph.events.>", "graph.>")
    (True, False)
    >>> subject_covers("local.cim.>", "local.cim.graph.events.>"), subject_covers("a.*.c", "a.b.c")
    (True, True)
    """
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or s[i] == ">":
            return False
        if token != "*" and (s[i] == "*" or token != s[i]):
            return False
    return len(p) == len(s)


def subjects_overlap(a: str, b: str) -> bool:
    """Whether some subject matches both ``a`` and ``b`` (what makes JetStream refuse a second
    stream, error 10065).

    Parameters
    ----------
    a, b : str
        Subjects, each possibly with wildcards.

    Returns
    -------
    bool

    Examples
    --------
    >>> subjects_overlap("graph.>", "graph.events.>"), subjects_overlap("ai.insights.>", "graph.>")
    (True, False)
    >>> subjects_overlap("a.*.c", "a.b.>"), subjects_overlap("a.b", "a.b.>")
    (True, False)
    """
    x, y = a.split("."), b.split(".")
    for i in range(max(len(x), len(y))):
        if i >= len(x) or i >= len(y):
            return False
        if x[i] == ">" or y[i] == ">":
            return True
        if x[i] != "*" and y[i] != "*" and x[i] != y[i]:
            return False
    return True


# --------------------------------------------------------------------------- ownership
def is_alchemists(config) -> bool:
    """Whether a stream or consumer configuration carries alchemist's mark (``created_by``).

    ``ALCHEMIST_DLQ`` on ``alchemist.dlq.>`` is alchemist's by its name too (as created by the
    versions before the mark).

    Parameters
    ----------
    config : nats.js.api.StreamConfig or nats.js.api.ConsumerConfig

    Returns
    -------
    bool
        Only what is alchemist's may be updated by :func:`ensure_streams`.

    Examples
    --------
    >>> from nats.js.api import StreamConfig
    >>> is_alchemists(stream_config()), is_alchemists(StreamConfig(name="GRAPH_EVENTS", subjects=["graph.>"]))
    (True, False)
    """
    if (getattr(config, "metadata", None) or {}).get(OWNER_KEY) == OWNER:
        return True
    return getattr(config, "name", None) == DLQ_STREAM and list(config.subjects or []) == [DLQ_PREFIX + ".>"]


def _same_setup(existing, wanted) -> bool:
    """``existing`` stores what ``wanted`` would: same subjects, retention, storage, age, duplicate
    window and limits (unset limits are the server's -1 / discard old)."""
    from nats.js.api import DiscardPolicy

    def value(config, field, default):
        v = getattr(config, field, None)
        v = getattr(v, "value", v)  # enums as their wire strings
        return default if v is None else v

    defaults = {"retention": "limits", "storage": "file", "max_age": 0, "duplicate_window": 120.0, "max_msgs": -1,
                "max_bytes": -1, "max_msgs_per_subject": -1, "max_msg_size": -1, "discard": DiscardPolicy.OLD.value,
                "discard_new_per_subject": False}
    if sorted(existing.subjects or []) != sorted(wanted.subjects or []):
        return False
    return all(value(existing, f, d) == value(wanted, f, d) for f, d in defaults.items())


def _needs_update(existing, wanted) -> bool:
    return (not _same_setup(existing, wanted) or (existing.description or "") != (wanted.description or "")
            or (existing.num_replicas or 1) < (wanted.num_replicas or 1))


def _mark(config, role: str):
    """The config with alchemist's mark and description added (for configs built elsewhere)."""
    metadata = {**(config.metadata or {}), OWNER_KEY: OWNER}
    return config.evolve(metadata=metadata, description=config.description or _DESCRIPTIONS[role])


def _conflict(role: str, wanted, found, *, same_name: bool) -> StreamConflictError:
    stream, ours, theirs = found.name, list(wanted.subjects), list(found.subjects or [])
    if is_alchemists(found) and same_name:  # its subjects are what other clients publish to: never changed
        option = ('stream_name="ALCHEMIST_GRAPH_EVENTS_2"' if role == "graph" else "another subject convention")
        return StreamConflictError(
            f"stream {stream}, created by alchemist, captures {theirs}, not {ours}; alchemist does not move a "
            f"stream's subjects (other clients publish there); use connect(..., {option}) for a stream of "
            f"{ours}, or the subject convention it was created with")
    if is_alchemists(found):  # alchemist's own, under another name
        option = (f'stream_name="{stream}"' if role == "graph" else "the subjects it was created with")
        return StreamConflictError(
            f"stream {stream} (subjects {theirs}), created by alchemist, already holds subjects overlapping "
            f"{ours}; use connect(..., {option}) to keep using it")
    covers = all(any(subject_covers(t, o) for t in theirs) for o in ours)
    overlap = any(subjects_overlap(t, o) for t in theirs for o in ours)
    options = []
    if covers:
        options.append("connect(..., use_existing_streams=True) to read and write it as it is")
    if role == "graph":
        if same_name and not overlap:
            options.append(f'connect(..., stream_name="ALCHEMIST_{stream}") for a stream of alchemist\'s own')
        else:
            options.append('connect(..., subjects=SubjectTemplate(prefix="alchemist."), '
                           'stream_name="ALCHEMIST_GRAPH_EVENTS") for subjects and a stream of alchemist\'s own')
    elif not options:
        options.append(f"remove or rename that stream: alchemist needs {ours} for its {role} stream")
    what = ("exists with another configuration" if same_name else f"already holds subjects overlapping {ours}")
    return StreamConflictError(
        f"stream {stream} (subjects {theirs}) {what} and was not created by alchemist, which leaves it unchanged; "
        f"use {' or '.join(options)}")


async def _stream_config_or_none(js, name: str):
    from nats.js.errors import NotFoundError

    try:
        return (await js.stream_info(name)).config
    except NotFoundError:
        return None


async def _all_stream_configs(js) -> list:
    """Every stream's configuration; empty when the account may not list streams (the server's
    refusals on create then tell about conflicts, see :func:`_ensure_one`)."""
    from nats.errors import Error as NatsError

    configs, offset = [], 0
    while True:
        try:
            page = await js.streams_info(offset)
        except (NatsError, asyncio.TimeoutError) as exc:
            log("cim.stream_list_unavailable", error=repr(exc))
            return configs
        if not page:
            return configs
        configs.extend(info.config for info in page)
        offset += len(page)


async def _holders(js, subjects: list[str]) -> list:
    """Configurations of the streams the server says hold any of ``subjects``."""
    from nats.js.errors import NotFoundError

    found = []
    for subject in subjects:
        try:
            name = await js.find_stream_name_by_subject(subject)
        except NotFoundError:
            continue
        config = await _stream_config_or_none(js, name)
        if config is not None:
            found.append(config)
    return found


_NO_PEERS = 10005  # "no suitable peers for placement": fewer JetStream servers than replicas (yet)
PLACEMENT_WAIT = 15.0
"""Seconds a new stream waits for enough JetStream servers to place its replicas (a cluster that
has just started is still gathering its peers)."""


async def _add_stream(js, config, *, update: bool = False) -> None:
    """``js.add_stream`` (``js.update_stream`` with ``update``), waiting up to :data:`PLACEMENT_WAIT`
    seconds while the cluster has too few peers for the replicas; then a
    :class:`~alchemist.errors.CIMError` that says so."""
    from nats.js.errors import APIError

    from alchemist.errors import CIMError

    loop = asyncio.get_running_loop()
    deadline = loop.time() + PLACEMENT_WAIT
    while True:
        try:
            await (js.update_stream(config) if update else js.add_stream(config))
            return
        except APIError as exc:
            if exc.err_code != _NO_PEERS:
                raise
            if loop.time() >= deadline:
                raise CIMError(
                    f"stream {config.name} wants {config.num_replicas} replicas, but after {PLACEMENT_WAIT:.0f} s "
                    f"the JetStream cluster still offers too few servers to place them ({exc.description}); "
                    "start more servers or connect with fewer replicas (--replicas / replicas=)") from None
            await asyncio.sleep(0.5)


async def _ensure_one(js, role: str, wanted, use_existing: bool, others: list, retry: bool = True) -> str:
    """Find or create the stream of one role; returns the name of the stream to use."""
    from nats.errors import Error as NatsError
    from nats.js.api import RetentionPolicy
    from nats.js.errors import APIError

    existing = await _stream_config_or_none(js, wanted.name)
    overlapping = [c for c in others if c.name != wanted.name
                   and any(subjects_overlap(t, o) for t in c.subjects or () for o in wanted.subjects)]
    if existing is not None and is_alchemists(existing) and not overlapping:
        if sorted(existing.subjects or []) != sorted(wanted.subjects):
            raise _conflict(role, wanted, existing, same_name=True)
        if _needs_update(existing, wanted):
            wanted = wanted.evolve(num_replicas=max(existing.num_replicas or 1, wanted.num_replicas or 1))
            await _add_stream(js, wanted, update=True)  # more replicas: wait for their peers too
            log("cim.stream_updated", stream=wanted.name)
        return wanted.name
    if existing is not None and not is_alchemists(existing) and _same_setup(existing, wanted):
        return wanted.name  # what alchemist would have created (e.g. by an older version): used, not marked
    if existing is None and not overlapping:
        try:
            await _add_stream(js, wanted)
        except APIError as exc:
            # 10058: the name was taken meanwhile (another client); 10065: subjects overlap a stream
            # the listing did not show (an account that may not list streams). Look again, once,
            # with the streams the server says hold the subjects.
            if not retry or exc.err_code not in (_NAME_IN_USE, _SUBJECTS_OVERLAP):
                raise
            try:
                holders = await _holders(js, wanted.subjects)
            except (NatsError, asyncio.TimeoutError):
                holders = []
            if holders or exc.err_code == _NAME_IN_USE:
                return await _ensure_one(js, role, wanted, use_existing, others + holders, retry=False)
            raise StreamConflictError(
                f"stream {wanted.name} on {list(wanted.subjects)} cannot be created: {exc.description} "
                f"(JetStream error {exc.err_code}), and this account may not look up which stream holds them; "
                f"use connect(..., use_existing_streams=True) if that stream covers them, or other subjects "
                f'(connect(..., subjects=SubjectTemplate(prefix="alchemist.")))') from exc
        log("cim.stream_created", stream=wanted.name, subjects=",".join(wanted.subjects))
        return wanted.name
    found = overlapping[0] if overlapping else existing  # overlapping subjects: another name would not do
    covers = all(any(subject_covers(t, o) for t in found.subjects or ()) for o in wanted.subjects)
    retention = getattr(found.retention, "value", found.retention) or RetentionPolicy.LIMITS.value
    if use_existing and covers and retention == getattr(wanted.retention, "value", wanted.retention):
        log("cim.stream_used_as_is", role=role, stream=found.name, subjects=",".join(found.subjects or ()))
        return found.name
    raise _conflict(role, wanted, found, same_name=found.name == wanted.name)


async def _ensure_insights_consumer(js, stream: str) -> None:
    """Create the durable ``information-alchemist`` consumer where it is missing; update it only
    when it carries alchemist's mark."""
    from nats.js.api import AckPolicy, ConsumerConfig
    from nats.js.errors import APIError, NotFoundError

    wanted = ConsumerConfig(durable_name=INSIGHTS_CONSUMER, filter_subject=INSIGHTS_SUBJECT,
                            ack_policy=AckPolicy.EXPLICIT, ack_wait=60, max_deliver=10, metadata={OWNER_KEY: OWNER})
    try:
        existing = (await js.consumer_info(stream, INSIGHTS_CONSUMER)).config
    except NotFoundError:
        existing = None
    if existing is not None and not is_alchemists(existing):
        return  # someone else's consumer of that name: used as it is
    if existing is not None and (existing.filter_subject, existing.ack_wait, existing.max_deliver) == (
            wanted.filter_subject, wanted.ack_wait, wanted.max_deliver):
        return
    try:
        await js.add_consumer(stream, wanted)
    except APIError as exc:  # e.g. a foreign work queue whose consumers already cover the subject
        log("cim.insights_consumer_unavailable", stream=stream, error=str(exc))


async def ensure_streams(js, subjects: SubjectTemplate = DEFAULT_SUBJECTS, replicas: int = 1, *,
                         graph_stream: str = GRAPH_STREAM, use_existing: bool = False) -> StreamNames:
    """Set up the graph-events, ``AI_INSIGHTS`` (with its durable consumer) and ``ALCHEMIST_DLQ``
    streams without changing anything alchemist did not create (idempotent).

    For each stream: a stream of that name marked as alchemist's is updated if its configuration
    is older (replicas are only ever raised); one not marked is used as it is when it stores what
    alchemist would create; a missing one is created (marked) unless another stream holds
    overlapping subjects. Any other foreign stream in the way is used as it is with
    ``use_existing`` when its subjects cover alchemist's and its retention is the same kind, and
    otherwise raises. Overlaps are found by listing the streams, or, for an account that may not
    list them, from the server's refusal to create (error 10065) and a look-up by subject.

    Parameters
    ----------
    js : nats.js.JetStreamContext
    subjects : SubjectTemplate
        The subject convention of the graph events.
    replicas : int
        Replicas of the streams created.
    graph_stream : str
        Name of the graph-events stream.
    use_existing : bool
        Read and write a foreign stream whose subjects cover alchemist's, as it is.

    Returns
    -------
    StreamNames
        The streams to use.

    Raises
    ------
    StreamConflictError
        A stream alchemist did not create is in the way; the message names it, its subjects and the
        ``connect()`` option that resolves the conflict.
    """
    others = await _all_stream_configs(js)
    names = {}
    for role, config in (("graph", stream_config(subjects, replicas, name=graph_stream)),
                         ("insights", insights_stream_config(replicas)),
                         ("dlq", _mark(dlq_stream_config(replicas), "dlq"))):
        names[role] = await _ensure_one(js, role, config, use_existing, others)
    await _ensure_insights_consumer(js, names["insights"])
    return StreamNames(**names)
