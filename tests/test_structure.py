"""The shape of the source tree (issue 14), checked with ``ast`` over ``src/alchemist``.

- No module is over 800 lines (a reader can hold it), but for the ones in :data:`ALLOWED_LONG`.
- No module uses another module's private names: neither ``from x import _name`` nor
  ``x._name`` on an imported module, and no private module (``_name.py``) is imported from
  outside its own package. A package's own private modules (``from alchemist.graph import
  _query_kernels`` inside ``alchemist.graph``) are the package's business, and their names without
  an underscore are public to it. :data:`KNOWN` lists the uses that remain outside the areas
  already cleaned.

``python tests/test_structure.py`` also prints the imports made inside functions, per module (not
enforced: some break an import cycle or put off a costly import, such as Numba or pyarrow).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
MAX_LINES = 800

# Modules allowed over MAX_LINES (none: issue 14 split them all).
ALLOWED_LONG: set[str] = set()

# Cross-module uses of private names allowed (none).
KNOWN: set[str] = set()


def _modules(src: Path) -> dict[str, Path]:
    """Dotted name -> file of every module under src/alchemist."""
    out = {}
    for path in sorted((src / "alchemist").rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _package(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _owner(module: str) -> str | None:
    """The package a private module belongs to (``alchemist.graph`` for
    ``alchemist.graph._intern``), or None when no segment of the name is private."""
    parts = module.split(".")
    for i, part in enumerate(parts):
        if _private(part):
            return ".".join(parts[:i])
    return None


def _inside(package: str, owner: str) -> bool:
    return package == owner or package.startswith(owner + ".")


def _absolute(node: ast.ImportFrom, package: str) -> str | None:
    if node.level == 0:
        return node.module
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_uses(src: Path = SRC) -> set[str]:
    """Every cross-module use of a private name in src/alchemist, as "module: use"."""
    modules = _modules(src)
    found = set()
    for me, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = _package(me, path)
        bound: dict[str, str] = {}  # local name -> alchemist module it names

        def check_module(module: str, text: str) -> None:
            owner = _owner(module)
            if owner is not None and not _inside(package, owner):
                found.add(f"{me}: {text}")

        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                module = _absolute(node, package)
                if not module or not module.startswith("alchemist"):
                    continue
                for alias in node.names:
                    text = f"from {module} import {alias.name}"
                    full = f"{module}.{alias.name}"
                    check_module(full if full in modules else module, text)
                    if full in modules:
                        bound[alias.asname or alias.name] = full
                    elif _private(alias.name):
                        found.add(f"{me}: {text}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("alchemist"):
                        check_module(alias.name, f"import {alias.name}")
                        if alias.asname:  # "import alchemist.x.y as z" binds z to alchemist.x.y
                            bound[alias.asname] = alias.name
                        else:  # "import alchemist.x.y" binds alchemist
                            bound["alchemist"] = "alchemist"
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name)
                    and node.value.id in bound):
                module = bound[node.value.id]
                full = f"{module}.{node.attr}"
                if full in modules and _inside(package, module):
                    continue  # a private submodule of the importer's own package
                found.add(f"{me}: {node.value.id}.{node.attr}")
    return found


def long_modules() -> dict[str, int]:
    """Modules over :data:`MAX_LINES` lines, as path under src -> lines."""
    out = {}
    for path in sorted((SRC / "alchemist").rglob("*.py")):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            out[path.relative_to(SRC).as_posix()] = n
    return out


def function_imports() -> dict[str, int]:
    """Number of import statements inside functions, per module (only modules that have some)."""
    out = {}
    for me, path in _modules(SRC).items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        count = 0
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                count += sum(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(fn))
        if count:
            out[me] = count
    return out


def test_no_module_is_over_800_lines():
    too_long = {path: n for path, n in long_modules().items() if path not in ALLOWED_LONG}
    assert not too_long, f"modules over {MAX_LINES} lines: {too_long}; split them (one idea per module)"


def test_no_module_uses_another_modules_private_names():
    new = private_uses() - KNOWN
    assert not new, ("private names used across modules (make them public inside their package, "
                     f"or move them): {sorted(new)}")


def test_the_checker_sees_each_kind_of_private_use(tmp_path):
    """The checker itself, on a small tree: each kind of use it must catch, and what it must let pass."""
    pkg = tmp_path / "alchemist"
    for name in ("a", "b"):
        (pkg / name).mkdir(parents=True)
        (pkg / name / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "_kernels.py").write_text("def run():\n    pass\n")
    (pkg / "a" / "base.py").write_text("def _helper():\n    pass\n\ndef helper():\n    pass\n")
    (pkg / "a" / "user.py").write_text(
        "from alchemist.a import _kernels\nfrom alchemist.a._kernels import run\nfrom alchemist.a.base import helper\n"
        "from . import base\n\ndef f():\n    return _kernels.run(), base.helper()\n")
    (pkg / "b" / "user.py").write_text(
        "from alchemist.a.base import _helper\nfrom alchemist.a import base\nfrom alchemist.a._kernels import run\n\n"
        "def f():\n    return base._helper()\n")
    assert private_uses(tmp_path) == {
        "alchemist.b.user: from alchemist.a.base import _helper",
        "alchemist.b.user: from alchemist.a._kernels import run",
        "alchemist.b.user: base._helper",
    }


if __name__ == "__main__":
    for module, n in sorted(function_imports().items(), key=lambda kv: -kv[1]):
        print(f"{n:4d}  {module}")
