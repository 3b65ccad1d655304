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
]


class AlchemistError(Exception):
    """Base class of every error alchemist raises on purpose."""


class BackendError(AlchemistError):
    """A compute backend was asked for that is not available (e.g. ``backend="cuda"`` without a GPU)."""


class MissingDependencyError(AlchemistError, ImportError):
    """An optional package that a feature needs is not installed; the message names the package and
    the command that installs it (``pip install 'alchemist[extra]'``)."""


# --------------------------------------------------------------------------- events / wire
class EventError(AlchemistError, ValueError):
    """Base class for malformed CIM events."""


class InvalidEventError(EventError):
    """An event does not satisfy the envelope or payload schema (missing field, wrong type)."""


class UnknownEventTypeError(EventError):
    """An event's ``event_type`` is not one alchemist knows how to apply."""


class CIDMismatchError(EventError):
    """Content does not hash to the CID it claims (corrupt or tampered data)."""


class NonCanonicalCIDError(CIDMismatchError):
    """A CID's last base32 character carries non-zero padding bits: another spelling of a valid CID.

    A CID of 36 bytes is 58 base32 characters, whose last one holds 2 padding bits that must be zero;
    only that canonical spelling is accepted, so each content has exactly one CID.
    """


class MessageTooLargeError(InvalidEventError):
    """A message is larger than the decoder accepts (``alchemist.events.envelope.MAX_MESSAGE_BYTES``)."""


class NestingTooDeepError(InvalidEventError):
    """A message nests JSON deeper than the decoder accepts (``alchemist.events.envelope.MAX_NESTING_DEPTH``)."""


class ConflictingDuplicateError(EventError):
    """A second event reuses a known ``event_id`` with other content (another CID); the first one stands."""


class ChainError(EventError):
    """An event's ``previous_cid`` does not continue its aggregate's CID chain (raised as such when it
    is not a CID at all)."""


class UnknownPredecessorError(ChainError):
    """An event's ``previous_cid`` names an event that did not arrive within the wait, or was refused."""


class ForkError(ChainError):
    """An event names a predecessor that already has a successor (or none while the aggregate has
    events): the later of two events claiming the same predecessor."""


# --------------------------------------------------------------------------- files
class InputFormatError(AlchemistError, ValueError):
    """A file could not be read; the message names the file and, where known, the line.

    Attributes
    ----------
    path : str
        The file.
    line : int or None
        1-based line number of the first offending line, when the format is line oriented.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class EdgeListFormatError(InputFormatError):
    """A SNAP-style edge list is missing, empty or malformed."""


class GraphFormatError(InputFormatError):
    """A graph file (GraphML, GEXF, GML, node-link or Arrows JSON, Parquet) is missing or malformed."""


# --------------------------------------------------------------------------- graph
class GraphError(AlchemistError, ValueError):
    """Base class for invalid graph operations."""


class NodeNotFoundError(GraphError, KeyError):
    """A node id is not in the graph."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain
        return str(self.args[0]) if self.args else ""


class EdgeNotFoundError(GraphError, KeyError):
    """An edge id is not in the graph."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class DuplicateIdError(GraphError):
    """A node or edge id is added twice."""


class NoPathError(GraphError):
    """No path joins the two nodes of a shortest-path query."""


# --------------------------------------------------------------------------- CIM / NATS
class CIMError(AlchemistError):
    """Base class for errors talking to the CIM (NATS JetStream)."""


class CIMConnectionError(CIMError, ConnectionError):
    """The NATS server cannot be reached (wrong URL, server down, TLS handshake failed)."""


class CIMAuthenticationError(CIMError, PermissionError):
    """The NATS server refused the credentials (token, user/password, creds or nkey)."""


class ServerStartError(CIMError, RuntimeError):
    """The embedded ``nats-server`` could not be started."""


class StreamConflictError(CIMError):
    """A stream alchemist needs exists with another configuration, or another stream holds its
    subjects, and alchemist did not create it (so it never changes it); the message names the stream,
    its subjects and the ``connect()`` option that resolves it."""


class ConcurrencyError(CIMError):
    """Optimistic concurrency failed: another writer appended to the aggregate first."""


class ObjectNotFoundError(CIMError, KeyError):
    """No object with that CID is in the object store."""


class AgentTimeout(CIMError, TimeoutError):
    """No agent answered a request within its timeout."""


class AgentError(CIMError):
    """An agent could not answer: a bad request, or the agent failed (its message says why)."""


# --------------------------------------------------------------------------- layout
class LayoutError(AlchemistError, ValueError):
    """Invalid layout input (wrong shapes, NaN positions, bad parameters)."""


# --------------------------------------------------------------------------- concepts
class ConceptError(AlchemistError, ValueError):
    """Base class for invalid conceptual-space input."""


class DimensionMismatchError(ConceptError):
    """A point, cuboid or weight vector has the wrong number of dimensions."""


class UnknownDomainError(ConceptError, KeyError):
    """A domain name is not part of the conceptual space."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class EmptyIntersectionError(ConceptError):
    """The cuboids of a star-shaped concept have no common intersection."""


# --------------------------------------------------------------------------- games
class GameError(AlchemistError, ValueError):
    """Base class for invalid game-theory input."""


class InvalidGameError(GameError):
    """Payoffs or characteristic functions are malformed (ragged, non-finite, wrong length)."""


class DegenerateGameError(GameError):
    """The algorithm requires a nondegenerate game and the game is degenerate."""


class NFGFormatError(InputFormatError, GameError):
    """A Gambit ``.nfg`` file is malformed; the message names the line and the token."""


class NoEquilibriumFoundError(GameError, RuntimeError):
    """An iterative method stopped without reaching a verified equilibrium."""


class EmptyCoreError(GameError):
    """A cooperative solution needs a non-empty core (or imputation set) and the game has none."""


class DegenerateGameWarning(UserWarning):
    """The game is degenerate: a method that assumes nondegeneracy may miss equilibria."""


# --------------------------------------------------------------------------- widgets
class WidgetError(AlchemistError, ValueError):
    """A widget was given something it cannot show (unknown column, empty viewport, bad source)."""
