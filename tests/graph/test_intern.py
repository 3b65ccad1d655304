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
    "a UUID after an id of its first 20 characters": (
        ["0e6b2f4a-7c1d-4e8f-9" + "x" * 16, "0e6b2f4a-7c1d-4e8f-9a3b-5c6d7e8f9a0b", "0e6b2f4a-7c1d-4e8f-9" + "y" * 16],
        ["0e6b2f4a-7c1d-4e8f-9a3b-5c6d7e8f9a0b", "0e6b2f4a-7c1d-4e8f-9" + "y" * 16, "0e6b2f4a-7c1d-4e8f-9" + "x" * 16]),
    "heads apart in their middle byte, tails apart in one byte": (
        ["p" * 30 + "m" + "p" * 30 + "0" * 16, "p" * 61 + "0" * 16, "p" * 61 + "0" * 15 + "1"],
        ["p" * 61 + "0" * 16, "p" * 30 + "m" + "p" * 30 + "0" * 16, "p" * 61 + "1" + "0" * 15]),
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


# ---------------------------------------------------------------------- id shapes held in the slot or hashed
def _uuid_like(rng):
    """UUIDs in every spelling the table tells apart, and strings one character away from one."""
    import uuid

    u = str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63))))
    out = [u, u.upper(), u[:-1] + "0", u[:-1] + "1"]             # case; the last digit
    out.append(str(uuid.UUID(int=int(rng.integers(0, 10**6)))))  # digits (and dashes) only
    for bad in ":qgG/@`", "-x":  # characters a loose hex decoding would read as a digit, or out of place
        for c in bad:
            i = int(rng.integers(0, 36))
            out.append(u[:i] + c + u[i + 1:])
    out += [c + u[1:] for c in "a:qAQ9pyg"]  # one digit spelt as characters a loose decoding reads alike
    out.append(u[:8] + u[9:13] + "-" + u[8] + u[13:])           # a dash moved
    out.append(u[:20] + u[20:].upper())                           # mixed case
    return out


def _id_pool(seed):
    rng = np.random.default_rng(seed)
    pool = ["", "a", "a\x00", "\x00", "abcdefgh", "abcdefgh\x00", "abcdefghi", "abcdefghij" * 2, "é", "東京",
            "0" * 16, "0" * 15 + "1", "0" * 17, "x" * 64, "x" * 63 + "y", "y" + "x" * 63, "z" * 200, "z" * 199 + "é"]
    pool += ["p" * int(k) + "q" * int(j) for k, j in rng.integers(0, 24, (40, 2))]  # lengths around 8 and 16
    for _ in range(12):
        pool += _uuid_like(rng)
    pool += [f"{'organisation-unit/department/team/member-record/':x<50}{i:014d}" for i in range(20)]
    pool += ["".join(rng.choice(list("ab\x00éz東"), int(n))) for n in rng.integers(0, 70, 60)]
    return list(dict.fromkeys(pool))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_ids_of_every_shape_match_a_dict_across_calls(seed):
    """Calls on one table (resolve + commit, rollback, append), ids drawn from a pool of every shape."""
    rng = np.random.default_rng(100 + seed)
    pool = _id_pool(seed)
    # call 3 appends rows without lookup, as a graph's per-event adds are
    extra = [f"appended-{i}-" + "w" * i for i in range(30)] + [x.upper() for x in pool[-40:]]
    _calls_against_a_dict(rng, pool, calls=6, low=0, high=2000, rollback=2, append=3, extra=extra)


def _calls_against_a_dict(rng, pool, *, calls, low, high, rollback, append, extra, most=None):
    """Calls on one table of ids drawn from ``pool`` (and nulls), each against a dict numbering ids
    in order of first occurrence: resolve + commit, except call ``rollback`` (rolled back) and call
    ``append`` (after its commit, the ``extra`` ids not yet known, at most ``most``, appended without
    lookup); at the end every known id resolves to its row and none is new."""
    table, known = NodeTable(), {}
    for call in range(calls):
        n = int(rng.integers(low, high))
        a = [pool[i] if i < len(pool) else None for i in rng.integers(0, len(pool) + 3, n)]
        b = [pool[i] if i < len(pool) else None for i in rng.integers(0, len(pool) + 3, n)]
        out_a, out_b, first, pa_a, pa_b = _resolve(table, a, b)
        ra, rb, rfirst, seen = _reference(known, len(known), a, b)
        assert out_a.tolist() == ra and out_b.tolist() == rb and first.tolist() == rfirst
        if call == rollback:
            table.rollback()
            continue
        _commit(table, pa_a, pa_b, first)
        known = seen
        if call == append:
            new = [x for x in dict.fromkeys(extra) if x not in known][:most]
            table.append(pa.array(new, pa.string()))
            known.update({x: len(known) + i for i, x in enumerate(new)})
    out_a, _, first, _, _ = _resolve(table, list(known), [None] * len(known))
    assert out_a.tolist() == list(known.values()) and first.size == 0


def test_node_rows_match_pyarrow_dictionary_encode():
    """One column on an empty table: rows in order of first appearance, as Arrow's dictionary encoding."""
    import pyarrow.compute as pc

    rng = np.random.default_rng(5)
    pool = _id_pool(7)
    ids = pa.array([pool[i] for i in rng.integers(0, len(pool), 20_000)], pa.string()).slice(11)
    nulls = pa.nulls(len(ids), pa.string())
    out_a, out_b = np.empty(len(ids), np.int64), np.empty(len(ids), np.int64)
    first = NodeTable().resolve(ids, nulls, np.zeros(0, np.int64), out_a, out_b)
    encoded = pc.dictionary_encode(ids)
    np.testing.assert_array_equal(out_a, encoded.indices.to_numpy())
    assert (out_b == -1).all()
    assert ids.take(pa.array(first // 2)).to_pylist() == encoded.dictionary.to_pylist()


def test_uuid_spellings_are_different_ids_and_hash_apart():
    from alchemist.graph._intern import hash_ids

    rng = np.random.default_rng(9)
    ids = list(dict.fromkeys(_uuid_like(rng) + _uuid_like(rng)))
    assert all(len(x) == 36 for x in ids[:4])
    out_a, _, _, _, _ = _resolve(NodeTable(), ids, [None] * len(ids))
    assert out_a.tolist() == list(range(len(ids)))  # every spelling its own row
    h = hash_ids(pa.array(ids, pa.string()))
    assert len(set(h.tolist())) == len(ids)


def test_commit_of_other_ids_than_the_resolved_ones_raises():
    table = NodeTable()
    _, _, first, _, _ = _resolve(table, ["abc", "a-long-identifier-of-30-bytes!"], [None, None])
    with pytest.raises(ValueError, match="commit the ids of the resolved slots"):
        table.commit(pa.array(["abcd", "a-long-identifier-of-30-bytes!"], pa.string()))
    # nothing was kept: the right ids commit, and the long one is found again
    table.commit(pa.array(["abc", "a-long-identifier-of-30-bytes!"], pa.string()))
    out_a, _, first, _, _ = _resolve(table, ["a-long-identifier-of-30-bytes!", "abc", "new"], [None] * 3)
    assert out_a.tolist() == [1, 0, 2] and first.tolist() == [4]


# ---------------------------------------------------------------------- long ids held by their head
def _head_pool(rng):
    """Ids of more than 16 bytes by heads (all bytes but the last 16) of every length around the
    edges of the dictionary's words and limit (112 bytes): one head with tails apart in their last
    or first byte, heads apart in one byte (first, middle, last) with one tail, a head one byte
    longer; and 36-byte ids whose head is a UUID's first 20 characters, beside that UUID."""
    pool = []
    for n in (1, 7, 8, 9, 15, 16, 17, 20, 31, 32, 33, 48, 111, 112, 113, 200):
        head = "".join(rng.choice(list("abc/-"), n))
        pool += [head + f"{t:016d}" for t in range(3)] + [head + "x" + "0" * 15]
        for i in sorted({0, n // 2, n - 1}):
            pool.append(head[:i] + ("z" if head[i] != "z" else "y") + head[i + 1:] + "0" * 16)
        pool.append(head + "a" + "0" * 16)
    u = "0e6b2f4a-7c1d-4e8f-9a3b-5c6d7e8f9a0b"
    pool += [u[:20] + "x" * 16, u, u[:20] + "y" * 16, u.upper(), u[:20] + "x" * 16]
    return list(dict.fromkeys(pool))


@pytest.mark.parametrize("fill", [0, 250, 256])
def test_ids_held_by_their_head_match_a_dict_across_calls(fill):
    """``fill`` other heads enter the dictionary first (256 fill it: the pool's ids are then hashed
    and kept long, 250 leave room for a few of its heads), then calls of ids drawn from the pool
    (resolve + commit, rollback, append) number them as a dict does."""
    rng = np.random.default_rng(fill)
    pool = _head_pool(rng)
    table = NodeTable()
    known = {f"filler-head-{i:04d}/" + "f" * 16: i for i in range(fill)}
    table.append(pa.array(list(known), pa.string()))
    assert table._heads[0][0] == fill  # the premise: one head each, all in the dictionary
    for call in range(5):
        n = int(rng.integers(1, 400))
        a = [pool[i] if i < len(pool) else None for i in rng.integers(0, len(pool) + 2, n)]
        b = [pool[i] if i < len(pool) else None for i in rng.integers(0, len(pool) + 2, n)]
        out_a, out_b, first, pa_a, pa_b = _resolve(table, a, b)
        ra, rb, rfirst, seen = _reference(known, len(known), a, b)
        assert out_a.tolist() == ra and out_b.tolist() == rb and first.tolist() == rfirst
        if call == 1:
            table.rollback()  # the heads it met stay in the dictionary; the ids are found again
            continue
        _commit(table, pa_a, pa_b, first)
        known = seen
        if call == 2:
            extra = [x for x in dict.fromkeys(p[:-1] + "q" for p in pool) if x not in known]
            table.append(pa.array(extra, pa.string()))
            known.update({x: len(known) + i for i, x in enumerate(extra)})
    assert (table._heads[0][0] == 256) if fill >= 250 else (fill < table._heads[0][0] < 256)


def test_many_ids_of_shared_and_unshared_heads_grow_the_table():
    """30,000 path-like ids of 300 heads (more than the dictionary takes: some are hashed) and
    5,000 of their own heads, in calls that grow the table, numbered as a dict does."""
    rng = np.random.default_rng(3)
    ids = np.array([f"org/unit-{i % 300:03d}/member-{i:016d}" for i in range(30_000)]
                   + [f"{i:020d}-{i * 7919:016d}" for i in range(5_000)], object)
    table, known = NodeTable(), {}
    for call in range(3):
        a = pa.array(ids[rng.integers(0, len(ids), 15_000)].tolist(), pa.string())
        b = pa.array(ids[rng.integers(0, len(ids), 15_000)].tolist(), pa.string())
        out_a, out_b, first, pa_a, pa_b = _resolve(table, a.to_pylist(), b.to_pylist())
        ra, rb, rfirst, known = _reference(known, len(known), a.to_pylist(), b.to_pylist())
        np.testing.assert_array_equal(out_a, ra)
        np.testing.assert_array_equal(out_b, rb)
        np.testing.assert_array_equal(first, rfirst)
        _commit(table, pa_a, pa_b, first)
    assert table._heads[0][0] == 256


# ---------------------------------------------------------------------- CIDs decoded to their digest
_CID_HEAD = b"\x01\x55\x1e\x20"  # CIDv1, raw, BLAKE3, 32 bytes


def _cid(digest: bytes, head: bytes = _CID_HEAD) -> str:
    """A CID in multibase base32 (``b``, lower case, no padding), as alchemist.cid writes it."""
    import base64

    return "b" + base64.b32encode(head + digest).decode().lower().rstrip("=")


def _digest_of_words(words) -> bytes:
    """The digest whose CID the table holds as the key words ``words`` (four 64-bit integers): the
    digest's 8-byte words, little-endian."""
    return b"".join(int(w).to_bytes(8, "little") for w in words)


def _cid_pool(rng):
    """Canonical CIDs (random digests; digests sharing their first 16 bytes; digests apart in one
    byte, first, middle or last; CIDs apart in one base32 character, first, middle or last) and
    strings that are not canonical ones: upper case, another prefix with the same digest, a
    character outside ``a-z2-7``, non-zero padding bits, one byte shorter or longer."""
    digests = [rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for _ in range(40)]
    head = digests[0][:16]
    digests += [head + rng.integers(0, 256, 16, dtype=np.uint8).tobytes() for _ in range(40)]
    for i in (0, 15, 16, 31):
        digests.append(digests[1][:i] + bytes([digests[1][i] ^ 1]) + digests[1][i + 1:])
    cids = [_cid(d) for d in digests]
    c = cids[2]  # one base32 character changed, the string still canonical: first, middle and last
    cids += [c[:7] + ("b" if c[7] != "b" else "c") + c[8:], c[:30] + ("q" if c[30] != "q" else "r") + c[31:],
             c[:58] + ("e" if c[58] != "e" else "i")]
    other = [c.upper() for c in cids[:5]] + ["B" + c[1:] for c in cids[5:8]]
    other += [_cid(d, b"\x01\x55\x1e\x21") for d in digests[:4]] + [_cid(d, b"\x01\x71\x1e\x20") for d in digests[:4]]
    other += [c[:30] + "1" + c[31:] for c in cids[:3]] + [c[:58] + "=" for c in cids[3:6]]
    last = "abcdefghijklmnopqrstuvwxyz234567"
    other += [c[:58] + last[last.index(c[58]) + 1] for c in cids[6:10]]  # padding bits not zero
    other += [c[:-1] for c in cids[10:13]] + [c + "a" for c in cids[13:16]] + ["b" + "a" * 58, "b" + "7" * 58]
    return list(dict.fromkeys(cids + other))


def _is_canonical_cid(s: str) -> bool:
    """Whether ``s`` is a CIDv1 raw BLAKE3 in canonical base32 text, by Python's base32 codec."""
    import base64
    import binascii

    if len(s) != 59 or s[0] != "b" or not set(s[1:]) <= set("abcdefghijklmnopqrstuvwxyz234567"):
        return False
    try:
        raw = base64.b32decode(s[1:].upper() + "======")
    except binascii.Error:
        return False
    return raw[:4] == _CID_HEAD and _cid(raw[4:]) == s


def test_cid_pool_is_what_it_says():
    """The premise of the CID tests: alchemist.cid writes CIDs of this form, the pool's first 87
    strings are canonical CIDs and the others are not (by Python's base32 codec)."""
    import alchemist

    assert _is_canonical_cid(str(alchemist.cid(b"x")))
    pool = _cid_pool(np.random.default_rng(0))
    assert [_is_canonical_cid(c) for c in pool] == [True] * 87 + [False] * (len(pool) - 87)


@pytest.mark.parametrize("seed", [0, 1])
def test_cids_and_other_strings_match_a_dict_across_calls(seed):
    """Canonical CIDs beside strings one step from them (all numbered apart), through calls on one
    table: resolve + commit, rollback, append, and a table that grows."""
    rng = np.random.default_rng(200 + seed)
    pool = _cid_pool(rng) + [_cid(rng.integers(0, 256, 32, dtype=np.uint8).tobytes()) for _ in range(3000)]
    pool += [f"{'organisation-unit/department/team/':x<43}{i:016d}" for i in range(20)]  # 59 bytes, not CIDs
    extra = [_cid(rng.integers(0, 256, 32, dtype=np.uint8).tobytes()) for _ in range(50)] + pool[:87]
    _calls_against_a_dict(rng, pool, calls=5, low=1, high=3000, rollback=1, append=2, extra=extra, most=60)



def test_cids_of_equal_first_key_words_and_equal_hashes_stay_apart():
    """2,000 CIDs whose digests share their first 16 bytes (the table's first two key words: the
    other two are checked by row), and CIDs built from key words that zero both of the hash's
    products and keep the rest equal (k0 = wyhash's secret 1, k2 = secret 0, k1 ^ k3 * golden
    ratio constant): all one hash. Numbered as a dict does, in one call and across calls."""
    rng = np.random.default_rng(11)
    head = rng.integers(0, 256, 16, dtype=np.uint8).tobytes()
    same_words = list(dict.fromkeys(_cid(head + rng.integers(0, 256, 16, dtype=np.uint8).tobytes())
                                    for _ in range(2000)))
    s0, s1, golden, ones = 0x2D358DCCAA6C78A5, 0x8BB84B93962EACC9, 0x9E3779B97F4A7C15, 2**64 - 1
    k3s = rng.integers(0, 2**63, 300)
    same_hash = [_cid(_digest_of_words([s1, 12345 ^ ((int(k3) * golden) & ones), s0, int(k3)])) for k3 in k3s]
    assert all(len(c) == 59 for c in same_hash) and len(set(same_hash)) == len(same_hash)
    pool = same_words + same_hash
    table, known = NodeTable(), {}
    for call in range(3):
        a = [pool[i] for i in rng.integers(0, len(pool), 2500)]
        b = [pool[i] for i in rng.integers(0, len(pool), 2500)]
        out_a, out_b, first, pa_a, pa_b = _resolve(table, a, b)
        ra, rb, rfirst, known = _reference(known, len(known), a, b)
        assert out_a.tolist() == ra and out_b.tolist() == rb and first.tolist() == rfirst
        _commit(table, pa_a, pa_b, first)


# ---------------------------------------------------------------------- hex ids (digests): decoded to key words
_HEX = "0123456789abcdef"


def _hex_pool(rng):
    """Hex ids of 17-64 characters (SHA-256, SHA-1, MD5 lengths among them) and strings one step
    from them, all numbered apart: upper or mixed case, one character a loose decoding would read
    as a digit, a trailing ``0`` (the same digits' bytes, one character longer), digits only, and
    ids sharing their first 16 bytes of digits (the slot's key words) or all but their last digit."""
    pool = []
    for n in [17, 18, 31, 32, 33, 34, 40, 47, 48, 63, 64] + [int(x) for x in rng.integers(17, 65, 6)]:
        h = "".join(rng.choice(list(_HEX), n))
        i = int(rng.integers(0, n))
        pool += [h, h.upper(), h[:i] + h[i:].upper(), h[:-1] + ("0" if h[-1] != "0" else "1")]
        pool += [h[:i] + c + h[i + 1:] for c in ":/g`G@F\x00"]
        if n < 64:
            pool.append(h + "0")
        pool.append("".join(rng.choice(list("0123456789"), n)))
    head = "".join(rng.choice(list(_HEX), 32))
    pool += [head + "".join(rng.choice(list(_HEX), int(n))) for n in rng.integers(1, 33, 40)]
    return list(dict.fromkeys(pool))


@pytest.mark.parametrize("seed", [0, 1])
def test_hex_ids_and_their_neighbours_match_a_dict_across_calls(seed):
    """Hex ids beside strings one step from them, and 3,000 SHA-256 digests (the side array
    grows), through calls on one table: resolve + commit, rollback, append."""
    import hashlib

    rng = np.random.default_rng(300 + seed)
    pool = _hex_pool(rng) + [hashlib.sha256(f"{seed}-{i}".encode()).hexdigest() for i in range(3000)]
    extra = [hashlib.sha1(f"{seed}-{i}".encode()).hexdigest() for i in range(50)] + pool[:80]
    _calls_against_a_dict(rng, pool, calls=5, low=1, high=3000, rollback=1, append=2, extra=extra, most=60)


def test_ids_of_a_hex_head_are_one_row_whatever_id_comes_before():
    """Ids of one head of hex digits, some with a hex tail (all hex: decoded as digits) and some
    not (held as head and tail), in runs where each follows an id of the same head: a hex id must
    not take the head of the id before it, and each string keeps one row."""
    rng = np.random.default_rng(13)
    pool = []
    for n in (1, 8, 20, 32, 40, 48):
        head = "".join(rng.choice(list(_HEX), n))
        pool += [head + "".join(rng.choice(list(_HEX + "-z"), 16)) for _ in range(6)]
        pool += [head + "".join(rng.choice(list(_HEX), 16)) for _ in range(6)]
    table, known = NodeTable(), {}
    for call in range(3):
        a = [pool[i] for i in rng.integers(0, len(pool), 500)]
        a = sorted(a, key=len)  # runs of one head
        out_a, out_b, first, pa_a, pa_b = _resolve(table, a, a[::-1])
        ra, rb, rfirst, known = _reference(known, len(known), a, a[::-1])
        assert out_a.tolist() == ra and out_b.tolist() == rb and first.tolist() == rfirst
        _commit(table, pa_a, pa_b, first)


def test_hex_ids_read_the_same_at_the_end_of_a_buffer():
    """A hex id is decoded from one 64-byte load where those bytes are in the column's buffer, from
    a copy of its own bytes otherwise (at the end of an unpadded buffer): both give its row."""
    import hashlib

    ids = [hashlib.sha256(bytes([i])).hexdigest()[: 17 + 9 * i] for i in range(6)]
    table = NodeTable()
    _, _, first, pa_a, pa_b = _resolve(table, ids, [None] * len(ids))
    _commit(table, pa_a, pa_b, first)
    for col in ([ids[5]], [ids[0], ids[1]], [ids[4], "\xff", ids[2]], [ids[3]]):
        data = "".join(col).encode()
        offsets = np.cumsum([0] + [len(x.encode()) for x in col]).astype(np.int32)
        column = pa.StringArray.from_buffers(len(col), pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))
        assert column.buffers()[2].size == len(data)
        out_a, out_b = np.empty(len(col), np.int64), np.empty(len(col), np.int64)
        table.resolve(column, column, np.zeros(0, np.int64), out_a, out_b)
        expected = [ids.index(x) if x in ids else 6 for x in col]
        assert out_a.tolist() == expected and out_b.tolist() == expected
        table.rollback()


@pytest.mark.parametrize("shape", ["short", "UUID", "CID", "hex", "hex40", "hex20", "raw"])
def test_ids_read_in_a_run_of_one_shape_and_by_the_general_loop_are_one_row(shape):
    """A block's ids are taken by a loop for the shape of its first id while they keep it, the
    rest by the general loop: the same ids in runs (across blocks of 1,024), after an id of another
    shape, in a column with nulls and at the end of its buffer all resolve to one row each."""
    import hashlib

    if shape.startswith("hex") and shape != "hex":
        width = int(shape[3:])
        ids = [hashlib.sha256(str(i).encode()).hexdigest()[:width] for i in range(1500)]
    else:
        ids = _ids_of_shape(shape, 1500)
    rng = np.random.default_rng(14)
    table, known = NodeTable(), {}
    other = "z" * 70  # an id of no decoded shape: the general loop from there
    for call in range(3):
        a = [ids[i] for i in rng.integers(0, len(ids), 2500)]
        b = [ids[i] for i in rng.integers(0, len(ids), 2500)]
        a[1100] = other
        if call == 1:
            b = [None if i % 7 == 0 else x for i, x in enumerate(b)]
        out_a, out_b, first, pa_a, pa_b = _resolve(table, a, b)
        ra, rb, rfirst, known = _reference(known, len(known), a, b)
        assert out_a.tolist() == ra and out_b.tolist() == rb and first.tolist() == rfirst
        _commit(table, pa_a, pa_b, first)


# ---------------------------------------------------------------------- ids of 17-32 bytes: held as their bytes
def _raw_pool(rng):
    """Ids of 17-32 bytes of no decoded shape (ULID-like, base64url tokens, non-ASCII text) and
    strings one step from them: the last or first byte changed, a NUL byte appended (the same four
    words, one byte longer), cut by one byte; a hex id beside the same with one upper-case digit."""
    import string

    pool = []
    alphabets = ["0123456789ABCDEFGHJKMNPQRSTVWXYZ", string.ascii_letters + string.digits + "-_", "aé東/"]
    for n in list(range(17, 33)) + [int(x) for x in rng.integers(17, 33, 10)]:
        alphabet = alphabets[n % 3]
        x = "".join(rng.choice(list(alphabet), n))
        x = x.encode()[:n].decode("utf-8", "ignore") or "q" * n
        pool += [x, x[:-1] + ("z" if x[-1] != "z" else "y"), ("z" if x[0] != "z" else "y") + x[1:], x + "\x00",
                 x[:-1]]
        h = "".join(rng.choice(list("0123456789abcdef"), n))
        pool += [h, h[:-1] + h[-1].upper() if h[-1] in "abcdef" else h[:-1] + "A"]
    return [x for x in dict.fromkeys(pool) if len(x.encode()) > 16]


@pytest.mark.parametrize("seed", [0, 1])
def test_ids_of_17_to_32_bytes_match_a_dict_across_calls(seed):
    """Ids of 17-32 bytes held as their bytes (four key words: two in the slot, two in the side
    array) beside strings one step from them and 3,000 random tokens (the side array grows),
    through calls on one table: resolve + commit, rollback, append."""
    rng = np.random.default_rng(400 + seed)
    tokens = ["".join(rng.choice(list("ABCDEFGHJKMNPQRSTVWXYZ0123456789"), 26)) for _ in range(3000)]
    pool = _raw_pool(rng) + tokens
    extra = ["".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz-"), 22)) for _ in range(50)] + pool[:80]
    _calls_against_a_dict(rng, pool, calls=5, low=1, high=3000, rollback=1, append=2, extra=extra, most=60)


# ---------------------------------------------------------------------- memory: the byte store keeps hashed ids only
_HEADS_BYTES = 8 * (1 + 257 + 2048) + 256 * 112 + 8  # the head dictionary: count, offsets, slots; the heads' bytes


def _ids_of_shape(shape, n):
    import uuid

    rng = np.random.default_rng(3)
    if shape == "short":
        return [str(i) for i in range(n)]
    if shape == "UUID":
        return [str(uuid.UUID(int=int(x))) for x in rng.integers(0, 2**62, n)]
    if shape == "CID":
        return [_cid(rng.integers(0, 256, 32, dtype=np.uint8).tobytes()) for _ in range(n)]
    if shape == "raw":  # ULID-like tokens: 26 bytes, held as their bytes
        return ["".join(rng.choice(list("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), 26)) for _ in range(n)]
    if shape == "hex":  # SHA-256 digests: 64 bytes, decoded
        import hashlib

        return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]
    if shape == "headed":  # 64 bytes, a 48-byte head shared by all
        return [f"{'organisation-unit/department/team/member-record/':x<50}{i:014d}" for i in range(n)]
    return [f"{i:08d}" + "h" * 130 for i in range(n)]  # "hashed": 138 bytes, a head over 112 bytes


@pytest.mark.parametrize("shape", ["short", "UUID", "CID", "hex", "raw", "headed", "hashed"])
def test_the_byte_store_keeps_the_hashed_ids_only(shape):
    """5,000 new ids of one shape in one call: the table's bytes are its slots (32 bytes each), the
    CIDs' and hex ids' other key words (16 bytes a row, for five eighths of the slots), the byte store (4,096
    bytes, or grown to hold the hashed ids: only they are compared with stored bytes) and the head
    dictionary; and every id is found again after the commit."""
    ids = _ids_of_shape(shape, 5000)
    table = NodeTable()
    out_a, _, first, pa_a, pa_b = _resolve(table, ids, [None] * len(ids))
    assert out_a.tolist() == list(range(len(ids)))
    _commit(table, pa_a, pa_b, first)
    slots = table._tab.shape[0] // 4
    stored = sum(len(x) for x in ids) if shape == "hashed" else 0  # 690,000 bytes for the hashed ids
    assert table._nbytes == stored
    store = max(4096, stored)
    side = 16 * (slots * 5 // 8) if shape in ("CID", "hex", "raw") else 0
    assert table.nbytes() == 32 * slots + side + store + _HEADS_BYTES
    out_a, _, first, _, _ = _resolve(table, ids[::-1], [None] * len(ids))
    assert out_a.tolist() == list(range(len(ids)))[::-1] and first.size == 0


@pytest.mark.parametrize("shape", ["headed", "hex", "CID", "raw"])
def test_appended_ids_take_the_side_array_only_when_wide(shape):
    """Ids appended without lookup (a graph's per-event adds): 64-byte ids of a shared head need
    no side array (their length alone is not enough to make one), hex digests and CIDs do (16
    bytes a row); all are found again."""
    ids = _ids_of_shape(shape, 3000)
    table = NodeTable()
    table.append(pa.array(ids, pa.string()))
    assert table._cid.nbytes == (0 if shape == "headed" else 16 * 3000)
    out_a, _, first, _, _ = _resolve(table, ids[::-1], [None] * len(ids))
    assert out_a.tolist() == list(range(len(ids)))[::-1] and first.size == 0


def test_cids_read_the_same_at_the_end_of_a_buffer_and_before_other_bytes():
    """A CID is decoded from one 64-byte load where the 5 bytes after it are in the column's buffer,
    from its own 59 bytes otherwise (at the very end of an unpadded buffer): both give its row, and
    the bytes after it (another CID, non-ASCII bytes, nothing) do not matter."""
    rng = np.random.default_rng(12)
    cids = [_cid(rng.integers(0, 256, 32, dtype=np.uint8).tobytes()) for _ in range(6)]
    table = NodeTable()
    _, _, first, pa_a, pa_b = _resolve(table, cids, [None] * len(cids))
    _commit(table, pa_a, pa_b, first)
    for ids in ([cids[0]], [cids[1], cids[2]], [cids[3], "\xff\u00e9\u6771", cids[4]], [cids[5], "", cids[0]]):
        data = "".join(ids).encode()
        offsets = np.cumsum([0] + [len(x.encode()) for x in ids]).astype(np.int32)
        column = pa.StringArray.from_buffers(len(ids), pa.py_buffer(offsets.tobytes()), pa.py_buffer(data))
        assert column.buffers()[2].size == len(data)  # no padding after the last id
        out_a, out_b = np.empty(len(ids), np.int64), np.empty(len(ids), np.int64)
        table.resolve(column, column, np.zeros(0, np.int64), out_a, out_b)
        expected = [cids.index(x) if x in cids else 6 + [y for y in ids if y not in cids].index(x) for x in ids]
        assert out_a.tolist() == expected and out_b.tolist() == expected
        table.rollback()


def test_tables_start_on_a_cache_line_and_large_ones_on_a_huge_page():
    """The slots start on a 64-byte line (a slot never straddles two); a table of 4 MiB or more
    starts on a 2 MiB boundary (huge pages cover it from its start), and keeps finding its ids."""
    small, large = NodeTable(), NodeTable()
    ids = [str(i) for i in range(120_000)]
    _resolve(small, ids[:10], [None] * 10)
    out_a, _, first, pa_a, pa_b = _resolve(large, ids, [None] * len(ids))
    _commit(large, pa_a, pa_b, first)
    assert small._tab.nbytes < 4 << 20 <= large._tab.nbytes
    assert small._tab.ctypes.data % 64 == 0 and large._tab.ctypes.data % (2 << 20) == 0
    out_a, _, first, _, _ = _resolve(large, ids[::-1], [None] * len(ids))
    assert out_a.tolist() == list(range(len(ids)))[::-1] and first.size == 0
