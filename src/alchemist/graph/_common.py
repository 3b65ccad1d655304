"""Constants and Arrow/NumPy helpers shared by the modules of :mod:`alchemist.graph`.

Everything here is public to the package (no leading underscore) and imports nothing from it but
:mod:`alchemist.graph._columns`.
"""

from __future__ import annotations

import ctypes
import html
import math
import re
from typing import Any

import numpy as np

from alchemist.graph._columns import PropertyTable
from alchemist.graph._intern import hash_ids

__all__ = [
    "ALIVE", "BULK_KINDS", "BULK_MIN", "CREATED", "EDGE", "EMPTY", "IMPLICIT_ID", "NODE", "as_arrow_table", "as_strings",
    "datetimes", "jsonable", "one_array", "pattern_numbers", "polars_frame", "release_memory", "repeats_or_hits",
    "slot_strings", "summary_html",
]

#: The removal version of a row that is alive.
ALIVE = np.iinfo(np.int64).max
EMPTY: dict[str, Any] = {}
#: Edge ids of the form ``e<raw row>`` (stored as no string at all).
IMPLICIT_ID = re.compile(r"e(0|[1-9][0-9]*)")
BULK_MIN = 64  # below this many events a call takes the per-event path
#: Event kinds of the column-wise path.
NODE, EDGE, CREATED = 0, 1, 2
BULK_KINDS = {"node_added": NODE, "edge_added": EDGE, "graph_created": CREATED}


def as_strings(values):
    """A pyarrow StringArray (casting large strings, views and dictionaries)."""
    import pyarrow as pa

    if values is None:
        return None
    if isinstance(values, pa.ChunkedArray):
        values = one_array(values)
    if not isinstance(values, pa.Array):
        values = pa.array(values, type=pa.string())
    if pa.types.is_dictionary(values.type):
        values = values.dictionary_decode()
    if values.type != pa.string():
        values = values.cast(pa.string())
    return values


def one_array(values):
    """A ChunkedArray as one Array (its only chunk as is: no copy)."""
    return values.chunk(0) if values.num_chunks == 1 else values.combine_chunks()


def as_arrow_table(table):
    """A pyarrow Table of a pyarrow Table or RecordBatch, polars or pandas DataFrame or dict of arrays."""
    import pyarrow as pa

    if isinstance(table, pa.Table):
        return table
    if isinstance(table, pa.RecordBatch):
        return pa.Table.from_batches([table])
    if isinstance(table, dict):
        return pa.table({k: v if isinstance(v, (pa.Array, pa.ChunkedArray)) else pa.array(
            v.tolist() if isinstance(v, np.ndarray) and v.dtype == object else v) for k, v in table.items()})
    module = type(table).__module__
    if module.startswith("polars"):
        return table.to_arrow()
    if module.startswith("pandas"):
        return pa.Table.from_pandas(table, preserve_index=False)
    raise TypeError(f"apply_columns takes a pyarrow Table, polars or pandas DataFrame or dict, not {type(table).__name__}")


def slot_strings(a, b, slots: np.ndarray):
    """The strings at interleaved ``slots`` (2k: ``a[k]``, 2k + 1: ``b[k]``, increasing) of two
    StringArrays: ``a`` itself when the slots are all of ``a``'s (a node_added column of new ids)."""
    import pyarrow as pa

    if not slots.shape[0]:
        return pa.array([], pa.string())
    odd = slots % 2 == 1
    if not odd.any():
        if slots.shape[0] == len(a) and slots[-1] == 2 * (len(a) - 1):  # (increasing: every slot of a)
            return a
        return a.take(pa.array(slots // 2))
    if odd.all():
        return b.take(pa.array(slots // 2))
    return pa.concat_arrays([a, b]).take(pa.array(np.where(odd, len(a) + slots // 2, slots // 2)))


def pattern_numbers(ids) -> np.ndarray:
    """k for ids of the form ``"e<k>"`` (pyarrow strings), -1 for the others."""
    import pyarrow as pa
    import pyarrow.compute as pc

    out = np.full(len(ids), -1, dtype=np.int64)
    cand = np.flatnonzero(pc.starts_with(ids, "e").fill_null(False).to_numpy(zero_copy_only=False))
    if cand.shape[0]:  # the regular expression only on ids that start with "e"
        sub = ids if cand.shape[0] == len(ids) else ids.take(pa.array(cand))
        match = pc.match_substring_regex(sub, r"^e(0|[1-9][0-9]{0,17})$").fill_null(False)
        digits = pc.if_else(match, pc.utf8_slice_codeunits(sub, 1), pa.scalar("-1"))
        out[cand] = pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False)
    return out


def repeats_or_hits(ids, known) -> bool:
    """Whether the pyarrow strings ``ids`` may repeat one another or one of ``known`` (strings or
    None): True when two of their 64-bit hashes are equal (sorted, then adjacent ones compared), so
    a False is exact and a True is confirmed by the caller."""
    h = hash_ids(ids)
    if known is not None:
        h = np.concatenate([h, hash_ids(known)])
    h.sort()
    return bool((h[1:] == h[:-1]).any())


def release_memory() -> None:
    """Hand the temporaries of a large bulk load back to the operating system: Arrow's pool
    keeps freed blocks, and glibc keeps freed heap memory once its mmap threshold has grown."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def datetimes(seconds: np.ndarray) -> np.ndarray:
    """``datetime64[ms]`` of float Unix seconds (NaT where NaN)."""
    out = np.full(seconds.shape[0], np.datetime64("NaT"), dtype="datetime64[ms]")
    ok = np.isfinite(seconds)
    out[ok] = (seconds[ok] * 1000).astype("int64").astype("datetime64[ms]")
    return out


def polars_frame(data: dict[str, Any], table: PropertyTable, rows: np.ndarray, n_total: int):
    """A polars DataFrame of ``data`` plus one typed column per property of ``table``."""
    import polars as pl

    frame = pl.DataFrame(data, strict=False)
    extra = []
    for key, col in table.columns.items():
        name = key if key not in data else f"property_{key}"
        values = col.arrow(rows, n_total)
        if isinstance(values, list):
            try:
                extra.append(pl.Series(name, values, strict=False))
            except Exception:  # mixed JSON values: keep them as Python objects
                extra.append(pl.Series(name, values, dtype=pl.Object))
        else:
            extra.append(pl.Series(name, pl.from_arrow(values)))
    return frame.with_columns(extra) if extra else frame


def jsonable(value):
    """``value`` as JSON-compatible Python (non-finite floats as None, other objects as str)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def summary_html(graph, vocabularies, property_tables) -> str:
    """The HTML summary of a Graph for notebooks: sizes, degree range, the commonest labels and
    relationship types, the property columns and the last event's time.

    Parameters
    ----------
    graph : Graph
    vocabularies : list of (title, Vocabulary, (rows,) int32 codes)
    property_tables : list of (title, PropertyTable)

    Returns
    -------
    str
    """
    kind = "directed" if graph.directed else "undirected"
    deg = graph.degree()
    rows = [
        ("nodes", f"{graph.number_of_nodes():,}"), ("edges", f"{graph.number_of_edges():,}"), ("kind", kind),
        ("version", f"{graph.version:,}"),
    ]
    if deg.shape[0]:
        rows.append(("degree", f"min {deg.min():,} · mean {deg.mean():.2f} · max {deg.max():,}"))
    for title, vocab, codes in vocabularies:
        counts = np.bincount(codes, minlength=len(vocab.words)) if codes.shape[0] else np.zeros(1, int)
        top = [(vocab.words[i], int(counts[i])) for i in np.argsort(-counts)[:6] if counts[i] and vocab.words[i]]
        if top:
            rows.append((title, ", ".join(f"{html.escape(w)} ({c:,})" for w, c in top)))
    for title, table in property_tables:
        if table.columns:
            rows.append((title, ", ".join(f"{html.escape(k)}: {c.kind}" for k, c in list(table.columns.items())[:12])))
    if graph.last_timestamp:
        rows.append(("last event", html.escape(graph.last_timestamp)))
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
                   for k, v in rows)
    title = html.escape(graph.graph_id) + (f" — {html.escape(graph.name)}" if graph.name else "")
    return (f"<div class='alchemist-graph'><b>alchemist.Graph</b> <code>{title}</code>"
            f"<table>{body}</table></div>")
