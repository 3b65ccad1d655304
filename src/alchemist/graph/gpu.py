"""The graph analytics on a CUDA device: the host side of the kernels in
:mod:`alchemist.graph._cuda_analytics`, and the dispatch between them and the CPU kernels.

The public analytics (:func:`~alchemist.graph.pagerank`, :func:`~alchemist.graph.connected_components`,
:func:`~alchemist.graph.clustering`, :func:`~alchemist.graph.louvain`,
:func:`~alchemist.graph.shortest_path_length`, ...) validate their input and prepare plain arrays
once; :func:`kernel` then hands those arrays to the CPU kernel or to its CUDA counterpart here,
which takes the same arguments and returns the same values:

================================  ====================================================  ==========================
CPU kernel                        CUDA version (this module)                            agreement with the CPU
================================  ====================================================  ==========================
``pagerank_kernel``               pull SpMV on the in-edge CSR, one thread per node;     1e-6 relative per node
                                  same stopping rule (L1 change < ``n * tol``)           (few ulps in practice)
``component_labels`` (CPU)        :func:`component_labels`: hooking + pointer jumping    identical after the
                                  (weak); trimming + colouring / backward reachability   canonical renumbering
                                  (strong)
``bfs``                           level-synchronous frontier, compare-and-swap claims   exact distances
``dijkstra_all``                  work-list Bellman–Ford with atomic minimum             exact (same float sums)
``triangle_kernel``               sorted-adjacency intersection, one thread per edge     exact counts
``louvain_move``                  local moving, one colour class of nodes at a time      modularity within 0.02
                                  (the levels and refinement stay the CPU's)
================================  ====================================================  ==========================

Louvain goes to cuGraph (``cugraph.louvain``) instead when it is installed (:func:`cugraph_louvain`).

All device work goes through ``numba.cuda`` (no CuPy needed), so the same code runs under Numba's
CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``): there :func:`on_device` accepts ``backend="cuda"``
without a GPU, which is how the tests run the public calls' CUDA path on small graphs.
"""

from __future__ import annotations

import numpy as np

from alchemist.backend import cuda_simulator, resolve_backend
from alchemist.errors import BackendError

__all__ = [
    "on_device", "kernel", "pagerank_kernel", "component_labels", "bfs", "dijkstra_all", "triangle_kernel",
    "louvain_move", "has_cugraph", "cugraph_louvain",
]

#: The CPU kernel module of each kernel name that :func:`kernel` dispatches.
_CPU_MODULE = {"pagerank_kernel": "_analytics_kernels", "triangle_kernel": "_analytics_kernels",
               "louvain_move": "_louvain_kernels", "bfs": "_query_kernels", "dijkstra_all": "_query_kernels"}
#: Louvain's local moving: the largest number of sweeps, and the modularity gain of a sweep below
#: which the moving stops.
MAX_SWEEPS = 1000
MIN_SWEEP_GAIN = 1.0e-7


def on_device(backend: str | None = "auto") -> bool:
    """Whether an analytic called with ``backend`` runs its CUDA kernels.

    Parameters
    ----------
    backend : {"auto", "cpu", "cuda"} or None
        As :func:`alchemist.backend.resolve_backend`; in addition ``"cuda"`` is accepted under
        Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``), where the kernels run on the CPU one
        Python thread per CUDA thread (for tests on small graphs).

    Returns
    -------
    bool

    Raises
    ------
    BackendError
        An unknown backend, or ``"cuda"`` with neither a CUDA device nor the simulator (the
        message says to install ``alchemist[gpu]`` or pass ``backend="cpu"``).

    Examples
    --------
    >>> on_device("cpu")
    False
    """
    if backend == "cuda" and cuda_simulator():
        return True
    return resolve_backend(backend) == "cuda"


def kernel(name: str, backend: str | None = "auto"):
    """The kernel ``name`` for ``backend``: the CPU (Numba) kernel, or its CUDA version here.

    Parameters
    ----------
    name : {"pagerank_kernel", "triangle_kernel", "louvain_move", "bfs", "dijkstra_all"}
        The CPU kernel's name (in ``alchemist.graph._analytics_kernels``, ``_louvain_kernels`` or ``_query_kernels``);
        the CUDA version has the same name, arguments and results.
    backend : {"auto", "cpu", "cuda"} or None
        As :func:`on_device`.

    Returns
    -------
    callable

    Raises
    ------
    BackendError
        As :func:`on_device`, or a name that has no CUDA version.

    Examples
    --------
    >>> import numpy as np
    >>> tri = kernel("triangle_kernel", "cpu")(np.array([0, 2, 4, 6]), np.array([1, 2, 0, 2, 0, 1]))
    >>> tri
    array([1., 1., 1.])
    """
    if name not in _CPU_MODULE:
        raise BackendError(f"no CUDA version of kernel {name!r}; the dispatched kernels are {sorted(_CPU_MODULE)}")
    if on_device(backend):
        return globals()[name]
    import importlib

    return getattr(importlib.import_module(f"alchemist.graph.{_CPU_MODULE[name]}"), name)


def pagerank_kernel(indptr, cols, w, out_w, p, alpha, tol, max_iter):
    """PageRank power iteration on the device; the arguments and results of the CPU kernel.

    Parameters
    ----------
    indptr : (n + 1,) int64
        In-edge CSR: row ``v`` lists the nodes ``u`` with an edge ``u → v``.
    cols : (nnz,) int64
    w : (nnz,) float64
        Edge weights.
    out_w : (n,) float64
        Out-weight of each node (0 for dangling nodes).
    p : (n,) float64
        Teleport (and dangling) distribution, summing to 1.
    alpha, tol : float
    max_iter : int

    Returns
    -------
    x : (n,) float64
    iterations : int
    err : float
        The L1 change of the last step (the caller checks ``err < n * tol``).

    Raises
    ------
    numba.cuda.CudaSupportError
        No device and no simulator (callers go through :func:`kernel`, which checks first).
    """
    from numba import cuda

    from alchemist.graph import _cuda_analytics as k

    n = indptr.shape[0] - 1
    d_ptr, d_cols, d_w, d_out, d_p = (_to_device(a) for a in (indptr, cols, w, out_w, p))
    x = cuda.to_device(np.full(n, 1.0 / n))
    new = cuda.device_array(n, dtype=np.float64)
    scaled = cuda.device_array(n, dtype=np.float64)
    acc = cuda.device_array(2, dtype=np.float64)
    err, it = np.inf, 0
    for it in range(max_iter):
        k.launch(k.fill_float, 2, acc, 0.0)
        k.launch(k.pagerank_scale, n, x, d_out, scaled, acc)
        k.launch(k.pagerank_pull, n, d_ptr, d_cols, d_w, scaled, d_p, float(alpha), acc, x, new)
        x, new = new, x
        err = float(acc.copy_to_host()[1])
        if err < n * tol:
            break
    return x.copy_to_host(), it + 1, err


def component_labels(n: int, src, dst, directed: bool = False, connection: str = "weak") -> np.ndarray:
    """Component of each node on the device, labelled by a representative node row.

    Weak components (and all components of an undirected graph): hooking along edges (the root
    with the larger row points at the smaller, by atomic minimum) and pointer jumping, until no
    edge joins two roots (Shiloach & Vishkin 1982, "An O(log n) parallel connectivity
    algorithm", J. Algorithms 3(1)); the label is the smallest row of the component.

    Strong components: repeatedly trim the nodes with no in- or no out-neighbour left (each is a
    component alone), propagate the largest row forward to a fixed point (the colouring of Orzan
    2004 and Slota, Rajamanickam & Madduri 2014, "BFS and coloring-based parallel algorithms for
    strongly connected components", IPDPS), and take as one component each root that kept its
    own colour together with the nodes of its colour that reach it backward; remove them and
    repeat. The label is the root's row.

    Parameters
    ----------
    n : int
        Number of nodes.
    src, dst : (m,) int64
        Edge endpoints (directed edges ``src → dst`` for ``connection="strong"``).
    directed : bool
        Whether the edges are directed (only the strong connection uses the direction).
    connection : {"weak", "strong"}

    Returns
    -------
    (n,) int64
        Equal labels exactly for nodes in the same component; renumber with the analytics'
        canonical order (decreasing size, ties by first row) to compare with the CPU.

    Raises
    ------
    ValueError
        An unknown ``connection``.
    """
    from numba import cuda

    from alchemist.graph import _cuda_analytics as k

    if connection not in ("weak", "strong"):
        raise ValueError(f"connection={connection!r}; use 'weak' or 'strong'")
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    m = src.shape[0]
    d_src, d_dst = _to_device(src), _to_device(dst)
    label = cuda.to_device(np.arange(n, dtype=np.int64))
    changed = cuda.device_array(1, dtype=np.int32)
    if connection == "weak" or not directed:
        while True:
            _zero(changed)
            k.launch(k.hook, m, d_src, d_dst, label, changed)
            k.launch(k.compress, n, label)
            if not _first(changed):
                return label.copy_to_host()
    active = cuda.to_device(np.ones(n, dtype=np.int8))
    indeg = cuda.to_device(np.zeros(n, dtype=np.int64))
    outdeg = cuda.to_device(np.zeros(n, dtype=np.int64))
    colour = cuda.device_array(n, dtype=np.int64)
    mark = cuda.device_array(n, dtype=np.int8)
    remaining = cuda.device_array(1, dtype=np.int32)
    while True:
        _until_unchanged(changed, lambda: (k.launch(k.trim_degrees, m, d_src, d_dst, active, indeg, outdeg),
                                           k.launch(k.trim_nodes, n, active, indeg, outdeg, label, changed)))
        k.launch(k.colour_init, n, active, colour, mark)
        _until_unchanged(changed, lambda: k.launch(k.colour_forward, m, d_src, d_dst, active, colour, changed))
        k.launch(k.colour_roots, n, active, colour, mark, label)
        _until_unchanged(changed, lambda: k.launch(k.colour_backward, m, d_src, d_dst, active, colour, mark, label,
                                                   changed))
        _zero(remaining)
        k.launch(k.colour_retire, n, active, mark, remaining)
        if not _first(remaining):
            return label.copy_to_host()


def bfs(indptr, indices, seeds, max_depth, target):
    """Breadth-first search on the device, one level at a time; the CPU kernel's arguments and results.

    Each level's frontier nodes claim their unvisited neighbours by compare-and-swap on the
    distance (the winner sets the parent and appends the node to the next frontier), as in
    Merrill, Garland & Grimshaw 2012, "Scalable GPU graph traversal", PPoPP.

    Parameters
    ----------
    indptr, indices : CSR to follow (int64)
    seeds : (k,) int64
        Start rows (distance 0).
    max_depth : int
        Deepest level to reach (-1: no limit).
    target : int
        Stop after the level that reaches this row (-1: none).

    Returns
    -------
    dist : (n,) int64
        Hops from the nearest seed, -1 where unreached; exactly the CPU kernel's distances.
    parent : (n,) int64
        A BFS parent of each reached node (-1 for seeds and unreached nodes); where several
        nodes of the level above could be the parent, the one chosen may differ from the CPU's.

    Raises
    ------
    numba.cuda.CudaSupportError
        No device and no simulator.
    """
    from numba import cuda

    from alchemist.graph import _cuda_analytics as k

    n = indptr.shape[0] - 1
    dist = np.full(n, -1, dtype=np.int64)
    start = np.unique(np.asarray(seeds, dtype=np.int64))
    dist[start] = 0
    if n == 0 or start.shape[0] == 0:
        return dist, np.full(n, -1, dtype=np.int64)
    d_ptr, d_ind = _to_device(indptr), _to_device(indices)
    d_dist = cuda.to_device(dist)
    d_parent = cuda.to_device(np.full(n, -1, dtype=np.int64))
    frontier, following = cuda.to_device(np.resize(start, n)), cuda.device_array(n, dtype=np.int64)
    counter = cuda.device_array(1, dtype=np.int32)
    n_front, level = start.shape[0], 0
    while n_front > 0 and (max_depth < 0 or level < max_depth):
        if target >= 0 and d_dist[target:target + 1].copy_to_host()[0] >= 0:
            break
        _zero(counter)
        k.launch(k.bfs_level, n_front, d_ptr, d_ind, frontier, n_front, d_dist, d_parent, following, counter, level)
        n_front, level = _first(counter), level + 1
        frontier, following = following, frontier
    return d_dist.copy_to_host(), d_parent.copy_to_host()


def dijkstra_all(indptr, indices, w, s):
    """Single-source shortest path lengths on the device (non-negative weights); the arguments
    and results of the CPU's Dijkstra kernel.

    Work-list Bellman–Ford: each round relaxes the out-edges of the nodes improved in the round
    before, lowering distances by atomic minimum (Davidson, Baxter, Garland & Owens 2014,
    "Work-efficient parallel GPU methods for single-source shortest paths", IPDPS). Every
    distance is the minimum over paths of the same left-to-right float sums Dijkstra computes,
    so the results are equal, not merely close.

    Parameters
    ----------
    indptr, indices : CSR to follow (int64)
    w : (nnz,) float64
        Non-negative weight of each CSR entry.
    s : int
        Source row.

    Returns
    -------
    (n,) float64
        ``inf`` where unreachable.

    Raises
    ------
    numba.cuda.CudaSupportError
        No device and no simulator.
    """
    from numba import cuda

    from alchemist.graph import _cuda_analytics as k

    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    dist[s] = 0.0
    d_ptr, d_ind, d_w = _to_device(indptr), _to_device(indices), _to_device(w)
    d_dist = cuda.to_device(dist)
    frontier = cuda.to_device(np.resize(np.array([s], dtype=np.int64), n))
    following = cuda.device_array(n, dtype=np.int64)
    flag = cuda.to_device(np.zeros(n, dtype=np.int8))
    counter = cuda.device_array(1, dtype=np.int32)
    n_front = 1
    while n_front > 0:
        k.launch(k.relax, n_front, d_ptr, d_ind, d_w, frontier, n_front, d_dist, flag)
        _zero(counter)
        k.launch(k.gather_flagged, n, flag, following, counter)
        n_front = _first(counter)
        frontier, following = following, frontier
    return d_dist.copy_to_host()


def triangle_kernel(indptr, indices):
    """Triangles at each node of a simple undirected graph on the device; the CPU kernel's
    arguments and results (exact counts).

    One thread per CSR entry ``u → v`` with ``u < v`` merges the parts of the two sorted rows
    above ``v`` (each triangle ``u < v < w`` found once, counted at its three corners with atomic
    adds); the edge-per-thread split keeps hubs from serialising on one thread (Green, Yalamanchili
    & Munguía 2014, "Fast triangle counting on the GPU", IA3).

    Parameters
    ----------
    indptr, indices : CSR of the simple undirected graph, rows sorted, no self-loops (int64)

    Returns
    -------
    (n,) float64
        Triangles through each node.

    Raises
    ------
    numba.cuda.CudaSupportError
        No device and no simulator.
    """
    from numba import cuda

    from alchemist.graph import _cuda_analytics as k

    n = indptr.shape[0] - 1
    nnz = indices.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    tri = cuda.to_device(np.zeros(n))
    k.launch(k.triangles, nnz, _to_device(indptr), _to_device(indices), _to_device(rows), tri)
    return tri.copy_to_host()


def louvain_move(indptr, indices, data, k, comm0, order, resolution, m2):
    """Phase 1 of Louvain (local moving) on the device; the CPU kernel's arguments and results.

    The nodes are first coloured so that no two neighbours share a colour (Jones & Plassmann
    1993, "A parallel graph coloring heuristic", SIAM J. Sci. Comput. 14(3), with random
    priorities drawn from a generator seeded by ``order``, the CPU's node order). A sweep then
    takes the colour classes in turn: all nodes of one class pick the neighbouring community of
    largest modularity gain at once and move together (the scheme of Lu, Halappanavar &
    Kalyanaraman 2015, "Parallel heuristics for scalable community detection", Parallel
    Computing 47: neighbours never move in the same step, so they cannot swap back and forth).
    The modularity after each sweep is computed on the device; the moving ends when a sweep gains
    less than :data:`MIN_SWEEP_GAIN` (a sweep that loses is undone) or after :data:`MAX_SWEEPS`.
    The result is a different local optimum than the CPU's sequential queue; over the whole
    method (the CPU's levels and refinement, :func:`alchemist.graph.louvain`) the modularity is
    within 0.02 of the CPU path's on the test graphs.

    Parameters
    ----------
    indptr, indices, data : symmetric weighted CSR (``A_ii`` twice the self-loop weight)
    k : (n,) float64
        Weighted degrees (row sums).
    comm0 : (n,) int64
        Starting community of each node (labels below n).
    order : (n,) int64
        The CPU's random node order (seeds the colouring's priorities here).
    resolution, m2 : float
        γ and the total weight ``Σ A_ij`` of the level-0 graph.

    Returns
    -------
    comm : (n,) int64
        Community of each node (labels below n).
    gained : float
        The modularity gained (0.0 when nothing moved).

    Raises
    ------
    numba.cuda.CudaSupportError
        No device and no simulator.
    """
    from numba import cuda

    from alchemist.graph import _cuda_analytics as kk

    n = indptr.shape[0] - 1
    if n == 0:
        return np.zeros(0, dtype=np.int64), 0.0
    rng = np.random.default_rng(np.asarray(order[:64], dtype=np.uint64))
    d_ptr, d_ind, d_data, d_k = (_to_device(a) for a in (indptr, indices, data, k))
    start = np.asarray(comm0, dtype=np.int64)
    comm = cuda.to_device(start.copy())
    tot = cuda.to_device(np.bincount(start, weights=k, minlength=n).astype(np.float64))
    saved = [cuda.device_array_like(a) for a in (comm, tot)]
    slots = max(2 * indices.shape[0], 1)
    keys, vals = cuda.device_array(slots, dtype=np.int64), cuda.device_array(slots, dtype=np.float64)
    target = cuda.device_array(n, dtype=np.int64)
    moves = cuda.device_array(1, dtype=np.int32)
    acc = cuda.device_array(2, dtype=np.float64)
    colour = cuda.to_device(np.full(n, -1, dtype=np.int64))
    priority = _to_device(rng.permutation(n).astype(np.int64))
    n_colours = 0
    while True:
        _zero(moves)
        kk.launch(kk.colour_round, n, d_ptr, d_ind, priority, colour, n_colours, moves)
        n_colours += 1
        if not _first(moves):
            break

    def quality():
        kk.launch(kk.fill_float, 2, acc, 0.0)
        kk.launch(kk.louvain_quality, n, d_ptr, d_ind, d_data, comm, tot, acc)
        inside, squares = acc.copy_to_host()
        return inside / m2 - resolution * squares / (m2 * m2)

    q0 = q = quality()
    for _ in range(MAX_SWEEPS):
        for a, b in zip((comm, tot), saved):
            kk.launch(kk.copy_into, n, a, b)
        _zero(moves)
        for c in range(n_colours):
            kk.launch(kk.louvain_best, n, d_ptr, d_ind, d_data, d_k, comm, tot, colour, c, float(resolution),
                      float(m2), keys, vals, target)
            kk.launch(kk.louvain_apply, n, d_k, comm, tot, target, moves)
        if not _first(moves):
            break
        new_q = quality()
        if new_q < q:  # the moves of one class interacted through the community totals: undo the sweep
            for a, b in zip(saved, (comm, tot)):
                kk.launch(kk.copy_into, n, a, b)
            break
        q, gain = new_q, new_q - q
        if gain < MIN_SWEEP_GAIN:
            break
    return comm.copy_to_host(), q - q0


def has_cugraph() -> bool:
    """Whether cuGraph imports (then :func:`~alchemist.graph.louvain` on the device delegates to it).

    Returns
    -------
    bool

    Raises
    ------
    None

    Examples
    --------
    >>> has_cugraph() in (True, False)
    True
    """
    import importlib

    try:
        importlib.import_module("cudf")
        importlib.import_module("cugraph")
    except Exception:  # ImportError, or a CUDA runtime error at import
        return False
    return True


def cugraph_louvain(A, *, resolution: float = 1.0, threshold: float = 1.0e-7, max_levels: int = 32) -> np.ndarray:
    """Louvain communities by ``cugraph.louvain`` on a symmetric weighted adjacency matrix.

    Parameters
    ----------
    A : (n, n) scipy.sparse matrix
        Symmetric, ``A_ii`` twice the self-loop weight (as the analytics build it).
    resolution, threshold : float
        γ and the minimum modularity gain (cuGraph's ``resolution`` and ``threshold``).
    max_levels : int
        cuGraph's ``max_level``.

    Returns
    -------
    (n,) int64
        Community of each node (nodes without edges alone in their own).

    Raises
    ------
    ImportError
        cuGraph or cuDF is not installed (check :func:`has_cugraph` first).
    """
    import cudf
    import cugraph
    import scipy.sparse as sp

    n = A.shape[0]
    upper = sp.triu(sp.csr_matrix(A), format="coo")
    w = np.where(upper.row == upper.col, upper.data / 2.0, upper.data)
    frame = cudf.DataFrame({"src": upper.row.astype(np.int32), "dst": upper.col.astype(np.int32),
                            "weight": w.astype(np.float64)})
    G = cugraph.Graph(directed=False)
    G.from_cudf_edgelist(frame, source="src", destination="dst", edge_attr="weight", renumber=True)
    parts, _ = cugraph.louvain(G, max_level=max_levels, resolution=resolution, threshold=threshold)
    vertex = parts["vertex"].to_numpy().astype(np.int64)
    partition = parts["partition"].to_numpy().astype(np.int64)
    labels = np.arange(n, dtype=np.int64) + (int(partition.max()) + 1 if partition.shape[0] else 0)
    labels[vertex] = partition
    return labels


# ---------------------------------------------------------------------- helpers
def _to_device(array):
    from numba import cuda

    return cuda.to_device(np.ascontiguousarray(array))


def _zero(flag) -> None:
    flag.copy_to_device(np.zeros(flag.shape[0], dtype=flag.dtype))


def _first(flag) -> int:
    return int(flag.copy_to_host()[0])


def _until_unchanged(changed, step) -> None:
    """Run ``step`` (which sets ``changed[0]`` when it changes anything) until it changes nothing."""
    while True:
        _zero(changed)
        step()
        if not _first(changed):
            return
