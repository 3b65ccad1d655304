"""The plan of an edge list's CIM events: ids, kinds, lines and first appearances, computed vectorised.

:class:`WirePlan` is what :mod:`alchemist.events.wire` generates wire bytes from: for each event
its kind (``graph_created``, ``node_added``, ``edge_added``), the line it comes from, its node,
and its deterministic UUIDv7 (time field from the line's timestamp, 74 bits from a BLAKE3
extendable output keyed by the graph id and :func:`edge_list_digest` of the file's content).
:func:`plan_edge_file` builds it straight from a SNAP file read in blocks with Arrow, without a
Python string per line; :func:`plan_edge_list` from an already-read
:class:`~alchemist.graph.io.EdgeList`. The byte helpers at the end (:func:`pack_bytes`,
:func:`uuid7_bytes`, :func:`rfc3339_bytes`, :func:`json_string`) are shared with the generator.

Memory: about 20 bytes per event plus the distinct node names.
"""

from __future__ import annotations

from pathlib import Path

import blake3
import msgspec
import numpy as np

from alchemist.events.envelope import Event, new_event
from alchemist.events.times import format_seconds, rfc3339

__all__ = [
    "WirePlan", "plan_edge_list", "plan_edge_file", "count_events", "edge_list_digest", "pack_bytes", "uuid7_bytes",
    "rfc3339_bytes", "json_string",
]


class WirePlan:
    """What every event of an edge list is, computed vectorised before any byte is written.

    Events: ``graph_created`` (index 0), then per line a ``node_added`` for each endpoint seen
    for the first time (source first) and the line's ``edge_added``. Build it with
    :func:`plan_edge_list` (cached: a replay asks several times).

    Attributes
    ----------
    graph_id : str
    total : int
        Number of events (1 + distinct nodes + lines).
    node_names : (n_nodes,) object array of str
        Distinct node ids in order of first appearance.
    source_codes, target_codes : (n_lines,) int64 arrays
        Each line's endpoints as indices into ``node_names``.
    kinds : (total,) uint8 array
        0 ``graph_created``, 1 ``node_added``, 2 ``edge_added``.
    lines : (total,) int64 array
        The line each event comes from (0 for ``graph_created``).
    nodes : (total,) int64 array
        The node a ``node_added`` adds (-1 otherwise).
    times : (n_lines,) float64 array
        The lines' Unix times (0 without a third column).

    Parameters
    ----------
    graph_id : str
    name : str
        The source's name (in ``graph_created``).
    node_names : sequence of str
        Distinct node ids in order of first appearance.
    source_codes, target_codes : (n_lines,) int arrays
        Indices into ``node_names``.
    times : (n_lines,) float array or None
        Unix seconds of the lines.
    content_digest : str
        A digest of the edge list's content: with the graph id, the key of the event ids.

    References
    ----------
    .. [1] RFC 9562, "Universally Unique IDentifiers (UUIDs)", §5.7 (UUIDv7), 2024.
    .. [2] J. O'Connor, J.-P. Aumasson, S. Neves, Z. Wilcox-O'Hearn, "BLAKE3: one function,
       fast everywhere" (2020), https://github.com/BLAKE3-team/BLAKE3-specs

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph.io import EdgeList
    >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
    ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
    >>> plan = plan_edge_list(edges, "pairs")
    >>> plan
    <WirePlan 'pairs': 6 events, 3 nodes>
    >>> plan.kinds.tolist(), plan.nodes.tolist()
    ([0, 1, 1, 2, 1, 2], [-1, 0, 1, -1, 2, -1])
    >>> plan.event_id(3) == plan_edge_list(edges, "pairs").event_id(3)  # deterministic
    True
    """

    def __init__(self, graph_id: str, name: str, node_names, source_codes, target_codes, times, content_digest: str):
        n = len(source_codes)
        self.graph_id = graph_id
        self.name = name
        self.node_names = np.asarray(node_names, dtype=object)
        self.source_codes = np.asarray(source_codes, dtype=np.int32)
        self.target_codes = np.asarray(target_codes, dtype=np.int32)
        self.times = np.asarray(times, dtype=np.float64) if times is not None else np.zeros(n)
        # codes number the nodes in order of first appearance (source before target on a line), so
        # an endpoint appears for the first time exactly where its code exceeds every code before it
        codes = np.empty(2 * n, dtype=np.int32)
        codes[0::2], codes[1::2] = self.source_codes, self.target_codes
        first = np.empty(2 * n, dtype=bool)
        if n:
            seen = np.maximum.accumulate(codes)
            first[0] = True
            np.greater(seen[1:], seen[:-1], out=first[1:])
            del seen
        del codes
        flags = first.reshape(-1, 2)
        per_line = 1 + flags.sum(axis=1)
        total = 1 + int(per_line.sum())
        self.total = total
        self.kinds = np.full(total, 2, dtype=np.uint8)
        self.lines = np.zeros(total, dtype=np.int32)
        self.nodes = np.full(total, -1, dtype=np.int32)
        self.kinds[0] = 0
        if n:
            begin = 1 + np.concatenate([[0], np.cumsum(per_line)[:-1]])
            self.lines[1:] = np.repeat(np.arange(n, dtype=np.int32), per_line)
            fa, fb = flags[:, 0], flags[:, 1]
            self.kinds[begin[fa]] = 1
            self.nodes[begin[fa]] = self.source_codes[fa]
            at_b = begin[fb] + fa[fb]
            self.kinds[at_b] = 1
            self.nodes[at_b] = self.target_codes[fb]
        self._key = f"{graph_id}\0{content_digest}\0".encode()
        self._names: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_edges(cls, edges, graph_id: str) -> "WirePlan":
        """The plan of an :class:`~alchemist.graph.io.EdgeList` (what :func:`plan_edge_list` builds).

        Parameters
        ----------
        edges : EdgeList
        graph_id : str

        Returns
        -------
        WirePlan
        """
        import pandas as pd

        n = len(edges)
        ends = np.empty(2 * n, dtype=object)
        ends[0::2], ends[1::2] = edges.source, edges.target
        codes, uniques = pd.factorize(ends, sort=False)
        del ends
        pairs = codes.reshape(-1, 2)
        return cls(graph_id, Path(edges.path).name, uniques, pairs[:, 0], pairs[:, 1], edges.third, edge_list_digest(edges))

    @property
    def node_count(self) -> int:
        """Distinct nodes (the ``node_added`` events).

        Returns
        -------
        int
        """
        return int(self.node_names.size)

    def ms(self, a: int = 0, b: int | None = None) -> np.ndarray:
        """Unix milliseconds of events ``a`` to ``b - 1`` (their UUIDv7 time field; 0 without times).

        Parameters
        ----------
        a, b : int
            Event indices (``b`` default: the end).

        Returns
        -------
        (b - a,) int64 array

        Examples
        --------
        >>> import numpy as np
        >>> from alchemist.graph.io import EdgeList
        >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
        ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
        >>> plan_edge_list(edges, "pairs").ms().tolist()
        [1000000000000, 1000000000000, 1000000000000, 1000000000000, 1000000060000, 1000000060000]
        """
        b = self.total if b is None else b
        if not self.times.size:
            return np.zeros(b - a, dtype=np.int64)
        event_times = self.times[self.lines[a:b]]
        return np.where(event_times > 0, np.round(event_times * 1000), 0).astype(np.int64)

    def ids(self, a: int = 0, b: int | None = None) -> np.ndarray:
        """The ids of events ``a`` to ``b - 1`` (default: to the end).

        Parameters
        ----------
        a, b : int
            Event indices.

        Returns
        -------
        (b - a, 36) uint8 array
            ASCII UUIDv7s, generated from the plan's key (nothing is stored per event).

        Examples
        --------
        >>> import numpy as np
        >>> from alchemist.graph.io import EdgeList
        >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
        ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
        >>> import uuid
        >>> first = plan_edge_list(edges, "pairs").ids(0, 1).tobytes().decode()
        >>> parsed = uuid.UUID(first)
        >>> parsed.version, parsed.int >> 80  # version 7; the time field is the line's ms
        (7, 1000000000000)
        """
        b = self.total if b is None else b
        return uuid7_bytes(self.ms(a, b), self._key, a)

    def event_id(self, k: int) -> str:
        """The id of event ``k``.

        Parameters
        ----------
        k : int

        Returns
        -------
        str
            A UUIDv7 (36 characters).
        """
        return self.ids(k, k + 1).tobytes().decode("ascii")

    def position(self, event_id: str) -> int | None:
        """Index of an event id, or None when it is not one of this plan's.

        The id's time field narrows the search to the events of that millisecond; only their ids
        are generated.

        Parameters
        ----------
        event_id : str

        Returns
        -------
        int or None

        Examples
        --------
        >>> import numpy as np
        >>> from alchemist.graph.io import EdgeList
        >>> edges = EdgeList(np.array(["a"], dtype=object), np.array(["b"], dtype=object), np.array([1.0e9]), "ab.txt")
        >>> plan = plan_edge_list(edges, "ab")
        >>> plan.position(plan.event_id(2)), plan.position("not-an-id")
        (2, None)
        """
        if len(event_id) != 36 or not event_id.isascii():
            return None
        try:
            ms = int(event_id[:8] + event_id[9:13], 16)
        except ValueError:
            return None
        target = event_id.encode()
        step = 1 << 20
        for a in range(0, self.total, step):
            for k in (a + np.flatnonzero(self.ms(a, a + step) == ms)).tolist():
                if self.ids(k, k + 1).tobytes() == target:
                    return k
        return None

    def first_timestamp(self):
        """The time of the first line (what ``graph_created`` carries), 0 for an empty list.

        Returns
        -------
        str or int
            RFC 3339 (``...Z``), or 0 when the list has no lines.
        """
        if not self.times.size:
            return 0
        return rfc3339_bytes(self.times[:1])[0].tobytes().decode("ascii")

    def graph_created(self, directed: bool = True) -> Event:
        """The ``graph_created`` event that opens the events (event 0).

        Parameters
        ----------
        directed : bool

        Returns
        -------
        Event
            Not validated (its payload is known to fit).
        """
        return new_event("graph_created", self.graph_id,
                         {"name": self.name, "directed": directed, "properties": {"source": self.name}},
                         event_id=self.event_id(0), timestamp=self.first_timestamp(), validate=False)

    def packed_names(self) -> tuple[np.ndarray, np.ndarray]:
        """The node names as JSON strings, concatenated, with their (n + 1,) offsets.

        Returns
        -------
        tuple of (uint8 array, int64 array)
            Computed once, then cached on the plan.
        """
        if self._names is None:
            self._names = pack_bytes([json_string(str(x)).encode() for x in self.node_names])
        return self._names

    def __repr__(self) -> str:
        return f"<WirePlan {self.graph_id!r}: {self.total:,} events, {self.node_count:,} nodes>"


_PLANS: dict[tuple[int, str], tuple[object, WirePlan]] = {}


def plan_edge_list(edges, graph_id: str) -> WirePlan:
    """The :class:`WirePlan` of an edge list (the last one asked for is cached).

    Parameters
    ----------
    edges : EdgeList
        From :func:`alchemist.read_edge_list`; its third column, when present, is the Unix time of
        each line (seconds).
    graph_id : str
        The aggregate id.

    Returns
    -------
    WirePlan

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph.io import EdgeList
    >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
    ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
    >>> plan = plan_edge_list(edges, "pairs")
    >>> plan.total, plan.node_names.tolist()
    (6, ['a', 'b', 'c'])
    >>> plan_edge_list(edges, "pairs") is plan  # cached
    True
    """
    key = (id(edges), graph_id)
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is edges:
        return cached[1]
    _PLANS.clear()
    plan = WirePlan.from_edges(edges, graph_id)
    _PLANS[key] = (edges, plan)
    return plan


def plan_edge_file(path, graph_id: str | None = None, *, block: int = 1 << 20) -> WirePlan | None:
    """The :class:`WirePlan` of an edge list file, read in blocks of ``block`` bytes.

    Memory: about 40 bytes per line and the distinct node names, not the file's text nor a Python
    string per line (what :func:`alchemist.read_edge_list` holds). The plan, and so every event
    id and byte generated from it, is the same as that of ``read_edge_list(path)``.

    Only the common form is read this way: ``src dst`` or ``src dst time`` with one space (or one
    tab) between fields, comments on lines of their own (``#`` or ``%``), ``\n`` line ends,
    optionally gzipped. For anything else (or a file that is missing, empty or malformed) this
    returns None: :func:`~alchemist.read_edge_list` then reads it whole, or names the bad line.

    Parameters
    ----------
    path : str or Path
    graph_id : str, optional
        Default: the file name without extensions.
    block : int
        Bytes read at a time.

    Returns
    -------
    WirePlan or None

    Raises
    ------
    None
        Any error while opening or reading the file (I/O, gzip, encoding, parsing) gives None
        instead, for :func:`~alchemist.read_edge_list` to report.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist.graph.io import read_edge_list
    >>> path = pathlib.Path(tempfile.mkdtemp(), "pairs.txt")
    >>> _ = path.write_text("a b 1000000000\\nb c 1000000060\\n")
    >>> plan = plan_edge_file(path)
    >>> plan.graph_id, plan.total
    ('pairs', 6)
    >>> bool((plan.ids() == plan_edge_list(read_edge_list(path), "pairs").ids()).all())  # the same events
    True
    >>> _ = path.write_text("a,b\\n")  # not the common form
    >>> plan_edge_file(path) is None
    True
    """
    import gzip
    import io
    import re

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    path = Path(path)
    graph_id = graph_id or path.name.split(".")[0]
    try:
        with open(path, "rb") as fh:
            gz = fh.read(2) == b"\x1f\x8b"
        stream = gzip.open(path, "rb") if gz else open(path, "rb")
    except OSError:
        return None
    index: dict[str, int] = {}
    names: list[str] = []
    sources, targets, times = [], [], []
    columns = delimiter = None
    comment = re.compile(rb"(?m)^[#%].*(?:\n|$)")
    try:
        with stream:
            rest = b""
            while True:
                data = stream.read(block)
                text = rest + data
                if data:
                    cut = text.rfind(b"\n") + 1
                    text, rest = text[:cut], text[cut:]
                    if not text:
                        rest = text + rest
                        continue
                if not text:
                    break
                if not text.endswith(b"\n"):
                    text += b"\n"  # the last line (Arrow reads no block without a line end)
                if b"\r" in text or b"\v" in text or b"\f" in text:
                    return None
                if b"#" in text or b"%" in text:
                    text = comment.sub(b"", text)
                    if b"#" in text or b"%" in text:
                        return None
                if delimiter is None:
                    first = next((line for line in text.split(b"\n", 64)[:64] if line.strip()), None)
                    if first is not None:
                        delimiter = "\t" if b"\t" in first else " "
                if delimiter is not None and text.strip():
                    if (b" " if delimiter == "\t" else b"\t") in text:
                        return None
                    table = pacsv.read_csv(
                        io.BytesIO(text), read_options=pacsv.ReadOptions(autogenerate_column_names=True),
                        parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=False),
                        convert_options=pacsv.ConvertOptions(column_types={f"f{i}": pa.string() for i in range(3)}))
                    if table.num_columns not in (2, 3) or columns not in (None, table.num_columns):
                        return None
                    columns = table.num_columns
                    for column in table.columns:
                        if column.null_count or pc.min(pc.binary_length(column)).as_py() == 0:
                            return None
                    if columns == 3:
                        third = _numbers(table.column(2).combine_chunks().cast(pa.float64()), np.float64)
                        if not np.isfinite(third).all():
                            return None
                        times.append(third)
                    m = table.num_rows
                    order = np.empty(2 * m, dtype=np.int64)  # source and target of each line, in turn
                    order[0::2], order[1::2] = np.arange(m), np.arange(m, 2 * m)
                    ends = pa.concat_arrays([table.column(0).combine_chunks(), table.column(1).combine_chunks()])
                    del table
                    # distinct ids in order of first appearance, without a Python string per line
                    take = pa.Array.from_buffers(pa.int64(), 2 * m, [None, pa.py_buffer(order)])
                    encoded = ends.take(take).dictionary_encode()
                    del ends, order, take
                    local = _numbers(encoded.indices, np.int32)
                    uniques = encoded.dictionary.to_pylist()
                    del encoded
                    lookup = np.empty(len(uniques), dtype=np.int32)
                    for j, name in enumerate(uniques):
                        code = index.get(name)
                        if code is None:
                            code = index[name] = len(names)
                            names.append(name)
                        lookup[j] = code
                    pairs = lookup[local].reshape(-1, 2)
                    sources.append(pairs[:, 0].copy())
                    targets.append(pairs[:, 1].copy())
                if not data:
                    break
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError, pa.ArrowInvalid, ValueError):
        return None
    if not sources:
        return None
    source_codes, target_codes = np.concatenate(sources), np.concatenate(targets)
    del sources, targets
    line_times = np.concatenate(times) if times else None
    # the content digest of read_edge_list's columns (see edge_list_digest), fed block by block
    h = blake3.blake3()
    for k, codes in enumerate((source_codes, target_codes)):
        if k:
            h.update(b"\1")
        for a in range(0, codes.size, 1 << 16):
            piece = "\n".join([names[c] for c in codes[a:a + (1 << 16)].tolist()]).encode()
            h.update(b"\n" + piece if a else piece)
    if line_times is not None:
        h.update(line_times.tobytes())
    return WirePlan(graph_id, path.name, np.array(names, dtype=object), source_codes, target_codes, line_times,
                    h.hexdigest()[:32])


def _numbers(array, dtype) -> np.ndarray:
    """The values of an Arrow array of numbers without nulls, copied into NumPy (read from its data
    buffer: ``Array.to_numpy`` would import pandas, 40 MB)."""
    itemsize = np.dtype(dtype).itemsize
    return np.frombuffer(array.buffers()[1], dtype=dtype, count=len(array), offset=array.offset * itemsize).copy()


def count_events(edges) -> int:
    """How many events :func:`edge_list_records` yields: 1 + distinct nodes + lines.

    Parameters
    ----------
    edges : EdgeList

    Returns
    -------
    int

    Examples
    --------
    >>> import numpy as np
    >>> from alchemist.graph.io import EdgeList
    >>> edges = EdgeList(np.array(["a", "b"], dtype=object), np.array(["b", "c"], dtype=object),
    ...                  np.array([1.0e9, 1.0e9 + 60]), "pairs.txt")
    >>> count_events(edges)  # graph_created, 3 nodes, 2 edges
    6
    """
    if not len(edges):
        return 1
    import pandas as pd

    return 1 + len(pd.unique(np.concatenate([edges.source, edges.target]))) + len(edges)


def pack_bytes(items: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated bytes and their (n + 1,) offsets."""
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    if items:
        offsets[1:] = np.cumsum([len(x) for x in items])
    return np.frombuffer(b"".join(items), dtype=np.uint8).copy(), offsets


def uuid7_bytes(ms: np.ndarray, key: bytes, first: int = 0) -> np.ndarray:
    """UUIDv7s (RFC 9562 §5.7) for Unix-millisecond times, as (n, 36) ASCII bytes, with the
    random bits of id ``first + i`` taken from bytes ``10 (first + i)`` to ``10 (first + i) + 9``
    of a BLAKE3 extendable output of ``key``: deterministic and distinct."""
    n = ms.shape[0]
    raw = np.empty((n, 16), dtype=np.uint8)
    t = ms.astype(">u8").view(np.uint8).reshape(n, 8)
    raw[:, :6] = t[:, 2:]
    raw[:, 6:] = np.frombuffer(blake3.blake3(key).digest(10 * n, seek=10 * first), dtype=np.uint8).reshape(n, 10)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x70
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    hexed = np.empty((n, 32), dtype=np.uint8)
    hexed[:, 0::2], hexed[:, 1::2] = digits[raw >> 4], digits[raw & 15]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for a, b, c in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        out[:, a:b] = hexed[:, c:c + b - a]
    return out


def rfc3339_bytes(seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """RFC 3339 UTC strings of Unix times, as :func:`alchemist.events.rfc3339` formats them,
    concatenated as ASCII bytes with their (n + 1,) offsets (vectorised for whole seconds)."""
    seconds = np.asarray(seconds, dtype=np.float64)
    n = seconds.size
    whole = np.isfinite(seconds) & (seconds == np.floor(seconds)) & (seconds >= 0) & (seconds < 253402300800)
    if whole.all():
        out = format_seconds(seconds.astype(np.int64))
        return out.reshape(-1), np.arange(n + 1, dtype=np.int64) * 20
    return pack_bytes([rfc3339(int(s) if w else float(s)).encode() for s, w in zip(seconds.tolist(), whole.tolist())])


def json_string(text: str) -> str:
    return msgspec.json.encode(text).decode()


def edge_list_digest(edges) -> str:
    h = blake3.blake3()
    h.update("\n".join(map(str, edges.source)).encode())
    h.update(b"\1")
    h.update("\n".join(map(str, edges.target)).encode())
    if edges.third is not None:
        h.update(edges.third.tobytes())
    return h.hexdigest()[:32]
