"""AgentPanel: discovered AI agents, a request form, incoming insights with their confidence, and
accept/reject. Accepting an insight publishes the event it proposes on the CIM (with the insight's
id as causation), so the change becomes part of the graph's history like any other.
"""

from __future__ import annotations

import itertools
import threading
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
        ``request(agent, capability, text) -> iterable of insight dicts`` (``text``,
        ``confidence``, optional ``event`` = ``{"event_type", "payload"}``); called when the form
        is sent. By default the connection's ``request(agent, capability, payload)`` (payload
        ``{"graph_id", "text"}``), whose reply's ``insights`` list (or the reply itself) is shown.

    Attributes (synced traits)
    --------------------------
    agents : list of dict. insights : list of dict — ``id``, ``agent``, ``text``, ``confidence``,
    ``event_type``, ``status`` (``"new"``, ``"accepted"``, ``"rejected"``), ``sequence``.
    status : str — the last action's outcome.
    """

    _esm = asset("dom.js", "agent_panel.js")

    agents = t.List(t.Dict()).tag(sync=True)
    insights = t.List(t.Dict()).tag(sync=True)
    status = t.Unicode("").tag(sync=True)
    title = t.Unicode("Agents").tag(sync=True)

    def __init__(self, connection=None, graph_id: str | None = None, *, agents: Sequence[dict] | None = None,
                 request: Callable[[str, str, str], Any] | None = None, title: str = "Agents"):
        super().__init__(title=title)
        self.connection, self.graph_id = connection, graph_id
        self._request = request
        if request is None and callable(getattr(connection, "request", None)):
            def ask(agent: str, capability: str, text: str):
                reply = connection.request(agent, capability, {"graph_id": graph_id, "text": text})
                return _insights_of(reply)

            self._request = ask
        self._events: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
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

    def add_insight(self, text: str, confidence: float, *, agent: str = "", event: dict | None = None) -> str:
        """Show an insight (thread-safe); ``event`` (``{"event_type", "payload"}``) is what accepting
        publishes. Returns the insight's id."""
        if not 0.0 <= float(confidence) <= 1.0:
            raise WidgetError(f"confidence={confidence}; it must lie in [0, 1]")
        if event is not None and not {"event_type", "payload"} <= set(event):
            raise WidgetError(f"event {event!r} needs 'event_type' and 'payload'")
        with self._lock:
            insight_id = f"insight-{next(self._ids)}"
            if event is not None:
                self._events[insight_id] = event
            row = {"id": insight_id, "agent": str(agent), "text": str(text), "confidence": float(confidence),
                   "event_type": (event or {}).get("event_type", ""), "status": "new", "sequence": None}
            self.insights = [row, *self.insights]
        return insight_id

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
        insights = "".join(f"<li>[{escape(i['status'])}] {escape(i['text'])} ({i['confidence']:.0%})</li>"
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
            elif kind == "request":
                if self._request is None:
                    raise WidgetError("no request handler: pass request= or a connection with request_agent()")
                for item in self._request(content["agent"], content.get("capability", ""), content.get("text", "")) or []:
                    self.add_insight(item["text"], item.get("confidence", 0.5), agent=content["agent"],
                                     event=item.get("event"))
                self.status = f"asked {content['agent']}"
        except Exception as exc:  # show it in the panel rather than losing it in the kernel log
            self.status = f"{type(exc).__name__}: {exc}"


def _agent_row(agent: Any) -> dict:
    if not isinstance(agent, dict):
        agent = {k: getattr(agent, k, "") for k in ("name", "version", "capabilities", "description")}
    return {"name": str(agent.get("name", "")), "version": str(agent.get("version", "")),
            "capabilities": [str(c) for c in agent.get("capabilities") or []],
            "description": str(agent.get("description", ""))}


def _insights_of(reply: Any) -> list[dict]:
    if isinstance(reply, dict) and isinstance(reply.get("insights"), list):
        return [i if isinstance(i, dict) else {"text": str(i)} for i in reply["insights"]]
    if isinstance(reply, dict):
        text = reply.get("text") or reply.get("summary") or ", ".join(f"{k}: {v}" for k, v in reply.items())
        return [{"text": str(text), "confidence": float(reply.get("confidence", 0.5)), "event": reply.get("event")}]
    return [{"text": str(reply), "confidence": 0.5}]
