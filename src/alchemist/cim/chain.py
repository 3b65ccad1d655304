"""The CID chain of one aggregate: exactly-once admission, causal order, forks, bounded memory.

Every CIM event names its aggregate's previous event by CID (``previous_cid``; DESIGN.md §2).
:class:`CausalChain` is the gate a consumer's events pass before they are applied
(:class:`~alchemist.cim.fold.GraphFold` holds one): it puts them in chain order, skips the
redelivered ones and refuses, each once and with a specific error, those that cannot belong to
the chain:

- :class:`~alchemist.errors.ConflictingDuplicateError`: the ``event_id`` of an event seen before,
  with other content (another CID); the first one stands. The same id with the same CID is a
  duplicate and is skipped silently.
- :class:`~alchemist.errors.ForkError`: ``previous_cid`` names an event that already has a
  successor, i.e. the later in stream order of two events claiming the same predecessor (or
  ``previous_cid`` is empty while the aggregate already has events).
- :class:`~alchemist.errors.ChainError`: ``previous_cid`` is not a canonical CIM CID.
- :class:`~alchemist.errors.UnknownPredecessorError`: ``previous_cid`` names an event that was
  refused, or one that did not arrive within the wait below.

The wait: an event whose predecessor has not been seen is *parked* (a publisher's retries can
store events out of order) and applied as soon as its predecessor arrives. It is refused when
the consumer has caught up with the stream and it has waited at least ``chain_wait`` seconds
(0 for a read that ends when caught up; a few seconds for a live feed, whose consumer also calls
:meth:`CausalChain.expire` when idle), or at once when more than ``max_parked`` events are parked
(the oldest goes first). Whatever waits on a refused event is refused with it.

Bounded memory: no set of every event id is kept. Duplicates are caught by JetStream's
de-duplication window (``Nats-Msg-Id``, two minutes) and by :class:`RecentEvents`, the ids and
CIDs of the most recent ``window`` to ``2 · window`` events. An event older than that window
that is delivered again (a late outbox flush, a re-published log) is never applied twice: its
``previous_cid`` names an event that is neither the head nor in the window, so it waits and is
refused as :class:`~alchemist.errors.UnknownPredecessorError` (or as a fork, when its predecessor
is still in the window). The chain's head (the CID of the last event in the chain) is what makes
this hold for any stream length.

Ids are kept as text; CIDs as Python's ``hash`` of their text (SipHash-1-3 with a per-process
random key, so a collision cannot be forged). CIDs are looked up only for events that do not
continue the head (out of order, redelivered, forged); such a lookup of a CID outside the window
matches falsely with probability below ``2 · window / 2⁶⁴`` (about 10⁻¹⁴ with the default
window), which would refuse that event as a fork (or skip a conflicting duplicate).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Iterable

from alchemist.errors import (CIDMismatchError, ChainError, ConflictingDuplicateError, ForkError,
                              UnknownPredecessorError)
from alchemist.events import Event

__all__ = ["CausalChain", "RecentEvents", "DEFAULT_WINDOW", "DEFAULT_MAX_PARKED"]

DEFAULT_WINDOW = 100_000
"""Events remembered for de-duplication and fork detection (at least this many, at most twice)."""

DEFAULT_MAX_PARKED = 50_000
"""Events that may wait for their predecessor at once; beyond that the oldest is refused. Five
times what a publisher can have unacknowledged (:data:`alchemist.cim.publisher.WINDOW_EVENTS`),
which bounds how far out of order a server outage can store a graph's events; parked events cost
about 1 KB each, so at most ~50 MB, and only while events wait."""

Refused = list[tuple[Event, Exception]]


class RecentEvents:
    """The ids and CIDs of the most recent events, in bounded memory.

    Two generations of at most ``size`` ids each: when the young one is full it becomes the old
    one and the previous old one is dropped, so the window holds at least the last ``size``
    events and at most ``2 · size`` (plus one call's worth of :meth:`add_chain`). Ids are kept as
    text (for snapshots), CIDs as their ``hash``; an id and its CID are always in the same
    generation, so "this id with this CID was seen" is ``knows(id) and state(hash(cid)) is not
    None``.

    Parameters
    ----------
    size : int
        At least 1.

    Examples
    --------
    >>> recent = RecentEvents(2)
    >>> for k in range(5):
    ...     recent.add(f"id{k}", hash(f"cid{k}"))
    >>> sorted(recent.ids())
    ['id2', 'id3', 'id4']
    >>> recent.knows("id0"), recent.knows("id4"), recent.state(hash("cid4")), recent.state(hash("cid0"))
    (False, True, True, None)
    """

    def __init__(self, size: int = DEFAULT_WINDOW):
        if int(size) < 1:
            raise ValueError(f"window={size!r}: the recent-event window must hold at least 1 event")
        self.size = int(size)
        self._young = _Generation()
        self._old = _Generation()

    def __len__(self) -> int:
        return len(self._young.ids) + len(self._old.ids)

    def knows(self, event_id: str) -> bool:
        """Whether ``event_id`` is in the window."""
        return event_id in self._young.ids or event_id in self._old.ids

    def blind(self, event_id: str) -> bool:
        """Whether ``event_id`` was recorded without its CID (:meth:`add_ids`)."""
        return event_id in self._young.blind or event_id in self._old.blind

    def state(self, cid_hash: int) -> bool | None:
        """True if the CID is in the chain, False if its event was refused, None if not in the window."""
        young, old = self._young, self._old
        if cid_hash in young.chained or cid_hash in old.chained:
            return True
        if cid_hash in young.refused or cid_hash in old.refused:
            return False
        return None

    def any_known(self, event_ids: set[str]) -> bool:
        """Whether any of the ids is in the window (set operations)."""
        return not (self._young.ids.isdisjoint(event_ids) and self._old.ids.isdisjoint(event_ids))

    def add(self, event_id: str, cid_hash: int, chained: bool = True) -> None:
        """Record one event: in the chain, or refused (``chained=False``)."""
        young = self._young
        young.ids.add(event_id)
        (young.chained if chained else young.refused).add(cid_hash)
        if len(young.ids) >= self.size:
            self._rotate()

    def mark(self, cid_hash: int, chained: bool) -> None:
        """Record a CID alone: the head a chain starts from, or the refused CID of an event whose id
        is already recorded (a conflicting duplicate)."""
        (self._young.chained if chained else self._young.refused).add(cid_hash)

    def add_chain(self, event_ids: set[str], cid_hashes: list[int]) -> None:
        """Record events that entered the chain (ids not in the window, checked by the caller)."""
        young = self._young
        young.ids |= event_ids
        young.chained.update(cid_hashes)
        if len(young.ids) >= self.size:
            self._rotate()

    def add_ids(self, event_ids: Iterable[str]) -> None:
        """Record ids whose CIDs are not known (a snapshot's, an imported object's rows): an event
        with one of these ids is a duplicate whatever its content. Only the last ``size`` are kept."""
        ids = [e for e in event_ids if e is not None]
        for start in range(max(0, len(ids) - self.size), len(ids), self.size):
            chunk = ids[start:start + self.size]
            self._young.ids.update(chunk)
            self._young.blind.update(chunk)
            if len(self._young.ids) >= self.size:
                self._rotate()

    def ids(self) -> list[str]:
        """The ids in the window (the older generation first; in no order within one)."""
        return list(self._old.ids) + list(self._young.ids - self._old.ids)

    def _rotate(self) -> None:
        self._old, self._young = self._young, _Generation()


class _Generation:
    __slots__ = ("ids", "blind", "chained", "refused")

    def __init__(self):
        self.ids: set[str] = set()
        self.blind: set[str] = set()      # ids recorded without their CID
        self.chained: set[int] = set()    # hash(cid) of the events in the chain
        self.refused: set[int] = set()    # hash(cid) of the refused events


class CausalChain:
    """The gate between decoded events and the graph: de-duplication, chain order, refusals.

    Parameters
    ----------
    head : str, optional
        CID of the last event already in the chain (a graph loaded from a snapshot:
        ``graph.last_cid``); None for an aggregate read from its first event.
    window : int
        Size of the :class:`RecentEvents` window (ids and CIDs of the most recent events).
    enforce : bool
        False: no chain rule at all (events are only de-duplicated and checked for conflicting
        content, and pass in stream order), e.g. to list a stream's events.
    mid_stream : bool
        The read starts after the aggregate's first event without a ``head`` (from a stream
        sequence or a time): the first event admitted anchors the chain whatever its
        ``previous_cid``.
    max_parked : int
        Events that may wait for their predecessor at once (at least 1).
    clock : callable
        Seconds, monotonic (``time.monotonic``); for the parked events' ages.

    Attributes
    ----------
    head : str or None
    duplicates : int
        Events skipped because the same event (same id and CID) was seen before.
    recent : RecentEvents

    Examples
    --------
    >>> from alchemist.events import new_event
    >>> a = new_event("graph_created", "g", {}, timestamp=0)
    >>> b = new_event("node_added", "g", {"node_id": "x"}, timestamp=1, previous_cid=a.cid)
    >>> chain = CausalChain()
    >>> ready, refused = chain.admit([b])      # b arrived first: it waits for a
    >>> ready, refused, chain.parked
    ([], [], 1)
    >>> ready, refused = chain.admit([a, b])   # a arrives, b follows it; the second b is a duplicate
    >>> [e.event_type for e in ready], refused, chain.duplicates
    (['graph_created', 'node_added'], [], 1)
    """

    def __init__(self, *, head: str | None = None, window: int = DEFAULT_WINDOW, enforce: bool = True,
                 mid_stream: bool = False, max_parked: int = DEFAULT_MAX_PARKED,
                 clock: Callable[[], float] = time.monotonic):
        if int(max_parked) < 1:
            raise ValueError(f"max_parked={max_parked!r}: at least 1 event must be able to wait for its predecessor")
        self.head = head
        self.recent = RecentEvents(window)
        if head is not None:
            self.recent.mark(hash(head), True)
        self.enforce = enforce
        self._anchor = mid_stream and head is None
        self.max_parked = int(max_parked)
        self.clock = clock
        self.duplicates = 0
        self._parked: OrderedDict[str, tuple[Event, float]] = OrderedDict()  # event_id -> (event, since)
        self._waiting: dict[str, list[Event]] = {}  # previous_cid -> parked events naming it, in stream order

    @property
    def parked(self) -> int:
        """Events waiting for the event their ``previous_cid`` names."""
        return len(self._parked)

    def parked_events(self) -> list[Event]:
        """The parked events, in the order they arrived."""
        return [e for e, _ in self._parked.values()]

    def admit(self, events: list[Event]) -> tuple[list[Event], Refused]:
        """Pass events through the chain.

        Parameters
        ----------
        events : list of Event
            Verified events of this aggregate, in stream order.

        Returns
        -------
        ready : list of Event
            The events to apply, in chain order: these, and parked events they released.
        refused : list of (Event, Exception)
            Events refused by this call (each event is refused at most once), with a
            :class:`~alchemist.errors.ConflictingDuplicateError`, :class:`~alchemist.errors.ForkError`,
            :class:`~alchemist.errors.ChainError` or :class:`~alchemist.errors.UnknownPredecessorError`.
        """
        if not events:
            return [], []
        if self._anchor:
            self._anchor = False
            self.head = events[0].previous_cid
        ids = {e.event_id for e in events}
        recent = self.recent
        # the common case, in set operations: new ids, nothing waiting, the chain runs through the batch
        if len(ids) == len(events) and not self._parked and not recent.any_known(ids) and (
                not self.enforce or (events[0].previous_cid == self.head and all(
                    [a.cid == b.previous_cid for a, b in zip(events, events[1:])]))):
            recent.add_chain(ids, [hash(e.cid) for e in events])
            if self.enforce:
                self.head = events[-1].cid
            return list(events), []
        ready: list[Event] = []
        refused: Refused = []
        for event in events:
            self._admit_one(event, ready, refused)
        return ready, refused

    def expire(self, max_age: float = 0.0) -> Refused:
        """Refuse the events parked for at least ``max_age`` seconds, oldest first, with what waits on them.

        Returns
        -------
        list of (Event, UnknownPredecessorError)
        """
        refused: Refused = []
        limit = self.clock() - max_age
        parked = self._parked
        while parked:
            event, since = next(iter(parked.values()))
            if since > limit:
                break
            self._unpark(event)
            waited = f"{max_age:g} s" if max_age > 0 else "until the consumer caught up with the stream"
            self._refuse(event, UnknownPredecessorError(
                f"event {event.event_id} ({event.event_type}, stream sequence {event.sequence}) of {event.aggregate_id!r}: "
                f"its previous_cid {event.previous_cid} names no event seen (waited {waited}; the chain's head is "
                f"{self.head}). Its predecessor is missing from the stream, or is older than the last "
                f"{self.recent.size:,} events (a replay of an old event); publish it again chained to the head"),
                refused)
        return refused

    # ------------------------------------------------------------------ one event at a time
    def _admit_one(self, event: Event, ready: list[Event], refused: Refused) -> None:
        eid = event.event_id
        h = hash(event.cid)
        recent = self.recent
        if recent.knows(eid) or eid in self._parked:
            if eid in self._parked:
                same = self._parked[eid][0].cid == event.cid
            else:
                same = recent.blind(eid) or recent.state(h) is not None
            if same:
                self.duplicates += 1
            else:
                self._refuse(event, ConflictingDuplicateError(
                    f"event {eid} ({event.event_type}, stream sequence {event.sequence}) of {event.aggregate_id!r} "
                    f"reuses the id of an event seen before, with other content (CID {event.cid}); the first "
                    "stands. Give a new event a new event_id (alchemist.new_event makes one)"), refused, record=False)
            return
        if not self.enforce:
            self.recent.add(eid, h)
            ready.append(event)
            return
        p = event.previous_cid
        if p == self.head:
            self._accept(event, ready, refused)
            return
        if p is None:
            self._refuse(event, ForkError(
                f"event {eid} ({event.event_type}, stream sequence {event.sequence}) has no previous_cid, as if it "
                f"were the first event of {event.aggregate_id!r}, which already has events (head {self.head}); "
                "chain it: previous_cid = the CID of the aggregate's last event"), refused)
            return
        state = self.recent.state(hash(p))
        if state is True:
            self._refuse(event, ForkError(
                f"event {eid} ({event.event_type}, stream sequence {event.sequence}) of {event.aggregate_id!r} names "
                f"previous_cid {p}, which already has a successor (the chain's head is {self.head}): a fork, the "
                "later of two events claiming the same predecessor is refused; publish it again chained to the head"),
                refused)
        elif state is False:
            self._refuse(event, _after_refused(event), refused)
        elif not _is_cid(p):
            self._refuse(event, ChainError(
                f"event {eid} ({event.event_type}, stream sequence {event.sequence}) has previous_cid {p!r}, which is "
                "not a canonical CIM CID (CIDv1, raw, BLAKE3-256, base32 'b…', 59 characters); it must be the CID of "
                f"the previous event of {event.aggregate_id!r}"), refused)
        else:
            self._park(event, refused)

    def _accept(self, event: Event, ready: list[Event], refused: Refused) -> None:
        """Append ``event`` to the chain, then whatever waited for it (the first in stream order; the
        others claimed the same predecessor: forks)."""
        stack = [event]
        recent, waiting = self.recent, self._waiting
        while stack:
            e = stack.pop()
            ready.append(e)
            recent.add(e.event_id, hash(e.cid))
            self.head = e.cid
            followers = waiting.pop(e.cid, None) if waiting else None
            if followers:
                for f in followers:
                    del self._parked[f.event_id]
                stack.append(followers[0])
                for f in followers[1:]:
                    self._refuse(f, ForkError(
                        f"event {f.event_id} ({f.event_type}, stream sequence {f.sequence}) of {f.aggregate_id!r} "
                        f"names previous_cid {e.cid}, as event {followers[0].event_id} (stream sequence "
                        f"{followers[0].sequence}) before it did: a fork, the later one is refused"), refused)

    def _park(self, event: Event, refused: Refused) -> None:
        self._parked[event.event_id] = (event, self.clock())
        self._waiting.setdefault(event.previous_cid, []).append(event)
        while len(self._parked) > self.max_parked:
            oldest, _ = next(iter(self._parked.values()))
            self._unpark(oldest)
            self._refuse(oldest, UnknownPredecessorError(
                f"event {oldest.event_id} ({oldest.event_type}, stream sequence {oldest.sequence}) of "
                f"{oldest.aggregate_id!r} waited for its previous_cid {oldest.previous_cid} while more than "
                f"{self.max_parked:,} events were waiting (max_parked); it is refused as the oldest"), refused)

    def _unpark(self, event: Event) -> None:
        del self._parked[event.event_id]
        group = self._waiting[event.previous_cid]
        group.remove(event)
        if not group:
            del self._waiting[event.previous_cid]

    def _refuse(self, event: Event, exc: Exception, refused: Refused, *, record: bool = True) -> None:
        """Refuse ``event`` and, transitively, the parked events that name it."""
        stack = [(event, exc)]
        while stack:
            e, x = stack.pop()
            refused.append((e, x))
            if record:
                self.recent.add(e.event_id, hash(e.cid), chained=False)
            else:
                self.recent.mark(hash(e.cid), False)
            record = True
            followers = self._waiting.pop(e.cid, None) if self._waiting else None
            for f in reversed(followers or ()):
                del self._parked[f.event_id]
                stack.append((f, _after_refused(f)))


def _after_refused(event: Event) -> UnknownPredecessorError:
    return UnknownPredecessorError(
        f"event {event.event_id} ({event.event_type}, stream sequence {event.sequence}) of {event.aggregate_id!r} "
        f"names previous_cid {event.previous_cid}, an event that was refused: a chain cannot continue from a "
        "refused event")


def _is_cid(value) -> bool:
    from alchemist.events.cid import cid_digest

    try:
        cid_digest(value)
    except (CIDMismatchError, TypeError, ValueError):
        return False
    return True
