"""Event identifiers: UUIDv7 (RFC 9562 §5.7), random or derived deterministically from a key."""

from __future__ import annotations

import os
import time
import uuid

import blake3

__all__ = ["uuid7", "uuid7_timestamp_ms"]


def uuid7(timestamp_ms: int | None = None, key: bytes | None = None) -> str:
    """A UUIDv7 string.

    Parameters
    ----------
    timestamp_ms : int, optional
        Unix time in milliseconds for the 48-bit time field; now when omitted.
    key : bytes, optional
        When given, the 74 "random" bits are taken from ``blake3(key)`` instead of the OS's
        random source, so the same ``(timestamp_ms, key)`` always gives the same id: this is how a
        replayed source gets deterministic event ids and JetStream de-duplicates a re-run.

    Returns
    -------
    str
        Canonical 36-character form, version nibble 7, RFC 4122 variant.

    Raises
    ------
    ValueError
        ``timestamp_ms`` is outside the 48-bit range ``0 … 2**48 - 1``.

    References
    ----------
    RFC 9562, "Universally Unique IDentifiers (UUIDs)", §5.7 (UUID version 7).

    Examples
    --------
    >>> uuid7(0, key=b"x")
    '00000000-0000-7ae7-9805-f6789a6402ac'
    >>> uuid7_timestamp_ms(uuid7(1_700_000_000_000))
    1700000000000
    """
    if timestamp_ms is None:
        timestamp_ms = time.time_ns() // 1_000_000
    if not 0 <= timestamp_ms < 1 << 48:
        raise ValueError(f"timestamp_ms={timestamp_ms} is outside the 48-bit UUIDv7 range")
    rand = blake3.blake3(key).digest(10) if key is not None else os.urandom(10)
    b = bytearray(timestamp_ms.to_bytes(6, "big") + rand)
    b[6] = (b[6] & 0x0F) | 0x70
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid7_timestamp_ms(value: str) -> int:
    """The Unix time in milliseconds stored in a UUIDv7 (its first 48 bits).

    Parameters
    ----------
    value : str
        A UUID string.

    Returns
    -------
    int

    Raises
    ------
    ValueError
        ``value`` is not a UUID (:class:`uuid.UUID`'s message).

    Examples
    --------
    >>> uuid7_timestamp_ms("018f3e5c-9a00-7000-8000-000000000000")
    1714738207232
    """
    return uuid.UUID(value).int >> 80
