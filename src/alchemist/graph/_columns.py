"""Storage for the columnar Graph: growable NumPy columns, string vocabularies and typed
property columns.

- :class:`Column` — a 1-D NumPy array with amortised O(1) append and bulk extend.
- :class:`Vocabulary` — strings stored once, referenced by int32 codes (labels, relationships).
- :class:`PropertyTable` — node or edge properties as one typed column per key (bool, int64,
  float64, str or object) with a presence mask, so that a property is a NumPy array ready for
  kernels and frames, not a list of dicts.
"""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np

__all__ = ["Column", "Vocabulary", "PropertyTable", "MISSING"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()
"""Marker for 'the property was not set' (distinct from a JSON null)."""


class Column:
    """A 1-D NumPy array that grows by doubling; ``view()`` is the filled part.

    A column made with ``lazy=True`` stores nothing while every value equals its fill value
    (a column of timestamps of an untimed edge list, removal versions of a graph that never
    removed anything): it materialises on the first other value.
    """

    __slots__ = ("_data", "size", "fill")

    def __init__(self, dtype, capacity: int = 16, fill=0, lazy: bool = False):
        self._data = None if lazy else np.full(max(capacity, 16), fill, dtype=dtype)
        self.size = 0
        self.fill = np.asarray(fill, dtype=dtype)[()]
        if lazy:
            self.fill = np.asarray(fill, dtype=dtype)[()]

    @classmethod
    def of(cls, values: np.ndarray, fill=0) -> "Column":
        """A column holding ``values`` (no copy when it is already contiguous)."""
        col = cls.__new__(cls)
        col._data = np.ascontiguousarray(values)
        col.size = col._data.shape[0]
        col.fill = np.asarray(fill, dtype=col._data.dtype)[()]
        return col

    @property
    def dtype(self):
        return self.fill.dtype

    @property
    def is_uniform(self) -> bool:
        """True while a lazy column holds only its fill value (and stores nothing)."""
        return self._data is None

    def _is_fill(self, values) -> bool:
        values = np.asarray(values)
        if self.fill != self.fill:  # NaN fill
            return bool(np.isnan(values).all())
        return bool((values == self.fill).all())

    def _materialise(self) -> None:
        if self._data is None:
            self._data = np.full(max(self.size, 16), self.fill, dtype=self.fill.dtype)

    def _reserve(self, extra: int) -> None:
        self._materialise()
        need = self.size + extra
        if need > self._data.shape[0]:
            grown = np.empty(max(need, 2 * self._data.shape[0], 16), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown

    def spare(self, extra: int) -> np.ndarray:
        """Room for ``extra`` more rows, returned as the writable array of those rows; the
        column's size is unchanged until :meth:`claim` (so writing there changes nothing)."""
        self._reserve(extra)
        return self._data[self.size: self.size + extra]

    def claim(self, extra: int) -> None:
        """Take ``extra`` rows filled through :meth:`spare` into the column."""
        if self._data is None or self.size + extra > self._data.shape[0]:
            raise ValueError(f"claim({extra}) without spare room")
        self.size += extra

    def append(self, value) -> None:
        if self._data is None and self._is_fill(value):
            self.size += 1
            return
        if self._data is None or self.size == self._data.shape[0]:
            self._reserve(1)
        self._data[self.size] = value
        self.size += 1

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self.fill.dtype)
        if self._data is None and self._is_fill(values):
            self.size += values.shape[0]
            return
        self._reserve(values.shape[0])
        self._data[self.size: self.size + values.shape[0]] = values
        self.size += values.shape[0]

    def pad_to(self, size: int) -> None:
        """Grow to ``size`` rows, filling with the column's fill value."""
        if size > self.size:
            if self._data is None:
                self.size = size
                return
            self._reserve(size - self.size)
            self._data[self.size: size] = self.fill
            self.size = size

    def view(self) -> np.ndarray:
        """The values (for a uniform lazy column, a new array of the fill value)."""
        if self._data is None:
            return np.full(self.size, self.fill, dtype=self.fill.dtype)
        return self._data[: self.size]

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, i):
        if self._data is None:
            if isinstance(i, (int, np.integer)):
                if not -self.size <= i < self.size:
                    raise IndexError(i)
                return self.fill
            return self.view()[i]
        return self._data[: self.size][i]

    def __setitem__(self, i, value) -> None:
        if self._data is None:
            if self._is_fill(value):
                return
            self._materialise()
        self._data[: self.size][i] = value

    def take(self, rows: np.ndarray) -> "Column":
        if self._data is None:
            col = Column(self.fill.dtype, fill=self.fill, lazy=True)
            col.size = int(rows.shape[0])
            return col
        return Column.of(self.view()[rows], self.fill)

    def copy(self) -> "Column":
        if self._data is None:
            return self.take(np.arange(self.size))
        return Column.of(self.view().copy(), self.fill)

    def nbytes(self) -> int:
        return 0 if self._data is None else self._data.nbytes


class Vocabulary:
    """Distinct strings, each stored once; code 0 is the empty string."""

    __slots__ = ("words", "codes")

    def __init__(self):
        self.words: list[str] = [""]
        self.codes: dict[str, int] = {"": 0}

    def code(self, word: str) -> int:
        c = self.codes.get(word)
        if c is None:
            c = self.codes[word] = len(self.words)
            self.words.append(word)
        return c

    def encode(self, words: Iterable[str]) -> np.ndarray:
        """int32 codes of ``words`` (adding new ones)."""
        code = self.code
        return np.fromiter((code(w) for w in words), dtype=np.int32)

    def encode_unique(self, uniques: list[str], inverse: np.ndarray) -> np.ndarray:
        """Codes of ``uniques[inverse]`` computed with one lookup per distinct word."""
        table = np.fromiter((self.code(w) for w in uniques), dtype=np.int32, count=len(uniques))
        return table[inverse] if len(uniques) else np.zeros(inverse.shape[0], np.int32)

    def decode(self, codes: np.ndarray) -> list[str]:
        words = self.words
        return [words[c] for c in codes.tolist()]

    def copy(self) -> "Vocabulary":
        other = Vocabulary()
        other.words = list(self.words)
        other.codes = dict(self.codes)
        return other


_KIND_DTYPE = {"bool": np.bool_, "int": np.int64, "float": np.float64}


def _kind_of(value) -> str:
    if isinstance(value, bool) or isinstance(value, np.bool_):
        return "bool"
    if isinstance(value, (int, np.integer)):
        return "int" if -(2 ** 63) <= int(value) < 2 ** 63 else "object"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, str):
        return "str"
    return "object"


def _merge_kinds(a: str | None, b: str) -> str:
    if a is None or a == b:
        return b
    if {a, b} == {"int", "float"}:
        return "float"
    return "object"


class _PropertyColumn:
    """One property key: a typed array (NumPy for bool/int/float, a list for str/object) and a
    presence mask, both indexed by raw row."""

    __slots__ = ("kind", "values", "present")

    def __init__(self, kind: str):
        self.kind = kind
        self.values: Column | list = Column(_KIND_DTYPE[kind]) if kind in _KIND_DTYPE else []
        self.present = Column(np.bool_)

    def __len__(self) -> int:
        return self.present.size

    def _pad(self, size: int) -> None:
        if size > self.present.size:
            self.present.pad_to(size)
            if isinstance(self.values, Column):
                self.values.pad_to(size)
            else:
                self.values.extend([None] * (size - len(self.values)))

    def _convert(self, kind: str) -> None:
        if kind == self.kind:
            return
        if isinstance(self.values, Column):
            if kind in _KIND_DTYPE:
                self.values = Column.of(self.values.view().astype(_KIND_DTYPE[kind]))
            else:
                mask = self.present.view()
                self.values = [v if m else None for v, m in zip(self.values.view().tolist(), mask.tolist())]
        else:
            # str -> object: the list stays as it is
            pass
        self.kind = kind

    def assign(self, rows: np.ndarray, values: list) -> None:
        """Set ``values`` at ``rows`` (None or MISSING clears the row)."""
        kind = None
        for v in values:
            if v is None or v is MISSING:
                continue
            kind = _merge_kinds(kind, _kind_of(v))
            if kind == "object":
                break
        if kind is not None:
            self._convert(_merge_kinds(self.kind, kind))
        if rows.shape[0] == 0:
            return
        self._pad(int(rows.max()) + 1)
        clear = np.fromiter((v is None or v is MISSING for v in values), dtype=bool, count=len(values))
        present = self.present.view()
        present[rows] = ~clear
        if isinstance(self.values, Column):
            data = self.values.view()
            keep = ~clear
            if keep.any():
                vals = [v for v, c in zip(values, clear.tolist()) if not c]
                data[rows[keep]] = np.asarray(vals, dtype=data.dtype)
        else:
            lst = self.values
            for r, v, c in zip(rows.tolist(), values, clear.tolist()):
                lst[r] = None if c else v

    def get(self, row: int):
        if row >= self.present.size or not self.present[row]:
            return MISSING
        v = self.values[row]
        return v.item() if isinstance(v, np.generic) else v

    def take(self, rows: np.ndarray) -> "_PropertyColumn":
        other = _PropertyColumn.__new__(_PropertyColumn)
        other.kind = self.kind
        self._pad(int(rows.max()) + 1 if rows.shape[0] else 0)
        other.present = self.present.take(rows)
        if isinstance(self.values, Column):
            other.values = self.values.take(rows)
        else:
            lst = self.values
            other.values = [lst[r] for r in rows.tolist()]
        return other

    def arrow(self, rows: np.ndarray, n_rows_total: int):
        """A pyarrow array of this property at ``rows`` (nulls where absent)."""
        import pyarrow as pa

        self._pad(n_rows_total)
        present = self.present.view()[rows]
        if isinstance(self.values, Column):
            return pa.array(self.values.view()[rows], mask=~present)
        lst = self.values
        vals = [lst[r] if p else None for r, p in zip(rows.tolist(), present.tolist())]
        if self.kind == "str":
            return pa.array(vals, type=pa.string())
        return vals  # object: a Python list (the frame builder decides)


class PropertyTable:
    """Properties of nodes (or edges) as typed columns keyed by property name, indexed by raw row."""

    __slots__ = ("columns",)

    def __init__(self):
        self.columns: dict[str, _PropertyColumn] = {}

    def __bool__(self) -> bool:
        return bool(self.columns)

    def set_many(self, rows: np.ndarray, props: list[dict | None]) -> None:
        """Merge ``props[i]`` into row ``rows[i]`` for each i (keys absent from a dict are left)."""
        by_key: dict[str, tuple[list, list]] = {}
        for r, p in zip(rows.tolist(), props):
            if not p:
                continue
            for k, v in p.items():
                entry = by_key.get(k)
                if entry is None:
                    entry = by_key[k] = ([], [])
                entry[0].append(r)
                entry[1].append(v)
        for k, (rs, vs) in by_key.items():
            self.set_column(k, np.asarray(rs, dtype=np.int64), vs)

    def set_column(self, key: str, rows: np.ndarray, values: list) -> None:
        col = self.columns.get(key)
        if col is None:
            kind = None
            for v in values:
                if v is not None:
                    kind = _merge_kinds(kind, _kind_of(v))
            col = self.columns[key] = _PropertyColumn(kind or "object")
        col.assign(rows, values)

    def set_arrow(self, key: str, rows: np.ndarray, values) -> None:
        """Set a property from a pyarrow array (nulls leave rows unset); numeric and boolean
        arrays go straight into typed NumPy columns."""
        import pyarrow as pa

        t = values.type
        kind = ("bool" if pa.types.is_boolean(t) else "int" if pa.types.is_integer(t)
                else "float" if pa.types.is_floating(t) else None)
        col = self.columns.get(key)
        if kind is None or (col is not None and col.kind != kind):
            self.set_column(key, rows, values.to_pylist())
            return
        if col is None:
            col = self.columns[key] = _PropertyColumn(kind)
        present = ~np.asarray(values.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        fill = False if kind == "bool" else 0
        data = values.fill_null(fill).to_numpy(zero_copy_only=False).astype(_KIND_DTYPE[kind])
        if rows.shape[0]:
            col._pad(int(rows.max()) + 1)
            col.present.view()[rows[present]] = True
            col.values.view()[rows[present]] = data[present]

    def set(self, row: int, props: dict) -> dict:
        """Merge ``props`` into ``row``; return the previous values of those keys (MISSING if unset)."""
        old = {k: self.get_value(row, k) for k in props}
        self.set_many(np.array([row], dtype=np.int64), [props])
        return old

    def get_value(self, row: int, key: str):
        col = self.columns.get(key)
        return MISSING if col is None else col.get(row)

    def get(self, row: int) -> dict[str, Any]:
        out = {}
        for k, col in self.columns.items():
            v = col.get(row)
            if v is not MISSING and v is not None:
                out[k] = v
        return out

    def take(self, rows: np.ndarray) -> "PropertyTable":
        other = PropertyTable()
        other.columns = {k: c.take(rows) for k, c in self.columns.items()}
        return other

    def column(self, key: str, rows: np.ndarray, n_rows_total: int):
        """``(values, present)`` of one key at ``rows``: a NumPy array for bool/int/float keys,
        else a list; ``present`` is a bool array."""
        col = self.columns[key]
        col._pad(n_rows_total)
        present = col.present.view()[rows]
        if isinstance(col.values, Column):
            return col.values.view()[rows], present
        lst = col.values
        return [lst[r] for r in rows.tolist()], present

    def nbytes(self) -> int:
        total = 0
        for c in self.columns.values():
            total += c.present.nbytes()
            total += c.values.nbytes() if isinstance(c.values, Column) else 8 * len(c.values)
        return total
