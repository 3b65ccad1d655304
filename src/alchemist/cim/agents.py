"""AI agents as NATS micro services, and the insights they publish.

An :class:`Agent` registers with the NATS "micro" services protocol (``nats.micro``): a name, a
semantic version, a description and its capabilities (service metadata ``capabilities`` and one
endpoint per capability on ``alchemist.agents.<name>.<capability>``). Agents answer
``$SRV.PING``/``$SRV.INFO``/``$SRV.STATS``, so :func:`discover` finds them; :func:`request`
calls one with request/reply, carrying ``Cim-Correlation-Id`` and ``Cim-Causation-Id`` headers.

:class:`AnalysisAgent` (``alchemist agent analysis``) answers ``communities``,
``central_nodes`` and ``layout`` for a graph id by folding the graph from the CIM and running
analytics on it, and publishes each result as an insight on ``ai.insights.graph``
(the ``AI_INSIGHTS`` work queue).

Reference: NATS micro services protocol, ADR-32 (https://github.com/nats-io/nats-architecture-and-design).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Callable

from alchemist.errors import AgentError, AgentTimeout, InvalidEventError
from alchemist.events import uuid7

__all__ = ["Agent", "AnalysisAgent", "AGENTS", "serve", "discover", "request", "consume_insights", "run_agent"]

AGENT_PREFIX = "alchemist.agents"


class Agent:
    """Base class of an agent: subclass it and implement :meth:`handle`.

    Served (:meth:`Connection.serve_agent <alchemist.cim.connection.Connection.serve_agent>`),
    an agent is a NATS micro service: it answers ``$SRV.PING``, ``$SRV.INFO`` and
    ``$SRV.STATS`` (so :func:`discover` finds it) and has one request/reply endpoint per
    capability on ``alchemist.agents.<name>.<capability>``. Each request's JSON body is handed
    to :meth:`handle` in a worker thread; its dict is sent back as JSON with the request's
    ``Cim-*`` headers. An exception raised by :meth:`handle` is answered as a service error
    (``Nats-Service-Error-Code: 500`` and the message), which the caller's :func:`request`
    raises as :class:`~alchemist.errors.AgentError`.

    Attributes
    ----------
    name : str
        Service name (letters, digits, ``-``, ``_``).
    version : str
        Semantic version.
    description : str
    capabilities : tuple of str
        What it answers; one endpoint each.

    See Also
    --------
    AnalysisAgent : the agent alchemist ships.
    discover, request

    References
    ----------
    .. [1] NATS ADR-32, "Service API" (the micro services protocol),
       https://github.com/nats-io/nats-architecture-and-design/blob/main/adr/ADR-32.md

    Examples
    --------
    An agent that echoes its payload, served on an embedded server and called:

    >>> import tempfile
    >>> import alchemist
    >>> from alchemist.cim.agents import Agent
    >>> class Echo(Agent):
    ...     name = "echo"
    ...     capabilities = ("echo",)
    ...     def handle(self, capability, payload, headers):
    ...         return {"echo": payload}
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> connection.serve_agent(Echo())
    >>> [(a["name"], a["capabilities"]) for a in connection.discover_agents()]
    [('echo', ['echo'])]
    >>> connection.request("echo", "echo", {"x": 1})["echo"]
    {'x': 1}
    >>> connection.close()
    """

    name = "agent"
    version = "0.1.0"
    description = ""
    capabilities: tuple[str, ...] = ()

    def handle(self, capability: str, payload: dict, headers: dict[str, str]) -> dict:
        """Answer one request; raise to answer with an error (the message is sent back).

        Called in a worker thread of the connection's event loop, one call per request.

        Parameters
        ----------
        capability : str
            One of :attr:`capabilities` (the endpoint the request came to).
        payload : dict
            The request's JSON body (``{}`` when empty).
        headers : dict of str to str
            The request's NATS headers (``Cim-Request-Id``, ``Cim-Correlation-Id``,
            ``Cim-Causation-Id``).

        Returns
        -------
        dict
            The answer, sent back as JSON (it must be JSON-serialisable).

        Raises
        ------
        AgentError
            Here, always: a subclass overrides this method. Whatever a subclass raises is
            answered to the caller as a service error (``AgentError`` on its side).
        """
        raise AgentError(f"agent {self.name!r} does not implement {capability!r}")

    def bind(self, connection) -> None:
        """Called once when served, with the connection it runs on.

        Parameters
        ----------
        connection : Connection
            Kept as ``self.connection`` (an override calls ``super().bind`` and may load what
            the first request would otherwise wait for).

        Returns
        -------
        None
        """
        self.connection = connection


async def serve(connection, agent: Agent):
    """Register ``agent`` as a micro service on the connection's event loop.

    One ``$SRV`` registration (``nats.micro.add_service``: a subscription each on ``$SRV.PING``,
    ``$SRV.INFO`` and ``$SRV.STATS``, bare and with the agent's name and id) and one endpoint
    subscription per capability on ``alchemist.agents.<name>.<capability>``; no round trip
    to JetStream. The service is stopped by :meth:`Connection.close
    <alchemist.cim.connection.Connection.close>`. Sync code calls
    :meth:`Connection.serve_agent <alchemist.cim.connection.Connection.serve_agent>`.

    Parameters
    ----------
    connection : Connection
    agent : Agent
        Bound to the connection first (:meth:`Agent.bind`).

    Returns
    -------
    nats.micro.Service
        The registered service (also appended to ``connection.services``).

    Raises
    ------
    ValueError
        The agent's name or version is not valid for the micro protocol (raised by ``nats.micro``).

    References
    ----------
    .. [1] NATS ADR-32, "Service API",
       https://github.com/nats-io/nats-architecture-and-design/blob/main/adr/ADR-32.md
    """
    from nats.micro import add_service

    agent.bind(connection)
    service = await add_service(connection.nc, name=agent.name, version=agent.version,
                                description=agent.description or agent.name,
                                metadata={"capabilities": ",".join(agent.capabilities)})
    group = service.add_group(name=f"{AGENT_PREFIX}.{agent.name}")
    for capability in agent.capabilities:
        await group.add_endpoint(name=capability, subject=capability, handler=_handler(agent, capability),
                                 metadata={"capability": capability})
    connection.services.append(service)
    return service


def _handler(agent: Agent, capability: str):
    async def handle(req) -> None:
        headers = dict(req.headers or {})
        try:
            payload = json.loads(req.data or b"{}")
            loop = asyncio.get_running_loop()
            result = await loop.run_in_executor(None, agent.handle, capability, payload, headers)
        except Exception as exc:  # answered to the caller, who raises AgentError
            await req.respond_error("500", f"{exc.__class__.__name__}: {exc}"[:500], headers=_reply_headers(headers))
            return
        await req.respond(json.dumps(result).encode(), headers=_reply_headers(headers))

    return handle


def _reply_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.startswith("Cim-")}


async def discover(connection, capability: str | None = None, timeout: float = 0.5) -> list[dict]:
    """Every agent answering ``$SRV.INFO`` within ``timeout`` seconds (as INFO dicts), optionally
    only those that list ``capability``.

    One core-NATS publish on ``$SRV.INFO`` with a private inbox as reply subject; every agent
    answers on it, and the replies are gathered until ``timeout`` (a scatter-gather: the call
    always lasts ``timeout`` seconds unless no service at all listens). With no service
    listening the server answers with a no-responders status message (``Status: 503``, no
    body): that means no agents, an empty list at once. A reply that is not a JSON object (not a
    micro service's INFO) is not an agent and is left out. Sync code calls
    :meth:`Connection.discover_agents <alchemist.cim.connection.Connection.discover_agents>`.

    Parameters
    ----------
    connection : Connection
    capability : str, optional
        Only the agents whose ``capabilities`` metadata lists it.
    timeout : float
        Seconds to gather replies.

    Returns
    -------
    list of dict
        The INFO replies (``name``, ``id``, ``version``, ``description``, ``endpoints``,
        ``metadata``) with ``capabilities`` added as a list, sorted by name then id.

    Raises
    ------
    nats.errors.ConnectionClosedError
        The connection is closed.

    References
    ----------
    .. [1] NATS ADR-32, "Service API" (``$SRV.INFO`` discovery),
       https://github.com/nats-io/nats-architecture-and-design/blob/main/adr/ADR-32.md

    Examples
    --------
    >>> import tempfile
    >>> import alchemist
    >>> from alchemist.cim.agents import AnalysisAgent
    >>> tmp = tempfile.mkdtemp()
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> connection.discover_agents()
    []
    >>> connection.serve_agent(AnalysisAgent())
    >>> [a["name"] for a in connection.discover_agents("layout")]
    ['analysis']
    >>> connection.discover_agents("translate")
    []
    >>> connection.close()
    """
    nc = connection.nc
    inbox = nc.new_inbox()
    found: list[dict] = []
    sub = await nc.subscribe(inbox)
    try:
        await nc.publish("$SRV.INFO", b"", reply=inbox)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await sub.next_msg(timeout=left)
            except Exception:
                break
            if (msg.headers or {}).get("Status") == "503":  # no responders: nobody is listening
                break
            try:
                info = json.loads(msg.data)
            except ValueError:
                continue
            if not isinstance(info, dict):
                continue
            caps = [c for c in (info.get("metadata") or {}).get("capabilities", "").split(",") if c]
            info["capabilities"] = caps
            if capability is None or capability in caps:
                found.append(info)
    finally:
        await sub.unsubscribe()
    return sorted(found, key=lambda i: (i.get("name", ""), i.get("id", "")))


async def request(connection, agent: str, capability: str, payload: dict, timeout: float,
                  correlation_id: str | None, causation_id: str | None) -> dict:
    """Request/reply with an agent (see :meth:`Connection.request`).

    One core-NATS request (one round trip) on ``alchemist.agents.<agent>.<capability>`` with the
    JSON ``payload`` and the headers ``Cim-Request-Id`` (a new UUIDv7),
    ``Cim-Correlation-Id`` (``correlation_id``, else the request id) and ``Cim-Causation-Id``
    (``causation_id``, else the correlation id). The agent answers with the same ``Cim-*``
    headers.

    Parameters
    ----------
    connection : Connection
    agent : str
        The agent's service name.
    capability : str
    payload : dict
        Sent as JSON.
    timeout : float
        Seconds to wait for the answer.
    correlation_id, causation_id : str or None
        Carried in the headers (see above).

    Returns
    -------
    dict
        The agent's JSON answer, with its reply headers under ``"_headers"`` (when the answer
        is a JSON object).

    Raises
    ------
    AgentTimeout
        No answer within ``timeout`` seconds, or nobody listens on the subject (no such agent or
        capability: the server's no-responders status).
    AgentError
        The agent answered with a service error (``Nats-Service-Error`` header).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import alchemist
    >>> from alchemist.cim.agents import AnalysisAgent
    >>> tmp = tempfile.mkdtemp()
    >>> path = pathlib.Path(tmp, "g.txt")
    >>> _ = path.write_text("1 2\\n2 3\\n3 1\\n3 4\\n")
    >>> connection = alchemist.connect(data_dir=tmp + "/jetstream", outbox=tmp + "/outbox.sqlite")
    >>> connection.replay(path).complete
    True
    >>> connection.serve_agent(AnalysisAgent())
    >>> answer = connection.request("analysis", "central_nodes", {"graph_id": "g", "top": 1})
    >>> answer["central_nodes"][0]["node"]
    '3'
    >>> sorted(answer["_headers"])
    ['Cim-Causation-Id', 'Cim-Correlation-Id', 'Cim-Request-Id']
    >>> connection.request("analysis", "central_nodes", {})
    Traceback (most recent call last):
    ...
    alchemist.errors.AgentError: agent 'analysis' failed on 'central_nodes': AgentError: central_nodes needs a 'graph_id' (a string), got None
    >>> connection.close()
    """
    from nats.errors import NoRespondersError, TimeoutError as NatsTimeout

    request_id = uuid7()
    headers = {"Cim-Request-Id": request_id, "Cim-Correlation-Id": correlation_id or request_id,
               "Cim-Causation-Id": causation_id or correlation_id or request_id}
    subject = f"{AGENT_PREFIX}.{agent}.{capability}"
    try:
        msg = await connection.nc.request(subject, json.dumps(payload).encode(), timeout=timeout, headers=headers)
    except (NatsTimeout, NoRespondersError, asyncio.TimeoutError):
        raise AgentTimeout(f"no agent {agent!r} answered {capability!r} within {timeout} s "
                           f"(is one running? `alchemist agent {agent}`)") from None
    reply_headers = dict(msg.headers or {})
    if "Nats-Service-Error" in reply_headers:
        raise AgentError(f"agent {agent!r} failed on {capability!r}: {reply_headers['Nats-Service-Error']}")
    result = json.loads(msg.data)
    if isinstance(result, dict):
        result.setdefault("_headers", reply_headers)
    return result


async def consume_insights(connection, handler: Callable[[dict], Any], max_messages: int | None, timeout: float,
                           nak_delay: float) -> dict:
    """Pull insights with the durable ``information-alchemist`` consumer and hand each to ``handler``.

    An insight ``handler`` accepts is acknowledged; one it raises on is nak'ed (redelivered after
    ``nak_delay`` seconds, at most 10 deliveries). An insight that is not a JSON object (bad JSON,
    bad UTF-8, nesting too deep for the parser, another JSON type) can never be handled: it is
    dead-lettered once on ``alchemist.dlq.AI_INSIGHTS.<stream sequence>`` with the reason and
    terminated (``msg.term()``: never redelivered), and the next insight is taken.

    Parameters
    ----------
    connection : Connection
    handler : callable
        ``handler(insight: dict)``, run in a worker thread; the insight carries its NATS headers
        under ``"_headers"``.
    max_messages : int or None
        Stop after this many messages (handled, nak'ed or dead-lettered).
    timeout : float
        Stop when no message came for this many seconds.
    nak_delay : float
        Seconds before a nak'ed insight is delivered again.

    Returns
    -------
    dict
        ``{"acked": n, "naked": n, "dead_lettered": n}``.

    Raises
    ------
    nats.js.errors.NotFoundError
        The ``AI_INSIGHTS`` stream does not exist (:func:`~alchemist.cim.streams.ensure_streams`
        creates it; :func:`~alchemist.cim.connection.connect` calls it).

    Notes
    -----
    Cost: one pull request (one round trip) per message, one ack/nak/term per message, and a
    publish with acknowledgement to ``ALCHEMIST_DLQ`` per poison message. A failed dead letter
    (:class:`~alchemist.cim.deadletters.DeadLetterError`) is not raised: the message is nak'ed
    and counted as ``naked``, to be tried again.
    """
    from nats.errors import TimeoutError as NatsTimeout

    from alchemist.cim.deadletters import DeadLetterError, DeadLetters
    from alchemist.cim.streams import DLQ_STREAM, INSIGHTS_CONSUMER, INSIGHTS_STREAM, INSIGHTS_SUBJECT

    streams = getattr(connection, "streams", None)
    stream = getattr(streams, "insights", INSIGHTS_STREAM)
    letters = DeadLetters(connection.js, stream=getattr(streams, "dlq", DLQ_STREAM))
    sub = await connection.js.pull_subscribe(INSIGHTS_SUBJECT, durable=INSIGHTS_CONSUMER, stream=stream)
    counts = {"acked": 0, "naked": 0, "dead_lettered": 0}
    loop = asyncio.get_running_loop()
    try:
        while max_messages is None or sum(counts.values()) < max_messages:
            try:
                msgs = await sub.fetch(batch=1, timeout=timeout)
            except NatsTimeout:
                break
            for msg in msgs:
                try:
                    insight = _insight(msg.data)
                except Exception as exc:  # poison: dead-letter once, never deliver again
                    try:
                        await letters.send(msg.data, exc, graph_id="", sequence=msg.metadata.sequence.stream,
                                           stream=stream)
                    except DeadLetterError:  # keep it for a later try
                        await msg.nak(delay=nak_delay)
                        counts["naked"] += 1
                        continue
                    await msg.term()
                    counts["dead_lettered"] += 1
                    continue
                insight["_headers"] = dict(msg.headers or {})
                try:
                    await loop.run_in_executor(None, handler, insight)
                except Exception:
                    await msg.nak(delay=nak_delay)
                    counts["naked"] += 1
                else:
                    await msg.ack()
                    counts["acked"] += 1
    finally:
        await sub.unsubscribe()
    return counts


def _insight(data: bytes) -> dict:
    """An insight's JSON object.

    Raises
    ------
    ValueError
        Not JSON or not UTF-8 (``JSONDecodeError``, ``UnicodeDecodeError``).
    RecursionError
        Nested too deep for the parser.
    InvalidEventError
        Valid JSON, but not an object.
    """
    value = json.loads(data)
    if not isinstance(value, dict):
        raise InvalidEventError(f"an insight must be a JSON object, not {type(value).__name__}; "
                                f"publish {{\"insight_id\": ..., \"kind\": ..., \"result\": ...}}")
    return value


class AnalysisAgent(Agent):
    """Answers ``communities``, ``central_nodes`` and ``layout`` for a graph id.

    Request payload: ``{"graph_id": str, "top": int (central_nodes, default 10), "seed": int}``.

    - ``communities``: Louvain modularity communities of the undirected simple graph
      (Blondel et al. 2008, via NetworkX), largest first, with their modularity.
    - ``central_nodes``: the ``top`` nodes by PageRank (Brin & Page 1998, via NetworkX) with
      their scores.
    - ``layout``: ForceAtlas2 positions (Jacomy et al. 2014, alchemist's own kernel) by node id.

    Every answer is also published as an insight on ``ai.insights.graph`` with the request's
    correlation id and the request id as causation id.
    """

    name = "analysis"
    version = "1.0.0"
    description = "graph analytics: communities, central nodes, layout"
    capabilities = ("communities", "central_nodes", "layout")

    def bind(self, connection) -> None:
        """Keep the connection and import NetworkX and the graph package before answering.

        Parameters
        ----------
        connection : Connection

        Returns
        -------
        None
        """
        super().bind(connection)
        import networkx  # noqa: F401  (imported before the agent reports ready, not on the first request)

        import alchemist.graph  # noqa: F401

    def handle(self, capability: str, payload: dict, headers: dict[str, str]) -> dict:
        """Fold the graph ``payload["graph_id"]`` from the CIM, answer ``capability``, publish
        the insight.

        Cost: one replay of the graph (:meth:`Connection.graph
        <alchemist.cim.connection.Connection.graph>` with ``live=False``), the analysis, and one
        JetStream publish with acknowledgement on ``ai.insights.graph`` (headers
        ``Nats-Msg-Id`` and ``Cim-Event-Id``: the insight id; ``Cim-Correlation-Id``: the
        request's; ``Cim-Causation-Id``: the request id).

        Parameters
        ----------
        capability : {"communities", "central_nodes", "layout"}
        payload : dict
            ``{"graph_id": str, "top": int, "seed": int, "iterations": int}`` (``top``: 10,
            ``seed``: 0, ``iterations``: 100 by default).
        headers : dict of str to str
            The request's headers.

        Returns
        -------
        dict
            ``{"communities": [[node, ...], ...], "modularity": float}``,
            ``{"central_nodes": [{"node", "pagerank"}, ...]}`` or ``{"positions": {node: [x, y]}}``,
            each with ``graph_id``, ``version`` and ``capability``.

        Raises
        ------
        AgentError
            No ``graph_id``, a graph with no nodes, or an unknown capability.

        References
        ----------
        .. [1] V. D. Blondel, J.-L. Guillaume, R. Lambiotte, E. Lefebvre, "Fast unfolding of
           communities in large networks", J. Stat. Mech. (2008) P10008.
        .. [2] S. Brin, L. Page, "The anatomy of a large-scale hypertextual Web search engine",
           Computer Networks 30 (1998) 107-117.
        .. [3] M. Jacomy, T. Venturini, S. Heymann, M. Bastian, "ForceAtlas2, a continuous graph
           layout algorithm", PLoS ONE 9(6) e98679 (2014).
        """
        graph_id = payload.get("graph_id")
        if not isinstance(graph_id, str) or not graph_id:
            raise AgentError(f"{capability} needs a 'graph_id' (a string), got {graph_id!r}")
        graph = self.connection.graph(graph_id, live=False)
        if graph.number_of_nodes() == 0:
            raise AgentError(f"graph {graph_id!r} has no nodes on the CIM")
        seed = int(payload.get("seed", 0))
        if capability == "communities":
            import networkx as nx

            G = nx.Graph(graph.to_networkx().to_undirected())
            parts = sorted(nx.community.louvain_communities(G, seed=seed), key=len, reverse=True)
            result = {"communities": [sorted(c) for c in parts],
                      "modularity": float(nx.community.modularity(G, parts))}
        elif capability == "central_nodes":
            import networkx as nx

            top = int(payload.get("top", 10))
            scores = nx.pagerank(nx.DiGraph(graph.to_networkx()) if graph.directed else nx.Graph(graph.to_networkx()))
            best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
            result = {"central_nodes": [{"node": n, "pagerank": float(s)} for n, s in best]}
        elif capability == "layout":
            from alchemist.layout import forceatlas2

            iterations = int(payload.get("iterations", 100))
            pos = forceatlas2(graph, iterations=iterations, seed=seed)
            result = {"positions": {n: [float(x), float(y)] for n, (x, y) in zip(graph.node_ids, pos.tolist())}}
        else:
            raise AgentError(f"unknown capability {capability!r}; this agent answers {', '.join(self.capabilities)}")
        result.update({"graph_id": graph_id, "version": graph.version, "capability": capability})
        self._publish_insight(capability, graph_id, result, headers)
        return result

    def _publish_insight(self, capability: str, graph_id: str, result: dict, headers: dict[str, str]) -> None:
        from alchemist.cim.streams import INSIGHTS_STREAM, INSIGHTS_SUBJECT

        insight_id = uuid7()
        summary = {k: v for k, v in result.items() if k != "positions"}
        body = {"insight_id": insight_id, "agent": self.name, "kind": capability, "graph_id": graph_id,
                "result": summary}
        out = {"Nats-Msg-Id": insight_id, "Cim-Event-Id": insight_id,
               "Cim-Correlation-Id": headers.get("Cim-Correlation-Id", insight_id),
               "Cim-Causation-Id": headers.get("Cim-Request-Id", insight_id)}
        self.connection.run(self.connection.js.publish(INSIGHTS_SUBJECT, json.dumps(body).encode(), headers=out,
                                                         stream=INSIGHTS_STREAM))


AGENTS: dict[str, type[Agent]] = {"analysis": AnalysisAgent}


def run_agent(name: str, connection, stop: Callable[[], bool], ready: Callable[[], Any] | None = None) -> None:
    """Serve the agent called ``name`` until ``stop()`` is true (polled every 0.2 s); ``ready()``
    is called once it answers requests (``alchemist agent <name>`` runs this).

    Parameters
    ----------
    name : str
        A key of :data:`AGENTS` (``"analysis"``).
    connection : Connection
    stop : callable
        ``stop() -> bool``; serving ends when it returns true (the service itself stops with
        the connection).
    ready : callable, optional
        Called once, with no arguments, when the agent is registered.

    Returns
    -------
    None

    Raises
    ------
    AgentError
        No agent is called ``name``.
    """
    if name not in AGENTS:
        raise AgentError(f"no agent called {name!r}; available: {', '.join(sorted(AGENTS))}")
    connection.serve_agent(AGENTS[name]())
    if ready is not None:
        ready()
    while not stop():
        time.sleep(0.2)
