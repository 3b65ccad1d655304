"""The Numba interning of id strings against a plain Python dict numbering."""

import numpy as np
import pyarrow as pa
import pytest

from alchemist.graph._intern import intern_pair


def _reference(a, b):
    """Codes in order of first appearance over the interleaved slots a0, b0, a1, b1, ..."""
    seen: dict[str, int] = {}
    first: list[int] = []
    codes = ([], [])
    for k, pair in enumerate(zip(a, b)):
        for side, v in enumerate(pair):
            if v is None:
                codes[side].append(-1)
                continue
            if v not in seen:
                seen[v] = len(seen)
                first.append(2 * k + side)
            codes[side].append(seen[v])
    return codes[0], codes[1], first, list(seen)


CASES = {
    "nulls and empty strings": (["x", None, "", "y", "x", ""], [None, "x", "", None, "z", None]),
    "long ids sharing 8-byte prefixes": (
        ["abcdefgh1", "abcdefgh2", "abcdefgh", "abcdefgh1"], ["abcdefgh2", "abcdefgh1x", "abcdefgh", "q" * 40]),
    "unicode": (["café", "東京", "cafe"], ["東京", "café", "naïve"]),
    "empty": ([], []),
}


@pytest.mark.parametrize("a, b", CASES.values(), ids=CASES.keys())
def test_intern_pair_matches_a_dict(a, b):
    ac, bc, first, dictionary = intern_pair(pa.array(a, pa.string()), pa.array(b, pa.string()))
    ra, rb, rfirst, rdict = _reference(a, b)
    assert ac.tolist() == ra and bc.tolist() == rb
    assert first.tolist() == rfirst and dictionary.to_pylist() == rdict


def test_intern_pair_many_ids_and_sliced_arrays():
    # enough distinct ids to grow the hash table several times; slices have a non-zero offset
    rng = np.random.default_rng(0)
    ids = np.array([f"n{i}" for i in range(20_000)] + [f"node-with-a-long-name-{i}" for i in range(5_000)], object)
    a = pa.array(ids[rng.integers(0, len(ids), 30_000)].tolist()).slice(7, 20_000)
    b = pa.array(ids[rng.integers(0, len(ids), 30_000)].tolist()).slice(3, 20_000)
    ac, bc, first, dictionary = intern_pair(a, b)
    ra, rb, rfirst, rdict = _reference(a.to_pylist(), b.to_pylist())
    np.testing.assert_array_equal(ac, ra)
    np.testing.assert_array_equal(bc, rb)
    np.testing.assert_array_equal(first, rfirst)
    assert dictionary.to_pylist() == rdict
