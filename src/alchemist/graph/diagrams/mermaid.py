"""Mermaid flowcharts (``graph TD`` / ``flowchart LR``), alone or in ```` ```mermaid ```` blocks of Markdown.

What is read, as the original Information Alchemist reads it (its ``GraphImportService::import_mermaid``)
and as Mermaid's flowchart grammar defines it [1]_:

- nodes with their shapes: ``A[text]`` (rect), ``A(text)`` (round), ``A{text}`` (rhombus),
  ``A((text))`` (circle), ``A([text])``, ``A[[text]]``, ``A[(text)]``, ``A{{text}}``, ``A>text]``,
  ``A[/text/]``, ``A[\\text\\]``, ``A[/text\\]``, ``A[\\text/]``, ``A(((text)))``; the text may be
  quoted (``A["a [b]"]``) and may use Mermaid's entity codes (``#quot;``, ``#35;``);
- links ``-->``, ``---``, ``-.->``, ``-.-``, ``==>``, ``===``, ``~~~``, ``--o``, ``--x``, ``<-->`` (and
  longer ones such as ``---->``), with text as ``-->|text|`` or ``-- text -->``; chains ``A --> B --> C``
  and groups ``A & B --> C & D``;
- ``subgraph id [title]`` ... ``end`` (nested): each node declared inside gets the property
  ``subgraph`` (the innermost subgraph's id) and, when it has one, ``subgraph_title``; a subgraph id used
  as a link end becomes a node of shape ``"subgraph"``;
- ``class a,b name`` and ``A:::name``: the property ``class``. ``classDef``, ``style``, ``linkStyle``,
  ``click``, ``direction`` and accessibility lines are read past; ``%%`` starts a comment.

Each node has the properties ``caption`` (its text; the id when it has none; a Graph node's ``label`` is
its type, empty here) and ``shape``; each edge the
property ``arrow`` (the link as written, e.g. ``"-.->"``) and, for ``<-->``, ``bidirectional``; its
relationship is the link text. Edge ids are ``"{source}-{target}"`` (``-2``, ``-3``... for parallel
links), as the original app names them. In Markdown, every ```` ```mermaid ```` flowchart block is read;
as in the original app, node ids get the prefix ``sg{k}_`` (``k`` counting blocks from 0) and the
property ``section`` (the heading above the block, or ``"Subgraph {k+1}"``). Blocks of other diagram
types (sequence, class...) are passed over.

References
----------
.. [1] Mermaid, "Flowcharts - Basic Syntax", https://mermaid.js.org/syntax/flowchart.html
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from alchemist.graph.diagrams.model import MAX_BYTES, MAX_DEPTH, Diagram, format_error, read_text

__all__ = ["read_mermaid", "parse_mermaid", "write_mermaid", "mermaid_blocks"]

# (open, close, shape), longest opener first
SHAPES = [
    ("(((", ")))", "double-circle"), ("((", "))", "circle"), ("([", "])", "stadium"), ("[[", "]]", "subroutine"),
    ("[(", ")]", "cylinder"), ("{{", "}}", "hexagon"), ("[/", "/]", "parallelogram"),
    ("[\\", "\\]", "parallelogram-alt"), ("[/", "\\]", "trapezoid"), ("[\\", "/]", "trapezoid-alt"),
    (">", "]", "asymmetric"), ("[", "]", "rect"), ("(", ")", "round"), ("{", "}", "rhombus"),
]
SKIPPED = ("classdef", "style", "linkstyle", "click", "direction", "acctitle", "accdescr", "title", "callback")
HEADER = re.compile(r"^(graph|flowchart|flowchart-elk)\b[ \t]*(TD|TB|BT|LR|RL|<|>|\^|v)?[ \t]*(;|$)", re.I)
NODE_ID = re.compile(r"[\w$][\w$]*(?:-(?![-.>])[\w$]+)*")
# a link with its text inside: "-- text -->", "-. text .->", "== text ==>"
INLINE_LINK = re.compile(r"(<)?(--|==|-\.)(?![->=.])\s*(.+?)\s*(-{2,}>|-{3,}|\.-+>|\.-|={2,}>|={3,}|--[ox](?=\s)|==[ox](?=\s))")
LINK = re.compile(r"(<)?(-{2,}>|-{3,}|-\.+->|-\.+-|={2,}>|={3,}|~{3,}|-{2,}[ox](?=[\s&]|$)|={2,}[ox](?=[\s&]|$))")
ENTITY = re.compile(r"#(\w+|\d+);")
SAFE_ID = re.compile(r"^[A-Za-z_][\w]*$")
SHAPE_OF = {shape: (o, c) for o, c, shape in SHAPES}


def read_mermaid(path: str | Path, *, graph_id: str | None = None, max_bytes: int = MAX_BYTES):
    """Read a Mermaid flowchart file, or every Mermaid flowchart in a Markdown file, into a Graph.

    Parameters
    ----------
    path : str or Path
        ``.mmd`` / ``.mermaid`` (one flowchart) or ``.md`` / ``.markdown`` (fenced ```` ```mermaid ````
        blocks); a file of another name is read as Markdown when it holds such a fence.
    graph_id : str, optional
        Defaults to the file name without its extensions.
    max_bytes : int
        Larger files are refused before they are read.

    Returns
    -------
    Graph
        Directed; node and edge properties as described in the module's docstring.

    Raises
    ------
    GraphFormatError
        The file is missing, too large, or malformed; the message names the file and the line
        (``error.line``), e.g. an unterminated node text, a link with no node after it, an ``end``
        without ``subgraph``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "flow.mmd"
    ...     _ = path.write_text("graph TD\\n  A[Start] --> B{Ok?}\\n  B -->|Yes| C((Done))\\n")
    ...     g = read_mermaid(path)
    >>> g.node_ids, g.edge_ids
    (['A', 'B', 'C'], ['A-B', 'B-C'])
    >>> g.node("B")["shape"], g.edge("B-C")["relationship"]
    ('rhombus', 'Yes')
    """
    return parse_mermaid(read_text(path, max_bytes=max_bytes), path=str(path)).to_graph(graph_id)


def parse_mermaid(text: str, *, path: str = "<text>", markdown: bool | None = None) -> Diagram:
    """Parse Mermaid (or Markdown holding Mermaid) text into a :class:`~alchemist.graph.diagrams.Diagram`.

    Parameters
    ----------
    text : str
    path : str
        Named in error messages.
    markdown : bool, optional
        Read ``text`` as Markdown; by default when ``path`` ends in ``.md``/``.markdown`` or the text
        holds a ```` ```mermaid ```` fence.

    Returns
    -------
    Diagram

    Raises
    ------
    GraphFormatError
        Malformed input, naming the line; a file with no flowchart in it.

    Examples
    --------
    >>> d = parse_mermaid("flowchart LR\\n  a --> b --> c\\n  a -.-> c")
    >>> [(e.source, e.target, e.properties["arrow"]) for e in d.edges]
    [('a', 'b', '-->'), ('b', 'c', '-->'), ('a', 'c', '-.->')]
    """
    if markdown is None:
        markdown = Path(path).suffix.lower() in (".md", ".markdown") or bool(re.search(r"(?m)^\s*(`{3,}|~{3,})\s*mermaid", text))
    diagram = Diagram(path=path)
    if not markdown:
        _parse_flowchart(text.split("\n"), 0, diagram, prefix="", section=None)
        return diagram
    blocks = [b for b in mermaid_blocks(text) if _is_flowchart(b[2])]
    if not blocks:
        raise format_error(path, None, "no Mermaid flowchart (```mermaid block starting with graph/flowchart) in it")
    for k, (heading, first_line, lines) in enumerate(blocks):
        _parse_flowchart(lines, first_line - 1, diagram, prefix=f"sg{k}_", section=heading or f"Subgraph {k + 1}")
    return diagram


def mermaid_blocks(text: str) -> list[tuple[str, int, list[str]]]:
    """The fenced ```` ```mermaid ```` blocks of a Markdown text.

    Parameters
    ----------
    text : str

    Returns
    -------
    list of (heading, first_line, lines)
        The nearest heading above the block (``""`` when none), the 1-based line of the block's first
        line of Mermaid, and its lines.

    Examples
    --------
    >>> mermaid_blocks("# Flow\\n\\n```mermaid\\ngraph TD\\n  a-->b\\n```\\n")
    [('Flow', 4, ['graph TD', '  a-->b'])]
    """
    out, heading, fence, block, start = [], "", None, [], 0
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if fence is None:
            m = re.match(r"^(`{3,}|~{3,})\s*(\S*)", stripped)
            if m:
                fence, lang = m.group(1), m.group(2).lower()
                block, start = ([] if lang == "mermaid" else None), number + 1
            elif re.match(r"^#{1,6}\s", stripped):
                heading = stripped.lstrip("#").strip()
        elif stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
            if block is not None:
                out.append((heading, start, block))
            fence = None
        elif block is not None:
            block.append(line)
    return out


def write_mermaid(graph, path: str | Path, *, direction: str = "TD") -> Path:
    """Write a Graph as a Mermaid flowchart.

    Parameters
    ----------
    graph : Graph
    path : str or Path
    direction : {"TD", "TB", "BT", "LR", "RL"}

    Returns
    -------
    Path

    Raises
    ------
    ValueError
        An unknown ``direction``.
    OSError
        The file cannot be written.

    Notes
    -----
    A node's text is its ``caption`` property, else its id; its shape its ``shape`` property (rect when
    absent or unknown). An edge's text is its relationship; its link its ``arrow`` property (``-->``
    when absent; ``---`` for every edge of an undirected graph). Ids that Mermaid cannot take as they are
    (spaces, punctuation, a leading digit, the keywords ``end``, ``graph``...) are written as ``n0``, ``n1``... with the id
    as text when the node has no ``caption``. Quotes in text are written as ``#quot;``.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b")], directed=True)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(write_mermaid(g, pathlib.Path(tmp) / "g.mmd").read_text(), end="")
    flowchart TD
        a["a"]
        b["b"]
        a --> b
    """
    if direction.upper() not in ("TD", "TB", "BT", "LR", "RL"):
        raise ValueError(f"direction={direction!r}; use TD, TB, BT, LR or RL")
    path = Path(path)
    names, lines = {}, [f"flowchart {direction.upper()}"]
    for i, node_id in enumerate(graph.node_ids):
        record = graph.node(node_id)
        safe = SAFE_ID.match(node_id) and node_id not in ("end", "graph", "subgraph", "flowchart", "class", "style")
        names[node_id] = node_id if safe else f"n{i}"
        opener, closer = SHAPE_OF.get(str(record.get("shape", "rect")), ("[", "]"))
        lines.append(f"    {names[node_id]}{opener}\"{_escape(record.get('caption') or node_id)}\"{closer}")
    for edge_id in graph.edge_ids:
        e = graph.edge(edge_id)
        arrow = str(e.get("arrow") or "-->") if graph.directed else "---"
        if not LINK.fullmatch(arrow):
            arrow = "-->"
        text = f"|\"{_escape(e['relationship'])}\"|" if e["relationship"] else ""
        lines.append(f"    {names[e['source']]} {arrow}{text} {names[e['target']]}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------- the flowchart parser
def _is_flowchart(lines: list[str]) -> bool:
    for line in lines:
        s = line.strip()
        if s and not s.startswith("%%"):
            return bool(HEADER.match(s))
    return False


def _parse_flowchart(lines: list[str], offset: int, diagram: Diagram, *, prefix: str, section: str | None) -> None:
    path = diagram.path
    header_seen = False
    stack: list[tuple[str, int]] = []  # open subgraphs: (id, line)
    titles: dict[str, str] = {}
    subgraph_ids: set[str] = set()
    state = _State(diagram, prefix, section, stack, titles)
    for index, raw in enumerate(lines):
        number = offset + index + 1
        line = raw.strip()
        if not line or line.startswith("%%"):
            continue
        if not header_seen:
            m = HEADER.match(line)
            if not m:
                raise format_error(path, number, f"expected 'graph TD' or 'flowchart LR' first, found {line[:60]!r}; "
                                   "only Mermaid flowcharts are read")
            header_seen = True
            line = line[m.end():].strip()
        for statement in _statements(line, path, number):
            word = statement.split(None, 1)[0].lower()
            if word == "subgraph":
                if len(stack) >= MAX_DEPTH:
                    raise format_error(path, number, f"subgraphs nested deeper than {MAX_DEPTH}")
                sid, title = _subgraph_header(statement[len("subgraph"):].strip(), path, number)
                stack.append((prefix + sid, number))
                subgraph_ids.add(prefix + sid)
                if title:
                    titles[prefix + sid] = title
            elif statement.strip() == "end":  # lower case only: Mermaid reads "End" as a node
                if not stack:
                    raise format_error(path, number, "'end' with no open subgraph")
                stack.pop()
            elif word == "class" and re.match(r"(?i)class\s", statement):
                parts = statement.split()
                if len(parts) != 3:
                    raise format_error(path, number, f"expected 'class id1,id2 className', found {statement!r}")
                for nid in parts[1].split(","):
                    state.node(nid.strip(), number).properties["class"] = parts[2]
            elif word.split(":")[0] in SKIPPED:
                continue
            else:
                state.statement(statement, number)
    if stack:
        sid, opened = stack[-1]
        raise format_error(path, opened, f"subgraph {sid!r} is never closed (add 'end')")
    if not header_seen:
        raise format_error(path, offset + 1 if lines else None, "no 'graph'/'flowchart' header: not a Mermaid flowchart")
    for sid in subgraph_ids & diagram.nodes.keys():
        props = diagram.nodes[sid].properties
        props["shape"] = "subgraph"
        props["caption"] = titles.get(sid, props.get("caption", sid[len(prefix):]))


class _State:
    """Adds nodes and edges of one flowchart to the diagram."""

    def __init__(self, diagram, prefix, section, stack, titles):
        self.diagram, self.prefix, self.section, self.stack, self.titles = diagram, prefix, section, stack, titles

    def node(self, raw_id: str, number: int):
        node = self.diagram.nodes.get(self.prefix + raw_id)
        if node is None:
            node = self.diagram.node(self.prefix + raw_id, line=number)
            node.properties.update({"caption": raw_id, "shape": "rect"})
            if self.section is not None:
                node.properties["section"] = self.section
            if self.stack:
                sid = self.stack[-1][0]
                node.properties["subgraph"] = sid
                if sid in self.titles:
                    node.properties["subgraph_title"] = self.titles[sid]
        return node

    def statement(self, text: str, number: int) -> None:
        path = self.diagram.path
        pos, groups, links = 0, [], []
        while True:
            group, pos = self._group(text, pos, number)
            groups.append(group)
            pos = _skip_space(text, pos)
            if pos >= len(text):
                break
            link, pos = _link(text, pos, path, number)
            links.append(link)
            pos = _skip_space(text, pos)
            if pos >= len(text):
                raise format_error(path, number, f"the link {link[0]!r} has no node after it")
        for (arrow, label, both), sources, targets in zip(links, groups, groups[1:]):
            for s in sources:
                for t in targets:
                    props = {"arrow": arrow}
                    if both:
                        props["bidirectional"] = True
                    self.diagram.add_edge(s, t, line=number, relationship=label, properties=props)

    def _group(self, text: str, pos: int, number: int) -> tuple[list[str], int]:
        ids = []
        while True:
            pos = _skip_space(text, pos)
            m = NODE_ID.match(text, pos)
            if not m:
                found = text[pos:pos + 20] or "the end of the line"
                raise format_error(self.diagram.path, number, f"expected a node id at column {pos + 1}, found {found!r}")
            node = self.node(m.group(0), number)
            pos = m.end()
            shape, label, pos = _shape(text, pos, self.diagram.path, number)
            if shape is not None:
                node.properties.update({"caption": label, "shape": shape})
            if text.startswith(":::", pos):
                c = re.compile(r"[\w-]+").match(text, pos + 3)
                if not c:
                    raise format_error(self.diagram.path, number, f"':::' at column {pos + 1} needs a class name")
                node.properties["class"] = c.group(0)
                pos = c.end()
            ids.append(node.node_id)
            after = _skip_space(text, pos)
            if not text.startswith("&", after):
                return ids, pos
            pos = after + 1


def _statements(line: str, path: str, number: int) -> list[str]:
    """Split a line at ``;`` outside quotes."""
    out, start, quoted = [], 0, False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            out.append(line[start:i])
            start = i + 1
    if quoted:
        raise format_error(path, number, f"unterminated string: a '\"' at column {line.index(chr(34)) + 1} is never closed")
    out.append(line[start:])
    return [s.strip() for s in out if s.strip() and not s.strip().startswith("%%")]


def _subgraph_header(rest: str, path: str, number: int) -> tuple[str, str]:
    if not rest:
        raise format_error(path, number, "'subgraph' needs an id or a title")
    m = re.match(r"^([\w$-]+)\s*\[\s*\"?(.*?)\"?\s*\]$", rest)
    if m:
        return m.group(1), _text(m.group(2))
    if rest.startswith('"') and rest.endswith('"') and len(rest) > 1:
        title = _text(rest[1:-1])
        return title, title
    if re.fullmatch(r"[\w$-]+", rest):
        return rest, ""
    return rest, rest  # a title with spaces is also its id, as Mermaid does


def _shape(text: str, pos: int, path: str, number: int) -> tuple[str | None, str, int]:
    for opener, closer, shape in SHAPES:
        if not text.startswith(opener, pos):
            continue
        start = pos + len(opener)
        if opener in ("[/", "[\\"):
            ends = [(text.find(c, start), c, s) for _, c, s in SHAPES if _ == opener]
            ends = [x for x in ends if x[0] >= 0]
            if ends:
                _, closer, shape = min(ends)
        if text.startswith('"', start):
            q = text.find('"', start + 1)
            if q < 0:
                raise format_error(path, number, f"unterminated string: the '\"' at column {start + 1} is never closed")
            label, after = text[start + 1:q], q + 1
            if not text.startswith(closer, after):
                raise format_error(path, number, f"expected {closer!r} after the quoted text at column {after + 1}")
            return shape, _text(label), after + len(closer)
        end = text.find(closer, start)
        if end < 0:
            raise format_error(path, number, f"unterminated node text: {opener!r} at column {pos + 1} is never closed "
                               f"by {closer!r}")
        return shape, _text(text[start:end].strip()), end + len(closer)
    return None, "", pos


def _link(text: str, pos: int, path: str, number: int) -> tuple[tuple[str, str, bool], int]:
    m = LINK.match(text, pos)
    if m:
        arrow, end = m.group(2), m.end()
        label = ""
        if text.startswith("|", end):
            close = text.find("|", end + 1)
            if close < 0:
                raise format_error(path, number, f"unterminated link text: the '|' at column {end + 1} is never closed")
            label, end = _text(text[end + 1:close].strip().strip('"')), close + 1
        return (_normal(arrow), label, bool(m.group(1))), end
    m = INLINE_LINK.match(text, pos)
    if m:
        return (_normal(m.group(2)[0] + m.group(4)), _text(m.group(3).strip('"')), bool(m.group(1))), m.end()
    raise format_error(path, number, f"expected a link (-->, ---, -.->, ==>...) at column {pos + 1}, "
                       f"found {text[pos:pos + 20]!r}")


def _normal(arrow: str) -> str:
    """``---->`` → ``-->``, ``-...->`` → ``-.->``, ``====`` → ``===``: the link's kind, not its length."""
    if arrow.startswith("~"):
        return "~~~"
    if "." in arrow:
        return "-.->" if arrow.endswith(">") else "-.-"
    c = arrow[0]
    tail = arrow[-1] if arrow[-1] in ">ox" else ""
    return c * 2 + tail if tail else c * 3


def _text(s: str) -> str:
    return ENTITY.sub(lambda m: chr(int(m.group(1))) if m.group(1).isdigit() else html.unescape(f"&{m.group(1)};"), s)


def _escape(s) -> str:
    return str(s).replace("#", "#35;").replace('"', "#quot;").replace("\n", "<br>")


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    return pos
