"""The graph's Numba id table (NodeTable) against a plain Python dict numbering."""

import numpy as np
import pyarrow as pa
import pytest

from alchemist.graph._intern import NodeTable, fill_range

_ALIVE = np.iinfo(np.int64).max


def _reference(known: dict, n0: int, a, b):
    """Rows of a and b: a known id keeps its row, a new one gets n0, n0 + 1, ... in order of
    first appearance over the interleaved slots a0, b0, a1, b1, ..."""
    seen = dict(known)
    first: list[int] = []
    rows = ([], [])
    for k, pair in enumerate(zip(a, b)):
        for side, v in enumerate(pair):
            if v is None:
                rows[side].append(-1)
                continue
            if v not in seen:
                seen[v] = n0 + len(first)
                first.append(2 * k + side)
            rows[side].append(seen[v])
    return rows[0], rows[1], first, seen


def _resolve(table, a, b, removed=None):
    a, b = pa.array(a, pa.string()), pa.array(b, pa.string())
    out_a, out_b = np.empty(len(a), np.int64), np.empty(len(b), np.int64)
    removed = np.zeros(0, np.int64) if removed is None else removed
    first = table.resolve(a, b, removed, out_a, out_b)
    return out_a, out_b, first, a, b


def _commit(table, a, b, first):
    both = pa.concat_arrays([a, b])
    table.commit(both.take(pa.array(np.where(first % 2 == 0, first // 2, len(a) + first // 2))))


CASES = {
    "nulls and empty strings": (["x", None, "", "y", "x", ""], [None, "x", "", None, "z", None]),
    "long ids sharing 8-byte prefixes": (
        ["abcdefgh1", "abcdefgh2", "abcdefgh", "abcdefgh1"], ["abcdefgh2", "abcdefgh1x", "abcdefgh", "q" * 40]),
    "ids differing only by a NUL byte": (["a", "a\x00", "a\x00\x00"], ["a\x00", "a", "b"]),
    "unicode": (["café", "東京", "cafe"], ["東京", "café", "naïve"]),
    "empty": ([], []),
}


@pytest.mark.parametrize("a, b", CASES.values(), ids=CASES.keys())
def test_resolve_on_an_empty_table_matches_a_dict(a, b):
    out_a, out_b, first, _, _ = _resolve(NodeTable(), a, b)
    ra, rb, rfirst, _ = _reference({}, 0, a, b)
    assert out_a.tolist() == ra and out_b.tolist() == rb and first.tolist() == rfirst


def test_rows_persist_between_calls_and_new_ids_follow():
    table = NodeTable()
    known = ["n1", "n2", "a-much-longer-node-name", "n3"]
    table.append(pa.array(known, pa.string()))
    a = ["n2", "new-and-long-node-name", "n9", "a-much-longer-node-name"]
    b = ["n9", "n1", "new-and-long-node-name", "n4"]
    out_a, out_b, first, pa_a, pa_b = _resolve(table, a, b)
    ra, rb, rfirst, seen = _reference({x: i for i, x in enumerate(known)}, 4, a, b)
    assert out_a.tolist() == ra and out_b.tolist() == rb and first.tolist() == rfirst
    _commit(table, pa_a, pa_b, first)
    assert table.size == len(seen)
    # a third call sees every id of the first two
    a2, b2 = list(seen), list(reversed(seen))
    out_a, out_b, first, _, _ = _resolve(table, a2, b2)
    assert out_a.tolist() == [seen[x] for x in a2] and out_b.tolist() == [seen[x] for x in b2]
    assert first.shape[0] == 0


def test_rollback_drops_the_pending_rows():
    table = NodeTable()
    table.append(pa.array(["x", "y"], pa.string()))
    _resolve(table, ["p", "x", "q" * 20], ["y", "r", "p"])
    table.rollback()
    assert table.size == 2
    out_a, out_b, first, _, _ = _resolve(table, ["q" * 20, "y"], ["s", "p"])
    ra, rb, rfirst, _ = _reference({"x": 0, "y": 1}, 2, ["q" * 20, "y"], ["s", "p"])
    assert out_a.tolist() == ra and out_b.tolist() == rb and first.tolist() == rfirst


def test_removed_rows_are_skipped():
    # rows 0 and 2 are the same id: row 0 removed, row 2 its re-added node; row 1 removed for good
    ids = ["dup", "gone", "dup", "long-identifier-dup", "long-identifier-dup"]
    table = NodeTable()
    table.append(pa.array(ids, pa.string()))
    removed = np.array([3, 5, _ALIVE, 4, _ALIVE], np.int64)
    out_a, out_b, first, _, _ = _resolve(table, ["dup", "gone", "long-identifier-dup"], ["gone", "dup", "x"], removed)
    assert out_a.tolist() == [2, 5, 4] and out_b.tolist() == [5, 2, 6]
    assert first.tolist() == [1, 5]  # "gone" first at slot 1 (b of event 0), "x" at slot 5


def test_many_ids_grow_the_table_and_sliced_arrays_work():
    rng = np.random.default_rng(0)
    ids = np.array([f"n{i}" for i in range(20_000)] + [f"node-with-a-long-name-{i}" for i in range(5_000)], object)
    table = NodeTable()
    known = ids[:3_000].tolist()
    table.append(pa.array(known, pa.string()).slice(0))
    a = pa.array(ids[rng.integers(0, len(ids), 30_000)].tolist()).slice(7, 20_000)
    b = pa.array(ids[rng.integers(0, len(ids), 30_000)].tolist()).slice(3, 20_000)
    out_a, out_b = np.empty(len(a), np.int64), np.empty(len(b), np.int64)
    first = table.resolve(a, b, np.zeros(0, np.int64), out_a, out_b)
    ra, rb, rfirst, _ = _reference({x: i for i, x in enumerate(known)}, 3_000, a.to_pylist(), b.to_pylist())
    np.testing.assert_array_equal(out_a, ra)
    np.testing.assert_array_equal(out_b, rb)
    np.testing.assert_array_equal(first, rfirst)


def test_fill_range():
    out = np.zeros(5, np.int64)
    fill_range(out, 7)
    assert out.tolist() == list(range(7, 12))


def test_hash_ids_depend_on_the_bytes_only():
    from alchemist.graph._intern import hash_ids

    words = ["a", "a\x00", "", "abcdefgh", "abcdefghi", "東京", "abcdefghi"]
    h = hash_ids(pa.array(["pad"] + words, pa.string()).slice(1))
    again = hash_ids(pa.array(list(reversed(words)), pa.string()))[::-1]
    assert h.tolist() == again.tolist()
    by_word = dict(zip(words, h.tolist()))
    assert len(set(by_word.values())) == len(by_word)  # 6 distinct words, 6 distinct hashes
