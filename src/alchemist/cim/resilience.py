"""Nothing lost: retries with backoff, a circuit breaker and a durable on-disk outbox.

A publish that fails transiently (timeout, no responders while the server restarts, connection
lost) is retried with exponential backoff (tenacity). When failures go on, the
:class:`CircuitBreaker` opens: publishes stop waiting on the server and go to the
:class:`Outbox`, an SQLite file (write-ahead log, ``synchronous=FULL``) that survives the Python
process. The outbox is flushed in insertion order when the server answers again — on reconnect,
on the next :func:`~alchemist.cim.connect` (also in a new process), or on
:meth:`Connection.flush_outbox`. JetStream de-duplicates by ``Nats-Msg-Id``, so an entry sent
twice across a crash is stored once.

References: M. Nygard, *Release It!* (2nd ed., 2018), ch. 5 "Circuit Breaker"; C. Richardson,
*Microservices Patterns* (2018), §3.3.7 "Transactional outbox".
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path

__all__ = ["CircuitBreaker", "Outbox", "OutboxEntry"]


class CircuitBreaker:
    """Closed → open after ``threshold`` consecutive failures; half-open after ``cooldown``
    seconds (one trial call); closed again on a success.

    Parameters
    ----------
    threshold : int
        Consecutive failures that open the circuit.
    cooldown : float
        Seconds the circuit stays open before a trial call is allowed.

    Attributes
    ----------
    failures : int
        Consecutive failures recorded.
    opened_at : float or None
        ``time.monotonic()`` when the circuit last opened (None while closed).

    Raises
    ------
    ValueError
        ``threshold`` is smaller than 1.

    Notes
    -----
    The publisher (:class:`~alchemist.cim.publisher.Publisher`) records every publish that
    fails after its retries and every one that succeeds; while the circuit is open, events
    go straight to the :class:`Outbox` instead of waiting on an absent server. The breaker
    needs no clock thread: the state is computed from ``opened_at`` when asked.

    References
    ----------
    .. [1] M. T. Nygard, *Release It! Design and Deploy Production-Ready Software*, 2nd ed.,
       Pragmatic Bookshelf (2018), ch. 5, "Stability Patterns: Circuit Breaker".
    .. [2] M. Fowler, "CircuitBreaker" (2014), https://martinfowler.com/bliki/CircuitBreaker.html

    Examples
    --------
    >>> breaker = CircuitBreaker(threshold=2, cooldown=0)
    >>> breaker.failure(); breaker.state
    'closed'
    >>> breaker.failure(); breaker.state  # the cooldown (0 s) is over at once: one trial allowed
    'half-open'
    >>> breaker.success(); breaker.state, breaker.failures
    ('closed', 0)
    >>> CircuitBreaker(threshold=0)
    Traceback (most recent call last):
    ...
    ValueError: threshold=0; it must be at least 1
    """

    def __init__(self, threshold: int = 3, cooldown: float = 5.0):
        if threshold < 1:
            raise ValueError(f"threshold={threshold}; it must be at least 1")
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None

    @property
    def state(self) -> str:
        """``"closed"``, ``"open"`` or ``"half-open"`` (open, and ``cooldown`` seconds have passed).

        Returns
        -------
        str
        """
        if self.opened_at is None:
            return "closed"
        return "half-open" if time.monotonic() - self.opened_at >= self.cooldown else "open"

    def allow(self) -> bool:
        """Whether a call may go to the server now (the circuit is not open).

        Returns
        -------
        bool
            True when closed or half-open (a trial).

        Examples
        --------
        >>> breaker = CircuitBreaker(threshold=1, cooldown=60)
        >>> breaker.allow()
        True
        >>> breaker.failure()
        >>> breaker.allow()
        False
        """
        return self.state != "open"

    def seconds_until_trial(self) -> float:
        """Seconds until a call is allowed (0 when closed or half-open).

        Returns
        -------
        float

        Examples
        --------
        >>> breaker = CircuitBreaker(threshold=1, cooldown=30)
        >>> breaker.failure()
        >>> 29 < breaker.seconds_until_trial() <= 30, breaker.allow()
        (True, False)
        >>> breaker.success()
        >>> breaker.seconds_until_trial(), breaker.state
        (0.0, 'closed')
        """
        if self.opened_at is None:
            return 0.0
        return max(0.0, self.opened_at + self.cooldown - time.monotonic())

    def success(self) -> None:
        """Record a call that succeeded: the circuit closes and the failure count restarts.

        Returns
        -------
        None
        """
        self.failures = 0
        self.opened_at = None

    def failure(self) -> None:
        """Record a failed call: the circuit opens at ``threshold`` consecutive failures (a failed
        trial opens it again for another ``cooldown``).

        Returns
        -------
        None
        """
        self.failures += 1
        if self.failures >= self.threshold or self.opened_at is not None:
            self.opened_at = time.monotonic()

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.state}, {self.failures} consecutive failures>"


class OutboxEntry(tuple):
    """``(id, subject, data, headers)`` of one queued message (what :meth:`Outbox.peek` returns).

    Parameters
    ----------
    iterable : tuple of (int, str, bytes, dict)

    Examples
    --------
    >>> entry = OutboxEntry((1, "graph.events.g.node_added", b"{}", {"Nats-Msg-Id": "e1"}))
    >>> entry.id, entry.subject, entry.headers["Nats-Msg-Id"]
    (1, 'graph.events.g.node_added', 'e1')
    """

    __slots__ = ()

    @property
    def id(self) -> int:
        """The outbox id (insertion order)."""
        return self[0]

    @property
    def subject(self) -> str:
        """The NATS subject to publish on."""
        return self[1]

    @property
    def data(self) -> bytes:
        """The message body."""
        return self[2]

    @property
    def headers(self) -> dict[str, str]:
        """The NATS headers (``Nats-Msg-Id`` makes a resend idempotent)."""
        return self[3]


class Outbox:
    """A durable FIFO of messages waiting for the server, in an SQLite file.

    Parameters
    ----------
    path : str or Path
        The database file (created with its folder).

    Raises
    ------
    sqlite3.DatabaseError
        ``path`` exists and is not an SQLite database.

    Notes
    -----
    The database runs in write-ahead-log mode with ``synchronous=FULL``: an entry
    :meth:`put` returned is on disk and survives a crash of the process or the machine.
    Entries are removed only after the server acknowledged them, so a crash between the
    acknowledgement and the removal sends one again; JetStream stores it once (the
    ``Nats-Msg-Id`` header and the stream's duplicate window). Safe to use from several
    threads of one process.

    References
    ----------
    .. [1] C. Richardson, *Microservices Patterns*, Manning (2018), §3.3.7, "Transactional
       outbox" (https://microservices.io/patterns/data/transactional-outbox.html).
    .. [2] SQLite, "Write-Ahead Logging", https://www.sqlite.org/wal.html

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "outbox.sqlite"
    >>> box = Outbox(path)
    >>> first = box.put("graph.events.g.node_added", b'{"a": 1}', {"Nats-Msg-Id": "e1"})
    >>> _ = box.put("graph.events.g.node_added", b'{"a": 2}', {"Nats-Msg-Id": "e2"})
    >>> box.close()
    >>> box = Outbox(path)  # a new process would see the same
    >>> [(e.id, e.headers["Nats-Msg-Id"]) for e in box.peek()]
    [(1, 'e1'), (2, 'e2')]
    >>> box.remove(first)
    >>> len(box)
    1
    >>> box.close()
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, "
                         "subject TEXT NOT NULL, data BLOB NOT NULL, headers TEXT NOT NULL)")
        self._depth = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])  # kept in memory

    def put(self, subject: str, data: bytes, headers: dict[str, str] | None) -> int:
        """Append one message durably; returns its outbox id.

        Parameters
        ----------
        subject : str
        data : bytes-like
        headers : dict of str to str or None

        Returns
        -------
        int
            The entry's id (increasing in insertion order).

        Raises
        ------
        sqlite3.ProgrammingError
            The outbox is closed.
        sqlite3.OperationalError
            The disk is full or the file is not writable.
        """
        with self._lock:
            cur = self._db.execute("INSERT INTO outbox (subject, data, headers) VALUES (?, ?, ?)",
                                   (subject, bytes(data), json.dumps(headers or {})))
            self._depth += 1
            return int(cur.lastrowid)

    def put_many(self, messages) -> None:
        """Append messages durably, in order, in one transaction (one disk sync for all).

        Parameters
        ----------
        messages : iterable of (subject, data, headers)

        Returns
        -------
        None

        Raises
        ------
        sqlite3.OperationalError
            The disk is full or the file is not writable: nothing of ``messages`` was added.
        """
        rows = [(subject, bytes(data), json.dumps(headers or {})) for subject, data, headers in messages]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.executemany("INSERT INTO outbox (subject, data, headers) VALUES (?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._depth += len(rows)

    def peek(self, limit: int = 1000) -> list[OutboxEntry]:
        """The oldest ``limit`` entries, in order (they stay in the outbox).

        Parameters
        ----------
        limit : int

        Returns
        -------
        list of OutboxEntry

        Raises
        ------
        sqlite3.ProgrammingError
            The outbox is closed.
        """
        with self._lock:
            rows = self._db.execute("SELECT id, subject, data, headers FROM outbox ORDER BY id LIMIT ?",
                                    (limit,)).fetchall()
        return [OutboxEntry((r[0], r[1], r[2], json.loads(r[3]))) for r in rows]

    def remove(self, entry_id: int) -> None:
        """Delete an entry once the server has acknowledged it.

        Parameters
        ----------
        entry_id : int
            An :attr:`OutboxEntry.id` (an unknown id is ignored).

        Returns
        -------
        None
        """
        self.remove_many([entry_id])

    def remove_many(self, entry_ids) -> None:
        """Delete entries the server has acknowledged, in one transaction.

        Parameters
        ----------
        entry_ids : iterable of int
            :attr:`OutboxEntry.id` values (unknown ids are ignored).

        Returns
        -------
        None

        Raises
        ------
        sqlite3.OperationalError
            The file is not writable: nothing was removed.
        """
        ids = [(int(i),) for i in entry_ids]
        if not ids:
            return
        with self._lock:
            self._db.execute("BEGIN")
            try:
                removed = 0
                for row in ids:
                    removed += self._db.execute("DELETE FROM outbox WHERE id = ?", row).rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._depth -= removed

    def events(self) -> int:
        """Events waiting: each message counts its ``Cim-Event-Count`` header (an ``events_batch``), or 1.

        Returns
        -------
        int

        Examples
        --------
        >>> import tempfile, pathlib
        >>> box = Outbox(pathlib.Path(tempfile.mkdtemp()) / "outbox.sqlite")
        >>> box.put_many([("graph.events.g.events_batch", b"{}", {"Cim-Event-Count": "1000"}),
        ...               ("graph.events.g.node_added", b"{}", {})])
        >>> len(box), box.events()
        (2, 1001)
        >>> box.close()
        """
        with self._lock:
            row = self._db.execute("SELECT COALESCE(SUM(COALESCE(CAST(json_extract(headers, '$.\"Cim-Event-Count\"') "
                                   "AS INTEGER), 1)), 0) FROM outbox").fetchone()
        return int(row[0])

    def __len__(self) -> int:
        return self._depth

    def close(self) -> None:
        """Close the database file (the entries stay in it for the next :class:`Outbox`).

        Returns
        -------
        None
        """
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"<Outbox {self.path}: {len(self)} waiting>"
