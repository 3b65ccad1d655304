"""ForceAtlas2 force-directed layout with Barnes–Hut repulsion, on the CPU (Numba) and GPU (CUDA).

ForceAtlas2 (Jacomy, Venturini, Heymann & Bastian 2014, PLOS ONE 9(6): e98679) moves every node
by the sum of

- repulsion between all pairs, ``F = k_r (m_i m_j) / d`` with masses ``m = 1 + degree``
  (§ "Repulsion by degree"), approximated with a Barnes–Hut quadtree (parameter ``theta``);
- attraction along edges, ``F = -w^δ d`` (linear) or ``F = -w^δ log(1 + d)`` (LinLog), divided
  by the source's mass with "dissuade hubs" (§ "Attraction", "Edge weight");
- gravity toward the origin, ``F = k_g m`` (or ``F = k_r k_g m d`` with strong gravity);

and moves them with the adaptive speed of § "Adaptive speed" (global speed from the ratio of
traction to swinging, local speed ``s / (1 + sqrt(s · swing_i))``), as in Gephi's
``ForceAtlas2.java`` and the ``fa2`` Python package, whose formulas and defaults this module
follows so that layouts are comparable.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from alchemist.backend import resolve_backend
from alchemist.errors import LayoutError
from alchemist.layout._input import LayoutGraph, as_layout_graph
from alchemist.layout.forces import Force

__all__ = ["forceatlas2", "incremental_layout"]

_PARALLEL_MIN_NODES = 1000
_TRIM_MIN_EDGES = 500_000  # from this many edges the freed heap is handed back after the loop
_BLOCK_SECONDS = 0.2  # target duration of one compiled call of the CPU loop


def forceatlas2(
    graph,
    iterations: int = 100,
    *,
    theta: float = 1.2,
    scaling_ratio: float = 2.0,
    gravity: float = 1.0,
    strong_gravity: bool = False,
    lin_log: bool = False,
    edge_weight_influence: float = 1.0,
    dissuade_hubs: bool = False,
    prevent_overlap: bool = False,
    node_size=None,
    jitter_tolerance: float = 1.0,
    initial_positions=None,
    fixed=None,
    seed: int | None = None,
    callback: Callable[[int, np.ndarray], object] | None = None,
    forces: Sequence[Force | Callable] = (),
    backend: str = "auto",
) -> np.ndarray:
    """Lay a graph out with ForceAtlas2 (Barnes–Hut repulsion, adaptive speed).

    Parameters
    ----------
    graph : alchemist Graph, networkx graph, scipy sparse matrix or tuple
        An alchemist ``Graph`` (row i = row i of ``graph.nodes``), a NetworkX graph (rows in
        ``list(G)`` order, edge attribute ``weight``), a square SciPy sparse adjacency matrix (a
        symmetric one is read from its upper triangle, any other as ``A + A.T``), or a tuple
        ``(n_nodes, src, dst)`` / ``(n_nodes, src, dst, weight)``. Edges are undirected for the
        layout; self-loops are ignored; parallel edges are merged and their weights summed.
    iterations : int
        Number of iterations (>= 0).
    theta : float
        Barnes–Hut opening parameter: a quadtree cell of centre-of-mass radius ``r`` at distance
        ``d`` is approximated by its centre of mass when ``d * theta > 2 r`` (Gephi's criterion).
        Smaller is more exact and slower; ``theta -> 0`` gives exact all-pairs repulsion. On the
        CPU a cell is approximated only where the criterion holds for a whole region of the
        tree (stricter than Gephi's per-node test), and the cells far from a large region are
        summed for all its nodes at once through a 6-term local expansion (Greengard & Rokhlin
        1987), whose truncation adds at most ``rho^6 / (1 - rho)``, ``rho = min(1/2, theta/2)``,
        of a cell's term. At equal ``theta`` the forces are closer to the exact ones than
        Gephi's and ``fa2``'s (measured on 20,000 clustered points: median relative error 0.8%
        against 1.5%).
    scaling_ratio : float
        Repulsion constant ``k_r`` (> 0); larger spreads the layout.
    gravity : float
        Gravity constant ``k_g`` (>= 0).
    strong_gravity : bool
        Gravity proportional to the distance from the origin (``k_r k_g m d``).
    lin_log : bool
        LinLog mode: logarithmic attraction, tighter clusters (Noack's LinLog energy).
    edge_weight_influence : float
        Exponent ``δ`` applied to edge weights (0: ignore weights, 1: linear).
    dissuade_hubs : bool
        "Outbound attraction distribution": attraction divided by the mass of the edge's source
        (the lower node row, as in ``fa2``), compensated by the mean mass; pushes hubs outward.
    prevent_overlap : bool
        Anti-collision forces that take ``node_size`` into account (Gephi's "prevent overlap").
    node_size : array_like, shape (n_nodes,), optional
        Node radii in layout units, used with ``prevent_overlap`` (default 1.0 each).
    jitter_tolerance : float
        Tolerated swinging (> 0); higher is faster and less precise.
    initial_positions : array_like, shape (n_nodes, 2), optional
        Starting positions (finite). Default: uniform random in ``[0, 1)^2`` from ``seed``.
    fixed : array_like of bool, shape (n_nodes,), optional
        Nodes that do not move (they still exert forces). See :func:`incremental_layout`.
    seed : int, optional
        Seed of the random initial positions; with a seed, the result is deterministic.
    callback : callable, optional
        ``callback(iteration, positions)`` after every iteration, with ``positions`` an
        ``(n_nodes, 2) float32`` copy (a NumPy array on the CPU, a CuPy array on the GPU).
    forces : sequence of Force or callables
        Extra forces (:mod:`alchemist.layout.forces`), each called with the ``(n_nodes, 2)
        float32`` positions every iteration and added to the ForceAtlas2 force before the
        speed step.
    backend : {"auto", "cpu", "cuda"}
        ``"cpu"``: Numba kernels, parallel over cores. ``"cuda"``: the whole loop runs on the
        GPU (quadtree built on the device each iteration, Burtscher & Pingali 2011). The two
        agree to float32 rounding: the GPU path computes in float32, the CPU path in float64
        (but for the Barnes–Hut far-cell terms, float32 summed in float64).

    Returns
    -------
    numpy.ndarray, shape (n_nodes, 2), float32
        Row i is the position of node row i. An empty graph gives a ``(0, 2)`` array; isolated
        nodes are repelled by the others and held by gravity.

    Raises
    ------
    LayoutError
        If the graph is malformed (rows out of range, NaN/negative weights), a parameter is out
        of range, or ``initial_positions`` / ``node_size`` / ``fixed`` have the wrong shape or
        non-finite values; the message names the value.
    alchemist.errors.BackendError
        If ``backend="cuda"`` and no GPU is available.

    Notes
    -----
    Per-iteration cost on the CPU: a quadtree build (Morton codes, radix sort, top-down split,
    ``O(n log n)``), repulsion ``O(n log n)``, attraction ``O(m)``. See ``benchmarks/bench_layout.py``.

    References
    ----------
    .. [1] M. Jacomy, T. Venturini, S. Heymann, M. Bastian, "ForceAtlas2, a Continuous Graph
       Layout Algorithm for Handy Network Visualization Designed for the Gephi Software",
       PLOS ONE 9(6): e98679, 2014.
    .. [2] J. Barnes, P. Hut, "A hierarchical O(N log N) force-calculation algorithm",
       Nature 324, 1986.
    .. [3] M. Burtscher, K. Pingali, "An Efficient CUDA Implementation of the Tree-Based
       Barnes Hut n-Body Algorithm", GPU Computing Gems Emerald Edition, 2011.

    Examples
    --------
    >>> import networkx as nx
    >>> from alchemist.layout import forceatlas2
    >>> pos = forceatlas2(nx.karate_club_graph(), iterations=50, seed=1)
    >>> pos.shape, pos.dtype
    ((34, 2), dtype('float32'))
    """
    g = as_layout_graph(graph)
    n = g.n_nodes
    params = _parameters(
        n, iterations, theta, scaling_ratio, gravity, jitter_tolerance, edge_weight_influence, callback
    )
    sizes = _node_size(node_size, n, prevent_overlap)
    fixed_mask = _fixed(fixed, n)
    forces = _forces(forces, n)
    pos = _initial_positions(initial_positions, n, seed)
    backend = resolve_backend(backend)
    if n == 0:
        return np.zeros((0, 2), dtype=np.float32)
    weights = g.weights if edge_weight_influence == 1 else (
        np.ones_like(g.weights) if edge_weight_influence == 0 else g.weights ** edge_weight_influence
    )
    mass = 1.0 + g.degree.astype(np.float64)
    for f in forces:  # the calibrated forces take ForceAtlas2's masses and scaling here (Force.bind)
        if isinstance(f, Force):
            f.bind(mass, params["scaling_ratio"])
    run = _run_cuda if backend == "cuda" else _run_cpu
    large = g.src.shape[0] >= _TRIM_MIN_EDGES
    if backend != "cuda":  # the CPU loop walks the CSR only: the merged edge list (24 bytes an edge) goes now
        g = dataclasses.replace(g, src=np.empty(0, np.int64), dst=np.empty(0, np.int64),
                                edge_weight=np.empty(0, np.float64))
    out = run(
        g, weights, mass, sizes, fixed_mask, pos, iterations,
        dict(
            theta=params["theta"], kr=params["scaling_ratio"], gravity=params["gravity"],
            strong=bool(strong_gravity), lin_log=bool(lin_log), dissuade=bool(dissuade_hubs),
            coef_att=float(mass.mean()) if dissuade_hubs else 1.0, overlap=bool(prevent_overlap),
            jitter=params["jitter_tolerance"],
        ),
        callback, forces,
    )
    if large:  # the CSR and the loop's buffers, freed, go back to the system rather than stay in glibc's arenas
        del g, weights, mass
        _hand_back_freed_memory()
    return out


def incremental_layout(
    graph,
    previous_positions,
    new_rows=None,
    iterations: int = 10,
    *,
    settle: str = "neighbours",
    seed: int | None = None,
    **options,
) -> np.ndarray:
    """Place new nodes next to their neighbours and settle them with a few ForceAtlas2 iterations.

    For streaming graphs: the nodes already laid out keep their positions; each new node starts
    at the mean position of its already placed neighbours plus a small random jitter (nodes
    whose neighbours are new too are placed in breadth-first waves; a new node with no placed
    neighbour at all starts at a random point of the layout's bounding box), then ``iterations``
    ForceAtlas2 iterations move only the new nodes and (with ``settle="neighbours"``) their
    direct neighbours, while the rest of the layout stays fixed but still exerts its forces.

    Parameters
    ----------
    graph : as for :func:`forceatlas2`
        The graph after the change.
    previous_positions : array_like, shape (n_old, 2) with n_old <= n_nodes
        Positions of the node rows laid out before; rows beyond ``n_old`` and rows that are NaN
        are new nodes.
    new_rows : array_like of int, optional
        Explicit rows of the new nodes (in addition to the NaN / missing rows).
    iterations : int
        Local ForceAtlas2 iterations (default 10).
    settle : {"neighbours", "new"}
        Which nodes move during the settling iterations: the new nodes and their neighbours
        (default), or the new nodes only.
    seed : int, optional
        Seed of the jitter.
    **options
        Other keyword arguments of :func:`forceatlas2` (``scaling_ratio``, ``backend``, ...).

    Returns
    -------
    numpy.ndarray, shape (n_nodes, 2), float32

    Raises
    ------
    LayoutError
        If ``previous_positions`` has more rows than the graph has nodes or is not ``(n, 2)``,
        a non-new row is not finite, or ``settle`` is unknown.
    Examples
    --------
    >>> import networkx as nx
    >>> import numpy as np
    >>> pos = forceatlas2(nx.path_graph(3), 20, seed=1, backend="cpu")
    >>> grown = incremental_layout(nx.path_graph(4), pos, iterations=5, seed=0, backend="cpu")
    >>> grown.shape, bool(np.array_equal(grown[:2], pos[:2]))  # node 2 settles with the new node 3
    ((4, 2), True)
    """
    g = as_layout_graph(graph)
    n = g.n_nodes
    prev = np.asarray(previous_positions, dtype=np.float64)
    if prev.ndim != 2 or prev.shape[1] != 2 or prev.shape[0] > n:
        raise LayoutError(
            f"previous_positions has shape {prev.shape}; it must be (n_old, 2) with n_old <= {n} (the graph's nodes)"
        )
    if settle not in ("neighbours", "new"):
        raise LayoutError(f"settle = {settle!r}; use 'neighbours' or 'new'")
    pos = np.full((n, 2), np.nan)
    pos[: prev.shape[0]] = prev
    is_new = np.zeros(n, dtype=bool)
    is_new[prev.shape[0]:] = True
    is_new |= np.isnan(pos).any(axis=1)
    if new_rows is not None:
        rows = np.asarray(new_rows, dtype=np.int64).ravel()
        bad = np.flatnonzero((rows < 0) | (rows >= n))
        if bad.size:
            raise LayoutError(f"new_rows[{bad[0]}] = {rows[bad[0]]} is not a node row of a graph with {n} nodes")
        is_new[rows] = True
    bad = np.flatnonzero(~np.isfinite(pos[~is_new]).all(axis=1))
    if bad.size:
        row = np.flatnonzero(~is_new)[bad[0]]
        raise LayoutError(f"previous_positions[{row}] = {pos[row]} is not finite; mark it as new with NaN instead")
    rng = np.random.default_rng(seed)
    pos = _place_new(g, pos, is_new, rng)
    moving = is_new.copy()
    if settle == "neighbours":
        rows = np.flatnonzero(is_new)
        for r in rows:
            moving[g.indices[g.indptr[r]: g.indptr[r + 1]]] = True
    if n == 0 or not is_new.any():
        return pos.astype(np.float32)
    return forceatlas2(_as_tuple(g), iterations, initial_positions=pos, fixed=~moving, seed=seed, **options)


def _as_tuple(g: LayoutGraph):
    """A :class:`LayoutGraph` as the ``(n_nodes, src, dst, weight)`` tuple form."""
    return (g.n_nodes, g.src, g.dst, g.edge_weight)


# --------------------------------------------------------------------------- helpers
def _run_cpu(g, weights, mass, sizes, fixed, pos, iterations, p, callback, forces):
    import numba

    threads = numba.get_num_threads()
    if g.n_nodes < _PARALLEL_MIN_NODES:
        numba.set_num_threads(1)  # small graphs: thread synchronisation costs more than it saves
    try:
        return _loop_cpu(g, weights, mass, sizes, fixed, pos, iterations, p, callback, forces)
    finally:
        numba.set_num_threads(threads)


def _hand_back_freed_memory() -> None:
    """Return the heap memory the loop's worker threads freed to the system (glibc keeps it in
    their arenas otherwise: about 64 MB at 1M edges, 190 MB at 10M, held after the call)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _loop_cpu(g, weights, mass, sizes, fixed, pos, iterations, p, callback, forces):
    import numba

    from alchemist.layout import _loop

    n = g.n_nodes
    ws = _loop.make_workspace(n)
    force_pair = np.zeros((2, n, 2))
    att = np.empty((n, 2))
    state = np.array([1.0, 1.0, 0.0])  # speed, efficiency, which of force_pair is the latest force
    args = (
        p["theta"], *ws, g.indptr, g.indices, weights, p["kr"], p["gravity"], p["strong"], p["lin_log"],
        p["dissuade"], p["coef_att"], p["overlap"], p["jitter"], int((~fixed).sum()), numba.get_num_threads(),
    )
    if callback is None and not forces:
        # blocks of iterations in one compiled call each, sized to take about _BLOCK_SECONDS: no
        # per-iteration dispatch from Python, and a KeyboardInterrupt (Jupyter's "interrupt
        # kernel") still stops a long run within a fraction of a second
        done, block = 0, 1
        while done < iterations:
            k = min(block, iterations - done)
            t = time.perf_counter()
            _loop.iterate(k, pos, mass, sizes, fixed, force_pair, att, np.zeros((0, 2)), state, *args)
            done += k
            block = max(1, int(k * _BLOCK_SECONDS / max(time.perf_counter() - t, 1e-9)))
        return pos.astype(np.float32)
    for it in range(iterations):
        extra = _extra(forces, pos) if forces else np.zeros((0, 2))
        _loop.iterate(1, pos, mass, sizes, fixed, force_pair, att, extra, state, *args)
        if callback is not None:
            callback(it, pos.astype(np.float32))
    return pos.astype(np.float32)


def _run_cuda(g, weights, mass, sizes, fixed, pos, iterations, p, callback, forces):
    from alchemist.layout import _cuda

    return _cuda.run(g, weights, mass, sizes, fixed, pos, iterations, p, callback, forces)


def _extra(forces, pos):
    p32 = pos.astype(np.float32)
    total = np.zeros(pos.shape, dtype=np.float64)
    for f in forces:
        out = np.asarray(f(p32), dtype=np.float64)
        if out.shape != pos.shape:
            raise LayoutError(f"force {f!r} returned shape {out.shape}; it must return {pos.shape}")
        total += out
    return total


def _parameters(n, iterations, theta, scaling_ratio, gravity, jitter_tolerance, edge_weight_influence, callback):
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise LayoutError(f"iterations = {iterations!r} must be an integer >= 0")
    checks = {
        "theta": (theta, lambda v: v >= 0, ">= 0"),
        "scaling_ratio": (scaling_ratio, lambda v: v > 0, "> 0"),
        "gravity": (gravity, lambda v: v >= 0, ">= 0"),
        "jitter_tolerance": (jitter_tolerance, lambda v: v > 0, "> 0"),
        "edge_weight_influence": (edge_weight_influence, lambda v: v >= 0, ">= 0"),
    }
    out = {}
    for name, (value, ok, rule) in checks.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise LayoutError(f"{name} = {value!r} is not a number") from None
        if not math.isfinite(v) or not ok(v):
            raise LayoutError(f"{name} = {value!r} must be finite and {rule}")
        out[name] = v
    if callback is not None and not callable(callback):
        raise LayoutError(f"callback = {callback!r} is not callable; pass a function (iteration, positions)")
    return out


def _node_size(node_size, n, prevent_overlap):
    if node_size is None:
        return np.full(n, 1.0 if prevent_overlap else 0.0)
    s = np.asarray(node_size, dtype=np.float64)
    if s.ndim == 0:
        s = np.full(n, float(s))
    if s.shape != (n,):
        raise LayoutError(f"node_size has shape {s.shape}; give one radius per node, shape ({n},)")
    bad = np.flatnonzero(~np.isfinite(s) | (s < 0))
    if bad.size:
        raise LayoutError(f"node_size[{bad[0]}] = {s[bad[0]]} must be finite and >= 0")
    return np.ascontiguousarray(s)  # the kernels take C-contiguous float64 (explicit signatures)


def _fixed(fixed, n):
    if fixed is None:
        return np.zeros(n, dtype=np.bool_)
    f = np.asarray(fixed)
    if f.shape != (n,) or f.dtype != np.bool_:
        raise LayoutError(f"fixed must be a boolean mask of shape ({n},), got {f.dtype} array of shape {f.shape}")
    return f.copy()


def _forces(forces, n):
    if forces is None:
        return []
    if callable(forces):
        forces = [forces]
    out = []
    for f in forces:
        if not callable(f):
            raise LayoutError(f"forces contains {f!r}, which is not callable; pass Force objects or functions")
        if isinstance(f, Force):
            f.validate(n)
        out.append(f)
    return out


def _initial_positions(initial_positions, n, seed):
    if initial_positions is None:
        return np.random.default_rng(seed).random((n, 2))
    pos = np.array(initial_positions, dtype=np.float64, order="C")  # the kernels' layout (explicit signatures)
    if pos.shape != (n, 2):
        raise LayoutError(f"initial_positions has shape {pos.shape}; it must be ({n}, 2), one row per node")
    bad = np.flatnonzero(~np.isfinite(pos).all(axis=1))
    if bad.size:
        raise LayoutError(
            f"initial_positions[{bad[0]}] = {pos[bad[0]]} is not finite; "
            "use incremental_layout() to place new nodes"
        )
    return pos


def _place_new(g: LayoutGraph, pos, is_new, rng):
    """Put each new node at the mean of its placed neighbours (breadth-first waves) plus jitter."""
    pos = pos.copy()
    placed = ~is_new
    old = pos[placed]
    if old.size:
        lo, hi = old.min(axis=0), old.max(axis=0)
    else:
        lo, hi = np.zeros(2), np.ones(2)
    extent = float(max(hi[0] - lo[0], hi[1] - lo[1], 1e-9))
    jitter = 1e-2 * extent / math.sqrt(max(int(placed.sum()), 1))
    pending = np.flatnonzero(is_new)
    while pending.size:
        wave = []
        for r in pending:
            nb = g.indices[g.indptr[r]: g.indptr[r + 1]]
            nb = nb[placed[nb]]
            if nb.size:
                wave.append((r, pos[nb].mean(axis=0)))
        if not wave:
            for r in pending:
                pos[r] = lo + rng.random(2) * (hi - lo)
            break
        for r, p in wave:
            pos[r] = p + rng.normal(scale=jitter, size=2)
            placed[r] = True
        pending = pending[~placed[pending]]
    return pos
