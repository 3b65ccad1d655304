"""Agent requests tracked while they run, behind a circuit breaker per agent, and agent health.

:class:`AgentRequests` (``connection.agent_requests``) sends a request to an agent in the
background and returns an :class:`AgentRequest` at once, whose ``state`` goes ``pending`` (sent)
→ ``running`` (the agent reported progress: :meth:`Agent.report <alchemist.cim.agents.Agent.report>`
on the request's private progress subject) → ``done`` (the answer, and its
:class:`~alchemist.cim.suggestions.Suggestion` when it is one) or ``failed`` (the error).

Each agent has a :class:`~alchemist.cim.resilience.CircuitBreaker`: a request the agent did not
answer in time (or no agent listened) or answered with a failure of its own (service error
500) counts; a request it refused as bad (service error 400) does not. After ``threshold``
failures in a row the circuit opens and requests to that agent fail at once with
:class:`~alchemist.errors.AgentError`, without waiting on the agent, until ``cooldown`` seconds
have passed; then one trial request goes through (half-open), and its outcome closes or re-opens
the circuit.

:meth:`AgentRequests.health` pings the agents (``$SRV.PING``: the last heartbeat and its round
trip) and reads their statistics (``$SRV.STATS``: requests and errors served), with the caller's
view of them (consecutive failures, the breaker's state).

References: M. T. Nygard, *Release It!* (2nd ed., 2018), ch. 5 "Circuit Breaker"; NATS ADR-32,
"Service API" (``$SRV.PING``, ``$SRV.STATS``).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Callable

import msgspec

from alchemist.cim.agents import AGENT_PREFIX, PROGRESS_HEADER, gather, read_reply, request_headers, service_reply
from alchemist.cim.resilience import CircuitBreaker
from alchemist.cim.suggestions import Suggestion, decode_suggestion
from alchemist.errors import AgentError, AgentTimeout, AgentUnavailableError
from alchemist.events.times import rfc3339

__all__ = ["AgentRequests", "AgentRequest", "ProgressReport", "AgentHealth", "REQUEST_STATES"]

REQUEST_STATES = ("pending", "running", "done", "failed")
PROGRESS_GRACE = 2.0
"""Seconds a finished request waits for progress reports the agent sent but that have not arrived."""


class ProgressReport(msgspec.Struct, frozen=True, kw_only=True):
    """One progress report of a running request.

    Parameters
    ----------
    message : str
    fraction : float or None
        Share done, in ``[0, 1]``, when the agent says.
    time : str
        RFC 3339, UTC, when it arrived.
    """

    message: str
    fraction: float | None = None
    time: str = ""


class AgentHealth(msgspec.Struct, frozen=True, kw_only=True):
    """An agent's health, as :meth:`AgentRequests.health` sees it.

    Parameters
    ----------
    name, id, version : str
        The service (``id`` is empty for an agent that did not answer the ping).
    answering : bool
        It answered this ping.
    last_heartbeat : str or None
        RFC 3339, UTC: its last answer to a ping or a request seen by this connection.
    latency_ms : float or None
        The ping's round trip, milliseconds.
    requests, errors : int
        Requests the instance served and answered with an error (its ``$SRV.STATS``).
    processing_ms : float or None
        Its mean processing time per request, milliseconds (``$SRV.STATS``).
    failures : int
        Consecutive failed requests this connection saw (the breaker's count).
    breaker : {"closed", "open", "half-open"}
    retry_in : float
        Seconds until a trial request is let through (0 unless open).
    """

    name: str
    id: str = ""
    version: str = ""
    answering: bool = False
    last_heartbeat: str | None = None
    latency_ms: float | None = None
    requests: int = 0
    errors: int = 0
    processing_ms: float | None = None
    failures: int = 0
    breaker: str = "closed"
    retry_in: float = 0.0


class AgentRequest:
    """A request to an agent, followed while it runs (made by :meth:`AgentRequests.submit`).

    Attributes
    ----------
    id : str
        The request id (``Cim-Request-Id``).
    agent, capability : str
    correlation_id : str
    state : {"pending", "running", "done", "failed"}
    progress : list of ProgressReport
        In arrival order.
    reply : object or None
        The agent's JSON answer (``done``).
    suggestion : Suggestion or None
        The answer as a suggestion, when it is one.
    error : Exception or None
        Why it failed (``failed``): :class:`~alchemist.errors.AgentTimeout` or
        :class:`~alchemist.errors.AgentError`.
    """

    def __init__(self, agent: str, capability: str, headers: dict[str, str], on_change=None):
        self.id = headers["Cim-Request-Id"]
        self.agent, self.capability = agent, capability
        self.correlation_id = headers["Cim-Correlation-Id"]
        self.state = "pending"
        self.progress: list[ProgressReport] = []
        self.reply: Any = None
        self.suggestion: Suggestion | None = None
        self.error: Exception | None = None
        self.started = time.monotonic()
        self.finished: float | None = None
        self._done = threading.Event()
        self._cond = threading.Condition()
        self._on_change = on_change

    @property
    def message(self) -> str:
        """The last progress message ("" before any)."""
        return self.progress[-1].message if self.progress else ""

    @property
    def fraction(self) -> float | None:
        """The last progress fraction reported (1.0 once done)."""
        if self.state == "done":
            return 1.0
        known = [p.fraction for p in self.progress if p.fraction is not None]
        return known[-1] if known else None

    def wait(self, timeout: float | None = None):
        """Block until the request is done or failed.

        Parameters
        ----------
        timeout : float, optional
            Seconds.

        Returns
        -------
        Suggestion or object
            The suggestion when the answer is one, else the agent's JSON answer.

        Raises
        ------
        AgentTimeout
            The agent did not answer in the request's time (or ``timeout`` passed here first).
        AgentError
            The agent failed or refused the request, or its circuit was open.
        """
        if not self._done.wait(timeout):
            raise AgentTimeout(f"request {self.id} to {self.agent!r} ({self.capability}) still {self.state} "
                               f"after {timeout} s; wait longer or look at .state")
        if self.error is not None:
            raise self.error
        return self.suggestion if self.suggestion is not None else self.reply

    def to_dict(self) -> dict:
        """The request as plain data (what a panel shows).

        Returns
        -------
        dict
            ``id``, ``agent``, ``capability``, ``state``, ``message``, ``fraction``, ``progress``
            (the messages), ``error`` (str or None), ``suggestion_id``, ``seconds``.
        """
        end = self.finished if self.finished is not None else time.monotonic()
        return {"id": self.id, "agent": self.agent, "capability": self.capability, "state": self.state,
                "message": self.message, "fraction": self.fraction, "progress": [p.message for p in self.progress],
                "error": None if self.error is None else str(self.error),
                "suggestion_id": None if self.suggestion is None else self.suggestion.id,
                "seconds": round(end - self.started, 3)}

    def __repr__(self) -> str:
        return f"<AgentRequest {self.agent}.{self.capability} {self.state} {self.message!r}>"

    # called on the connection's event loop
    def _progress(self, report: ProgressReport) -> None:
        with self._cond:
            self.progress.append(report)
            if self.state == "pending":
                self.state = "running"
            self._cond.notify_all()
        self._changed()

    def _finish(self, reply=None, suggestion=None, error=None) -> None:
        with self._cond:
            self.reply, self.suggestion, self.error = reply, suggestion, error
            self.state = "failed" if error is not None else "done"
            self.finished = time.monotonic()
            self._cond.notify_all()
        self._changed()  # listeners first: whoever waits sees what they made of the answer
        self._done.set()

    def _changed(self) -> None:
        if self._on_change is not None:
            try:
                self._on_change(self)
            except Exception:  # a listener's bug must not break the request
                pass


class AgentRequests:
    """Requests to agents: tracked while running, behind one circuit breaker per agent.

    Parameters
    ----------
    connection : Connection
    threshold : int
        Consecutive failures of an agent that open its circuit.
    cooldown : float
        Seconds an open circuit fails requests at once before it lets a trial through.
    keep : int
        Finished requests kept in :attr:`requests` (the oldest go first).

    Attributes
    ----------
    requests : list of AgentRequest
        Running and recent requests, oldest first.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import alchemist
    >>> from alchemist.cim.agents import AnalysisAgent
    >>> tmp = tempfile.mkdtemp()
    >>> path = pathlib.Path(tmp, "g.txt")
    >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n3 4\\n")
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> _ = connection.replay(path)
    >>> connection.serve_agent(AnalysisAgent())
    >>> req = connection.agent_requests.submit("analysis", "suggest_communities", {"graph_id": "g"}, timeout=60)
    >>> suggestion = req.wait(60)
    >>> req.state, suggestion.kind, suggestion.events[0].event_type, 0 <= suggestion.confidence <= 1
    ('done', 'communities', 'node_updated', True)
    >>> [p.message for p in req.progress][:2]
    ['analysis started suggest_communities', "folding graph 'g'"]
    >>> connection.close()
    """

    def __init__(self, connection, *, threshold: int = 3, cooldown: float = 30.0, keep: int = 50):
        self.connection = connection
        self.threshold, self.cooldown, self.keep = threshold, cooldown, keep
        self.requests: list[AgentRequest] = []
        self._breakers: dict[str, CircuitBreaker] = {}
        self._probing: set[str] = set()
        self._seen: dict[str, float] = {}  # agent name -> wall time of its last answer
        self._lock = threading.Lock()
        self._prefix: str | None = None  # progress subjects are <prefix>.<request id>: one subscription for all
        self._subscribed: asyncio.Future | None = None
        self._live: dict[str, tuple[AgentRequest, list, asyncio.Event]] = {}  # on the loop thread only

    def breaker(self, agent: str) -> CircuitBreaker:
        """The circuit breaker of ``agent`` (made closed on first use).

        Parameters
        ----------
        agent : str

        Returns
        -------
        CircuitBreaker
        """
        with self._lock:
            if agent not in self._breakers:
                self._breakers[agent] = CircuitBreaker(self.threshold, self.cooldown)
            return self._breakers[agent]

    def submit(self, agent: str, capability: str, payload: dict | None = None, *, timeout: float = 30.0,
               correlation_id: str | None = None, causation_id: str | None = None,
               on_change: Callable[[AgentRequest], Any] | None = None) -> AgentRequest:
        """Send a request in the background; returns at once with its :class:`AgentRequest`.

        Parameters
        ----------
        agent, capability : str
        payload : dict, optional
            Sent as JSON.
        timeout : float
            Seconds the agent has to answer.
        correlation_id, causation_id : str, optional
            See :func:`~alchemist.cim.agents.request_headers`.
        on_change : callable, optional
            ``on_change(request)`` after each progress report and when it ends (on the
            connection's event loop thread: keep it short).

        Returns
        -------
        AgentRequest

        Raises
        ------
        AgentError
            The agent's circuit is open (it failed ``threshold`` times in a row and its cooldown
            is not over), or a trial request to it is already under way: the request is not sent.
        CIMError
            The connection is closed.
        """
        self._admit(agent)
        if self._prefix is None:
            self._prefix = self.connection.nc.new_inbox()
        headers = request_headers(correlation_id, causation_id)
        headers[PROGRESS_HEADER] = f"{self._prefix}.{headers['Cim-Request-Id']}"
        req = AgentRequest(agent, capability, headers, on_change)
        with self._lock:
            finished = [r for r in self.requests if r.state in ("done", "failed")]
            drop = set(map(id, finished[:max(0, len(finished) - self.keep + 1)]))
            self.requests = [r for r in self.requests if id(r) not in drop] + [req]
        asyncio.run_coroutine_threadsafe(self._run(req, payload or {}, headers, timeout), self.connection.loop.loop)
        return req

    def call(self, agent: str, capability: str, payload: dict | None = None, *, timeout: float = 30.0,
             correlation_id: str | None = None, causation_id: str | None = None):
        """Send a request and wait for its answer (:meth:`submit` then :meth:`AgentRequest.wait`).

        Parameters
        ----------
        agent, capability, payload, timeout, correlation_id, causation_id
            As :meth:`submit`.

        Returns
        -------
        Suggestion or object
            The suggestion when the answer is one, else the agent's JSON answer.

        Raises
        ------
        AgentTimeout
            No answer within ``timeout`` seconds (or no such agent).
        AgentError
            The agent failed or refused the request, or its circuit is open.
        """
        return self.submit(agent, capability, payload, timeout=timeout, correlation_id=correlation_id,
                           causation_id=causation_id).wait(timeout + PROGRESS_GRACE + 5)

    def health(self, timeout: float = 0.5) -> list[AgentHealth]:
        """Ping every agent and read its statistics; add the agents this connection saw fail.

        Parameters
        ----------
        timeout : float
            Seconds to gather the ``$SRV.PING`` and ``$SRV.STATS`` replies (both at once).

        Returns
        -------
        list of AgentHealth
            One per answering instance, then one per agent known here (requested before) that
            did not answer, sorted by name then id.

        Raises
        ------
        CIMError
            The connection is closed.

        Notes
        -----
        Cost: two core-NATS scatter-gathers lasting ``timeout`` seconds (at once with nobody listening).
        """
        pings, stats = self.connection.run(self._ping_and_stats(timeout))
        now = time.time()
        rows: dict[tuple[str, str], AgentHealth] = {}
        for msg, seconds in pings:
            info = service_reply(msg)
            if info is None or not info.get("name"):
                continue
            name, sid = str(info["name"]), str(info.get("id", ""))
            with self._lock:
                self._seen[name] = now
            numbers = stats.get(sid, {})
            rows[(name, sid)] = self._row(name, sid=sid, version=str(info.get("version", "")), answering=True,
                                          latency_ms=round(seconds * 1000, 3), **numbers)
        answering = {name for name, _ in rows}
        with self._lock:
            known = set(self._breakers) - answering
        for name in known:
            rows[(name, "")] = self._row(name)
        return [rows[k] for k in sorted(rows)]

    # ------------------------------------------------------------------ internals
    def _row(self, name: str, **fields) -> AgentHealth:
        breaker = self.breaker(name)
        with self._lock:
            seen = self._seen.get(name)
        return AgentHealth(name=name, id=fields.pop("sid", ""), last_heartbeat=None if seen is None else rfc3339(seen),
                           failures=breaker.failures, breaker=breaker.state,
                           retry_in=round(breaker.seconds_until_trial(), 3), **fields)

    async def _ping_and_stats(self, timeout: float):
        pings, stats = await asyncio.gather(gather(self.connection, "$SRV.PING", timeout),
                                            gather(self.connection, "$SRV.STATS", timeout))
        numbers: dict[str, dict] = {}
        for msg, _ in stats:
            info = service_reply(msg)
            if info is None:
                continue
            endpoints = [e for e in info.get("endpoints") or [] if isinstance(e, dict)]
            served = sum(int(e.get("num_requests", 0) or 0) for e in endpoints)
            busy = sum(int(e.get("processing_time", 0) or 0) for e in endpoints)  # nanoseconds
            numbers[str(info.get("id", ""))] = {
                "requests": served, "errors": sum(int(e.get("num_errors", 0) or 0) for e in endpoints),
                "processing_ms": round(busy / served / 1e6, 3) if served else None}
        return pings, numbers

    def _admit(self, agent: str) -> None:
        breaker = self.breaker(agent)
        with self._lock:
            state = breaker.state
            if state == "open" or (state == "half-open" and agent in self._probing):
                wait = breaker.seconds_until_trial()
                when = f"in {wait:.1f} s" if state == "open" else "when the trial request under way ends"
                raise AgentUnavailableError(f"agent {agent!r} failed {breaker.failures} requests in a row: its circuit is "
                                 f"{state} and requests to it fail at once; one trial request goes through {when} "
                                 f"(is it running and healthy? `alchemist agent {agent}`; see agent_requests.health())")
            if state == "half-open":
                self._probing.add(agent)

    def _settle(self, agent: str, failed: bool) -> None:
        breaker = self.breaker(agent)
        with self._lock:
            self._probing.discard(agent)
            if failed:
                breaker.failure()
            else:
                breaker.success()
                self._seen[agent] = time.time()

    async def _progress_subscription(self) -> None:
        """Subscribe once to ``<prefix>.*``, where every request's progress reports come (concurrent
        first requests wait for the same subscription)."""
        if self._subscribed is None:
            self._subscribed = asyncio.get_running_loop().create_future()
            try:
                await self.connection.nc.subscribe(f"{self._prefix}.*", cb=self._on_progress)
            except BaseException as exc:
                self._subscribed.set_exception(exc)
                self._subscribed.exception()  # retrieved: no "never retrieved" warning when nobody else waits
                self._subscribed = None  # the next request tries again
                raise
            self._subscribed.set_result(None)
        await asyncio.shield(self._subscribed)

    async def _on_progress(self, msg) -> None:
        live = self._live.get(msg.subject.rsplit(".", 1)[-1])
        if live is None:  # a report for a request already finished, or not ours
            return
        try:
            body = json.loads(msg.data)
            fraction = body.get("fraction")
            report = ProgressReport(message=str(body.get("message", "")),
                                    fraction=float(fraction) if isinstance(fraction, (int, float)) else None,
                                    time=rfc3339())
        except Exception:  # not a progress report: ignore it
            return
        req, seen, arrived = live
        seen[0] += 1
        arrived.set()
        req._progress(report)

    async def _run(self, req: AgentRequest, payload: dict, headers: dict[str, str], timeout: float) -> None:
        from nats.errors import NoRespondersError, TimeoutError as NatsTimeout

        nc = self.connection.nc
        seen, arrived = [0], asyncio.Event()
        self._live[req.id] = (req, seen, arrived)
        reply = suggestion = error = None
        try:
            await self._progress_subscription()
            try:
                msg = await nc.request(f"{AGENT_PREFIX}.{req.agent}.{req.capability}", json.dumps(payload).encode(),
                                       timeout=timeout, headers=headers)
            except (NatsTimeout, NoRespondersError, asyncio.TimeoutError):
                raise AgentTimeout(f"no agent {req.agent!r} answered {req.capability!r} within {timeout} s "
                                   f"(is one running? `alchemist agent {req.agent}`)") from None
            sent = int((msg.headers or {}).get("Cim-Progress-Count", 0) or 0)
            deadline = time.monotonic() + PROGRESS_GRACE  # reports sent before the answer, still on their way
            while seen[0] < sent and (left := deadline - time.monotonic()) > 0:
                arrived.clear()
                try:
                    await asyncio.wait_for(arrived.wait(), left)
                except asyncio.TimeoutError:
                    break
            reply = read_reply(msg, req.agent, req.capability)
            if isinstance(reply, dict) and isinstance(reply.get("suggestion"), dict):
                suggestion = decode_suggestion(reply["suggestion"])
        except (AgentTimeout, AgentError) as exc:
            error = exc
        except Exception as exc:  # the connection went away mid-request, a bug: the request failed
            error = AgentError(f"request to {req.agent!r} ({req.capability}) failed: {type(exc).__name__}: {exc}")
        finally:
            self._live.pop(req.id, None)
        counts = error is not None and (isinstance(error, AgentTimeout) or getattr(error, "code", "500") != "400")
        self._settle(req.agent, failed=counts)
        req._finish(reply, suggestion, error)
