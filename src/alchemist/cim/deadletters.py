"""Dead letters: a message or event that cannot be applied, stored once in ``ALCHEMIST_DLQ``.

Each dead letter is stored with an acknowledged JetStream publish (awaited, with retries) on a
subject of its own, derived from where the original lies:

- a message of ``GRAPH_EVENTS`` that cannot be decoded: ``alchemist.dlq.<graph>.<sequence>``;
- one event of such a message (a single event or one inside an ``events_batch``) that fails
  verification or cannot be applied: ``alchemist.dlq.<graph>.<sequence>.<event token>``, where the
  token is 16 hex digits of the BLAKE2b digest of the event id;
- a message of another stream (an AI insight): ``alchemist.dlq.<STREAM>.<sequence>``.

The ``ALCHEMIST_DLQ`` stream keeps at most one message per subject and refuses a second one
(``max_msgs_per_subject=1``, ``discard=new``, ``discard_new_per_subject=True``; nats-server 2.9 or
later), so a message judged again on every read of its graph is stored once, for as long as the
stream keeps it (30 days), not only within JetStream's 2-minute duplicate window. The server's
answer "maximum messages per subject exceeded" (error 10077), like a duplicate acknowledgement
for the ``Nats-Msg-Id`` header (``dlq:<stream>:<sequence>[:<event token>]``), means "already
dead-lettered".

Headers of a dead letter: ``Alchemist-Dlq-Error`` (the error class), ``Alchemist-Dlq-Reason``
(its message), ``Alchemist-Dlq-Stream`` and ``Alchemist-Dlq-Stream-Sequence`` (where the
original lies), ``Alchemist-Dlq-Graph`` and, for an event, ``Cim-Event-Id``.
"""

from __future__ import annotations

import asyncio
import hashlib

from alchemist.cim.observability import METRICS, log
from alchemist.cim.streams import DLQ_PREFIX, DLQ_STREAM, GRAPH_STREAM
from alchemist.errors import CIMError

__all__ = ["DeadLetterError", "DeadLetters", "dead_letter_subject", "event_token"]

#: nats-server's error code for a refused store (``JSStreamStoreFailedF``), with this description
#: when a per-subject limit with ``discard_new_per_subject`` refuses a second message.
_STORE_FAILED = 10077
_PER_SUBJECT_FULL = "maximum messages per subject exceeded"


class DeadLetterError(CIMError):
    """A dead letter could not be stored in ``ALCHEMIST_DLQ`` after every retry.

    The original message is then not acknowledged past, so a later read judges it again.
    Raised by :meth:`DeadLetters.send` and, through it, by :meth:`Connection.graph
    <alchemist.cim.connection.Connection.graph>`, :meth:`~alchemist.cim.connection.Connection.graph_at`
    and :meth:`~alchemist.cim.connection.Connection.events`; a live feed restarts on it instead.

    Parameters
    ----------
    *args
        The message (as for any exception): the stream and sequence of the original, the
        subject tried, the last error and what to check.

    References
    ----------
    .. [1] G. Hohpe, B. Woolf, *Enterprise Integration Patterns*, Addison-Wesley (2003),
       "Dead Letter Channel" and "Invalid Message Channel".
    """


def event_token(event_id: str) -> str:
    """A subject-safe token for an event id: 16 hex digits of its BLAKE2b digest.

    An event id may hold characters a subject token cannot (``.``, ``*``, ``>``, spaces); the
    digest always fits, and two ids collide with probability about ``2**-64``.

    Parameters
    ----------
    event_id : str
        Any string (lone surrogates included).

    Returns
    -------
    str
        16 lowercase hex digits.

    Raises
    ------
    UnicodeEncodeError
        Never for a ``str``: surrogates are encoded with ``surrogatepass``.

    Examples
    --------
    >>> event_token("0190f0e0-0000-7000-8000-000000000001")
    'e317fee36c63aefe'
    """
    return hashlib.blake2b(str(event_id).encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


def dead_letter_subject(graph_id: str, sequence: int, event_id: str | None = None,
                        stream: str = GRAPH_STREAM) -> str:
    """The ``ALCHEMIST_DLQ`` subject of one dead letter (see the module docstring).

    Parameters
    ----------
    graph_id : str
        The graph (aggregate) the original belongs to; ignored for other streams than ``GRAPH_EVENTS``.
    sequence : int
        Stream sequence of the original message.
    event_id : str, optional
        For one event of the message (rather than the whole message).
    stream : str
        The stream the original lies in.

    Returns
    -------
    str

    Examples
    --------
    >>> dead_letter_subject("g1", 42)
    'alchemist.dlq.g1.42'
    >>> dead_letter_subject("g1", 42, "e1")
    'alchemist.dlq.g1.42.1b5d5e51f54f0f04'
    >>> dead_letter_subject("", 7, stream="AI_INSIGHTS")
    'alchemist.dlq.AI_INSIGHTS.7'
    """
    head = f"{DLQ_PREFIX}.{graph_id}" if stream == GRAPH_STREAM else f"{DLQ_PREFIX}.{stream}"
    subject = f"{head}.{int(sequence)}"
    return subject if event_id is None else f"{subject}.{event_token(event_id)}"


class DeadLetters:
    """Stores dead letters through acknowledged JetStream publishes, once each.

    Parameters
    ----------
    js : nats.js.JetStreamContext
    stream : str
        The dead-letter stream (``ALCHEMIST_DLQ``; the connection's ``streams.dlq``).
    attempts : int
        Publish attempts before :class:`DeadLetterError` (exponential backoff between them).
    backoff : float
        Seconds before the second attempt; doubled each time, at most 2 s.
    timeout : float
        Seconds to wait for each acknowledgement.

    Attributes
    ----------
    stored : int
        Dead letters this object stored.
    already : int
        Dead letters found already stored (judged before, by this or another reader).

    References
    ----------
    .. [1] G. Hohpe, B. Woolf, *Enterprise Integration Patterns*, Addison-Wesley (2003),
       "Dead Letter Channel".
    .. [2] NATS documentation, "Streams" (the ``DiscardNewPerSubject`` setting, nats-server
       2.9), https://docs.nats.io/nats-concepts/jetstream/streams

    Examples
    --------
    >>> import tempfile
    >>> import alchemist
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> letters = DeadLetters(connection.js, stream=connection.streams.dlq)
    >>> why = ValueError("not JSON")
    >>> connection.run(letters.send(b"{oops", why, graph_id="g", sequence=5))
    True
    >>> connection.run(letters.send(b"{oops", why, graph_id="g", sequence=5))  # judged again: stored once
    False
    >>> letters.stored, letters.already
    (1, 1)
    >>> connection.close()
    """

    def __init__(self, js, *, stream: str = DLQ_STREAM, attempts: int = 5, backoff: float = 0.1,
                 timeout: float = 2.0):
        self.js = js
        self.stream = stream
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.stored = 0
        self.already = 0

    async def send(self, data: bytes, exc: BaseException, *, graph_id: str, sequence: int,
                   event_id: str | None = None, stream: str = GRAPH_STREAM) -> bool:
        """Store one dead letter; True when stored now, False when it was already there.

        Parameters
        ----------
        data : bytes
            The original message (or the event, re-encoded).
        exc : BaseException
            Why it is dead-lettered (class name and message go to headers).
        graph_id, sequence, event_id, stream
            Where the original lies (see :func:`dead_letter_subject`).

        Returns
        -------
        bool

        Raises
        ------
        DeadLetterError
            Every attempt failed (the server unreachable, or ``ALCHEMIST_DLQ`` missing).

        Notes
        -----
        One JetStream publish with acknowledgement (one round trip) on
        :func:`dead_letter_subject`, with headers ``Nats-Msg-Id``
        (``dlq:<stream>:<sequence>[:<event token>]``), ``Alchemist-Dlq-Error``,
        ``Alchemist-Dlq-Reason`` (control characters escaped, at most 1,000 characters),
        ``Alchemist-Dlq-Stream``, ``Alchemist-Dlq-Stream-Sequence``, ``Alchemist-Dlq-Graph``
        and, for an event, ``Cim-Event-Id``; up to ``attempts`` tries with exponential
        backoff (``backoff``, doubled, at most 2 s between tries).
        """
        from nats.js.errors import APIError

        subject = dead_letter_subject(graph_id, sequence, event_id, stream)
        msg_id = f"dlq:{stream}:{int(sequence)}" + ("" if event_id is None else f":{event_token(event_id)}")
        reason = exc.__class__.__name__
        headers = {"Nats-Msg-Id": msg_id, "Alchemist-Dlq-Error": reason,
                   "Alchemist-Dlq-Reason": _header_value(str(exc) or reason),
                   "Alchemist-Dlq-Stream": stream, "Alchemist-Dlq-Stream-Sequence": str(int(sequence)),
                   "Alchemist-Dlq-Graph": _header_value(graph_id)}
        if event_id is not None:
            headers["Cim-Event-Id"] = _header_value(str(event_id))
        last: BaseException | None = None
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(min(2.0, self.backoff * 2 ** (attempt - 1)))
            try:
                ack = await self.js.publish(subject, bytes(data), timeout=self.timeout, stream=self.stream,
                                            headers=headers)
            except APIError as err:
                if err.err_code == _STORE_FAILED and _PER_SUBJECT_FULL in (err.description or ""):
                    return self._found(subject)
                last = err
            except Exception as err:  # timeout, no responders, reconnecting: try again
                last = err
            else:
                if ack.duplicate:
                    return self._found(subject)
                self.stored += 1
                METRICS.dead_lettered.labels(reason).inc()
                log("cim.dead_lettered", graph=graph_id, stream=stream, sequence=sequence, error=reason,
                    subject=subject)
                return True
        log("cim.dead_letter_failed", graph=graph_id, stream=stream, sequence=sequence,
            error=last.__class__.__name__)
        raise DeadLetterError(
            f"could not store the dead letter of {stream} sequence {sequence} on {subject} after {self.attempts} "
            f"attempts ({last.__class__.__name__}: {last}); is the server up and does stream {self.stream} exist? "
            f"The message is not acknowledged, so the next read judges it again")

    def _found(self, subject: str) -> bool:
        self.already += 1
        log("cim.dead_letter_known", subject=subject)
        return False


def _header_value(text: str, limit: int = 1000) -> str:
    """A header value that cannot break the NATS header block: control characters escaped,
    at most ``limit`` characters."""
    text = str(text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text[:limit]
