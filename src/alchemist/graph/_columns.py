"""Growable NumPy columns (amortised O(1) append) for the columnar Graph."""

from __future__ import annotations

import numpy as np


class Column:
    """A 1-D NumPy array that grows by doubling; ``view()`` is the filled part."""

    __slots__ = ("_data", "size")

    def __init__(self, dtype, capacity: int = 1024, fill=0):
        self._data = np.full(max(capacity, 16), fill, dtype=dtype)
        self.size = 0

    def _reserve(self, extra: int) -> None:
        need = self.size + extra
        if need > self._data.shape[0]:
            grown = np.empty(max(need, 2 * self._data.shape[0]), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown

    def append(self, value) -> None:
        self._reserve(1)
        self._data[self.size] = value
        self.size += 1

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        self._reserve(values.shape[0])
        self._data[self.size : self.size + values.shape[0]] = values
        self.size += values.shape[0]

    def view(self) -> np.ndarray:
        return self._data[: self.size]

    def __getitem__(self, i):
        return self._data[: self.size][i]

    def __setitem__(self, i, value) -> None:
        self._data[: self.size][i] = value

    def copy(self) -> "Column":
        other = Column.__new__(Column)
        other._data = self._data[: max(self.size, 16)].copy()
        other.size = self.size
        return other

    def nbytes(self) -> int:
        return self._data.nbytes
