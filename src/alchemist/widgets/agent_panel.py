"""AgentPanel: discovered AI agents, a request form, incoming insights with their confidence, and
accept/reject. Accepting an insight publishes the event it proposes on the CIM (with the insight's
id as causation), so the change becomes part of the graph's history like any other.
"""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Sequence

import traitlets as t

from alchemist.errors import WidgetError
from alchemist.widgets._base import AlchemistWidget, asset, escape

__all__ = ["AgentPanel"]


class AgentPanel(AlchemistWidget):
    """Agents and their insights for one graph.

    Parameters
    ----------
    connection : Connection-like, optional
        Needs ``publish(event)`` for accepting insights; agents are discovered with its
        ``discover_agents()`` when it has one.
    graph_id : str, optional
        The graph accepted events are published to.
    agents : sequence of dict, optional
        ``{"name", "version", "capabilities": [...], "description"}`` for each agent (instead of
        discovery).
    request : callable, optional
        ``request(agent, capability, text) -> iterable of insight dicts`` (``text``, optional
        ``confidence`` in [0, 1], optional ``event`` = ``{"event_type", "payload"}``); called by
        :meth:`ask` and when the form is sent. By default the connection's
        ``request(agent, capability, payload)`` (payload ``{"graph_id", "text"}``), whose reply is
        turned into insights: the analysis agent's ``central_nodes``, ``communities`` and
        ``layout`` answers as sentences, a reply's own ``insights`` list, or its ``text``.
    timeout : float
        Seconds an agent has to answer a request made through the connection.

    Attributes (synced traits)
    --------------------------
    agents : list of dict. insights : list of dict — ``id``, ``agent``, ``capability``, ``text``,
    ``confidence`` (None when the agent gives none), ``event_type``, ``status`` (``"new"``,
    ``"accepted"``, ``"rejected"``), ``sequence``, ``time`` (when it arrived, UTC).
    status : str — the last action's outcome.
    """

    _esm = asset("dom.js", "agent_panel.js")

    agents = t.List(t.Dict()).tag(sync=True)
    insights = t.List(t.Dict()).tag(sync=True)
    status = t.Unicode("").tag(sync=True)
    title = t.Unicode("Agents").tag(sync=True)

    def __init__(self, connection=None, graph_id: str | None = None, *, agents: Sequence[dict] | None = None,
                 request: Callable[[str, str, str], Any] | None = None, title: str = "Agents",
                 timeout: float = 30.0):
        super().__init__(title=title)
        self.connection, self.graph_id = connection, graph_id
        self._request = request
        if request is None and callable(getattr(connection, "request", None)):
            def ask(agent: str, capability: str, text: str):
                reply = connection.request(agent, capability, {"graph_id": graph_id, "text": text}, timeout=timeout)
                return _insights_of(reply, capability)

            self._request = ask
        self._events: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._asking: list[threading.Thread] = []
        self.refresh(agents)
        self.on_msg(self._on_custom_msg)

    def refresh(self, agents: Sequence[dict] | None = None) -> None:
        """Set the list of agents, or discover them through the connection.

        Parameters
        ----------
        agents : sequence of dict, optional
            Agent descriptions (name, version, capabilities); when None, the connection's
            ``discover_agents()`` is asked (a failure is shown in ``status``, not raised).
        """
        if agents is None and callable(getattr(self.connection, "discover_agents", None)):
            try:
                agents = self.connection.discover_agents()
            except Exception as exc:  # discovery is best effort; say why the list is empty
                self.status = f"agent discovery failed: {type(exc).__name__}: {exc}"
        self.agents = [_agent_row(a) for a in (agents or [])]

    def add_insight(self, text: str, confidence: float | None = None, *, agent: str = "", event: dict | None = None,
                    capability: str = "") -> str:
        """Show an insight (thread-safe); ``event`` (``{"event_type", "payload"}``) is what accepting
        publishes. Returns the insight's id."""
        if confidence is not None and not 0.0 <= float(confidence) <= 1.0:
            raise WidgetError(f"confidence={confidence}; it must lie in [0, 1]")
        if event is not None and not {"event_type", "payload"} <= set(event):
            raise WidgetError(f"event {event!r} needs 'event_type' and 'payload'")
        with self._lock:
            insight_id = f"insight-{next(self._ids)}"
            if event is not None:
                self._events[insight_id] = event
            row = {"id": insight_id, "agent": str(agent), "capability": str(capability), "text": str(text),
                   "confidence": None if confidence is None else float(confidence),
                   "event_type": (event or {}).get("event_type", ""), "status": "new", "sequence": None,
                   "time": datetime.now(timezone.utc).strftime("%H:%M:%S UTC")}
            self.insights = [row, *self.insights]
        return insight_id

    def ask(self, agent: str, capability: str = "", text: str = "", *, wait: bool = True) -> None:
        """Ask an agent and show its answer as insights.

        Parameters
        ----------
        agent : str
            The agent's name (``"analysis"``).
        capability : str
            What to ask (``"central_nodes"``); by default the agent's first capability.
        text : str
            Free text passed to the agent.
        wait : bool
            Block until the answer is shown (errors are raised); False asks in a background thread
            and shows the outcome in ``status`` (:meth:`wait` blocks until it is done).

        Raises
        ------
        WidgetError
            If the panel has no request handler.
        AgentTimeout, AgentError
            With ``wait``, when the agent does not answer in time or fails.

        Examples
        --------
        >>> panel = AgentPanel(agents=[{"name": "echo", "version": "1", "capabilities": ["say"]}],
        ...                    request=lambda agent, capability, text: [{"text": text, "confidence": 0.5}])
        >>> panel.ask("echo", text="hello")
        >>> panel.insights[0]["text"], panel.insights[0]["capability"]
        ('hello', 'say')
        """
        if self._request is None:
            raise WidgetError("no request handler: pass request= or a connection (alchemist.connect())")
        if not capability:
            known = {a["name"]: a["capabilities"] for a in self.agents}
            capability = (known.get(agent) or [""])[0]

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
        """
        for thread in list(self._asking):
            thread.join(timeout)

    def accept(self, insight_id: str) -> int | None:
        """Accept an insight: publish its proposed event, if it has one, and mark it accepted.

        Parameters
        ----------
        insight_id : str
            The id :meth:`add_insight` returned.

        Returns
        -------
        int or None
            The JetStream sequence of the published event (None when nothing was published).

        Raises
        ------
        WidgetError
            If the insight proposes an event and the panel has no ``connection`` or ``graph_id``.
        """
        event = self._events.get(insight_id)
        sequence = None
        if event is not None:
            if self.connection is None or self.graph_id is None:
                raise WidgetError("accepting an insight that proposes an event needs connection= and graph_id=")
            sequence = self.connection.append(self.graph_id, event["event_type"], event["payload"]).sequence
        self._set_status(insight_id, "accepted", sequence)
        self.status = f"accepted {insight_id}" + (f" → stream sequence {sequence}" if sequence is not None else "")
        return sequence

    def reject(self, insight_id: str) -> None:
        """Mark an insight rejected; nothing is published.

        Parameters
        ----------
        insight_id : str
            The id :meth:`add_insight` returned.
        """
        self._set_status(insight_id, "rejected", None)
        self.status = f"rejected {insight_id}"

    def static_html(self) -> str:
        """HTML shown where no widget manager runs (nbconvert, papermill reports).

        Returns
        -------
        str
            The agents and the insights with their status and confidence, with every user-given text escaped.
        """
        agents = "".join(f"<li>{escape(a['name'])} {escape(a['version'])}: {escape(', '.join(a['capabilities']))}</li>"
                         for a in self.agents)
        insights = "".join(f"<li>[{escape(i['status'])}] {escape(i['agent'])}: {escape(i['text'])}"
                           + (f" ({i['confidence']:.0%})" if i.get("confidence") is not None else "") + "</li>"
                           for i in self.insights)
        return f"<b>{escape(self.title)}</b><ul>{agents}</ul><ol>{insights}</ol>"

    # ------------------------------------------------------------------ internals
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
                self.reject(content["id"])
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
