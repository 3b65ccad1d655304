"""Pull consumers of a graph's subject: their configuration, where they start, and what a
JetStream acknowledgement subject says about a message (stream and consumer sequence, pending).

A start is ``None`` (the whole history), ``("seq", n)`` (stream sequence ``n`` on) or
``("time", iso)`` (messages stored at or after an RFC 3339 time). A durable consumer keeps its
start in its metadata (:data:`START_KEY`), so a resumed one knows what it was created to read.
"""

from __future__ import annotations

from alchemist.errors import CIMError
from alchemist.events import parse_rfc3339

__all__ = ["OWNER_KEY", "OWNER", "START_KEY", "consumer_config", "durable_info", "set_start", "start_of",
           "start_decode", "fetch", "stream_sequence", "consumer_sequence", "pending", "to_seconds"]

OWNER_KEY, OWNER = "created_by", "alchemist"
"""The mark on every stream and consumer alchemist creates (the same as :mod:`alchemist.cim.streams`)."""
START_KEY = "alchemist-start"
"""Metadata key of a durable consumer: where it was created to start (empty: the whole history;
``seq:<n>`` or ``time:<RFC 3339>``), kept when it is recreated on resume."""


def start_of(from_sequence, from_time):
    """Where a read starts.

    Parameters
    ----------
    from_sequence : int or None
    from_time : str, float, datetime or None
        See :func:`to_seconds`.

    Returns
    -------
    None, ("seq", int) or ("time", str)

    Examples
    --------
    >>> start_of(None, None), start_of(5, None), start_of(None, 60)
    (None, ('seq', 5), ('time', '1970-01-01T00:01:00+00:00'))
    """
    import datetime as _dt

    if from_sequence is not None:
        return ("seq", int(from_sequence))
    if from_time is not None:
        return ("time", _dt.datetime.fromtimestamp(to_seconds(from_time), _dt.timezone.utc).isoformat())
    return None


def start_decode(text: str):
    """The start kept in a durable consumer's metadata (inverse of ``f"{kind}:{value}"``).

    Parameters
    ----------
    text : str

    Returns
    -------
    None, ("seq", int) or ("time", str)

    Examples
    --------
    >>> start_decode(""), start_decode("seq:12"), start_decode("time:2024-01-01T00:00:00+00:00")
    (None, ('seq', 12), ('time', '2024-01-01T00:00:00+00:00'))
    """
    kind, _, value = (text or "").partition(":")
    if kind == "seq":
        return ("seq", int(value))
    if kind == "time":
        return ("time", value)
    return None


def set_start(config, start) -> None:
    """Set a ``ConsumerConfig``'s deliver policy and start (in place).

    Parameters
    ----------
    config : nats.js.api.ConsumerConfig
    start : None, ("seq", int) or ("time", str)
    """
    from nats.js.api import DeliverPolicy

    config.opt_start_seq = config.opt_start_time = None
    if start is None:
        config.deliver_policy = DeliverPolicy.ALL
    elif start[0] == "seq":
        config.deliver_policy, config.opt_start_seq = DeliverPolicy.BY_START_SEQUENCE, start[1]
    else:
        config.deliver_policy, config.opt_start_time = DeliverPolicy.BY_START_TIME, start[1]


def consumer_config(subject: str, durable: str | None, start):
    """A graph's pull consumer: acknowledge-all, no limit on pending acknowledgements, 60 s
    acknowledgement wait; an ephemeral one goes after 5 idle minutes, a durable one carries
    alchemist's mark and its start in its metadata.

    Parameters
    ----------
    subject : str
        The filter subject (one graph's events).
    durable : str or None
        Durable name.
    start : None, ("seq", int) or ("time", str)

    Returns
    -------
    nats.js.api.ConsumerConfig

    Examples
    --------
    >>> config = consumer_config("graph.events.g1.*", "reader", ("seq", 7))
    >>> config.opt_start_seq, config.metadata
    (7, {'created_by': 'alchemist', 'alchemist-start': 'seq:7'})
    """
    from nats.js.api import AckPolicy, ConsumerConfig

    config = ConsumerConfig(ack_policy=AckPolicy.ALL, filter_subject=subject, max_ack_pending=-1, ack_wait=60,
                            inactive_threshold=None if durable else 300.0)
    if durable:
        config.durable_name = durable
        config.metadata = {OWNER_KEY: OWNER, START_KEY: "" if start is None else f"{start[0]}:{start[1]}"}
    set_start(config, start)
    return config


async def durable_info(js, stream: str, durable: str, subject: str):
    """The ``ConsumerInfo`` of an existing durable consumer of one graph, or None when there is none.

    Parameters
    ----------
    js : nats.js.JetStreamContext
    stream, durable : str
    subject : str
        The graph's filter subject.

    Returns
    -------
    nats.js.api.ConsumerInfo or None

    Raises
    ------
    CIMError
        The consumer reads another subject, or alchemist did not create it (no mark): it is left alone.
    """
    from nats.js.errors import NotFoundError

    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        return None
    config = info.config
    if config.filter_subject != subject:
        raise CIMError(f"durable consumer {durable!r} on stream {stream} reads {config.filter_subject!r}, "
                       f"not this graph ({subject!r}); pass another durable= name")
    if (config.metadata or {}).get(OWNER_KEY) != OWNER:
        raise CIMError(f"durable consumer {durable!r} on stream {stream} was not created by alchemist, "
                       f"which leaves it alone; pass another durable= name")
    return info


def to_seconds(value) -> float:
    """Unix seconds of a number, a datetime (naive = UTC) or an RFC 3339 string.

    Parameters
    ----------
    value : int, float, datetime or str

    Returns
    -------
    float

    Examples
    --------
    >>> to_seconds("1970-01-01T00:01:00Z"), to_seconds(5)
    (60.0, 5.0)
    """
    import datetime as _dt

    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, _dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)).timestamp()
    return parse_rfc3339(str(value)).timestamp()


async def fetch(sub, batch: int, timeout: float) -> list:
    """Up to ``batch`` messages of a pull subscription; an empty list when none came within
    ``timeout`` seconds.

    One pull request (``$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>``): one round trip, plus
    the messages.

    Parameters
    ----------
    sub : nats.js.JetStreamContext.PullSubscription
    batch : int
        Messages asked for at most.
    timeout : float
        Seconds to wait for the first message.

    Returns
    -------
    list of nats.aio.msg.Msg

    Raises
    ------
    nats.errors.ConnectionClosedError
        The connection is closed (other errors of the pull are raised as nats-py raises them).
    """
    from nats.errors import TimeoutError as NatsTimeout

    try:
        return await sub.fetch(batch=batch, timeout=timeout)
    except NatsTimeout:
        return []


def stream_sequence(reply: str) -> int:
    """Stream sequence of a message, from its acknowledgement subject (nats-py's ``msg.metadata``
    costs ~25 µs a message).

    Parameters
    ----------
    reply : str
        The message's reply subject (``msg.reply``), v1 or v2 layout.

    Returns
    -------
    int

    Raises
    ------
    IndexError, ValueError
        ``reply`` is not a JetStream acknowledgement subject.

    Examples
    --------
    >>> stream_sequence("$JS.ACK.GRAPH_EVENTS.c1.1.42.7.1700000000000000000.3")
    42
    """
    return int(_ack_tokens(reply)[5])


def consumer_sequence(reply: str) -> int:
    """Consumer sequence of a message, from its acknowledgement subject.

    Parameters
    ----------
    reply : str

    Returns
    -------
    int

    Raises
    ------
    IndexError, ValueError
        ``reply`` is not a JetStream acknowledgement subject.

    Examples
    --------
    >>> consumer_sequence("$JS.ACK.GRAPH_EVENTS.c1.1.42.7.1700000000000000000.3")
    7
    """
    return int(_ack_tokens(reply)[6])


def pending(reply: str) -> int:
    """Messages pending for the consumer after this one, from its acknowledgement subject.

    Parameters
    ----------
    reply : str

    Returns
    -------
    int

    Raises
    ------
    IndexError, ValueError
        ``reply`` is not a JetStream acknowledgement subject.

    Examples
    --------
    >>> pending("$JS.ACK.hub.ACCHASH.GRAPH_EVENTS.c1.1.42.7.1700000000000000000.3.xyz")
    3
    """
    return int(_ack_tokens(reply)[8])


def _ack_tokens(reply: str) -> list[str]:
    """Tokens of a JetStream ack subject, in the v1 layout ``$JS.ACK.<stream>.<consumer>.<delivered>.
    <stream seq>.<consumer seq>.<time>.<pending>`` (the v2 layout adds a domain and an account hash
    after ``ACK`` and a random token at the end)."""
    tokens = reply.split(".")
    if len(tokens) >= 12:
        del tokens[2:4]
    return tokens
