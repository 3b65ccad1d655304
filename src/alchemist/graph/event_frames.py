"""Events as a polars frame: one row per event, built column by column, a batch at a time.

:func:`events_frame` turns events (a Graph's own history, a list, or any iterable) into a frame
with the columns of :data:`EVENT_FRAME_COLUMNS`; :class:`EventFrameBuilder` is the same, fed one
event at a time, for readers that stream (``Connection.events_frame`` feeds it from JetStream).
Events wait in a buffer of at most ``batch_size`` until they are turned into one column chunk
each (list comprehensions over the batch, then polars Series), so the Python objects alive at any
time are one batch's; the frame holds Arrow buffers only: about 0.5 KB of resident memory an event
for a replayed edge list (a list of :class:`~alchemist.events.Event` objects takes 1.4 KB), see
:meth:`EventFrameBuilder.frame`.

:func:`event_filter` is the one predicate every event query uses (by type, by the events' own
time, by correlation).
"""

from __future__ import annotations

from typing import Callable, Iterable

import msgspec

from alchemist.events import Event
from alchemist.events.times import seconds_of, to_seconds

__all__ = ["EVENT_FRAME_COLUMNS", "event_frame_schema", "EventFrameBuilder", "events_frame", "event_filter", "type_set", "name_set",
           "actor_of"]

EVENT_FRAME_COLUMNS: tuple[str, ...] = ("sequence", "time", "type", "aggregate", "event_id", "correlation",
                                         "causation", "cid", "previous_cid", "actor", "payload")
"""The columns of an events frame, in order (their dtypes: :func:`event_frame_schema`)."""


def event_frame_schema(columns=None) -> dict:
    """The polars dtypes of an events frame's columns.

    ``sequence`` is the JetStream stream sequence (Int64, null for an event that was never
    stored), ``time`` the event's own ``timestamp`` (Datetime µs UTC), ``type`` and ``aggregate``
    (the graph id) are categoricals; ``event_id``, ``correlation``, ``causation``, ``cid``,
    ``previous_cid`` (null for a chain's first event), ``actor`` (``metadata["actor"]``, null
    when the event has none) and ``payload`` (compact JSON) are strings.

    Parameters
    ----------
    columns : list of str, optional
        A subset of :data:`EVENT_FRAME_COLUMNS` (all by default).

    Returns
    -------
    dict of str to polars.DataType

    Raises
    ------
    ValueError
        An unknown column.

    Examples
    --------
    >>> event_frame_schema(["sequence", "time", "type"])
    {'sequence': Int64, 'time': Datetime(time_unit='us', time_zone='UTC'), 'type': Categorical}
    """
    import polars as pl

    names = list(EVENT_FRAME_COLUMNS) if columns is None else list(columns)
    unknown = [c for c in names if c not in EVENT_FRAME_COLUMNS]
    if unknown or not names:
        raise ValueError(f"columns={columns!r}; an events frame has the columns {list(EVENT_FRAME_COLUMNS)}")
    types = {"sequence": pl.Int64(), "time": pl.Datetime("us", "UTC"), "type": pl.Categorical(),
             "aggregate": pl.Categorical()}
    return {name: types.get(name, pl.String()) for name in names}


_JSON = msgspec.json.Encoder()


def events_frame(events: Iterable[Event], *, event_types=None, types=None, since=None, until=None,
                 correlation=None, columns=None, batch_size: int = 8192):
    """A frame of events, one row each, in the order given.

    Parameters
    ----------
    events : iterable of Event
        A Graph's ``events``, a list read from a stream, a generator.
    event_types, types : str or list of str, optional
        Only events of these types (``types`` is the same filter under a shorter name; give one).
    since, until : str, float or datetime, optional
        Only events whose own ``timestamp`` is at or after ``since``, at or before ``until``.
    correlation : str or list of str, optional
        Only events with one of these correlation ids.
    columns : list of str, optional
        The columns to build (all of :data:`EVENT_FRAME_COLUMNS` by default, in that order); leaving
        out ``payload`` saves about half the memory of a frame of graph events.
    batch_size : int
        Events converted to columns at a time.

    Returns
    -------
    polars.DataFrame
        The columns of :data:`EVENT_FRAME_COLUMNS` (or ``columns``), dtypes :func:`event_frame_schema`.

    Raises
    ------
    ValueError
        ``event_types`` and ``types`` both given, a type or correlation that is not a non-empty
        string, an unknown column, or ``batch_size < 1``.
    InvalidEventError
        ``since``/``until`` is a string that is not RFC 3339.

    Examples
    --------
    >>> from alchemist import Graph, new_event
    >>> g = Graph("g")
    >>> _ = g.apply([new_event("node_added", "g", {"node_id": "a"}, timestamp=0, metadata={"actor": "ana"}),
    ...              new_event("node_added", "g", {"node_id": "b"}, timestamp=60)])
    >>> frame = events_frame(g.events)
    >>> frame.select("time", "type", "actor", "payload").rows()  # doctest: +NORMALIZE_WHITESPACE
    [(datetime.datetime(1970, 1, 1, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 'node_added', 'ana',
      '{"node_id":"a"}'),
     (datetime.datetime(1970, 1, 1, 0, 1, tzinfo=zoneinfo.ZoneInfo(key='UTC')), 'node_added', None,
      '{"node_id":"b"}')]
    >>> events_frame(g.events, since=30).height
    1
    """
    builder = EventFrameBuilder(columns=columns, batch_size=batch_size)
    keep = event_filter(event_types=event_types, types=types, since=since, until=until, correlation=correlation)
    for event in events:
        if keep is None or keep(event):
            builder.add(event)
    return builder.frame()


class EventFrameBuilder:
    """Builds an events frame from events fed one at a time, in bounded memory.

    Parameters
    ----------
    columns : list of str, optional
        Columns of :data:`EVENT_FRAME_COLUMNS` to build (all by default).
    batch_size : int
        Events buffered before they become one chunk of each column.

    Raises
    ------
    ValueError
        An unknown column or ``batch_size < 1``.

    Examples
    --------
    >>> from alchemist import new_event
    >>> builder = EventFrameBuilder(columns=["type", "payload"], batch_size=2)
    >>> for node in "abc":
    ...     builder.add(new_event("node_added", "g", {"node_id": node}))
    >>> builder.frame().rows()
    [('node_added', '{"node_id":"a"}'), ('node_added', '{"node_id":"b"}'), ('node_added', '{"node_id":"c"}')]
    """

    def __init__(self, *, columns=None, batch_size: int = 8192):
        self.schema = event_frame_schema(columns)
        if int(batch_size) < 1:
            raise ValueError(f"batch_size={batch_size!r}; convert at least 1 event at a time")
        self.columns = list(self.schema)
        self.batch_size = int(batch_size)
        self._pending: list[Event] = []
        self._chunks: list = []
        self.count = 0

    def add(self, event: Event) -> None:
        """Add one event (its row is built when the batch is full or at :meth:`frame`).

        Parameters
        ----------
        event : Event

        Returns
        -------
        None
        """
        self._pending.append(event)
        self.count += 1
        if len(self._pending) >= self.batch_size:
            self._flush()

    def frame(self):
        """The frame of every event added so far (the chunks are kept as they are, not copied).

        Returns
        -------
        polars.DataFrame
            Of the builder's columns. For events of a replayed edge list (36-character UUIDs,
            59-character CIDs, payloads of about 60 bytes), ``frame.estimated_size()`` is 314
            bytes an event with every column and 250 without ``payload``; the resident memory is
            about 0.5 KB an event (polars' string views, 16 bytes a value, are not in the estimate),
            against 1.4 KB an event for a list of ``Event`` objects
            (``python -m benchmarks.bench_event_frames --full``).
        """
        import polars as pl

        self._flush()
        if not self._chunks:
            return pl.DataFrame(schema=self.schema)
        if len(self._chunks) == 1:
            return self._chunks[0]
        return pl.concat(self._chunks, how="vertical", rechunk=False)

    def _flush(self) -> None:
        if self._pending:
            self._chunks.append(_chunk(self._pending, self.schema))
            self._pending = []


def event_filter(*, event_types=None, types=None, since=None, until=None,
                 correlation=None) -> Callable[[Event], bool] | None:
    """The predicate of an event query: by type, by the events' own time, by correlation id.

    Parameters
    ----------
    event_types, types : str or list of str, optional
        Event type names (the same filter under two names: give at most one).
    since, until : str, float or datetime, optional
        The event's ``timestamp`` at or after ``since``, at or before ``until`` (RFC 3339, Unix
        seconds, or a datetime, naive = UTC).
    correlation : str or list of str, optional
        Correlation ids.

    Returns
    -------
    callable or None
        ``keep(event) -> bool``; None when nothing is filtered.

    Raises
    ------
    ValueError
        Both ``event_types`` and ``types``, or names that are not non-empty strings.
    InvalidEventError
        A time string that is not RFC 3339.

    Examples
    --------
    >>> from alchemist import new_event
    >>> keep = event_filter(types="node_added", correlation=["c1", "c2"])
    >>> keep(new_event("node_added", "g", {"node_id": "a"}, correlation_id="c1"))
    True
    >>> keep(new_event("node_added", "g", {"node_id": "a"}, correlation_id="c3"))
    False
    >>> event_filter() is None
    True
    """
    if event_types is not None and types is not None:
        raise ValueError("give event_types= or types= (the same filter), not both")
    wanted = type_set(types if event_types is None else event_types)
    correlations = name_set(correlation, "correlation", "correlation ids, e.g. 'c-1' or ['c-1', 'c-2']")
    low = None if since is None else to_seconds(since)
    high = None if until is None else to_seconds(until)
    if wanted is None and correlations is None and low is None and high is None:
        return None
    timed = low is not None or high is not None

    def keep(event: Event) -> bool:
        if wanted is not None and event.event_type not in wanted:
            return False
        if correlations is not None and event.correlation_id not in correlations:
            return False
        if timed:
            at = to_seconds(event.timestamp)
            if (low is not None and at < low) or (high is not None and at > high):
                return False
        return True

    return keep


def type_set(event_types) -> frozenset[str] | None:
    """The event types a read keeps, as a set (None: every type).

    Parameters
    ----------
    event_types : None, str or iterable of str

    Returns
    -------
    frozenset of str or None

    Raises
    ------
    ValueError
        Something other than non-empty strings, or an empty list.

    Examples
    --------
    >>> sorted(type_set(["node_added", "edge_added"])), type_set("node_added"), type_set(None)
    (['edge_added', 'node_added'], frozenset({'node_added'}), None)
    """
    return name_set(event_types, "event_types", "event type names, e.g. ['node_added', 'edge_added']")


def name_set(values, what: str, hint: str) -> frozenset[str] | None:
    """A filter's names (a string or an iterable of strings) as a set; None for no filter.

    Parameters
    ----------
    values : None, str or iterable of str
    what : str
        The argument's name, for the message.
    hint : str
        What to give instead, for the message.

    Returns
    -------
    frozenset of str or None

    Raises
    ------
    ValueError
        Something other than non-empty strings, or an empty list.

    Examples
    --------
    >>> name_set("c-1", "correlation", "ids"), name_set(None, "correlation", "ids")
    (frozenset({'c-1'}), None)
    """
    if values is None:
        return None
    names = [values] if isinstance(values, str) else list(values)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{what}={values!r}; give {hint}")
    return frozenset(names)


def actor_of(event: Event) -> str | None:
    """Who caused an event: ``metadata["actor"]`` as text, None when it has none.

    Parameters
    ----------
    event : Event

    Returns
    -------
    str or None

    Examples
    --------
    >>> from alchemist import new_event
    >>> actor_of(new_event("node_added", "g", {"node_id": "a"}, metadata={"actor": "ana", "via": "jwt"}))
    'ana'
    """
    actor = (event.metadata or {}).get("actor")
    return None if actor is None else str(actor)


# ---------------------------------------------------------------------------------------- kernel
def _chunk(events: list[Event], schema: dict):
    """One chunk of each column from a batch of events (comprehensions, then typed Series)."""
    import polars as pl
    import pyarrow as pa

    data = {}
    for name, dtype in schema.items():
        if name == "time":
            stamps = pa.array([e.timestamp for e in events], pa.string())
            try:
                values = stamps.cast(pa.timestamp("us", tz="UTC"))
            except pa.ArrowInvalid:  # a form Arrow's parser refuses: one by one, same values
                values = pa.array((seconds_of(stamps) * 1e6).round().astype("int64"), pa.timestamp("us", tz="UTC"))
            data[name] = pl.Series(name, values)
            continue
        values = _COLUMN[name](events)
        data[name] = pl.Series(name, values, dtype=dtype)
    return pl.DataFrame(data)


_COLUMN: dict[str, Callable[[list[Event]], list]] = {
    "sequence": lambda es: [e.sequence for e in es],
    "type": lambda es: [e.event_type for e in es],
    "aggregate": lambda es: [e.aggregate_id for e in es],
    "event_id": lambda es: [e.event_id for e in es],
    "correlation": lambda es: [e.correlation_id for e in es],
    "causation": lambda es: [e.causation_id for e in es],
    "cid": lambda es: [e.cid or None for e in es],
    "previous_cid": lambda es: [e.previous_cid for e in es],
    "actor": lambda es: [actor_of(e) for e in es],
    "payload": lambda es: [_JSON.encode(e.payload).decode() for e in es],
}
