"""The layout input's symmetric CSR (issue 15): the NumPy builder (no compile, small graphs) against SciPy's
sparse sum and against the compiled builder of large graphs, which must give the same arrays bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from alchemist.layout._csr import symmetric_csr
from alchemist.layout._input import COMPILED_MIN_EDGES, as_layout_graph, edge_arrays, symmetric_csr_numpy

FIELDS = ("src", "dst", "weight", "indptr", "indices", "weights")


def _multigraph(seed, n, m):
    """Random edges with self-loops, parallel edges and both directions of some pairs."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    return n, src, dst, rng.random(m) * 10.0 ** rng.integers(-3, 4, m)


@pytest.mark.parametrize("seed,n,m", [(0, 1, 0), (1, 5, 40), (2, 300, 3_000), (3, 2_000, 1_000)])
def test_numpy_csr_is_scipys_symmetric_sum(seed, n, m):
    n, src, dst, w = edge_arrays(_multigraph(seed, n, m))
    e_src, e_dst, e_w, indptr, indices, weights = symmetric_csr_numpy(n, src, dst, w)
    keep = src != dst
    lo, hi = np.minimum(src, dst)[keep], np.maximum(src, dst)[keep]
    upper = sp.coo_matrix((w[keep], (lo, hi)), shape=(n, n)).tocsr()  # sums parallel edges
    upper.sum_duplicates()
    full = (upper + upper.T).tocsr()
    full.sort_indices()
    np.testing.assert_array_equal(indptr, full.indptr)
    np.testing.assert_array_equal(indices, full.indices)
    np.testing.assert_allclose(weights, full.data, rtol=1e-12)
    coo = upper.tocoo()
    np.testing.assert_array_equal(e_src, coo.row)
    np.testing.assert_array_equal(e_dst, coo.col)
    np.testing.assert_allclose(e_w, coo.data, rtol=1e-12)
    assert indices.dtype == np.int32 and indptr.dtype == np.int64


@pytest.mark.parametrize("seed,n,m", [(4, 50, 5_000), (5, 10_000, 30_000)])
def test_numpy_and_compiled_csr_agree_bit_for_bit(seed, n, m):
    n, src, dst, w = edge_arrays(_multigraph(seed, n, m))
    w[::7] = -0.0  # the sign of a zero sum is kept as a loop over the edges keeps it
    ours = symmetric_csr_numpy(n, src, dst, w)
    compiled = symmetric_csr(n, src, dst, w)
    for name, a, b in zip(FIELDS, ours, compiled):
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)
        np.testing.assert_array_equal(np.signbit(a), np.signbit(b), err_msg=name)


def test_large_graphs_take_the_compiled_builder_with_the_same_result():
    n, src, dst, w = edge_arrays(_multigraph(6, 20_000, COMPILED_MIN_EDGES))
    g = as_layout_graph((n, src, dst, w))
    ours = symmetric_csr_numpy(n, src, dst, w)
    for name, field in zip(FIELDS, ("src", "dst", "edge_weight", "indptr", "indices", "weights")):
        np.testing.assert_array_equal(getattr(g, field), ours[FIELDS.index(name)], err_msg=name)
