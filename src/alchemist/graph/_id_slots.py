"""The slots of the node-id table (:mod:`alchemist.graph._intern`) and its loops over wide ids.

Slot ``j`` of the table is the words ``4j … 4j + 3``: two key words, ``(row + 1) << SHIFT | code``
(0: an empty slot) and, for a hashed long id, where its bytes are in the byte store. A wide id (a
CID, a hex id of over 32 characters: :func:`~alchemist.graph._cid_keys.is_wide`) has its other
two key words in the side array by row (``cid[2 * row]``, ``cid[2 * row + 1]``), checked for a whole
block of lookups after its probes (:func:`side_check`). A block of wide ids only is probed by a
loop of its own (:func:`probe_wide`), which asks for each match's side entry as it finds it (in
the table's general probe loop, that one more instruction slowed every lookup of every shape) and
indexes the table with unsigned slot numbers (Numba wraps negative signed indices around, at a
cost on each load). In 2M lookups of CIDs or SHA-256 hex ids, the prefetch took about 2.5 ms off,
the unsigned indices 3 ms, and the side check costs about 1 ms (5.5 before).

After editing this module or another one the table's kernels call (``_id_keys``, ``_cid_keys``,
``_hex_keys``, ``_id_runs``), remove ``__pycache__/_intern*.nb*``: Numba's cache of a kernel is
renewed when its own file changes, not when a function it calls does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from alchemist.graph._cid_keys import is_wide
from alchemist.graph._id_keys import address, prefetch

__all__ = ["ALIVE", "CODE", "NULL", "SHIFT", "home", "nulls", "probe_wide", "side_check", "side_rows"]

ALIVE = np.iinfo(np.int64).max   # the graph's removal version of a live row
NULL = np.uint64(31)             # a null slot (never stored)
CODE = np.uint64(0xFFFF)         # the id code's bits in a slot's third word (row + 1 above them)
SHIFT = np.uint64(16)


@njit(cache=True, inline="always")
def home(h, cap):
    """The home slot of hash ``h`` among ``cap`` (< 2^32) slots: its top 32 bits scaled to the range."""
    return np.int64(((h >> np.uint64(32)) * np.uint64(cap)) >> np.uint64(32))


@njit(cache=True, inline="always")
def nulls(valid, k, kb):
    """The nulls among rows ``k … kb - 1`` of a column of validity ``valid`` (empty: none)."""
    if valid.shape[0] == 0:
        return 0
    return kb - k - np.count_nonzero(valid[k:kb])


@njit(cache=True)
def probe_wide(k, kb, entries, n0, tab, cid, keys, removed, out_a, out_b, first):
    """Look up (or add) the ids of rows ``k … kb - 1``, all wide (or null), whose keys are in ``keys``
    (rows 0-5: column a, 6-11: column b; k0, k1, code, hash, k2, k3), as the table's general probe
    loop does when not exact; returns ``entries``. New ids get rows ``entries …`` in order of first
    occurrence over the slots ``2kk`` (a) and ``2kk + 1`` (b), recorded in ``first``; a row below
    ``n0`` is skipped unless ``removed`` is empty or marks it live. A match asks for its row's side
    entry, which :func:`side_check` reads after the block."""
    cap = np.uint64(tab.shape[0] // 4)
    cbase = address(cid)
    zero, one, two, three, four = np.uint64(0), np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    for kk in range(k, kb):
        i = kk - k
        for side in range(2):
            code = keys[6 * side + 2, i]
            row = -1
            if code != NULL:
                k0, k1 = keys[6 * side, i], keys[6 * side + 1, i]
                j = np.uint64(home(keys[6 * side + 3, i], cap))  # (unsigned: no wraparound of negative indices)
                while True:
                    meta = tab[four * j + two]
                    if meta == 0:
                        break
                    if (meta & CODE) == code and tab[four * j] == k0 and tab[four * j + one] == k1:
                        c = np.int64(meta >> SHIFT) - 1
                        if c >= n0 or removed.shape[0] == 0 or removed[c] == ALIVE:
                            row = c
                            prefetch(cbase + 16 * c)
                            break
                    j += one
                    if j == cap:
                        j = zero
                if row < 0:
                    row = entries
                    first[row - n0] = 2 * kk + side
                    tab[four * j] = k0
                    tab[four * j + one] = k1
                    tab[four * j + two] = (np.uint64(row + 1) << SHIFT) | code
                    tab[four * j + three] = zero
                    entries += 1
            if side == 0:
                out_a[kk] = row
            else:
                out_b[kk] = row
    return entries


@njit(cache=True)
def side_rows(cid, keys, first, n0, e0, entries, k):
    """Write the other key words of the new wide ids of rows ``e0 … entries - 1`` (slots from ``k``)
    to the side array."""
    for r in range(e0, entries):
        s = first[r - n0]
        at = 6 * (s & 1)
        i = (s >> 1) - k
        if is_wide(keys[at + 2, i]):
            cid[2 * r] = keys[at + 4, i]
            cid[2 * r + 1] = keys[at + 5, i]


@njit(cache=True)
def side_check(cid, keys, out_a, out_b, k, kb):
    """Whether the wide id of each slot of rows ``k … kb - 1`` has the other two key words of the row
    it was given (that row's first two matched in the table). No branch waits on a load."""
    ok = True
    uk, one = np.uint64(k), np.uint64(1)
    for i in range(np.uint64(kb - k)):  # (unsigned indices: no wraparound of negative ones)
        for side in range(2):
            if is_wide(keys[6 * side + 2, i]):
                c = np.uint64(out_a[uk + i] if side == 0 else out_b[uk + i])
                ok &= (cid[c + c] == keys[6 * side + 4, i]) & (cid[c + c + one] == keys[6 * side + 5, i])
    return ok
