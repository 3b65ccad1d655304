"""AI agents as NATS micro services, and the insights they publish.

An :class:`Agent` registers with the NATS "micro" services protocol (``nats.micro``): a name, a
semantic version, a description and its capabilities (service metadata ``capabilities`` and one
endpoint per capability on ``alchemist.agents.<name>.<capability>``). Agents answer
``$SRV.PING``/``$SRV.INFO``/``$SRV.STATS``, so :func:`discover` finds them; :func:`request`
calls one with request/reply, carrying ``Cim-Correlation-Id`` and ``Cim-Causation-Id`` headers.
A request may name a ``Cim-Progress-Subject``: the agent reports its progress there
(:meth:`Agent.report`) and says in its reply's ``Cim-Progress-Count`` how many reports it sent;
:mod:`alchemist.cim.agent_requests` follows requests that way, behind a circuit breaker per agent.

:class:`AnalysisAgent` (``alchemist agent analysis``) answers ``communities``,
``central_nodes`` and ``layout`` for a graph id by folding the graph from the CIM and running
analytics on it, suggests a layout and communities (``suggest_layout``,
``suggest_communities``: a :class:`~alchemist.cim.suggestions.Suggestion` a user accepts into the
graph or rejects), and publishes each result as an insight on ``ai.insights.graph`` (the
``AI_INSIGHTS`` work queue); the insights are consumed with :func:`consume_insights`
(:mod:`alchemist.cim.insights`).

Reference: NATS micro services protocol, ADR-32 (https://github.com/nats-io/nats-architecture-and-design).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any, Callable

from alchemist.cim.insights import consume_insights
from alchemist.errors import AgentError, AgentTimeout
from alchemist.events import uuid7

__all__ = ["Agent", "AnalysisAgent", "AGENTS", "serve", "discover", "request", "request_headers", "read_reply",
           "gather", "service_reply", "consume_insights", "run_agent", "PROGRESS_HEADER"]

AGENT_PREFIX = "alchemist.agents"
PROGRESS_HEADER = "Cim-Progress-Subject"
"""Request header naming the subject an agent publishes its progress reports on (core NATS)."""
PROGRESS_COUNT_HEADER = "Cim-Progress-Count"
"""Reply header: how many progress reports the agent sent for the request before answering."""


class Agent:
    """Base class of an agent: subclass it and implement :meth:`handle`.

    Served (:meth:`Connection.serve_agent <alchemist.cim.connection.Connection.serve_agent>`),
    an agent is a NATS micro service: it answers ``$SRV.PING``, ``$SRV.INFO`` and
    ``$SRV.STATS`` (so :func:`discover` finds it) and has one request/reply endpoint per
    capability on ``alchemist.agents.<name>.<capability>``. Each request's JSON body is handed
    to :meth:`handle` in a worker thread; its dict is sent back as JSON with the request's
    ``Cim-*`` headers. An exception raised by :meth:`handle` is answered as a service error
    (``Nats-Service-Error-Code`` and the message; counted in ``$SRV.STATS`` ``num_errors``),
    which the caller's :func:`request` raises as :class:`~alchemist.errors.AgentError`: code
    ``400`` for an :class:`~alchemist.errors.AgentError` (the agent refuses the request: not a
    failure of the agent for a caller's circuit breaker) or a body that is not JSON, ``500`` for
    anything else (the agent failed). :meth:`report` sends progress reports while it works.

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

    def report(self, headers: dict[str, str], message: str, fraction: float | None = None) -> None:
        """Report progress on the request whose ``headers`` :meth:`handle` was given.

        The caller sees it while the request runs (:class:`~alchemist.cim.agent_requests.AgentRequest`
        ``progress``, ``state == "running"``). A core-NATS publish of ``{"request_id", "message",
        "fraction"}`` on the subject of the request's ``Cim-Progress-Subject`` header (none: nothing
        is sent), from :meth:`handle`'s worker thread; the reply's ``Cim-Progress-Count`` header says
        how many were sent, so the caller knows when it has seen them all.

        Parameters
        ----------
        headers : dict of str to str
            The ``headers`` argument of :meth:`handle`.
        message : str
            What the agent is doing (``"running ForceAtlas2: 40/100 iterations"``).
        fraction : float, optional
            Share of the work done, in ``[0, 1]``.

        Returns
        -------
        None
        """
        if headers.get(PROGRESS_HEADER):
            self.connection.run(_report(self.connection, headers, message, fraction))

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


_SENT: dict[str, int] = {}  # progress reports sent, by request id, while the request is handled
_SENT_LOCK = threading.Lock()


def _handler(agent: Agent, capability: str):
    async def handle(req) -> None:
        headers = dict(req.headers or {})
        request_id = headers.get("Cim-Request-Id", "")
        try:
            payload = json.loads(req.data or b"{}")
            if not isinstance(payload, dict):
                raise AgentError(f"a request's body is a JSON object, not {type(payload).__name__}")
            loop = asyncio.get_running_loop()
            if headers.get(PROGRESS_HEADER):
                await _report(agent.connection, headers, f"{agent.name} started {capability}", 0.0)
            result = await loop.run_in_executor(None, agent.handle, capability, payload, headers)
        except Exception as exc:  # answered to the caller, who raises AgentError
            # a request the agent refuses (AgentError, bad JSON) is the caller's fault: 400; anything
            # else is the agent failing: 500 (what a caller's circuit breaker counts)
            # (raised as a ServiceError: nats.micro answers it and counts it in $SRV.STATS num_errors)
            from nats.micro.request import ServiceError

            with _SENT_LOCK:
                _SENT.pop(request_id, None)
            code = "400" if isinstance(exc, (AgentError, json.JSONDecodeError, UnicodeDecodeError)) else "500"
            raise ServiceError(code=code, description=f"{exc.__class__.__name__}: {exc}"[:500]) from None
        await req.respond(json.dumps(result).encode(), headers=_reply_headers(headers, request_id))

    return handle


async def _report(connection, headers: dict[str, str], message: str, fraction: float | None) -> None:
    request_id = headers.get("Cim-Request-Id", "")
    body = {"request_id": request_id, "message": str(message),
            "fraction": None if fraction is None else min(1.0, max(0.0, float(fraction)))}
    with _SENT_LOCK:
        _SENT[request_id] = _SENT.get(request_id, 0) + 1
    await connection.nc.publish(headers[PROGRESS_HEADER], json.dumps(body).encode(), headers=_reply_headers(headers))


def _reply_headers(headers: dict[str, str], request_id: str | None = None) -> dict[str, str]:
    out = {k: v for k, v in headers.items() if k.startswith("Cim-") and k != PROGRESS_HEADER}
    if request_id is not None and headers.get(PROGRESS_HEADER):
        with _SENT_LOCK:
            out[PROGRESS_COUNT_HEADER] = str(_SENT.pop(request_id, 0))
    return out


async def gather(connection, subject: str, timeout: float) -> list[tuple[Any, float]]:
    """Scatter-gather on core NATS: publish an empty message on ``subject`` with a private inbox as
    reply subject and collect every reply for ``timeout`` seconds.

    With nobody listening the server answers at once with a no-responders status message
    (``Status: 503``, no body): that ends the gathering with no replies (it is not a reply).

    Parameters
    ----------
    connection : Connection
    subject : str
        E.g. ``$SRV.INFO`` or ``$SRV.PING.analysis``.
    timeout : float
        Seconds to gather replies.

    Returns
    -------
    list of (nats.aio.msg.Msg, float)
        Each reply with the seconds it took to come (a round trip).

    Raises
    ------
    nats.errors.ConnectionClosedError
        The connection is closed.
    """
    nc = connection.nc
    inbox = nc.new_inbox()
    found: list[tuple[Any, float]] = []
    sub = await nc.subscribe(inbox)
    try:
        sent = time.monotonic()
        await nc.publish(subject, b"", reply=inbox)
        deadline = sent + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await sub.next_msg(timeout=left)
            except Exception:
                break
            if (msg.headers or {}).get("Status") == "503":  # no responders: nobody is listening
                break
            found.append((msg, time.monotonic() - sent))
    finally:
        await sub.unsubscribe()
    return found


def service_reply(msg) -> dict | None:
    """A micro service's JSON object reply (INFO, PING, STATS), or None for anything else.

    Parameters
    ----------
    msg : nats.aio.msg.Msg

    Returns
    -------
    dict or None
        None when the body is not JSON, not UTF-8, nested too deep or not an object (not a micro
        service's answer: no agent). ``capabilities`` is added as a list (from the
        ``capabilities`` metadata).
    """
    try:
        info = json.loads(msg.data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(info, dict):
        return None
    metadata = info.get("metadata")
    caps = metadata.get("capabilities", "") if isinstance(metadata, dict) else ""
    info["capabilities"] = [c for c in (caps.split(",") if isinstance(caps, str) else []) if c]
    return info


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
    found = []
    for msg, _ in await gather(connection, "$SRV.INFO", timeout):
        info = service_reply(msg)
        if info is not None and (capability is None or capability in info["capabilities"]):
            found.append(info)
    return sorted(found, key=lambda i: (str(i.get("name", "")), str(i.get("id", ""))))


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
    >>> answer = connection.run(request(connection, "analysis", "central_nodes", {"graph_id": "g", "top": 1},
    ...                                 5.0, None, None))
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

    headers = request_headers(correlation_id, causation_id)
    subject = f"{AGENT_PREFIX}.{agent}.{capability}"
    try:
        msg = await connection.nc.request(subject, json.dumps(payload).encode(), timeout=timeout, headers=headers)
    except (NatsTimeout, NoRespondersError, asyncio.TimeoutError):
        raise AgentTimeout(f"no agent {agent!r} answered {capability!r} within {timeout} s "
                           f"(is one running? `alchemist agent {agent}`)") from None
    return read_reply(msg, agent, capability)


def request_headers(correlation_id: str | None = None, causation_id: str | None = None,
                    progress_subject: str | None = None) -> dict[str, str]:
    """The ``Cim-*`` headers of a new agent request.

    Parameters
    ----------
    correlation_id, causation_id : str, optional
        ``Cim-Correlation-Id`` (the new request id by default) and ``Cim-Causation-Id`` (the
        correlation id by default).
    progress_subject : str, optional
        ``Cim-Progress-Subject``: where the agent reports progress (:meth:`Agent.report`).

    Returns
    -------
    dict of str to str
        With ``Cim-Request-Id``, a new UUIDv7.

    Examples
    --------
    >>> h = request_headers("c-1")
    >>> h["Cim-Correlation-Id"], h["Cim-Causation-Id"], len(h["Cim-Request-Id"])
    ('c-1', 'c-1', 36)
    """
    request_id = uuid7()
    headers = {"Cim-Request-Id": request_id, "Cim-Correlation-Id": correlation_id or request_id,
               "Cim-Causation-Id": causation_id or correlation_id or request_id}
    if progress_subject:
        headers[PROGRESS_HEADER] = progress_subject
    return headers


def read_reply(msg, agent: str, capability: str) -> Any:
    """An agent's answer from its reply message.

    Parameters
    ----------
    msg : nats.aio.msg.Msg
        The reply.
    agent, capability : str
        Named in the errors.

    Returns
    -------
    object
        The JSON answer; a dict gets the reply headers under ``"_headers"``.

    Raises
    ------
    AgentError
        The agent answered with a service error (``Nats-Service-Error``; its
        ``Nats-Service-Error-Code`` is kept as the exception's ``code`` attribute: ``"400"`` a
        request the agent refused, ``"500"`` the agent failed), or an answer that is not JSON.
    """
    reply_headers = dict(msg.headers or {})
    if "Nats-Service-Error" in reply_headers:
        error = AgentError(f"agent {agent!r} failed on {capability!r}: {reply_headers['Nats-Service-Error']}")
        error.code = reply_headers.get("Nats-Service-Error-Code", "500")
        raise error
    try:
        result = json.loads(msg.data)
    except (ValueError, RecursionError) as exc:
        error = AgentError(f"agent {agent!r} answered {capability!r} with no JSON ({exc}); an agent answers a "
                           "JSON object")
        error.code = "500"
        raise error from None
    if isinstance(result, dict):
        result.setdefault("_headers", reply_headers)
    return result


class AnalysisAgent(Agent):
    """Answers ``communities``, ``central_nodes`` and ``layout`` for a graph id, and suggests
    changes a user can accept: ``suggest_layout`` and ``suggest_communities``.

    Request payload: ``{"graph_id": str, "top": int (central_nodes, default 10), "seed": int,
    "iterations": int (layouts, default 100)}``.

    - ``communities``: Louvain modularity communities of the undirected simple graph
      (Blondel et al. 2008, via NetworkX), largest first, with their modularity.
    - ``central_nodes``: the ``top`` nodes by PageRank (Brin & Page 1998, via NetworkX) with
      their scores.
    - ``layout``: ForceAtlas2 positions (Jacomy et al. 2014, alchemist's own kernel) by node id.
    - ``suggest_layout``: a :class:`~alchemist.cim.suggestions.Suggestion` of kind ``"layout"``
      proposing one ``layout_applied`` event with ForceAtlas2 positions; its confidence is the
      layout's neighbourhood preservation
      (:func:`~alchemist.cim.analysis_suggestions.neighbourhood_preservation`).
    - ``suggest_communities``: a suggestion of kind ``"communities"`` proposing one
      ``node_updated`` event per node (property ``community``: the community's rank by size);
      its confidence is the modularity clipped to ``[0, 1]``.

    Every answer is also published as an insight on ``ai.insights.graph`` with the request's
    correlation id and the request id as causation id (a suggestion's insight id is the
    suggestion's id). The agent reports progress (:meth:`Agent.report`): folding the graph, the
    analysis, ForceAtlas2 every tenth of its iterations.
    """

    name = "analysis"
    version = "1.1.0"
    description = "graph analytics: communities, central nodes, layout; layout and community suggestions"
    capabilities = ("communities", "central_nodes", "layout", "suggest_layout", "suggest_communities")

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
        <alchemist.cim.connection.Connection.graph>` with ``live=False``), the analysis, one
        JetStream publish with acknowledgement on ``ai.insights.graph`` (headers
        ``Nats-Msg-Id`` and ``Cim-Event-Id``: the insight id; ``Cim-Correlation-Id``: the
        request's; ``Cim-Causation-Id``: the request id), and a core-NATS publish per progress
        report when the caller asked for them.

        Parameters
        ----------
        capability : {"communities", "central_nodes", "layout", "suggest_layout", "suggest_communities"}
        payload : dict
            ``{"graph_id": str, "top": int, "seed": int, "iterations": int}`` (``top``: 10,
            ``seed``: 0, ``iterations``: 100 by default).
        headers : dict of str to str
            The request's headers.

        Returns
        -------
        dict
            ``{"communities": [[node, ...], ...], "modularity": float}``,
            ``{"central_nodes": [{"node", "pagerank"}, ...]}``, ``{"positions": {node: [x, y]}}``
            or ``{"suggestion": Suggestion as a dict}``, each with ``graph_id``, ``version`` and
            ``capability``.

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
        if capability not in self.capabilities:
            raise AgentError(f"unknown capability {capability!r}; this agent answers {', '.join(self.capabilities)}")
        graph_id = payload.get("graph_id")
        if not isinstance(graph_id, str) or not graph_id:
            raise AgentError(f"{capability} needs a 'graph_id' (a string), got {graph_id!r}")
        self.report(headers, f"folding graph {graph_id!r}", 0.05)
        graph = self.connection.graph(graph_id, live=False)
        if graph.number_of_nodes() == 0:
            raise AgentError(f"graph {graph_id!r} has no nodes on the CIM")
        self.report(headers, f"{capability} on {graph.number_of_nodes():,} nodes", 0.1)
        seed = int(payload.get("seed", 0))
        iterations = int(payload.get("iterations", 100))
        insight_id = uuid7()
        if capability.startswith("suggest_"):
            suggestion = self._suggest(capability, graph, graph_id, seed, iterations, headers, insight_id)
            result = {"suggestion": suggestion.to_dict()}
        elif capability == "communities":
            from alchemist.cim.analysis_suggestions import community_suggestion

            parts, _, _ = community_suggestion(graph, seed=seed)
            import networkx as nx

            G = nx.Graph(graph.to_networkx().to_undirected())
            result = {"communities": parts, "modularity": float(nx.community.modularity(G, parts))}
        elif capability == "central_nodes":
            import networkx as nx

            top = int(payload.get("top", 10))
            scores = nx.pagerank(nx.DiGraph(graph.to_networkx()) if graph.directed else nx.Graph(graph.to_networkx()))
            best = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
            result = {"central_nodes": [{"node": n, "pagerank": float(s)} for n, s in best]}
        else:  # layout
            from alchemist.layout import forceatlas2

            pos = forceatlas2(graph, iterations=iterations, seed=seed)
            result = {"positions": {n: [float(x), float(y)] for n, (x, y) in zip(graph.node_ids, pos.tolist())}}
        result.update({"graph_id": graph_id, "version": graph.version, "capability": capability})
        self.report(headers, "publishing the insight", 0.95)
        self._publish_insight(capability, graph_id, result, headers, insight_id)
        return result

    def _suggest(self, capability: str, graph, graph_id: str, seed: int, iterations: int,
                 headers: dict[str, str], insight_id: str):
        from alchemist.cim.analysis_suggestions import community_suggestion, layout_suggestion
        from alchemist.cim.suggestions import make_suggestion

        if capability == "suggest_layout":
            positions, confidence, text = layout_suggestion(
                graph, iterations=iterations, seed=seed,
                report=lambda message, fraction: self.report(headers, message, fraction))
            kind = "layout"
            events = [{"event_type": "layout_applied", "payload": {"algorithm": "forceatlas2", "positions": positions}}]
        else:
            parts, confidence, text = community_suggestion(graph, seed=seed)
            kind = "communities"
            events = [{"event_type": "node_updated", "payload": {"node_id": node, "properties": {"community": rank}}}
                      for rank, part in enumerate(parts) for node in part]
        return make_suggestion(id=insight_id, agent=self.name, kind=kind, text=text, confidence=confidence,
                               graph_id=graph_id, events=events, version=graph.version, capability=capability,
                               correlation_id=headers.get("Cim-Correlation-Id", ""),
                               request_id=headers.get("Cim-Request-Id", ""))

    def _publish_insight(self, capability: str, graph_id: str, result: dict, headers: dict[str, str],
                         insight_id: str) -> None:
        from alchemist.cim.streams import INSIGHTS_STREAM, INSIGHTS_SUBJECT

        summary = {k: v for k, v in result.items() if k != "positions"}
        if "suggestion" in summary:  # the sentence, confidence and event types, not every position
            s = summary["suggestion"]
            summary["suggestion"] = {**{k: v for k, v in s.items() if k != "events"},
                                     "event_types": sorted({e["event_type"] for e in s["events"]}),
                                     "n_events": len(s["events"])}
        body = {"insight_id": insight_id, "agent": self.name, "kind": capability, "graph_id": graph_id,
                "result": summary}
        out = {"Nats-Msg-Id": insight_id, "Cim-Event-Id": insight_id,
               "Cim-Correlation-Id": headers.get("Cim-Correlation-Id", insight_id),
               "Cim-Causation-Id": headers.get("Cim-Request-Id", insight_id)}
        stream = getattr(getattr(self.connection, "streams", None), "insights", INSIGHTS_STREAM)
        self.connection.run(self.connection.js.publish(INSIGHTS_SUBJECT, json.dumps(body).encode(), headers=out,
                                                         stream=stream))


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
