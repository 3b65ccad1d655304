"""The iteration loop of the CPU ForceAtlas2: tree, forces, adaptive speed and move, compiled.

:func:`iterate` runs whole iterations in one compiled loop, so that a run without a Python
callback returns to the interpreter only between blocks of iterations
(:func:`alchemist.layout.force_atlas.forceatlas2` sizes the blocks). There are two compiled loops,
one per way of building the tree, chosen in Python: a graph compiles only the one it uses (issue 15:
the first call's compile time). Each iteration:

1. the quadtree (:mod:`alchemist.layout._tree`) and gravity + attraction
   (:mod:`alchemist.layout._attraction`) in one parallel region, :func:`tree_and_attraction`:
   below ``PARALLEL_TREE_MIN`` nodes one thread builds the tree while the others share the
   attraction, from there on all threads build the tree, then share the attraction;
2. the repulsion (:mod:`alchemist.layout._repulsion`), groups of points spread over the cores;
3. swinging and traction, the adaptive speed (:func:`alchemist.layout.speed.adapt_speed`) and
   the move, with the per-node laws of :mod:`alchemist.layout._laws` (shared with the CUDA
   kernels).

The three large kernels — the serial tree (:func:`alchemist.layout._tree.build_tree_kernel`), the
attraction rows (:func:`alchemist.layout._attraction.attraction_rows_kernel`) and the repulsion of a
chunk of groups (:func:`alchemist.layout._repulsion.repulsion_groups_kernel`) — are compiled once
each as C callbacks with explicit signatures and passed down to the loop as function pointers. A
Numba function that calls another links the callee's code into its own and optimises and
assembles it again, so before this the repulsion's code was made five times (its own, the parallel
region's, :func:`repulsion`'s, :func:`move`'s, the loop's): issue 15, the first call's compile
time. An indirect call per thread and iteration costs nothing measurable.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from alchemist.layout._attraction import attraction_rows_kernel, attraction_shares
from alchemist.layout._laws import local_speed, swing_traction
from alchemist.layout._repulsion import group_cells, repulsion_chunks, repulsion_groups_kernel
from alchemist.layout._tree import PRANGE_ONLY, build_tree_kernel, build_tree_parallel, make_workspace, parallel_tree
from alchemist.layout.speed import adapt_speed

__all__ = [
    "make_workspace", "iterate", "iterate_serial_tree", "iterate_parallel_tree", "move", "tree_and_attraction",
    "tree_and_attraction_serial", "tree_and_attraction_parallel", "total_force_and_swing", "apply_forces",
]

_adapt_speed = njit(inline="always")(adapt_speed)
_local_speed = njit(inline="always")(local_speed)
_swing_traction = njit(inline="always")(swing_traction)


def tree_and_attraction(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts, indptr, indices,
                        weights, kr, gravity, strong, lin_log, dissuade, coef_att, overlap, att, rows):
    """Build the quadtree and compute gravity + attraction into ``att``; returns the number of cells.

    ``rows`` (from :func:`attraction_shares`) has one share of the attraction's node rows per
    thread. With ``n >= PARALLEL_TREE_MIN`` nodes and several threads, all threads build the
    tree and then do their shares (:func:`tree_and_attraction_parallel`); below that, thread 0
    builds the serial tree while the others attract (:func:`tree_and_attraction_serial`).
    The choice is made here, in Python, so that only the path a graph takes is compiled.
    """
    args = (pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts, indptr, indices, weights, kr,
            gravity, strong, lin_log, dissuade, coef_att, overlap, att, rows)
    if _parallel_tree(pos.shape[0], rows.shape[0] - 1):
        return tree_and_attraction_parallel(*args, attraction_rows_kernel())
    return tree_and_attraction_serial(*args, build_tree_kernel(), attraction_rows_kernel())


def iterate(n_iterations, pos, mass, size, fixed, force_pair, att, extra, state, theta, codes, order, tmp, tmpc,
            parent, cells, pts, indptr, indices, weights, kr, gravity, strong, lin_log, dissuade, coef_att,
            overlap, jitter, n_free, n_threads):
    """Run ``n_iterations`` ForceAtlas2 iterations on ``pos`` (in place), in one compiled loop.

    ``force_pair`` is ``(2, n, 2) float64``: this iteration's and the previous iteration's
    forces, alternating; ``state`` is ``[speed, efficiency, k]`` with ``force_pair[k]`` the most
    recent force, carried between calls so that ``n`` calls of one iteration give exactly the
    same positions as one call of ``n`` (the Python loop calls it in blocks of iterations, or
    one at a time when it needs a callback or extra forces, which are added from ``extra``:
    ``(n, 2)``, or ``(0, 2)`` for none). Each iteration: tree + attraction
    (:func:`tree_and_attraction`), repulsion, swinging and traction, the adaptive speed
    (:func:`alchemist.layout.speed.adapt_speed`), the move.

    The compiled loop is :func:`iterate_parallel_tree` or :func:`iterate_serial_tree`, chosen
    here: a graph compiles only its own (the parallel tree is a third of the first call's compile
    time, and graphs under ``PARALLEL_TREE_MIN`` nodes never use it).
    """
    args = (n_iterations, pos, mass, size, fixed, force_pair, att, extra, state, theta, codes, order, tmp, tmpc,
            parent, cells, pts, indptr, indices, weights, kr, gravity, strong, lin_log, dissuade, coef_att, overlap,
            jitter, n_free, n_threads)
    if _parallel_tree(pos.shape[0], max(1, n_threads)):
        iterate_parallel_tree(*args, attraction_rows_kernel(), repulsion_groups_kernel())
    else:
        iterate_serial_tree(*args, build_tree_kernel(), attraction_rows_kernel(), repulsion_groups_kernel())


def _parallel_tree(n, nt):
    """:func:`alchemist.layout._tree.parallel_tree` in Python (no compiled call to choose the compiled loop)."""
    return parallel_tree.py_func(n, nt)


@njit(cache=True, error_model="numpy")
def iterate_serial_tree(n_iterations, pos, mass, size, fixed, force_pair, att, extra, state, theta, codes, order,
                        tmp, tmpc, parent, cells, pts, indptr, indices, weights, kr, gravity, strong, lin_log,
                        dissuade, coef_att, overlap, jitter, n_free, n_threads, tree_kernel, attraction_kernel,
                        groups_kernel):
    """:func:`iterate` with the tree of :func:`tree_and_attraction_serial` (the kernels: see the module)."""
    rows = attraction_shares(indptr, n_threads)
    for _ in range(n_iterations):
        n_cells = tree_and_attraction_serial(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts,
                                             indptr, indices, weights, kr, gravity, strong, lin_log, dissuade,
                                             coef_att, overlap, att, rows, tree_kernel, attraction_kernel)
        move(n_cells, pos, mass, size, fixed, force_pair, att, extra, state, theta, order, parent, cells, pts, kr,
             overlap, jitter, n_free, n_threads, groups_kernel)


@njit(cache=True, error_model="numpy")
def iterate_parallel_tree(n_iterations, pos, mass, size, fixed, force_pair, att, extra, state, theta, codes, order,
                          tmp, tmpc, parent, cells, pts, indptr, indices, weights, kr, gravity, strong, lin_log,
                          dissuade, coef_att, overlap, jitter, n_free, n_threads, attraction_kernel, groups_kernel):
    """:func:`iterate` with the tree of :func:`tree_and_attraction_parallel` (the kernels: see the module)."""
    rows = attraction_shares(indptr, n_threads)
    for _ in range(n_iterations):
        n_cells = tree_and_attraction_parallel(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts,
                                               indptr, indices, weights, kr, gravity, strong, lin_log, dissuade,
                                               coef_att, overlap, att, rows, attraction_kernel)
        move(n_cells, pos, mass, size, fixed, force_pair, att, extra, state, theta, order, parent, cells, pts, kr,
             overlap, jitter, n_free, n_threads, groups_kernel)


@njit(cache=True, error_model="numpy")
def move(n_cells, pos, mass, size, fixed, force_pair, att, extra, state, theta, order, parent, cells, pts, kr, overlap,
         jitter, n_free, n_threads, groups_kernel):
    """The rest of an iteration once the tree and the attraction are done: repulsion into this
    iteration's force (``groups_kernel``: :func:`~alchemist.layout._repulsion.repulsion_groups_kernel`),
    swinging and traction, the adaptive speed, the move; ``state`` advances."""
    k = 1 - np.int64(state[2])
    force = force_pair[k]
    old_force = force_pair[1 - k]
    groups = group_cells(n_cells, cells)
    repulsion_chunks(groups_kernel, order, n_cells, parent, cells, pts, groups, theta, kr, overlap, force, n_threads)
    swinging, traction = total_force_and_swing(force, att, extra, mass, fixed, old_force)
    speed, efficiency = _adapt_speed(swinging, traction, n_free, state[0], state[1], jitter)
    apply_forces(pos, mass, size, fixed, force, old_force, speed, overlap)
    state[0] = speed
    state[1] = efficiency
    state[2] = k


@njit(cache=True, parallel=PRANGE_ONLY, error_model="numpy")
def tree_and_attraction_parallel(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts, indptr, indices,
                                 weights, kr, gravity, strong, lin_log, dissuade, coef_att, overlap, att, rows,
                                 attraction_kernel):
    """:func:`tree_and_attraction` for ``n >= PARALLEL_TREE_MIN`` on several threads: all threads
    build the tree (:func:`build_tree_parallel`), then do their shares of the attraction."""
    nt = rows.shape[0] - 1
    n_cells = build_tree_parallel(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts, nt)
    for t in prange(nt):
        attraction_kernel(rows[t], rows[t + 1], pos, mass, size, indptr, indices, weights, kr, gravity, strong,
                          lin_log, dissuade, coef_att, overlap, att)
    return n_cells


@njit(cache=True, parallel=PRANGE_ONLY, error_model="numpy")
def tree_and_attraction_serial(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts, indptr, indices,
                               weights, kr, gravity, strong, lin_log, dissuade, coef_att, overlap, att, rows,
                               tree_kernel, attraction_kernel):
    """:func:`tree_and_attraction` below ``PARALLEL_TREE_MIN`` nodes (or on one thread): the two run
    side by side in one parallel region; thread 0 builds the (serial) tree (:func:`~alchemist.layout._tree.build_tree`)
    and then does its share, which is smaller by the tree's cost."""
    nt = rows.shape[0] - 1
    out = np.zeros(1, np.int64)
    for t in prange(nt):
        if t == 0:
            out[0] = tree_kernel(pos, mass, size, theta, codes, order, tmp, tmpc, parent, cells, pts)
        attraction_kernel(rows[t], rows[t + 1], pos, mass, size, indptr, indices, weights, kr, gravity, strong,
                          lin_log, dissuade, coef_att, overlap, att)
    return out[0]


@njit(inline="always", error_model="numpy")
def total_force_and_swing(force, att, extra, mass, fixed, old_force):
    """``force += att (+ extra)``; returns ``(swinging, traction)``, the mass-weighted sums of
    ``|F_old - F|`` and ``|F_old + F| / 2`` over the free nodes (serial: one light pass)."""
    n = force.shape[0]
    has_extra = extra.shape[0] == n
    swinging = 0.0
    traction = 0.0
    for i in range(n):
        fx = force[i, 0] + att[i, 0]
        fy = force[i, 1] + att[i, 1]
        if has_extra:
            fx += extra[i, 0]
            fy += extra[i, 1]
        force[i, 0] = fx
        force[i, 1] = fy
        if not fixed[i]:
            sw, tr = _swing_traction(mass[i], old_force[i, 0], old_force[i, 1], fx, fy)
            swinging += sw
            traction += tr
    return swinging, traction


@njit(inline="always", error_model="numpy")
def apply_forces(pos, mass, size, fixed, force, old_force, speed, overlap):
    """Move every free node by ``force`` times its :func:`~alchemist.layout._laws.local_speed`,
    ``speed / (1 + sqrt(speed * swinging_i))``.

    Serial: a few floating-point operations per node cost less than a parallel region's fork-join.
    """
    n = pos.shape[0]
    for i in range(n):
        if fixed[i]:
            continue
        factor = _local_speed(speed, mass[i], old_force[i, 0] - force[i, 0], old_force[i, 1] - force[i, 1], size[i],
                              overlap)
        pos[i, 0] += force[i, 0] * factor
        pos[i, 1] += force[i, 1] * factor
