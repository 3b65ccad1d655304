"""RFC 3339 timestamps in bulk: whole-second UTC times (``YYYY-MM-DDTHH:MM:SSZ``) formatted
from and parsed to Unix seconds, vectorised with NumPy.

The calendar arithmetic is Howard Hinnant's, *chrono-Compatible Low-Level Date Algorithms*
(``days_from_civil`` and ``civil_from_days``, proleptic Gregorian calendar), for years 1970–9999.
"""

from __future__ import annotations

import numpy as np

__all__ = ["format_seconds", "parse_seconds"]

_LAYOUT = ((0, 4), (5, 2), (8, 2), (11, 2), (14, 2), (17, 2))  # year, month, day, hour, minute, second
_PUNCTUATION = {4: "-", 7: "-", 10: "T", 13: ":", 16: ":", 19: "Z"}


def format_seconds(seconds) -> np.ndarray:
    """``YYYY-MM-DDTHH:MM:SSZ`` of whole Unix seconds.

    Parameters
    ----------
    seconds : (n,) int array
        Unix times in seconds, 0 ≤ t < 253402300800 (years 1970–9999).

    Returns
    -------
    (n, 20) uint8 array
        ASCII, one timestamp per row.

    Raises
    ------
    ValueError
        If a time is outside that range.
    """
    t = np.asarray(seconds, dtype=np.int64)
    if t.size and (t.min() < 0 or t.max() >= 253402300800):
        raise ValueError("times must lie in 1970-01-01T00:00:00Z … 9999-12-31T23:59:59Z (0 ≤ t < 253402300800)")
    days, rest = np.divmod(t, 86400)
    z = days + 719468  # civil_from_days
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    out = np.empty((t.size, 20), dtype=np.uint8)
    for column, char in _PUNCTUATION.items():
        out[:, column] = ord(char)
    for (column, width), value in zip(_LAYOUT, (year, month, day, rest // 3600, rest % 3600 // 60, rest % 60)):
        for j in range(width):
            out[:, column + width - 1 - j] = 48 + (value // 10 ** j) % 10
    return out


def parse_seconds(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unix seconds of ``YYYY-MM-DDTHH:MM:SSZ`` timestamps.

    Parameters
    ----------
    text : (n, 20) uint8 array
        ASCII, one timestamp per row (e.g. ``np.array(strings, dtype="S20").view(np.uint8)``).

    Returns
    -------
    seconds : (n,) int64
        Unix seconds; 0 where a row is not in that exact form.
    valid : (n,) bool
        Whether each row is a valid timestamp in that form (real calendar date, hour < 24,
        minute and second < 60).
    """
    text = np.asarray(text, dtype=np.uint8)
    if text.ndim != 2 or text.shape[1] != 20:
        raise ValueError(f"text must be an (n, 20) uint8 array, got shape {text.shape}")
    digit_columns = [c + j for c, w in _LAYOUT for j in range(w)]
    digits = text[:, digit_columns].astype(np.int64) - 48
    valid = ((digits >= 0) & (digits <= 9)).all(axis=1)
    for column, char in _PUNCTUATION.items():
        valid &= text[:, column] == ord(char)
    values, k = [], 0
    for _column, width in _LAYOUT:
        v = np.zeros(text.shape[0], dtype=np.int64)
        for _ in range(width):
            v = v * 10 + digits[:, k]
            k += 1
        values.append(v)
    year, month, day, hour, minute, second = values
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])[np.clip(month, 0, 12)] + (
        leap & (month == 2))
    valid &= (year >= 1970) & (month >= 1) & (month <= 12) & (day >= 1) & (day <= month_days)
    valid &= (hour < 24) & (minute < 60) & (second < 60)
    y = year - (month <= 2)  # days_from_civil
    era = y // 400
    yoe = y - era * 400
    mp = np.where(month > 2, month - 3, month + 9)
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days = era * 146097 + doe - 719468
    seconds = np.where(valid, days * 86400 + hour * 3600 + minute * 60 + second, 0)
    return seconds, valid
