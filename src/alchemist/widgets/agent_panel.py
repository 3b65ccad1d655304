"""AgentPanel: discovered AI agents and their health, a request form, requests in progress, and the
agents' suggestions with their confidence to accept or reject.

Through a connection, a request is tracked while it runs (:class:`~alchemist.cim.agent_requests.AgentRequests`:
state and progress reports) behind the agent's circuit breaker. A typed
:class:`~alchemist.cim.suggestions.Suggestion` is accepted with
:func:`~alchemist.cim.suggestions.accept_suggestion` (its events appended with the insight as their
cause) or rejected with :func:`~alchemist.cim.suggestions.reject_suggestion` (recorded on the
insights stream); either is done once.
"""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

import traitlets as t

from alchemist.errors import AgentError, WidgetError
from alchemist.widgets._base import AlchemistWidget, asset, escape

__all__ = ["AgentPanel"]

MAX_REQUEST_ROWS = 20


class AgentPanel(AlchemistWidget):
    """Agents, their health, requests in progress, and their suggestions for one graph.

    Parameters
    ----------
    connection : Connection-like, optional
        A :class:`~alchemist.cim.Connection`: agents are discovered (``discover_agents()``) and
        their health read (``agent_requests.health()``), requests tracked through
        ``agent_requests``, suggestions accepted and rejected on it. A stand-in needs only
        ``append(graph_id, event_type, payload)`` for accepting plain insights.
    graph_id : str, optional
        The graph questions are about and accepted events go to.
    agents : sequence of dict, optional
        ``{"name", "version", "capabilities": [...], "description"}`` for each agent (instead of
        discovery).
    request : callable, optional
        ``request(agent, capability, text) -> iterable of insight dicts`` (``text``, optional
        ``confidence`` in [0, 1], optional ``event`` = ``{"event_type", "payload"}``); called by
        :meth:`ask` and when the form is sent, instead of the connection. By default the
        connection's agent requests (payload ``{"graph_id", "text"}``): a suggestion becomes
        one row; another reply is turned into sentences (the analysis agent's ``central_nodes``,
        ``communities`` and ``layout`` answers, a reply's own ``insights`` list, or its ``text``).
    timeout : float
        Seconds an agent has to answer a request made through the connection.

    Attributes (synced traits)
    --------------------------
    agents : list of dict. health : list of dict — one per agent (``name``, ``answering``,
    ``last_heartbeat``, ``latency_ms``, ``requests``, ``errors``, ``failures``, ``breaker``,
    ``retry_in``; see :class:`~alchemist.cim.agent_requests.AgentHealth`). requests : list of dict —
    the running and recent requests, newest first (``id``, ``agent``, ``capability``, ``state``:
    ``pending``/``running``/``done``/``failed``, ``message``, ``fraction``, ``error``). insights :
    list of dict — ``id``, ``agent``, ``capability``, ``kind``, ``text``, ``confidence`` (None when
    the agent gives none), ``event_type``, ``n_events``, ``suggestion`` (a typed suggestion: accept
    and reject are recorded on the CIM), ``status`` (``"new"``, ``"accepted"``, ``"rejected"``),
    ``sequence`` (the last accepted event's stream sequence), ``time`` (when it arrived, UTC).
    status : str — the last action's outcome.
    """

    _esm = asset("dom.js", "agent_panel.js")

    agents = t.List(t.Dict()).tag(sync=True)
    health = t.List(t.Dict()).tag(sync=True)
    requests = t.List(t.Dict()).tag(sync=True)
    insights = t.List(t.Dict()).tag(sync=True)
    status = t.Unicode("").tag(sync=True)
    title = t.Unicode("Agents").tag(sync=True)

    def __init__(self, connection=None, graph_id: str | None = None, *, agents: Sequence[dict] | None = None,
                 request: Callable[[str, str, str], Any] | None = None, title: str = "Agents",
                 timeout: float = 30.0):
        super().__init__(title=title)
        self.connection, self.graph_id, self.timeout = connection, graph_id, timeout
        self._request = request
        self._tracker = None
        if request is None and connection is not None and hasattr(type(connection), "agent_requests"):
            self._tracker = connection.agent_requests
        elif request is None and callable(getattr(connection, "request", None)):
            def ask(agent: str, capability: str, text: str):
                reply = connection.request(agent, capability, {"graph_id": graph_id, "text": text}, timeout=timeout)
                return _insights_of(reply, capability)

            self._request = ask
        self._events: dict[str, dict] = {}
        self._suggestions: dict[str, Any] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._asking: list[threading.Thread] = []
        self._tracked: list = []
        self.refresh(agents)
        self.on_msg(self._on_custom_msg)

    def refresh(self, agents: Sequence[dict] | None = None) -> None:
        """Set the list of agents, or discover them through the connection; read their health.

        Parameters
        ----------
        agents : sequence of dict, optional
            Agent descriptions (name, version, capabilities); when None, the connection's
            ``discover_agents()`` is asked (a failure is shown in ``status``, not raised). No
            agent listening is an empty list (the panel says so), not an error.

        Returns
        -------
        None
        """
        if agents is None and callable(getattr(self.connection, "discover_agents", None)):
            try:
                agents = self.connection.discover_agents()
            except Exception as exc:  # discovery is best effort; say why the list is empty
                self.status = f"agent discovery failed: {type(exc).__name__}: {exc}"
        self.agents = [_agent_row(a) for a in (agents or [])]
        self.refresh_health()

    def refresh_health(self, timeout: float = 0.5) -> None:
        """Read the agents' health (ping round trip, last heartbeat, requests and errors served,
        failures seen here and the circuit breaker's state) into ``health``.

        Parameters
        ----------
        timeout : float
            Seconds to gather the agents' answers.

        Returns
        -------
        None
        """
        if self._tracker is None:
            return
        try:
            import msgspec

            self.health = [msgspec.to_builtins(h) for h in self._tracker.health(timeout)]
        except Exception as exc:
            self.status = f"agent health failed: {type(exc).__name__}: {exc}"

    def add_insight(self, text: str, confidence: float | None = None, *, agent: str = "", event: dict | None = None,
                    capability: str = "") -> str:
        """Show an insight (thread-safe); ``event`` (``{"event_type", "payload"}``) is what accepting
        publishes.

        Parameters
        ----------
        text : str
        confidence : float, optional
            In ``[0, 1]``.
        agent, capability : str
            Where it came from.
        event : dict, optional
            ``{"event_type", "payload"}``.

        Returns
        -------
        str
            The insight's id.

        Raises
        ------
        WidgetError
            A confidence outside ``[0, 1]`` or an event without ``event_type`` and ``payload``.
        """
        if confidence is not None and not 0.0 <= float(confidence) <= 1.0:
            raise WidgetError(f"confidence={confidence}; it must lie in [0, 1]")
        if event is not None and not {"event_type", "payload"} <= set(event):
            raise WidgetError(f"event {event!r} needs 'event_type' and 'payload'")
        with self._lock:
            insight_id = f"insight-{next(self._ids)}"
            if event is not None:
                self._events[insight_id] = event
        self._add_row({"id": insight_id, "agent": str(agent), "capability": str(capability), "kind": "insight",
                       "text": str(text), "confidence": None if confidence is None else float(confidence),
                       "event_type": (event or {}).get("event_type", ""), "n_events": int(event is not None),
                       "suggestion": False})
        return insight_id

    def add_suggestion(self, suggestion) -> str:
        """Show a typed :class:`~alchemist.cim.suggestions.Suggestion` (thread-safe); accepting it
        appends its events with it as their cause, rejecting it is recorded.

        Parameters
        ----------
        suggestion : Suggestion

        Returns
        -------
        str
            Its id (the suggestion's own).

        Examples
        --------
        >>> from alchemist.cim.suggestions import make_suggestion
        >>> panel = AgentPanel()
        >>> s = make_suggestion(agent="analysis", kind="layout", text="a layout", confidence=0.75, graph_id="g",
        ...                     events=[{"event_type": "layout_applied", "payload": {"positions": {"a": [0, 0]}}}])
        >>> panel.add_suggestion(s) == s.id
        True
        >>> row = panel.insights[0]
        >>> row["kind"], row["confidence"], row["event_type"], row["n_events"], row["suggestion"]
        ('layout', 0.75, 'layout_applied', 1, True)
        """
        with self._lock:
            self._suggestions[suggestion.id] = suggestion
        types = sorted({e.event_type for e in suggestion.events})
        self._add_row({"id": suggestion.id, "agent": suggestion.agent, "capability": suggestion.capability,
                       "kind": suggestion.kind, "text": suggestion.text, "confidence": float(suggestion.confidence),
                       "event_type": ", ".join(types), "n_events": len(suggestion.events), "suggestion": True})
        return suggestion.id

    def ask(self, agent: str, capability: str = "", text: str = "", *, wait: bool = True) -> None:
        """Ask an agent and show its answer (a suggestion, or insights).

        Through a connection the request shows in ``requests`` while it runs (its state and the
        agent's progress reports); an agent whose circuit is open is refused at once.

        Parameters
        ----------
        agent : str
            The agent's name (``"analysis"``).
        capability : str
            What to ask (``"suggest_layout"``); by default the agent's first capability.
        text : str
            Free text passed to the agent.
        wait : bool
            Block until the answer is shown (errors are raised); False asks in the background
            and shows the outcome in ``status`` (:meth:`wait` blocks until it is done).

        Returns
        -------
        None

        Raises
        ------
        WidgetError
            If the panel has no request handler.
        AgentTimeout, AgentError
            With ``wait``, when the agent does not answer in time, fails, or its circuit is open.

        Examples
        --------
        >>> panel = AgentPanel(agents=[{"name": "echo", "version": "1", "capabilities": ["say"]}],
        ...                    request=lambda agent, capability, text: [{"text": text, "confidence": 0.5}])
        >>> panel.ask("echo", text="hello")
        >>> panel.insights[0]["text"], panel.insights[0]["capability"]
        ('hello', 'say')
        """
        if self._request is None and self._tracker is None:
            raise WidgetError("no request handler: pass request= or a connection (alchemist.connect())")
        if not capability:
            known = {a["name"]: a["capabilities"] for a in self.agents}
            capability = (known.get(agent) or [""])[0]
        if self._request is None:
            self._ask_tracked(agent, capability, text, wait)
            return

        def run() -> None:
            self.status = f"asking {agent} for {capability or 'an answer'}…"
            try:
                items = list(self._request(agent, capability, text) or [])
                for item in items:
                    self.add_insight(item["text"], item.get("confidence"), agent=agent, event=item.get("event"),
                                     capability=capability)
            except Exception as exc:
                self.status = f"{agent} did not answer {capability}: {type(exc).__name__}: {exc}"
                if wait:
                    raise
            else:
                self.status = f"{agent} answered {capability} ({len(items)} insight{'s' if len(items) != 1 else ''})"

        if wait:
            run()
            return
        thread = threading.Thread(target=run, name="alchemist-agent-request", daemon=True)
        self._asking = [t for t in self._asking if t.is_alive()] + [thread]
        thread.start()

    def wait(self, timeout: float = 60.0) -> None:
        """Block until the questions asked with ``wait=False`` are answered (or failed).

        Parameters
        ----------
        timeout : float
            Seconds to wait at most for each.

        Returns
        -------
        None
        """
        for thread in list(self._asking):
            thread.join(timeout)
        for req in list(self._tracked):
            try:
                req.wait(timeout)
            except Exception:  # shown in status and in its row
                pass

    def accept(self, insight_id: str) -> int | None:
        """Accept an insight: publish what it proposes and mark it accepted; once.

        A typed suggestion is accepted with :func:`~alchemist.cim.suggestions.accept_suggestion`
        (its events appended, caused by it, the decision recorded on the CIM); a plain insight's
        event is appended to ``graph_id``.

        Parameters
        ----------
        insight_id : str
            The id :meth:`add_insight` or :meth:`add_suggestion` returned.

        Returns
        -------
        int or None
            The JetStream sequence of the last published event (None when nothing was published).

        Raises
        ------
        WidgetError
            No such insight, one already accepted or rejected, or one that proposes events on a
            panel with no ``connection`` (or no ``graph_id`` for a plain insight).
        AgentError
            The suggestion was already decided elsewhere (another panel or process).
        """
        self._undecided(insight_id)
        suggestion = self._suggestions.get(insight_id)
        event = self._events.get(insight_id)
        sequence = None
        if suggestion is not None:
            if self.connection is None:
                raise WidgetError("accepting a suggestion needs connection= (alchemist.connect())")
            from alchemist.cim.suggestions import accept_suggestion

            try:
                stored = accept_suggestion(self.connection, suggestion, graph_id=self.graph_id or suggestion.graph_id)
            except AgentError as exc:
                if "already" in str(exc):
                    self._set_status(insight_id, "decided elsewhere", None)
                raise
            sequence = stored[-1].sequence if stored else None
        elif event is not None:
            if self.connection is None or self.graph_id is None:
                raise WidgetError("accepting an insight that proposes an event needs connection= and graph_id=")
            sequence = self.connection.append(self.graph_id, event["event_type"], event["payload"]).sequence
        self._set_status(insight_id, "accepted", sequence)
        self.status = f"accepted {insight_id}" + (f" → stream sequence {sequence}" if sequence is not None else "")
        return sequence

    def reject(self, insight_id: str, reason: str = "") -> None:
        """Reject an insight: nothing is published to the graph; a typed suggestion's rejection is
        recorded on the CIM (:func:`~alchemist.cim.suggestions.reject_suggestion`); once.

        Parameters
        ----------
        insight_id : str
            The id :meth:`add_insight` or :meth:`add_suggestion` returned.
        reason : str
            Kept with a suggestion's record.

        Returns
        -------
        None

        Raises
        ------
        WidgetError
            No such insight, or one already accepted or rejected.
        AgentError
            The suggestion was already decided elsewhere.
        """
        self._undecided(insight_id)
        suggestion = self._suggestions.get(insight_id)
        sequence = None
        if suggestion is not None and self.connection is not None:
            from alchemist.cim.suggestions import reject_suggestion

            sequence = reject_suggestion(self.connection, suggestion, reason).sequence
        self._set_status(insight_id, "rejected", sequence)
        self.status = f"rejected {insight_id}" + (f" (recorded at insights sequence {sequence})"
                                                   if sequence is not None else "")

    def static_html(self) -> str:
        """HTML shown where no widget manager runs (nbconvert, papermill reports).

        Returns
        -------
        str
            The agents with their health, the requests and the insights with their status and
            confidence, with every user-given text escaped.
        """
        health = {h["name"]: h for h in self.health}

        def agent_line(a: dict) -> str:
            h = health.get(a["name"])
            state = "" if h is None else (f" — {'answering' if h['answering'] else 'silent'}, circuit {h['breaker']}"
                                          + (f", {h['latency_ms']:.1f} ms" if h.get("latency_ms") is not None else ""))
            return f"<li>{escape(a['name'])} {escape(a['version'])}: {escape(', '.join(a['capabilities']))}{escape(state)}</li>"

        agents = "".join(agent_line(a) for a in self.agents)
        requests = "".join(f"<li>{escape(r['agent'])} · {escape(r['capability'])}: {escape(r['state'])}"
                           f"{' — ' + escape(r['message']) if r.get('message') else ''}</li>" for r in self.requests)
        insights = "".join(f"<li>[{escape(i['status'])}] {escape(i['agent'])}: {escape(i['text'])}"
                           + (f" ({i['confidence']:.0%})" if i.get("confidence") is not None else "") + "</li>"
                           for i in self.insights)
        return f"<b>{escape(self.title)}</b><ul>{agents}</ul><ul>{requests}</ul><ol>{insights}</ol>"

    # ------------------------------------------------------------------ internals
    def _ask_tracked(self, agent: str, capability: str, text: str, wait: bool) -> None:
        payload = {"graph_id": self.graph_id, "text": text}
        try:
            req = self._tracker.submit(agent, capability, payload, timeout=self.timeout, on_change=self._on_request)
        except Exception as exc:  # an open circuit: refused at once
            self.status = f"{agent} was not asked {capability}: {exc}"
            if wait:
                raise
            return
        self._tracked = [r for r in self._tracked if r.state in ("pending", "running")] + [req]
        self.status = f"asking {agent} for {capability or 'an answer'}…"
        self._on_request(req)
        if wait:
            req.wait(self.timeout + 10)

    def _on_request(self, req) -> None:
        """A tracked request changed (on the connection's loop thread): its row, and its answer once."""
        row = req.to_dict()
        with self._lock:
            rows = [row] + [r for r in self.requests if r["id"] != row["id"]]
            self.requests = rows[:MAX_REQUEST_ROWS]
        if req.state in ("done", "failed") and self._tracker is not None:  # the counts changed (not on this thread:
            threading.Thread(target=self.refresh_health, name="alchemist-agent-health", daemon=True).start()  # it blocks)
        if req.state == "failed":
            self.status = f"{req.agent} did not answer {req.capability}: {type(req.error).__name__}: {req.error}"
        elif req.state == "done":
            if req.suggestion is not None:
                self.add_suggestion(req.suggestion)
                self.status = f"{req.agent} suggests {req.suggestion.kind} ({req.suggestion.confidence:.0%} confidence)"
                return
            items = _insights_of(req.reply, req.capability)
            for item in items:
                self.add_insight(item["text"], item.get("confidence"), agent=req.agent, event=item.get("event"),
                                 capability=req.capability)
            self.status = f"{req.agent} answered {req.capability} ({len(items)} insight{'s' if len(items) != 1 else ''})"

    def _add_row(self, fields: dict) -> None:
        row = {**fields, "status": "new", "sequence": None,
               "time": datetime.now(timezone.utc).strftime("%H:%M:%S UTC")}
        with self._lock:
            self.insights = [row, *self.insights]

    def _undecided(self, insight_id: str) -> None:
        with self._lock:
            row = next((i for i in self.insights if i["id"] == insight_id), None)
        if row is None:
            raise WidgetError(f"no insight {insight_id!r}; the panel has {[i['id'] for i in self.insights]}")
        if row["status"] != "new":
            raise WidgetError(f"insight {insight_id!r} was already {row['status']}; an insight is accepted or "
                              "rejected once (ask the agent again for a new one)")

    def _set_status(self, insight_id: str, status: str, sequence) -> None:
        with self._lock:
            if not any(i["id"] == insight_id for i in self.insights):
                raise WidgetError(f"no insight {insight_id!r}; the panel has {[i['id'] for i in self.insights]}")
            self.insights = [dict(i, status=status, sequence=sequence) if i["id"] == insight_id else i
                             for i in self.insights]

    def _on_custom_msg(self, _widget, content, buffers) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        try:
            if kind == "accept":
                self.accept(content["id"])
            elif kind == "reject":
                self.reject(content["id"], str(content.get("reason") or ""))
            elif kind == "refresh":  # the agents and their health again
                self.refresh()
            elif kind == "request":  # answered in a thread: the kernel keeps serving the other widgets
                self.ask(str(content["agent"]), str(content.get("capability") or ""), str(content.get("text") or ""),
                         wait=False)
        except Exception as exc:  # show it in the panel rather than losing it in the kernel log
            self.status = f"{type(exc).__name__}: {exc}"


def _agent_row(agent: Any) -> dict:
    if not isinstance(agent, dict):
        agent = {k: getattr(agent, k, "") for k in ("name", "version", "capabilities", "description")}
    return {"name": str(agent.get("name", "")), "version": str(agent.get("version", "")),
            "capabilities": [str(c) for c in agent.get("capabilities") or []],
            "description": str(agent.get("description", ""))}


def _insights_of(reply: Any, capability: str = "") -> list[dict]:
    """Insight dicts (``text``, ``confidence``, ``event``) from an agent's reply, as sentences."""
    if isinstance(reply, dict) and isinstance(reply.get("insights"), list):
        return [i if isinstance(i, dict) else {"text": str(i)} for i in reply["insights"]]
    if not isinstance(reply, dict):
        return [{"text": _short(reply)}]
    reply = {k: v for k, v in reply.items() if not k.startswith("_")}  # transport details (headers)
    at = f" at version {int(reply['version']):,}" if isinstance(reply.get("version"), (int, float)) else ""
    confidence = reply.get("confidence")
    confidence = float(confidence) if isinstance(confidence, (int, float)) and 0 <= confidence <= 1 else None
    if isinstance(reply.get("central_nodes"), list) and reply["central_nodes"]:
        top = [n for n in reply["central_nodes"] if isinstance(n, dict) and "node" in n]
        names = ", ".join(f"{n['node']} ({float(n.get('pagerank', 0)):.4f})" for n in top[:5])
        first = top[0]
        return [{"text": f"Most central by PageRank{at}: {names}", "confidence": confidence,
                 "event": {"event_type": "node_updated",
                           "payload": {"node_id": str(first["node"]),
                                       "properties": {"pagerank": float(first.get("pagerank", 0)), "central": True}}}}]
    if isinstance(reply.get("communities"), list):
        parts = [c for c in reply["communities"] if isinstance(c, list)]
        total = sum(len(c) for c in parts) or 1
        sizes = ", ".join(f"{len(c):,}" for c in parts[:5])
        modularity = reply.get("modularity")
        quality = f", modularity {float(modularity):.3f}" if isinstance(modularity, (int, float)) else ""
        return [{"text": f"{len(parts):,} Louvain communities{at}{quality}; the largest hold {sizes} of "
                         f"{total:,} nodes", "confidence": confidence}]
    if isinstance(reply.get("positions"), dict):
        return [{"text": f"ForceAtlas2 layout{at}: positions for {len(reply['positions']):,} nodes",
                 "confidence": confidence}]
    text = reply.get("text") or reply.get("summary")
    if not text:
        import json

        text = json.dumps(reply, default=str, ensure_ascii=False)
    return [{"text": _short(text), "confidence": confidence, "event": reply.get("event")}]


def _short(value: Any, limit: int = 400) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
