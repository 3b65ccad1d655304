"""Exception classes of alchemist.

Every error alchemist raises on bad input is a subclass of :class:`AlchemistError`, and its
message names the offending value and, where there is one, the fix. Classes are grouped by the
part of the library that raises them; each group has its own base class so that a caller can
catch, say, every game-theory input error with ``except GameError``.
"""

from __future__ import annotations

__all__ = [
    "AlchemistError",
    "BackendError",
    "MissingDependencyError",
    # events / wire
    "EventError",
    "InvalidEventError",
    "UnknownEventTypeError",
    "CIDMismatchError",
    "NonCanonicalCIDError",
    "MessageTooLargeError",
    "NestingTooDeepError",
    "ConflictingDuplicateError",
    "ChainError",
    "UnknownPredecessorError",
    "ForkError",
    # files
    "InputFormatError",
    "EdgeListFormatError",
    "GraphFormatError",
    # graph
    "GraphError",
    "NodeNotFoundError",
    "EdgeNotFoundError",
    "DuplicateIdError",
    "NoPathError",
    # CIM / NATS
    "CIMError",
    "CIMConnectionError",
    "CIMAuthenticationError",
    "ServerStartError",
    "StreamConflictError",
    "ConcurrencyError",
    "ObjectNotFoundError",
    "AgentTimeout",
    "AgentError",
    "AgentUnavailableError",
    # layout
    "LayoutError",
    # concepts
    "ConceptError",
    "DimensionMismatchError",
    "UnknownDomainError",
    "EmptyIntersectionError",
    # games
    "GameError",
    "InvalidGameError",
    "DegenerateGameError",
    "NFGFormatError",
    "NoEquilibriumFoundError",
    "DegenerateGameWarning",
    "EmptyCoreError",
    # widgets
    "WidgetError",
    # gateway
    "GatewayError",
    "UnauthorizedError",
    "ForbiddenError",
    "QueryRejectedError",
    "RateLimitedError",
]


class AlchemistError(Exception):
    """Base class of every error alchemist raises on purpose.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    Examples
    --------
    Each part of the library has its own base class, so a caller catches a family at once:

    >>> from alchemist.errors import GameError
    >>> from alchemist.games import NormalFormGame
    >>> try:
    ...     NormalFormGame([[1, 2]], [[1]])
    ... except GameError as error:
    ...     print(type(error).__name__, isinstance(error, AlchemistError), isinstance(error, ValueError))
    InvalidGameError True True
    """


class BackendError(AlchemistError):
    """A compute backend was asked for that is not available (e.g. ``backend="cuda"`` without a GPU).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.backend.resolve_backend, alchemist.backend.set_backend
    """


class MissingDependencyError(AlchemistError, ImportError):
    """An optional package that a feature needs is not installed; the message names the package and
    the command that installs it (``pip install 'alchemist[extra]'``).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.widgets.dashboard
    """


# --------------------------------------------------------------------------- events / wire
class EventError(AlchemistError, ValueError):
    """Base class for malformed CIM events.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    InvalidEventError, UnknownEventTypeError, CIDMismatchError, ChainError
    """


class InvalidEventError(EventError):
    """An event does not satisfy the envelope or payload schema (missing field, wrong type).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.events.new_event, alchemist.events.decode_event, alchemist.events.validate_payload, alchemist.graph.Graph.apply
    """


class UnknownEventTypeError(EventError):
    """An event's ``event_type`` is not one alchemist knows how to apply.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.events.validate_payload, alchemist.graph.Graph.apply
    """


class CIDMismatchError(EventError):
    """Content does not hash to the CID it claims (corrupt or tampered data).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.events.verify_cid, alchemist.events.Event.verify, alchemist.events.decode_event
    """


class NonCanonicalCIDError(CIDMismatchError):
    """A CID's last base32 character carries non-zero padding bits: another spelling of a valid CID.

    A CID of 36 bytes is 58 base32 characters, whose last one holds 2 padding bits that must be zero;
    only that canonical spelling is accepted, so each content has exactly one CID.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.events.cid.cid_digest, alchemist.events.verify_events
    """


class MessageTooLargeError(InvalidEventError):
    """A message is larger than the decoder accepts (``alchemist.events.envelope.MAX_MESSAGE_BYTES``).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.events.decode_event, alchemist.events.decode_batch
    """


class NestingTooDeepError(InvalidEventError):
    """A message nests JSON deeper than the decoder accepts (``alchemist.events.envelope.MAX_NESTING_DEPTH``).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.events.decode_event, alchemist.events.decode_batch
    """


class ConflictingDuplicateError(EventError):
    """A second event reuses a known ``event_id`` with other content (another CID); the first one stands.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.cim.chain
    """


class ChainError(EventError):
    """An event's ``previous_cid`` does not continue its aggregate's CID chain (raised as such when it
    is not a CID at all).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.cim.chain
    """


class UnknownPredecessorError(ChainError):
    """An event's ``previous_cid`` names an event that did not arrive within the wait, or was refused.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.cim.chain
    """


class ForkError(ChainError):
    """An event names a predecessor that already has a successor (or none while the aggregate has
    events): the later of two events claiming the same predecessor.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.cim.chain
    """


# --------------------------------------------------------------------------- files
class InputFormatError(AlchemistError, ValueError):
    """A file could not be read; the message names the file and, where known, the line.

    Attributes
    ----------
    path : str
        The file.
    line : int or None
        1-based line number of the first offending line, when the format is line oriented.

    Parameters
    ----------
    message : str
        What is wrong, naming the file and, where known, the line.
    path : str, optional
        The file.
    line : int, optional
        1-based line number of the first offending line.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist.graph import read_edge_list
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "bad.txt"
    ...     _ = path.write_text("1 2\\n3\\n")
    ...     try:
    ...         read_edge_list(path)
    ...     except InputFormatError as error:
    ...         print(error.line)
    2

    See Also
    --------
    EdgeListFormatError, GraphFormatError, NFGFormatError
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class EdgeListFormatError(InputFormatError):
    """A SNAP-style edge list is missing, empty or malformed.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.graph.read_edge_list, alchemist.graph.read_graph
    """


class GraphFormatError(InputFormatError):
    """A graph file (GraphML, GEXF, GML, node-link or Arrows JSON, Parquet) is missing or malformed.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.graph.read_graph, alchemist.graph.write_graph
    """


# --------------------------------------------------------------------------- graph
class GraphError(AlchemistError, ValueError):
    """Base class for invalid graph operations.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.graph.pagerank, alchemist.graph.k_hop, alchemist.graph.Graph.at
    """


class NodeNotFoundError(GraphError, KeyError):
    """A node id is not in the graph.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.graph.Graph.node_row, alchemist.graph.Graph.apply, alchemist.graph.shortest_path

    Examples
    --------
    >>> from alchemist.graph import Graph
    >>> Graph.from_edges([("a", "b")]).node_row("z")
    Traceback (most recent call last):
    ...
    alchemist.errors.NodeNotFoundError: node 'z' is not in graph 'graph'
    """

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class EdgeNotFoundError(GraphError, KeyError):
    """An edge id is not in the graph.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.graph.Graph.edge, alchemist.graph.Graph.apply
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DuplicateIdError(GraphError):
    """A node or edge id is added twice.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.graph.Graph.apply, alchemist.graph.Graph.from_arrays
    """


class NoPathError(GraphError):
    """No path joins the two nodes of a shortest-path query.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.graph.shortest_path, alchemist.graph.shortest_path_length
    """


# --------------------------------------------------------------------------- CIM / NATS
class CIMError(AlchemistError):
    """Base class for errors talking to the CIM (NATS JetStream).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.connect
    """


class CIMConnectionError(CIMError, ConnectionError):
    """The NATS server cannot be reached (wrong URL, server down, TLS handshake failed).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.connect
    """


class CIMAuthenticationError(CIMError, PermissionError):
    """The NATS server refused the credentials (token, user/password, creds or nkey).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.connect
    """


class ServerStartError(CIMError, RuntimeError):
    """The embedded ``nats-server`` could not be started.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.connect
    """


class StreamConflictError(CIMError):
    """A stream alchemist needs exists with another configuration, or another stream holds its
    subjects, and alchemist did not create it (so it never changes it); the message names the stream,
    its subjects and the ``connect()`` option that resolves it.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.connect
    """


class ConcurrencyError(CIMError):
    """Optimistic concurrency failed: another writer appended to the aggregate first.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.cim.Connection.publish
    """


class ObjectNotFoundError(CIMError, KeyError):
    """No object with that CID is in the object store.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.cim.objects
    """


class AgentTimeout(CIMError, TimeoutError):
    """No agent answered a request within its timeout.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.cim.agents
    """


class AgentError(CIMError):
    """An agent could not answer: a bad request, or the agent failed (its message says why).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.cim.agents
    """


class AgentUnavailableError(AgentError):
    """An agent's circuit is open: it failed repeatedly, so requests fail at once until the half-open trial."""


# --------------------------------------------------------------------------- layout
class LayoutError(AlchemistError, ValueError):
    """Invalid layout input (wrong shapes, NaN positions, bad parameters).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.layout.forceatlas2
    """


# --------------------------------------------------------------------------- concepts
class ConceptError(AlchemistError, ValueError):
    """Base class for invalid conceptual-space input.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    DimensionMismatchError, UnknownDomainError, EmptyIntersectionError
    """


class DimensionMismatchError(ConceptError):
    """A point, cuboid or weight vector has the wrong number of dimensions.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.concepts
    """


class UnknownDomainError(ConceptError, KeyError):
    """A domain name is not part of the conceptual space.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.concepts
    """

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class EmptyIntersectionError(ConceptError):
    """The cuboids of a star-shaped concept have no common intersection.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.concepts
    """


# --------------------------------------------------------------------------- games
class GameError(AlchemistError, ValueError):
    """Base class for invalid game-theory input.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    InvalidGameError, NFGFormatError, NoEquilibriumFoundError, EmptyCoreError
    """


class InvalidGameError(GameError):
    """Payoffs or characteristic functions are malformed (ragged, non-finite, wrong length).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.games.NormalFormGame, alchemist.games.CoalitionalGame, alchemist.games.support_enumeration
    """


class DegenerateGameError(GameError):
    """The algorithm requires a nondegenerate game and the game is degenerate.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.
    """


class NFGFormatError(InputFormatError, GameError):
    """A Gambit ``.nfg`` file is malformed; the message names the line and the token.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.games.read_nfg
    """


class NoEquilibriumFoundError(GameError, RuntimeError):
    """An iterative method stopped without reaching a verified equilibrium.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.games.lemke_howson, alchemist.games.zero_sum_equilibrium, alchemist.games.nucleolus
    """


class EmptyCoreError(GameError):
    """A cooperative solution needs a non-empty core (or imputation set) and the game has none.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.games.nucleolus
    """


class DegenerateGameWarning(UserWarning):
    """The game is degenerate: a method that assumes nondegeneracy may miss equilibria.

    Parameters
    ----------
    message : str
        What was seen (the supports involved) and the method to use instead.

    See Also
    --------
    alchemist.games.support_enumeration
    """


# --------------------------------------------------------------------------- widgets
class WidgetError(AlchemistError, ValueError):
    """A widget was given something it cannot show (unknown column, empty viewport, bad source).

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.widgets
    """


# --------------------------------------------------------------------------- gateway
class GatewayError(AlchemistError):
    """The gateway (``alchemist serve``) refused or could not serve a request.

    Parameters
    ----------
    message : str
        What is wrong, naming the offending value and, where there is one, the fix.

    See Also
    --------
    alchemist.gateway
    """


class UnauthorizedError(GatewayError, PermissionError):
    """No credentials, or credentials that do not verify (HTTP 401); the message never holds a secret."""


class ForbiddenError(GatewayError, PermissionError):
    """An authenticated principal may not read or change this graph (HTTP 403): who, graph, action."""


class QueryRejectedError(GatewayError, ValueError):
    """A query refused before it ran — too deep, too costly, a page too large (HTTP 400): limit and value."""


class RateLimitedError(GatewayError):
    """More requests than the principal's rate limit allows (HTTP 429): the limit and when to retry."""
