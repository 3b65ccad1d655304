"""The object store, snapshots, agents and insights of :class:`~alchemist.cim.Connection` (a mixin).

Thin entry points over :mod:`alchemist.cim.objects`, :mod:`alchemist.cim.snapshots` and
:mod:`alchemist.cim.agents`, run on the connection's event loop.
"""

from __future__ import annotations

from typing import Any, Callable


__all__ = ["ServicesMixin"]


class ServicesMixin:
    """Objects, snapshots, agents and insights (mixed into ``Connection``)."""

    @property
    def objects(self):
        """The content-addressed :class:`~alchemist.cim.objects.ObjectStore` (made on first use)."""
        if self._objects is None:
            from alchemist.cim.objects import ObjectStore

            self._objects = ObjectStore(self)
        return self._objects

    def save_snapshot(self, graph, *, sequence: int | None = None) -> dict:
        """Store a graph snapshot (Arrow IPC) and point the KV entry ``<graph_id>`` at it; see
        :mod:`alchemist.cim.snapshots`. Returns ``{"cid", "sequence", "version"}``.

        Parameters
        ----------
        graph : Graph
            A graph read from this connection (its folded event ids are stored with it).
        sequence : int, optional
            The last stream sequence folded in (``graph.last_sequence`` by default).

        Returns
        -------
        dict

        Raises
        ------
        CIMError
            The connection is closed.

        Notes
        -----
        Cost: an object-store put (no chunk sent when the same bytes are stored), the KV
        bucket's ``STREAM.CREATE`` (idempotent) and one KV put on
        ``$KV.alchemist-snapshots.<graph_id>``; see :func:`alchemist.cim.snapshots.save_snapshot`.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.replay(path)
        >>> graph = connection.graph("g", live=False)
        >>> pointer = connection.save_snapshot(graph)
        >>> pointer["version"], pointer["cid"] in connection.objects
        (7, True)
        >>> connection.graph("g", live=False, snapshot=True).number_of_edges()
        3
        >>> connection.close()
        """
        from alchemist.cim.snapshots import save_snapshot

        return save_snapshot(self, graph, sequence=sequence)

    @property
    def agent_requests(self):
        """The :class:`~alchemist.cim.agent_requests.AgentRequests` of this connection (made on first
        use): requests tracked while they run (state, progress, suggestion), a circuit breaker per
        agent, and agent health (:meth:`~alchemist.cim.agent_requests.AgentRequests.health`)."""
        if getattr(self, "_agent_requests", None) is None:
            from alchemist.cim.agent_requests import AgentRequests

            self._agent_requests = AgentRequests(self)
        return self._agent_requests

    def serve_agent(self, agent) -> None:
        """Register an :class:`~alchemist.cim.agents.Agent` as a NATS micro service (in the background).

        See :func:`alchemist.cim.agents.serve` (subjects ``$SRV.*`` and
        ``alchemist.agents.<name>.<capability>``); the service stops with :meth:`close`.

        Parameters
        ----------
        agent : Agent

        Returns
        -------
        None

        Raises
        ------
        CIMError
            The connection is closed.
        """
        from alchemist.cim.agents import serve

        self.run(serve(self, agent))

    def discover_agents(self, capability: str | None = None, timeout: float = 0.5) -> list[dict]:
        """The agents that answer ``$SRV.INFO`` (optionally only those with a capability).

        See :func:`alchemist.cim.agents.discover`: one request, replies gathered for
        ``timeout`` seconds.

        Parameters
        ----------
        capability : str, optional
        timeout : float
            Seconds.

        Returns
        -------
        list of dict

        Raises
        ------
        CIMError
            The connection is closed.
        """
        from alchemist.cim.agents import discover

        return self.run(discover(self, capability, timeout))

    def request(self, agent: str, capability: str, payload: dict | None = None, *, timeout: float = 5.0,
                correlation_id: str | None = None, causation_id: str | None = None) -> dict:
        """Call an agent (request/reply with correlation and causation headers).

        One core-NATS request on ``alchemist.agents.<agent>.<capability>`` with headers
        ``Cim-Request-Id``, ``Cim-Correlation-Id`` and ``Cim-Causation-Id``: one round trip
        (see :func:`alchemist.cim.agents.request`), through the agent's circuit breaker
        (:attr:`agent_requests`, which also follows its progress).

        Parameters
        ----------
        agent : str
            The agent's name.
        capability : str
        payload : dict, optional
            Sent as JSON.
        timeout : float
            Seconds.
        correlation_id, causation_id : str, optional
            Carried in the headers (a new request id by default).

        Returns
        -------
        dict
            The agent's answer, with its reply headers under ``"_headers"``.

        Raises
        ------
        AgentTimeout
            No agent answered within ``timeout`` seconds (or none is registered).
        AgentError
            The agent answered with an error, or its circuit is open (it failed 3 requests in a
            row less than 30 s ago): the request is not sent.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.replay(path)
        >>> from alchemist.cim.agents import AnalysisAgent
        >>> connection.serve_agent(AnalysisAgent())
        >>> answer = connection.request("analysis", "communities", {"graph_id": "g"}, correlation_id="c-1")
        >>> answer["communities"], answer["_headers"]["Cim-Correlation-Id"]
        ([['1', '2', '3']], 'c-1')
        >>> connection.request("translator", "translate", timeout=0.5)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        alchemist.errors.AgentTimeout: no agent 'translator' answered 'translate' within 0.5 s ...
        >>> connection.close()
        """
        req = self.agent_requests.submit(agent, capability, payload, timeout=timeout, correlation_id=correlation_id,
                                         causation_id=causation_id)
        req.wait(timeout + 10)
        return req.reply

    def consume_insights(self, handler: Callable[[dict], Any], *, max_messages: int | None = None,
                         timeout: float = 1.0, nak_delay: float = 5.0) -> dict:
        """Consume ``AI_INSIGHTS`` with the durable ``information-alchemist`` consumer: ack each
        insight ``handler`` accepted, nak (redeliver after ``nak_delay`` seconds) when it raises,
        dead-letter once and terminate one that is not a JSON object. Returns
        ``{"acked": n, "naked": n, "dead_lettered": n}`` when no message came for ``timeout``
        seconds or ``max_messages`` were taken (see :func:`alchemist.cim.agents.consume_insights`).

        Parameters
        ----------
        handler : callable
            ``handler(insight: dict)``; raising means "not now" (nak).
        max_messages : int, optional
        timeout : float
            Seconds without a message before it returns.
        nak_delay : float
            Seconds before a nak'ed insight comes again.

        Returns
        -------
        dict

        Raises
        ------
        CIMError
            The connection is closed.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import alchemist
        >>> tmp = tempfile.mkdtemp()
        >>> path = pathlib.Path(tmp, "g.txt")
        >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n")
        >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
        >>> _ = connection.replay(path)
        >>> from alchemist.cim.agents import AnalysisAgent
        >>> connection.serve_agent(AnalysisAgent())
        >>> _ = connection.request("analysis", "central_nodes", {"graph_id": "g"})
        >>> kinds = []
        >>> connection.consume_insights(lambda insight: kinds.append(insight["kind"]), timeout=0.5)
        {'acked': 1, 'naked': 0, 'dead_lettered': 0}
        >>> kinds
        ['central_nodes']
        >>> connection.close()
        """
        from alchemist.cim.agents import consume_insights

        return self.run(consume_insights(self, handler, max_messages, timeout, nak_delay))

    # ------------------------------------------------------------------ life cycle
