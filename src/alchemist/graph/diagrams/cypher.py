"""Cypher ``CREATE`` / ``MERGE`` scripts (what Neo4j tools, Arrows.app and the original Information Alchemist
write to describe a graph), read by a small tokenizer and recursive-descent parser of the openCypher
grammar's pattern part [1]_ — no maintained Python Cypher parser exists (libcypher-parser-python,
pycypher and opencypher on PyPI last changed in 2017-2019).

What is read:

- ``CREATE`` and ``MERGE`` of nodes ``(n:Label:Other {key: value, ...})`` and paths
  ``(a)-[r:TYPE {key: value}]->(b)<-[:T]-(c)``, several patterns separated by commas;
- variables, kept across statements (a Cypher script's ``CREATE (a) ... ; CREATE (a)-[:R]->(b)``
  names the same ``a``); a ``CREATE`` that gives a bound variable labels or properties starts a new
  node under that name, as a new statement would;
- ``MERGE`` binds the node with the same labels and properties made earlier in the file (and makes it
  only when there is none), and a relationship of the same type and properties between the same nodes;
- ``MATCH`` of single nodes by label and properties (``MATCH (a:Person {name: 'Ann'}), (b {id: 2})``),
  which must name exactly one node made earlier in the file;
- ``SET v.key = value``, ``SET v:Label``, ``SET v += {map}``, and ``ON CREATE SET`` / ``ON MATCH SET``
  after ``MERGE``; ``RETURN ...`` is read past;
- literals: strings (``'...'`` or ``"..."`` with backslash escapes), integers, floats, ``true``,
  ``false``, ``null`` (a property set to null is not set), lists and maps; backquoted names; ``//`` and
  ``/* */`` comments; cypher-shell commands (``:begin``) and ``CREATE CONSTRAINT`` / ``CREATE INDEX``
  statements are passed over.

Anything else (``WHERE``, ``UNWIND``, ``WITH``, ``DELETE``, parameters ``$p``, function calls) is refused
with a :class:`~alchemist.errors.GraphFormatError` naming the line, never guessed at.

A node's id is its variable (``v_2``, ``v_3``... when the name is taken again), or ``n0``, ``n1``... for
an unnamed one; its label its first label (further labels in the property ``labels``). A relationship's
id is its variable, else ``"{source}-{target}"`` (``-2``... for parallel ones); its relationship its
type; a numeric ``weight`` property its weight. The original app made a node for each ``CREATE (n:L
{...})`` line and an edge for each ``CREATE (a)-[:T]->(b)`` line; this reader reads whole statements.

References
----------
.. [1] openCypher, "Cypher Query Language Reference, Version 9", section "Patterns",
   https://opencypher.org/resources/
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from alchemist.graph.diagrams.model import MAX_BYTES, MAX_DEPTH, Diagram, DiagramNode, format_error, read_text

__all__ = ["read_cypher", "parse_cypher", "write_cypher"]

TOKEN = re.compile(r"""
    (?P<space>[ \t\r\f\v]+|\n)
  | (?P<comment>//[^\n]*|/\*)
  | (?P<string>['"])
  | (?P<number>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][\w]*|`(?:[^`]|``)*`)
  | (?P<param>\$\w*)
  | (?P<punct>\+=|<|>|-|[()\[\]{}:,;.=*|+])
""", re.X)
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "\\": "\\", "'": "'", '"': '"'}
CLAUSES = {"create", "merge", "match", "set", "return", "on"}


def read_cypher(path: str | Path, *, graph_id: str | None = None, max_bytes: int = MAX_BYTES):
    """Read a Cypher ``CREATE``/``MERGE`` script into a Graph.

    Parameters
    ----------
    path : str or Path
        ``.cypher`` / ``.cql`` / ``.cyp``.
    graph_id : str, optional
        Defaults to the file name without its extensions.
    max_bytes : int
        Larger files are refused before they are read.

    Returns
    -------
    Graph
        Directed.

    Raises
    ------
    GraphFormatError
        The file is missing, too large, or holds what this reader does not read (see the module's
        docstring); the message names the line (``error.line``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "g.cypher"
    ...     _ = path.write_text("CREATE (a:Person {name: 'Ann'})-[:KNOWS {since: 2020}]->(b:Person {name: 'Bo'});")
    ...     g = read_cypher(path)
    >>> g.node("a"), g.edge("a-b")
    ({'id': 'a', 'label': 'Person', 'name': 'Ann'}, {'id': 'a-b', 'source': 'a', 'target': 'b', 'relationship': 'KNOWS', 'weight': 1.0, 'since': 2020})
    """
    return parse_cypher(read_text(path, max_bytes=max_bytes), path=str(path)).to_graph(graph_id)


def parse_cypher(text: str, *, path: str = "<text>") -> Diagram:
    """Parse a Cypher script into a :class:`~alchemist.graph.diagrams.Diagram`.

    Parameters
    ----------
    text : str
    path : str
        Named in error messages.

    Returns
    -------
    Diagram

    Raises
    ------
    GraphFormatError
        Malformed or unsupported Cypher, naming the line.

    Examples
    --------
    >>> d = parse_cypher("MERGE (a:City {name: 'Oslo'}) MERGE (b:City {name: 'Oslo'}) MERGE (a)-[:NEAR]->(c:City {name: 'Bergen'})")
    >>> list(d.nodes), [(e.source, e.target, e.relationship) for e in d.edges]
    (['a', 'c'], [('a', 'c', 'NEAR')])
    """
    diagram = Diagram(path=path)
    _Parser(_tokens(text, path), diagram).script()
    return diagram


def write_cypher(graph, path: str | Path) -> Path:
    """Write a Graph as one Cypher ``CREATE`` statement per node and per edge.

    Parameters
    ----------
    graph : Graph
    path : str or Path

    Returns
    -------
    Path

    Raises
    ------
    OSError
        The file cannot be written.

    Notes
    -----
    Node variables are the node ids (backquoted where needed); each edge is
    ``CREATE (a)-[`id`:TYPE {props}]->(b);`` (``RELATED`` when it has no relationship; a weight other than
    1 as the property ``weight``). :func:`read_cypher` reads the file back to the same ids.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from alchemist import Graph
    >>> g = Graph.from_edges([("a", "b", 2.0)], directed=True)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(write_cypher(g, pathlib.Path(tmp) / "g.cypher").read_text(), end="")
    CREATE (a);
    CREATE (b);
    CREATE (a)-[e0:RELATED {weight: 2.0}]->(b);
    """
    path = Path(path)
    lines = []
    for node_id in graph.node_ids:
        record = graph.node(node_id)
        del record["id"]
        label = record.pop("label")
        labels = [label] if label else []
        extra = record.pop("labels", None)
        if isinstance(extra, str):
            try:
                extra = json.loads(extra)
            except ValueError:
                extra = None
        if isinstance(extra, list):
            labels += [str(x) for x in extra if str(x) not in labels]
        text = "".join(":" + _name(x) for x in labels)
        lines.append(f"CREATE ({_name(node_id)}{text}{_map(record)});")
    for edge_id in graph.edge_ids:
        e = graph.edge(edge_id)
        source, target, rel, weight = e.pop("source"), e.pop("target"), e.pop("relationship"), e.pop("weight")
        del e["id"]
        if weight != 1.0:
            e["weight"] = float(weight)
        lines.append(f"CREATE ({_name(source)})-[{_name(edge_id)}:{_name(rel or 'RELATED')}{_map(e)}]->({_name(target)});")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------------- tokenizer
def _tokens(text: str, path: str) -> list[tuple[str, object, int]]:
    """``(kind, value, line)`` triples; kinds ``name`` (lower-cased keyword in ``word``), ``string``,
    ``number``, ``punct``, ``end``."""
    out, pos, line = [], 0, 1
    n = len(text)
    while pos < n:
        m = TOKEN.match(text, pos)
        if m is None:
            raise format_error(path, line, f"unexpected character {text[pos]!r}")
        kind = m.lastgroup
        if kind == "space":
            line += m.group(0).count("\n")
            pos = m.end()
        elif kind == "comment":
            if m.group(0) == "/*":
                end = text.find("*/", pos + 2)
                if end < 0:
                    raise format_error(path, line, "unterminated comment: '/*' is never closed by '*/'")
                line += text.count("\n", pos, end)
                pos = end + 2
            else:
                pos = m.end()
        elif kind == "string":
            value, pos, start = _string(text, m.end(), m.group(0), path, line)
            out.append(("string", value, start))
            line += text.count("\n", m.start(), pos)
        elif kind == "param":
            raise format_error(path, line, f"parameter {m.group(0)!r}: parameters are not read; write the value")
        elif kind == "name":
            word = m.group(0)
            value = word[1:-1].replace("``", "`") if word.startswith("`") else word
            out.append(("name" if not word.startswith("`") else "quoted", value, line))
            pos = m.end()
        elif kind == "number" and m.group(0).startswith("-") and out and (
                out[-1][0] in ("name", "quoted", "number", "string") or out[-1][1] in (")", "]", "}")):
            out.append(("punct", "-", line))  # a minus after a value is an operator
            pos += 1
        else:
            out.append((kind, m.group(0), line))
            pos = m.end()
    out.append(("end", None, line))
    return out


def _string(text: str, pos: int, quote: str, path: str, line: int) -> tuple[str, int, int]:
    chars, start = [], line
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch == quote:
            return "".join(chars), pos + 1, start
        if ch == "\\":
            nxt = text[pos + 1: pos + 2]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[pos + 2: pos + 6]):
                chars.append(chr(int(text[pos + 2: pos + 6], 16)))
                pos += 6
                continue
            if nxt not in ESCAPES:
                raise format_error(path, line, f"unknown escape '\\{nxt}' in a string")
            chars.append(ESCAPES[nxt])
            pos += 2
            continue
        if ch == "\n":
            line += 1
        chars.append(ch)
        pos += 1
    raise format_error(path, start, f"unterminated string: the {quote} opened here is never closed")


# ---------------------------------------------------------------------- parser
class _Parser:
    def __init__(self, tokens, diagram: Diagram):
        self.t, self.i, self.d = tokens, 0, diagram
        self.vars: dict[str, str] = {}  # variable -> node id
        self.rel_vars: set[str] = set()
        self.anonymous = 0
        # indexes for MERGE and MATCH (a scan per MERGE would make a script of n MERGEs cost n²)
        self.by_property: dict[tuple, list[str]] = {}
        self.by_label: dict[str, list[str]] = {}
        self.by_ends: dict[tuple, list] = {}

    # -- token helpers
    def peek(self, k: int = 0):
        return self.t[min(self.i + k, len(self.t) - 1)]

    def word(self, k: int = 0) -> str | None:
        kind, value, _ = self.peek(k)
        return value.lower() if kind == "name" else None

    def line(self) -> int:
        return self.peek()[2]

    def error(self, message: str):
        return format_error(self.d.path, self.line(), message)

    def expect(self, punct: str):
        kind, value, _ = self.peek()
        if kind != "punct" or value != punct:
            raise self.error(f"expected {punct!r}, found {self.describe()}")
        self.i += 1

    def accept(self, punct: str) -> bool:
        kind, value, _ = self.peek()
        if kind == "punct" and value == punct:
            self.i += 1
            return True
        return False

    def describe(self) -> str:
        kind, value, _ = self.peek()
        return "the end of the file" if kind == "end" else repr(value)

    def name(self) -> str:
        kind, value, _ = self.peek()
        if kind not in ("name", "quoted"):
            raise self.error(f"expected a name, found {self.describe()}")
        self.i += 1
        return value

    # -- statements
    def script(self) -> None:
        while self.peek()[0] != "end":
            if self.accept(";"):
                continue
            if self.peek()[1] == ":" and self.peek()[0] == "punct":  # a cypher-shell command such as :begin
                line = self.line()
                while self.peek()[0] != "end" and self.peek()[2] == line:
                    self.i += 1
                continue
            self.statement()

    def statement(self) -> None:
        bound_here: set[str] = set()
        first = True
        while self.peek()[0] != "end" and not self.accept(";"):
            w = self.word()
            if w == "create" and self.word(1) in ("constraint", "index", "fulltext", "text", "point", "range",
                                                  "lookup", "vector", "btree", "unique", "or", "database"):
                self.skip_statement()
                return
            if w not in CLAUSES or (w == "on" and first):
                found = self.describe()
                raise self.error(f"{found} is not read here: this reader reads CREATE, MERGE, MATCH (single nodes "
                                 "by label and properties), SET and RETURN")
            first = False
            self.i += 1
            if w == "create":
                self.patterns(bound_here, merge=False)
            elif w == "merge":
                created = self.pattern(bound_here, merge=True)
                while self.word() == "on":
                    self.i += 1
                    which = self.word()
                    if which not in ("create", "match") or self.word(1) != "set":
                        raise self.error(f"expected 'ON CREATE SET' or 'ON MATCH SET', found {self.describe()}")
                    self.i += 2
                    self.set_items(apply=(which == "create") == created)
            elif w == "match":
                self.match(bound_here)
            elif w == "set":
                self.set_items(apply=True)
            elif w == "return":
                while self.peek()[0] != "end" and not (self.peek()[0] == "punct" and self.peek()[1] == ";") \
                        and self.word() not in CLAUSES - {"on"}:
                    self.i += 1
            elif w == "on":
                raise self.error("'ON CREATE SET' / 'ON MATCH SET' must follow a MERGE")

    def skip_statement(self) -> None:
        while self.peek()[0] != "end" and not self.accept(";"):
            self.i += 1

    def patterns(self, bound_here: set[str], *, merge: bool) -> None:
        self.pattern(bound_here, merge=merge)
        while self.accept(","):
            self.pattern(bound_here, merge=merge)

    def pattern(self, bound_here: set[str], *, merge: bool) -> bool:
        """One path; returns whether anything was created (for MERGE's ON CREATE / ON MATCH)."""
        created, path_var = False, None
        if self.peek()[0] in ("name", "quoted") and self.peek(1)[1] == "=":
            path_var = self.name()
            self.expect("=")
        left, made = self.node_pattern(bound_here, merge=merge, create=True)
        created |= made
        while self.peek()[0] == "punct" and self.peek()[1] in ("-", "<"):
            line = self.line()
            backwards = self.accept("<")
            self.expect("-")
            var, types, props = None, [], {}
            if self.accept("["):
                if self.peek()[0] in ("name", "quoted"):
                    var = self.name()
                if self.accept(":"):
                    types.append(self.name())
                    while self.accept("|"):
                        types.append(self.name())
                if self.peek()[1] == "*":
                    raise self.error("variable-length relationships ('*') cannot be created")
                if self.peek()[1] == "{":
                    props = self.map_literal(0)
                self.expect("]")
            self.expect("-")
            forwards = self.accept(">")
            if backwards and forwards:
                raise self.error("a relationship points one way: '<-...->' is not Cypher")
            if not merge and not (backwards or forwards):
                raise self.error("CREATE needs a direction on every relationship ('->' or '<-')")
            if len(types) != 1:
                raise self.error("a relationship to create needs exactly one type, as in -[:KNOWS]->")
            right, made = self.node_pattern(bound_here, merge=merge, create=True)
            created |= made
            source, target = (right, left) if backwards else (left, right)
            created |= self.relationship(var, types[0], props, source, target, line, merge)
            left = right
        if path_var:
            self.rel_vars.add(path_var)
        return created

    def relationship(self, var, rel_type, props, source, target, line, merge) -> bool:
        weight = props.pop("weight", 1.0) if isinstance(props.get("weight"), (int, float)) \
            and not isinstance(props.get("weight"), bool) else 1.0
        if merge:
            for e in self.by_ends.get((source, target, rel_type), []):
                if e.properties == props and e.weight == weight:
                    return False
        if var is not None and var in self.d.edge_index:
            raise format_error(self.d.path, line, f"relationship variable {var!r} is used twice; relationships "
                               "cannot be bound again")
        edge = self.d.add_edge(source, target, edge_id=var, line=line, relationship=rel_type, weight=float(weight),
                               properties=props)
        self.by_ends.setdefault((source, target, rel_type), []).append(edge)
        if var is not None:
            self.rel_vars.add(var)
        return True

    def node_pattern(self, bound_here: set[str], *, merge: bool, create: bool) -> tuple[str, bool]:
        line = self.line()
        self.expect("(")
        var = self.name() if self.peek()[0] in ("name", "quoted") else None
        labels = []
        while self.accept(":"):
            labels.append(self.name())
        props = self.map_literal(0) if self.peek()[1] == "{" else {}
        self.expect(")")
        if var is not None and var in self.vars and not labels and not props:
            return self.vars[var], False  # a bound variable
        if var is not None and var in bound_here:
            raise format_error(self.d.path, line, f"variable {var!r} is already bound in this statement; "
                               f"write ({var}) to name that node")
        if merge:
            found = self.find(labels, props)
            if found is not None:
                if var is not None:
                    self.vars[var] = found
                    bound_here.add(var)
                return found, False
        node = self.new_node(var, labels, props, line)
        if var is not None:
            bound_here.add(var)
        return node.node_id, True

    def new_node(self, var, labels, props, line) -> DiagramNode:
        if var is None:
            node_id = f"n{self.anonymous}"
            self.anonymous += 1
            while node_id in self.d.nodes:
                node_id = f"n{self.anonymous}"
                self.anonymous += 1
        else:
            node_id, k = var, 1
            while node_id in self.d.nodes:
                k += 1
                node_id = f"{var}_{k}"
            self.vars[var] = node_id
        node = self.d.node(node_id, line=line)
        node.label = labels[0] if labels else ""
        node.properties.update({k: v for k, v in props.items() if v is not None})
        if len(labels) > 1:
            node.properties["labels"] = list(labels)
        self.index(node_id, labels, node.properties)
        return node

    def index(self, node_id: str, labels, props: dict) -> None:
        for label in labels:
            self.by_label.setdefault(label, []).append(node_id)
        for k, v in props.items():
            self.by_property.setdefault((k, _canonical(v)), []).append(node_id)

    def matches(self, labels, props) -> list[str]:
        """Ids of the nodes made so far that have ``labels`` and ``props``, in the order they were made."""
        if props:
            candidates = min((self.by_property.get((k, _canonical(v)), []) for k, v in props.items()), key=len)
        elif labels:
            candidates = self.by_label.get(labels[0], [])
        else:
            candidates = list(self.d.nodes)
        out = []
        for node_id in dict.fromkeys(candidates):
            node = self.d.nodes[node_id]
            have = [node.label] + list(node.properties.get("labels", []))
            if all(x in have for x in labels) and all(node.properties.get(k) == v for k, v in props.items()):
                out.append(node_id)
        return out

    def find(self, labels, props) -> str | None:
        found = self.matches(labels, props)
        return found[0] if found else None

    def match(self, bound_here: set[str]) -> None:
        while True:
            line = self.line()
            self.expect("(")
            var = self.name() if self.peek()[0] in ("name", "quoted") else None
            labels = []
            while self.accept(":"):
                labels.append(self.name())
            props = self.map_literal(0) if self.peek()[1] == "{" else {}
            self.expect(")")
            if self.peek()[1] in ("-", "<"):
                raise self.error("MATCH of relationships is not read; MATCH single nodes, then CREATE or MERGE")
            found = self.matches(labels, props)
            if len(found) != 1:
                what = "no node" if not found else f"{len(found)} nodes ({', '.join(found[:5])})"
                raise format_error(self.d.path, line, f"MATCH ({var or ''}{''.join(':' + x for x in labels)} "
                                   f"{props or ''}) finds {what} made earlier in the file; it must find exactly one")
            if var is not None:
                self.vars[var] = found[0]
                bound_here.add(var)
            if not self.accept(","):
                return

    def set_items(self, *, apply: bool) -> None:
        while True:
            line = self.line()
            var = self.name()
            if var not in self.vars and var not in self.rel_vars:
                raise format_error(self.d.path, line, f"SET names {var!r}, which no pattern bound")
            target = self.target(var)
            if self.accept(":"):
                labels = [self.name()]
                while self.accept(":"):
                    labels.append(self.name())
                if apply and isinstance(target, DiagramNode):
                    have = [target.label] if target.label else []
                    have += [x for x in target.properties.get("labels", []) if x not in have]
                    have += [x for x in labels if x not in have]
                    target.label = have[0]
                    if len(have) > 1:
                        target.properties["labels"] = have
                    self.index(target.node_id, labels, {})
            elif self.accept("."):
                key = self.name()
                self.expect("=")
                value = self.value(0)
                if apply:
                    self.assign(target, {key: value})
                    if isinstance(target, DiagramNode):
                        self.index(target.node_id, [], {key: value} if value is not None else {})
            elif self.accept("+="):
                value = self.map_literal(0)
                if apply:
                    self.assign(target, value)
                    if isinstance(target, DiagramNode):
                        self.index(target.node_id, [], {k: v for k, v in value.items() if v is not None})
            else:
                raise self.error(f"expected '.key = value', ':Label' or '+= {{...}}' after SET {var}, found {self.describe()}")
            if not self.accept(","):
                return

    def target(self, var):
        if var in self.vars:
            return self.d.nodes[self.vars[var]]
        return next(e for e in self.d.edges if e.edge_id == var)

    @staticmethod
    def assign(target, values: dict) -> None:
        for k, v in values.items():
            if v is None:
                target.properties.pop(k, None)
            elif k == "weight" and not isinstance(target, DiagramNode) and isinstance(v, (int, float)) \
                    and not isinstance(v, bool):
                target.weight = float(v)
            else:
                target.properties[k] = v

    # -- literals
    def value(self, depth: int):
        if depth > MAX_DEPTH:
            raise self.error(f"lists and maps nested deeper than {MAX_DEPTH}")
        kind, value, _ = self.peek()
        if kind == "string":
            self.i += 1
            return value
        if kind == "number" or (kind == "punct" and value == "-" and self.peek(1)[0] == "number"):
            sign = -1 if kind == "punct" else 1
            if kind == "punct":
                self.i += 1
            text = self.peek()[1]
            self.i += 1
            number = float(text) if any(c in text for c in ".eE") else int(text)
            return sign * number
        if kind == "name" and value.lower() in ("true", "false", "null"):
            self.i += 1
            return {"true": True, "false": False, "null": None}[value.lower()]
        if kind == "punct" and value == "[":
            self.i += 1
            items = []
            if not self.accept("]"):
                items.append(self.value(depth + 1))
                while self.accept(","):
                    items.append(self.value(depth + 1))
                self.expect("]")
            return items
        if kind == "punct" and value == "{":
            return self.map_literal(depth + 1)
        if kind in ("name", "quoted") and self.peek(1)[1] == "(":
            raise self.error(f"function call {value}(...) in a value: write the value itself")
        raise self.error(f"expected a value (string, number, true/false/null, list or map), found {self.describe()}")

    def map_literal(self, depth: int) -> dict:
        if depth > MAX_DEPTH:
            raise self.error(f"lists and maps nested deeper than {MAX_DEPTH}")
        self.expect("{")
        out = {}
        if self.accept("}"):
            return out
        while True:
            key = self.name()
            self.expect(":")
            out[key] = self.value(depth + 1)
            if self.accept("}"):
                return out
            self.expect(",")


def _canonical(v):
    """A hashable key under which equal Cypher values meet (``1`` and ``1.0`` alike, ``true`` apart)."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, (int, float)):
        return ("number", float(v))
    return ("json", json.dumps(v, sort_keys=True, default=str))


def _name(s) -> str:
    s = str(s)
    return s if re.fullmatch(r"[A-Za-z_]\w*", s) else "`" + s.replace("`", "``") + "`"


def _map(props: dict) -> str:
    if not props:
        return ""
    return " {" + ", ".join(f"{_name(k)}: {_literal(v)}" for k, v in props.items()) + "}"


def _literal(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_literal(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_name(k)}: {_literal(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v), ensure_ascii=False)
