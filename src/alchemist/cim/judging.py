"""Judging each message alone: decoding and folding a fetch so that one bad message or event
refuses only itself (DESIGN.md §9).

A fetch is decoded and folded whole (the fast path); when that raises, whatever the exception
(``RecursionError`` of a JSON bomb, a bug reached by a strange payload), it is done again message by
message, then event by event, and only what raised is rejected, with its exception as the reason.
"""

from __future__ import annotations

import logging
from itertools import groupby

from alchemist.cim.fold import GraphFold
from alchemist.cim.observability import log
from alchemist.events import Event, decode_messages

__all__ = ["new_fold", "snapshot_fold", "decode_each", "fold_each", "judged"]


def new_fold(graph_id: str, *, partial: bool, accept, causal: bool, chain_wait: float = 0.0) -> GraphFold:
    """A fold for a whole history, or for a partial one.

    A partial read (from a sequence or a time) knows nothing before its start: its graph is
    lenient (``Graph(strict=False)``: an edge brings its endpoints as bare nodes) and its chain
    starts at the first event it reads (``mid_stream``: that event's predecessor lies before the
    start).

    Parameters
    ----------
    graph_id : str
    partial : bool
    accept : callable or None
        ``accept(event) -> bool`` (time travel).
    causal : bool
        Enforce the CID chain (:mod:`alchemist.cim.chain`).
    chain_wait : float
        Seconds an event may wait for its predecessor once caught up (a few for a live feed).

    Returns
    -------
    GraphFold
    """
    if not partial:
        return GraphFold(graph_id, accept=accept, causal=causal, chain_wait=chain_wait)
    from alchemist.graph import Graph

    return GraphFold(graph_id, Graph(graph_id, strict=False), accept=accept, causal=causal, mid_stream=True,
                     chain_wait=chain_wait)


def decode_each(batch):
    """:func:`~alchemist.events.decode_messages`, one message at a time when the whole fetch raises.

    Parameters
    ----------
    batch : list of (data, headers, stream_sequence)

    Returns
    -------
    events : list of Event
    rejected : list of (stream_sequence, event or None, exception)
        A message that raised anything is rejected whole (event None) with that exception.

    Examples
    --------
    >>> events, rejected = decode_each([(b"[" * 100_000, None, 1)])
    >>> events, [(seq, event) for seq, event, _ in rejected]
    ([], [(1, None)])
    """
    try:
        return decode_messages(batch)
    except Exception:
        events, rejected = [], []
        for item in batch:
            try:
                good, bad = decode_messages([item])
            except Exception as exc:
                rejected.append((item[2], None, exc))
                continue
            events += good
            rejected += bad
        return events, rejected


def fold_each(fold: GraphFold, events: list[Event], caught_up: bool, imports) -> list[tuple[Event, Exception]]:
    """Fold a fetch's events; when the fold raises, fold them message by message, then event by
    event, so that an exception refuses only the event that raised it.

    Parameters
    ----------
    fold : GraphFold
    events : list of Event
        Decoded and verified, in stream order (each with its ``sequence``).
    caught_up : bool
        Nothing more is pending (see :meth:`GraphFold.feed`).
    imports : dict or None
        Resolved ``graph_imported`` objects.

    Returns
    -------
    list of (Event, Exception)
        The events refused: by the graph, or because folding them raised.
    """
    try:
        return fold.feed(events, caught_up=caught_up, imports=imports)
    except Exception as exc:
        log("cim.fold_error", logging.WARNING, graph=fold.graph_id, error=f"{exc.__class__.__name__}: {exc}")
    refused: list[tuple[Event, Exception]] = []
    for _seq, group in groupby(events, key=lambda e: e.sequence):
        group = list(group)
        try:
            refused += fold.feed(group, imports=imports)
            continue
        except Exception:
            pass
        for event in group:
            try:
                refused += fold.feed([event], imports=imports)
            except Exception as exc:
                refused.append((event, exc))
    if caught_up:
        try:
            refused += fold.feed([], caught_up=True)
        except Exception as exc:
            log("cim.fold_error", logging.WARNING, graph=fold.graph_id, error=f"{exc.__class__.__name__}: {exc}")
    return refused


async def snapshot_fold(connection, graph_id: str, chain_wait: float = 0.0) -> GraphFold | None:
    """A fold that starts from the graph's latest snapshot (:mod:`alchemist.cim.snapshots`).

    Parameters
    ----------
    connection : Connection
    graph_id : str
    chain_wait : float
        See :func:`new_fold`.

    Returns
    -------
    GraphFold or None
        None when there is no snapshot, or when it cannot be read (logged; the caller reads the
        stream from the start instead).
    """
    from alchemist.cim.snapshots import load_snapshot_async

    try:
        loaded = await load_snapshot_async(connection, graph_id)
    except Exception as exc:  # a corrupt snapshot: read the stream from the start instead
        log("cim.snapshot_unreadable", logging.WARNING, graph=graph_id, error=f"{exc.__class__.__name__}: {exc}")
        return None
    if loaded is None:
        return None
    graph, applied_ids, seq = loaded
    fold = GraphFold(graph_id, graph, applied_ids=applied_ids, chain_wait=chain_wait)
    fold.last_sequence = seq
    return fold


def judged(feed, refused: list[tuple[Event, Exception]]) -> list[tuple[int | None, Event, Exception]]:
    """The refused events to dead-letter, as ``(sequence, event, error)``.

    A feed that does not judge (a partial read, see :class:`~alchemist.cim.feed.GraphFeed`) lists
    them in ``feed.skipped`` instead and returns nothing.

    Parameters
    ----------
    feed : GraphFeed
    refused : list of (Event, Exception)

    Returns
    -------
    list of (int or None, Event, Exception)
    """
    if feed.judge:
        return [(event.sequence, event, exc) for event, exc in refused]
    feed.skipped.extend((event.sequence, event.event_id, f"{exc.__class__.__name__}: {exc}") for event, exc in refused)
    return []
