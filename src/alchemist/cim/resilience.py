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
        """``"closed"``, ``"open"`` or ``"half-open"``."""
        if self.opened_at is None:
            return "closed"
        return "half-open" if time.monotonic() - self.opened_at >= self.cooldown else "open"

    def allow(self) -> bool:
        """Whether a call may go to the server now."""
        return self.state != "open"

    def seconds_until_trial(self) -> float:
        """Seconds until a call is allowed (0 when closed or half-open).

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
        """Record a call that succeeded: the circuit closes."""
        self.failures = 0
        self.opened_at = None

    def failure(self) -> None:
        """Record a failed call: the circuit opens at ``threshold`` consecutive failures (a failed
        trial opens it again for another ``cooldown``)."""
        self.failures += 1
        if self.failures >= self.threshold or self.opened_at is not None:
            self.opened_at = time.monotonic()

    def __repr__(self) -> str:
        return f"<CircuitBreaker {self.state}, {self.failures} consecutive failures>"


class OutboxEntry(tuple):
    """``(id, subject, data, headers)`` of one queued message."""

    __slots__ = ()

    @property
    def id(self) -> int:
        return self[0]

    @property
    def subject(self) -> str:
        return self[1]

    @property
    def data(self) -> bytes:
        return self[2]

    @property
    def headers(self) -> dict[str, str]:
        return self[3]


class Outbox:
    """A durable FIFO of messages waiting for the server, in an SQLite file.

    Parameters
    ----------
    path : str or Path
        The database file (created with its folder).
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
        """Append one message durably; returns its outbox id."""
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
        """The oldest ``limit`` entries, in order."""
        with self._lock:
            rows = self._db.execute("SELECT id, subject, data, headers FROM outbox ORDER BY id LIMIT ?",
                                    (limit,)).fetchall()
        return [OutboxEntry((r[0], r[1], r[2], json.loads(r[3]))) for r in rows]

    def remove(self, entry_id: int) -> None:
        """Delete an entry once the server has acknowledged it."""
        self.remove_many([entry_id])

    def remove_many(self, entry_ids) -> None:
        """Delete entries the server has acknowledged, in one transaction.

        Parameters
        ----------
        entry_ids : iterable of int
            :attr:`OutboxEntry.id` values (unknown ids are ignored).
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
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"<Outbox {self.path}: {len(self)} waiting>"
