"""The compiled base32 kernel of :mod:`alchemist.events.cid`, apart so that importing the event
layer does not import Numba (it loads on the first CID computed)."""

import numpy as np
from numba import njit

__all__ = ["b32_cid", "b32_cid_into"]


@njit(cache=True)
def b32_cid(digest, alphabet):  # pragma: no cover - compiled
    """``b`` + base32 of ``01 55 1e 20 || digest`` as 59 ASCII bytes (RFC 4648 §6, unpadded)."""
    out = np.empty(59, np.uint8)
    b32_cid_into(digest, alphabet, out)
    return out


@njit(cache=True)
def b32_cid_into(digest, alphabet, out):  # pragma: no cover - compiled
    """:func:`b32_cid` written into ``out`` (59 bytes)."""
    raw = np.zeros(40, np.uint8)
    raw[0], raw[1], raw[2], raw[3] = 1, 0x55, 0x1E, 32
    for i in range(32):
        raw[4 + i] = digest[i]
    out[0] = 98
    k = 1
    for g in range(8):
        v = np.uint64(0)
        for j in range(5):
            v = (v << np.uint64(8)) | np.uint64(raw[g * 5 + j])
        for j in range(8):
            if k < 59:
                out[k] = alphabet[(v >> np.uint64(35 - 5 * j)) & np.uint64(31)]
            k += 1
