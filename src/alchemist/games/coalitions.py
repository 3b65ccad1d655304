"""Coalition formation on a graph: additively separable hedonic games, merge-and-split dynamics,
stability checks, layout forces and CIM events.

Each node ``i`` values a coalition ``C`` by the sum of the weights of its edges into ``C``:
``u_i(C) = sum_{j in C, j != i} w_ij`` (an additively separable hedonic game; a directed edge
``i -> j`` is ``i``'s value of ``j``, an undirected edge counts both ways). A partition is a label
array: ``labels[i]`` is the coalition of node row ``i``.

References
----------
A. Bogomolnaia, M. O. Jackson, "The stability of hedonic coalition structures", GEB 38 (2002)
(Nash, individual and core stability). K. R. Apt, A. Witzel, "A generic approach to coalition
formation", Int. Game Theory Rev. 11 (2009) (merge and split rules). W. Saad et al., "Coalitional
game theory for communication networks", IEEE Signal Proc. Mag. 26 (2009) §"merge-and-split".
"""

from __future__ import annotations

import itertools

import numpy as np

from alchemist.errors import InvalidGameError

__all__ = [
    "HedonicGame",
    "hedonic_game",
    "merge_and_split",
    "is_nash_stable",
    "is_individually_stable",
    "is_core_stable",
    "coalition_attraction",
    "competition_repulsion",
    "coalition_events",
]


class HedonicGame:
    """An additively separable hedonic game over ``n`` nodes.

    Parameters
    ----------
    src, dst : array_like of int, shape ``(k,)``
        Directed preference edges: node ``src[e]`` values node ``dst[e]`` at ``weight[e]``.
    weight : array_like of float, shape ``(k,)``
    n : int
        Number of nodes.
    node_ids : sequence of str, optional

    Use :func:`hedonic_game` to build one from a graph.

    Attributes
    ----------
    margin : float
        ``1e-12 * max |weight|``: a gain counts only above it, so stability checks and
        merge-and-split give the same answer for ``a * weight`` as for ``weight`` (``a > 0``).

    Raises
    ------
    InvalidGameError
        Arrays of different lengths, endpoints outside ``0 … n-1``, non-finite weights, or a
        wrong number of ``node_ids``.

    Examples
    --------
    >>> game = HedonicGame([0, 1], [1, 0], [2.0, 2.0], 3)
    >>> game
    <HedonicGame: 3 nodes, 2 preference edges>
    """

    def __init__(self, src, dst, weight, n: int, node_ids=None):
        src = np.asarray(src, dtype=np.int64)
        dst = np.asarray(dst, dtype=np.int64)
        weight = np.asarray(weight, dtype=np.float64)
        if not (src.shape == dst.shape == weight.shape) or src.ndim != 1:
            raise InvalidGameError("src, dst and weight must be 1-D arrays of the same length")
        if len(src) and (src.min() < 0 or dst.min() < 0 or max(src.max(), dst.max()) >= n):
            raise InvalidGameError(f"edge endpoints must be node rows in [0, {n})")
        if not np.all(np.isfinite(weight)):
            raise InvalidGameError("edge weights must be finite")
        keep = src != dst  # a node does not value itself
        self.src, self.dst, self.weight = src[keep], dst[keep], weight[keep]
        self.margin = 1e-12 * float(np.abs(self.weight).max()) if self.weight.size else 0.0
        self.n = int(n)
        self.node_ids = [str(v) for v in node_ids] if node_ids is not None else [str(i) for i in range(n)]
        if len(self.node_ids) != self.n:
            raise InvalidGameError(f"{len(self.node_ids)} node ids for {self.n} nodes")

    def utilities(self, labels) -> np.ndarray:
        """``u_i`` of each node in its own coalition: the sum of its weights towards the other members.

        Parameters
        ----------
        labels : (n,) array_like of int
            Coalition of each node.

        Returns
        -------
        (n,) float64

        Raises
        ------
        InvalidGameError
            ``labels`` is not ``n`` non-negative integers.

        Examples
        --------
        >>> import networkx as nx
        >>> G = nx.Graph()
        >>> G.add_weighted_edges_from([("a", "b", 2.0), ("b", "c", -1.0), ("c", "d", 2.0)])
        >>> game = hedonic_game(G)
        >>> game.utilities([0, 0, 1, 1]), game.utilities([0, 0, 0, 0])
        (array([2., 2., 2., 2.]), array([2., 1., 1., 2.]))
        """
        labels = _check_labels(labels, self.n)
        same = labels[self.src] == labels[self.dst]
        return np.bincount(self.src[same], self.weight[same], minlength=self.n)

    def value_towards(self, labels) -> dict:
        """``{(i, c): sum of w_ij over j in coalition c}`` for every node ``i`` and coalition ``c``
        it has an edge into (the values a node would get by joining ``c``).

        Parameters
        ----------
        labels : (n,) array_like of int
            Coalition of each node.

        Returns
        -------
        dict of (int, int) -> float

        Raises
        ------
        InvalidGameError
            ``labels`` is not ``n`` non-negative integers.

        Examples
        --------
        >>> import networkx as nx
        >>> G = nx.Graph()
        >>> G.add_weighted_edges_from([("a", "b", 2.0), ("b", "c", -1.0), ("c", "d", 2.0)])
        >>> game = hedonic_game(G)
        >>> game.value_towards([0, 0, 1, 1])[(1, 1)]   # b's value for joining {c, d}
        -1.0
        """
        labels = _check_labels(labels, self.n)
        keys = self.src * (labels.max() + 1) + labels[self.dst]
        uniq, inv = np.unique(keys, return_inverse=True)
        sums = np.bincount(inv, self.weight)
        width = labels.max() + 1
        return {(int(k // width), int(k % width)): float(s) for k, s in zip(uniq, sums)}

    def __repr__(self) -> str:
        return f"<HedonicGame: {self.n} nodes, {len(self.src)} preference edges>"


def hedonic_game(graph, weight: str = "weight") -> HedonicGame:
    """Build a :class:`HedonicGame` from a graph.

    Parameters
    ----------
    graph : networkx.Graph / DiGraph, or an object with ``edge_index() -> (src, dst, weight)``
        (NumPy arrays of node rows) and ``number_of_nodes()`` (an alchemist Graph). Undirected
        networkx edges count both ways; missing weights are 1.
    weight : str or None
        Edge attribute holding the weight (networkx; missing weights are 1), or edge column of an
        alchemist Graph (``"weight"`` or a numeric edge property; None counts every edge as 1).

    Returns
    -------
    HedonicGame

    Raises
    ------
    InvalidGameError
        ``graph`` is neither kind, or its weights are not finite.
    GraphError
        ``weight`` is not a numeric edge column of the alchemist Graph.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([("a", "b", 2.0), ("b", "c", -1.0), ("c", "d", 2.0)])
    >>> game = hedonic_game(G)
    >>> game, game.node_ids
    (<HedonicGame: 4 nodes, 6 preference edges>, ['a', 'b', 'c', 'd'])
    """
    if hasattr(graph, "edge_index") and hasattr(graph, "number_of_nodes"):
        src, dst, w = graph.edge_index()
        if weight != "weight" and hasattr(graph, "edges") and hasattr(graph, "edge_ids"):  # an alchemist Graph
            from alchemist.graph.analytics import edge_weights

            w = edge_weights(graph, weight)
        n = int(graph.number_of_nodes())
        ids = getattr(graph, "node_ids", None)
        ids = ids() if callable(ids) else ids  # a property on alchemist's Graph
        directed = bool(getattr(graph, "directed", False))
        src, dst, w = np.asarray(src), np.asarray(dst), np.asarray(w, dtype=np.float64)
        if not directed:
            src, dst, w = np.concatenate([src, dst]), np.concatenate([dst, src]), np.concatenate([w, w])
        return HedonicGame(src, dst, w, n, ids)
    try:
        nodes = list(graph.nodes())
    except AttributeError:
        raise InvalidGameError(
            f"cannot read a graph from {type(graph).__name__}: pass a networkx graph or an object with "
            "edge_index() and number_of_nodes()"
        ) from None
    row = {v: i for i, v in enumerate(nodes)}
    s, d, w = [], [], []
    for a, b, data in graph.edges(data=True):
        s.append(row[a])
        d.append(row[b])
        w.append(float(data.get(weight, 1.0)))
    s, d, w = np.array(s, dtype=np.int64), np.array(d, dtype=np.int64), np.array(w)
    if not graph.is_directed():
        s, d, w = np.concatenate([s, d]), np.concatenate([d, s]), np.concatenate([w, w])
    return HedonicGame(s, d, w, len(nodes), nodes)


def merge_and_split(game: HedonicGame, labels=None, max_rounds: int = 1000, max_split_size: int = 12) -> np.ndarray:
    """Merge-and-split dynamics under the Pareto order.

    Merge two coalitions when no member of either loses and one gains; split a coalition in two
    when no member loses and one gains; repeat until neither applies. Every step strictly
    improves one node without hurting any, so the process terminates.

    Parameters
    ----------
    game : HedonicGame
    labels : array_like of int, optional
        Starting partition (default: every node alone).
    max_rounds : int
    max_split_size : int
        Coalitions up to this size are tested against all ``2**(k-1) - 1`` bipartitions; larger
        ones only against single-node departures.

    Returns
    -------
    ndarray, shape ``(n,)``, int64 — coalition labels ``0 .. c-1`` (relabelled in order of first
    appearance).

    Raises
    ------
    InvalidGameError
        ``labels`` is not ``n`` non-negative integers.

    References
    ----------
    Apt, K. R. & Witzel, A. (2009). "A generic approach to coalition formation", Int. Game Theory
    Rev. 11(3) (merge and split under the Pareto order).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([("a", "b", 2.0), ("b", "c", -1.0), ("c", "d", 2.0)])
    >>> game = hedonic_game(G)
    >>> merge_and_split(game)   # the negative edge b–c separates {a, b} from {c, d}
    array([0, 0, 1, 1])
    """
    labels = np.arange(game.n) if labels is None else _check_labels(labels, game.n).copy()
    W = _dense_or_dict(game)
    for _ in range(max_rounds):
        changed = False
        # merge: coalitions linked by an edge
        members = _members(labels)
        pairs = {(min(a, b), max(a, b)) for a, b in zip(labels[game.src], labels[game.dst]) if a != b}
        for a, b in sorted(pairs):
            if a not in members or b not in members:
                continue
            A, B = members[a], members[b]
            gain_a = np.array([_towards(W, i, B) for i in A])
            gain_b = np.array([_towards(W, i, A) for i in B])
            m = game.margin
            if np.all(gain_a >= -m) and np.all(gain_b >= -m) and (np.any(gain_a > m) or np.any(gain_b > m)):
                labels[B] = a
                members[a] = np.concatenate([A, B])
                del members[b]
                changed = True
        # split
        for c, C in list(members.items()):
            if len(C) < 2:
                continue
            split = _pareto_split(W, C, max_split_size, game.margin)
            if split is not None:
                labels[split] = labels.max() + 1
                changed = True
                members = _members(labels)
        if not changed:
            break
    _, relabelled = np.unique(labels, return_inverse=True)
    order = {}
    out = np.empty(game.n, dtype=np.int64)
    for i, c in enumerate(relabelled):
        out[i] = order.setdefault(int(c), len(order))
    return out


def is_nash_stable(game: HedonicGame, labels) -> bool:
    """No node prefers to move to another existing coalition or to be alone (Bogomolnaia &
    Jackson 2002, "The stability of hedonic coalition structures", Games Econ. Behav. 38, Def. 4).

    Parameters
    ----------
    game : HedonicGame
    labels : (n,) array_like of int
        Coalition of each node.

    Returns
    -------
    bool

    Raises
    ------
    InvalidGameError
        ``labels`` is not ``n`` non-negative integers.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([("a", "b", 2.0), ("b", "c", -1.0), ("c", "d", 2.0)])
    >>> game = hedonic_game(G)
    >>> is_nash_stable(game, [0, 0, 1, 1]), is_nash_stable(game, [0, 1, 2, 3])
    (True, False)
    """
    labels = _check_labels(labels, game.n)
    u = game.utilities(labels)
    if np.any(u < -game.margin):
        return False
    for (i, c), val in game.value_towards(labels).items():
        if c != labels[i] and val > u[i] + game.margin:
            return False
    return True


def is_individually_stable(game: HedonicGame, labels) -> bool:
    """No node prefers another coalition (or being alone) whose members all weakly accept it
    (Bogomolnaia & Jackson 2002, Def. 5). Nash stability implies it.

    Parameters
    ----------
    game : HedonicGame
    labels : (n,) array_like of int
        Coalition of each node.

    Returns
    -------
    bool

    Raises
    ------
    InvalidGameError
        ``labels`` is not ``n`` non-negative integers.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([("a", "b", 2.0), ("b", "c", -1.0), ("c", "d", 2.0)])
    >>> game = hedonic_game(G)
    >>> is_individually_stable(game, [0, 0, 1, 1]), is_individually_stable(game, [0, 1, 2, 3])
    (True, False)
    """
    labels = _check_labels(labels, game.n)
    u = game.utilities(labels)
    if np.any(u < -game.margin):
        return False
    W = _dense_or_dict(game)
    members = _members(labels)
    for (i, c), val in game.value_towards(labels).items():
        if c != labels[i] and val > u[i] + game.margin:
            if all(W.get((j, i), 0.0) >= 0 for j in members[c]):
                return False
    return True


def is_core_stable(game: HedonicGame, labels, max_nodes: int = 20) -> bool:
    """No coalition ``S`` whose members all strictly prefer ``S`` to their own coalition
    (Bogomolnaia & Jackson 2002, Def. 2), by enumerating all ``2**n - 1`` coalitions.

    Parameters
    ----------
    game : HedonicGame
    labels : (n,) array_like of int
        Coalition of each node.
    max_nodes : int
        Largest game to check.

    Returns
    -------
    bool

    Raises
    ------
    InvalidGameError
        If the game has more than ``max_nodes`` nodes (the check is exponential).

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.Graph()
    >>> G.add_weighted_edges_from([("a", "b", 2.0), ("b", "c", -1.0), ("c", "d", 2.0)])
    >>> game = hedonic_game(G)
    >>> is_core_stable(game, [0, 0, 1, 1]), is_core_stable(game, [0, 1, 2, 3])
    (True, False)
    """
    labels = _check_labels(labels, game.n)
    n = game.n
    if n > max_nodes:
        raise InvalidGameError(f"core stability enumerates 2**n coalitions; n={n} > max_nodes={max_nodes}")
    u = game.utilities(labels)
    Wd = np.zeros((n, n))
    np.add.at(Wd, (game.src, game.dst), game.weight)
    masks = np.arange(1, 1 << n)
    M = ((masks[:, None] >> np.arange(n)) & 1).astype(bool)
    for start in range(0, len(masks), 1 << 14):
        block = M[start:start + (1 << 14)]
        US = block.astype(np.float64) @ Wd.T  # US[s, i] = sum_{j in S} w_ij
        better = (US > u[None, :] + game.margin) | ~block
        if np.any(better.all(axis=1)):
            return False
    return True


def coalition_attraction(coalitions, n_nodes: int, strength: float = 1.0):
    """A layout force pulling the members of each coalition toward its centroid.

    Parameters
    ----------
    coalitions : array_like of int ``(n_nodes,)`` (labels, -1 = none) or sequence of sequences
        of node rows.
    n_nodes : int
    strength : float

    Returns
    -------
    alchemist.layout.forces.GroupAttraction

    Raises
    ------
    InvalidGameError
        Labels of the wrong shape, a row outside ``0 … n_nodes-1``, or a row in two coalitions.

    Examples
    --------
    >>> coalition_attraction([[0, 1], [2, 3]], 5).__class__.__name__
    'GroupAttraction'
    """
    from alchemist.layout.forces import GroupAttraction

    return GroupAttraction(_coalition_labels(coalitions, n_nodes), strength=strength)


def competition_repulsion(pairs, strength: float = 1.0, graph=None):
    """A layout force pushing competing node pairs apart.

    Parameters
    ----------
    pairs : array_like of int, shape ``(k, 2)``
        Node rows of competing pairs.
    strength : float
        Scale of the force, relative to ForceAtlas2's own repulsion (1: as strong as it).
    graph : Graph, optional
        The graph being laid out, for ForceAtlas2's masses ``1 + degree``; without it the masses
        come from the layout the force is given to (:meth:`~alchemist.layout.forces.Force.bind`).

    Returns
    -------
    alchemist.layout.forces.PairRepulsion

    Raises
    ------
    ValueError
        ``pairs`` cannot be reshaped to ``(k, 2)`` (NumPy's message).

    Examples
    --------
    >>> competition_repulsion([[0, 2]]).__class__.__name__
    'PairRepulsion'
    """
    from alchemist.layout.forces import PairRepulsion

    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    return PairRepulsion(pairs[:, 0], pairs[:, 1], strength=strength, graph=graph)


def coalition_events(graph_id: str, coalitions, values=None, strategies=None, utilities=None) -> list:
    """Event dicts for the CIM: ``coalition_formed`` per coalition, ``strategy_assigned`` and
    ``utility_updated`` per node.

    Parameters
    ----------
    graph_id : str
        The graph aggregate the events belong to.
    coalitions : sequence of sequences of node id strings, or mapping ``coalition_id -> members``
    values : sequence or mapping of float, optional
        Worth of each coalition (default: absent values are ``None``).
    strategies : mapping ``node_id -> str``, optional
    utilities : mapping ``node_id -> float``, optional

    Returns
    -------
    list of dict
        Each ``{"event_type", "aggregate_type": "graph", "aggregate_id", "payload"}``; payloads
        ``{"coalition_id", "members", "value"}``, ``{"node_id", "strategy"}``,
        ``{"node_id", "utility"}``. Wrap them in envelopes with :mod:`alchemist.events`.

    Raises
    ------
    InvalidGameError
        ``graph_id`` is not a non-empty string.

    Examples
    --------
    >>> [e["payload"] for e in coalition_events("g", [["a", "b"]], values=[3.0], strategies={"a": "cooperate"})]
    [{'coalition_id': 'c0', 'members': ['a', 'b'], 'value': 3.0}, {'node_id': 'a', 'strategy': 'cooperate'}]
    """
    if not isinstance(graph_id, str) or not graph_id:
        raise InvalidGameError(f"graph_id must be a non-empty string; got {graph_id!r}")
    items = list(coalitions.items()) if isinstance(coalitions, dict) else [(f"c{k}", m) for k, m in enumerate(coalitions)]
    if isinstance(values, dict):
        value_of = values
    else:
        value_of = {cid: (None if values is None else float(values[k])) for k, (cid, _) in enumerate(items)}
    events = []

    def event(kind, payload):
        return {"event_type": kind, "aggregate_type": "graph", "aggregate_id": graph_id, "payload": payload}

    for cid, members in items:
        val = value_of.get(cid)
        events.append(event("coalition_formed", {"coalition_id": str(cid), "members": [str(m) for m in members],
                                                 "value": None if val is None else float(val)}))
    for node, strategy in (strategies or {}).items():
        events.append(event("strategy_assigned", {"node_id": str(node), "strategy": str(strategy)}))
    for node, utility in (utilities or {}).items():
        events.append(event("utility_updated", {"node_id": str(node), "utility": float(utility)}))
    return events


# ---------------------------------------------------------------------------- helpers
def _check_labels(labels, n):
    labels = np.asarray(labels)
    if labels.shape != (n,) or not np.issubdtype(labels.dtype, np.integer) or (n and labels.min() < 0):
        raise InvalidGameError(f"labels must be {n} non-negative integers (one coalition per node); got shape {labels.shape}")
    return labels.astype(np.int64)


def _coalition_labels(coalitions, n_nodes):
    arr = np.asarray(coalitions, dtype=object) if not isinstance(coalitions, np.ndarray) else coalitions
    if isinstance(coalitions, np.ndarray) and coalitions.ndim == 1 and np.issubdtype(coalitions.dtype, np.integer):
        if coalitions.shape != (n_nodes,):
            raise InvalidGameError(f"coalition labels have shape {coalitions.shape}; expected ({n_nodes},)")
        return coalitions.astype(np.int64)
    del arr
    labels = np.full(n_nodes, -1, dtype=np.int64)
    for k, members in enumerate(coalitions):
        for i in members:
            if not 0 <= int(i) < n_nodes:
                raise InvalidGameError(f"node row {i} of coalition {k} is outside [0, {n_nodes})")
            if labels[int(i)] != -1:
                raise InvalidGameError(f"node row {i} is in two coalitions ({labels[int(i)]} and {k})")
            labels[int(i)] = k
    return labels


def _members(labels) -> dict:
    order = np.argsort(labels, kind="stable")
    uniq, starts = np.unique(labels[order], return_index=True)
    return {int(c): arr for c, arr in zip(uniq, np.split(order, starts[1:]))}


def _dense_or_dict(game) -> dict:
    W: dict = {}
    for a, b, w in zip(game.src.tolist(), game.dst.tolist(), game.weight.tolist()):
        W[(a, b)] = W.get((a, b), 0.0) + w
    return W


def _towards(W, i, C) -> float:
    return sum(W.get((int(i), int(j)), 0.0) for j in C)


def _pareto_split(W, C, max_split_size, m=0.0):
    """A part ``S`` of ``C`` such that splitting ``C`` into ``S, C \\ S`` hurts nobody and helps
    someone, or None."""
    C = [int(c) for c in C]
    if len(C) <= max_split_size:
        first, rest = C[0], C[1:]
        candidates = (
            [first] + [r for r, bit in zip(rest, bits) if bit]
            for bits in itertools.product((0, 1), repeat=len(rest))
        )
    else:
        candidates = ([i] for i in C)
    for S in candidates:
        T = [c for c in C if c not in S]
        if not T:
            continue
        loss_s = [_towards(W, i, T) for i in S]  # what S's members give up
        loss_t = [_towards(W, i, S) for i in T]
        if all(v <= m for v in loss_s) and all(v <= m for v in loss_t) and (
                any(v < -m for v in loss_s) or any(v < -m for v in loss_t)):
            return np.array(S)
    return None
