"""The CUDA kernels of ForceAtlas2 under Numba's CUDA simulator, against the CPU path.

Stated tolerance: the device computes in float32, the CPU in float64. With exact repulsion
(theta = 0) one to three iterations agree to 1e-4 of the layout's extent; with Barnes–Hut
(theta = 1.2, a binary radix tree on the device, a quadtree on the CPU) repulsion agrees with
exact all-pairs forces within a few percent.
"""

import networkx as nx
import numpy as np
import pytest

pytestmark = pytest.mark.cudasim


def _setup(graph, seed=0, **overrides):
    from alchemist.layout._input import as_layout_graph

    g = as_layout_graph(graph)
    n = g.n_nodes
    pos = np.random.default_rng(seed).random((n, 2)) * 10
    mass = 1.0 + g.degree.astype(float)
    p = dict(theta=0.0, kr=2.0, gravity=1.0, strong=False, lin_log=False, dissuade=False,
             coef_att=1.0, overlap=False, jitter=1.0)
    p.update(overrides)
    if p["dissuade"]:
        p["coef_att"] = float(mass.mean())
    return g, pos, mass, p


def _device(g, pos, mass, p, sizes=None):
    from alchemist.layout._cuda import DeviceLayout

    sizes = np.full(g.n_nodes, 1.0 if p["overlap"] else 0.0) if sizes is None else sizes
    return DeviceLayout(np, g, g.weights, mass, sizes, np.zeros(g.n_nodes, bool), pos, p)


@pytest.mark.parametrize("options", [{}, {"lin_log": True}, {"dissuade": True}, {"strong": True}])
def test_device_iterations_match_cpu(options):
    from alchemist.layout import forceatlas2

    graph = nx.karate_club_graph()
    g, pos, mass, p = _setup(graph, **options)
    dev = _device(g, pos, mass, p)
    cpu_kw = {"lin_log": "lin_log", "dissuade": "dissuade_hubs", "strong": "strong_gravity"}
    kw = {cpu_kw[k]: v for k, v in options.items()}
    for it in (1, 2, 3):
        dev.step()
        ref = forceatlas2(graph, it, theta=0.0, initial_positions=pos, backend="cpu", **kw)
        extent = np.ptp(ref, axis=0).max()
        np.testing.assert_allclose(dev.pos, ref, rtol=0, atol=1e-4 * extent)


def test_device_radix_tree_covers_every_leaf_once():
    g, pos, mass, p = _setup(nx.les_miserables_graph(), seed=2)
    dev = _device(g, pos, mass, p)
    dev.step()
    n = g.n_nodes
    # every node but the root has a parent; every leaf is reached from the root exactly once
    assert (dev.parent[1:2 * n - 1] >= 0).all() and dev.parent[0] == -1
    seen = np.zeros(n, int)
    stack = [0]
    while stack:
        c = stack.pop()
        if c >= n - 1:
            seen[c - (n - 1)] += 1
        else:
            stack.extend(dev.child[c])
    assert (seen == 1).all()
    # the root's mass and centre of mass are those of all points (float32)
    np.testing.assert_allclose(dev.node[0, 0], mass.sum(), rtol=1e-6)


@pytest.mark.parametrize("theta, median_tol", [(0.0, 1e-5), (0.5, 0.01), (1.2, 0.06)])
def test_device_barnes_hut_repulsion_against_exact(theta, median_tol):
    from alchemist.layout._cuda import _k_repulsion

    rng = np.random.default_rng(5)
    pos = np.concatenate([c + rng.normal(scale=1.0, size=(20, 2)) for c in ([0, 0], [15, 3], [4, 20])])
    n = len(pos)
    g, _, _, p = _setup((n, np.zeros(0, np.int64), np.zeros(0, np.int64)))
    mass = 1.0 + rng.integers(0, 5, size=n).astype(float)
    dev = _device(g, pos, mass, p)
    dev.build_tree()
    force = np.zeros((n, 2), np.float32)
    _k_repulsion[1, 64](dev.pts, dev.order, dev.child, dev.span, dev.node, np.float32(theta**2), np.float32(2.0), False, force)
    here = dev.pos.astype(np.float64)
    d = here[:, None, :] - here[None, :, :]
    d2 = (d**2).sum(axis=2)
    np.fill_diagonal(d2, np.inf)
    exact = 2.0 * mass[:, None] * (mass[None, :, None] * d / d2[:, :, None]).sum(axis=1)
    rel = np.linalg.norm(force - exact, axis=1) / np.linalg.norm(exact, axis=1)
    assert np.median(rel) < median_tol
