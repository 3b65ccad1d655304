"""numba.cuda kernels under the CUDA simulator (small inputs), against the CPU path."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.cudasim


def test_nearest_and_distances_kernels():
    from alchemist.concepts import ConceptualSpace, categorize, distance_matrix
    from alchemist.concepts.categorize import launch_distances_cuda, launch_nearest_cuda, metric_arrays

    sp = ConceptualSpace({"a": [0, 1], "hue": [2]}, kinds=["continuous", "continuous", "circular"],
                         ranges=[(0, 1), (0, 1), (0, 360)], weights={"a": 1, "hue": 0.01})
    rng = np.random.default_rng(0)
    x = (rng.random((40, 3)) * [1, 1, 360]).astype(np.float32)
    p = (rng.random((70, 3)) * [1, 1, 360]).astype(np.float32)
    labels = np.empty(40, dtype=np.int64)
    launch_nearest_cuda(x, p, metric_arrays(sp, 3), labels, threads=32)
    np.testing.assert_array_equal(labels, categorize(x, p, sp, backend="cpu"))
    out = np.empty((40, 70), dtype=np.float32)
    launch_distances_cuda(x, p, metric_arrays(sp, 3), out, threads=32)
    np.testing.assert_allclose(out, distance_matrix(x, p, sp, backend="cpu"), rtol=1e-5)


def test_membership_kernel(shared_data):
    from alchemist.concepts import membership_matrix, read_reference_spaces
    from alchemist.concepts.categorize import _pack_concepts, launch_membership_cuda

    space, concepts = read_reference_spaces(shared_data("conceptual_spaces/bechberger_example_spaces.json"))["fruit_space"]
    ks = list(concepts.values())
    x = np.random.default_rng(1).random((20, 3))
    out = np.empty((20, len(ks)))
    launch_membership_cuda(x, _pack_concepts(ks), out, threads=32)
    np.testing.assert_allclose(out, membership_matrix(x, ks, backend="cpu"), rtol=1e-12)
