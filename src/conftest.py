"""Doctest collection over the package: ``make test`` runs ``pytest --doctest-modules src/alchemist``.

Two kinds of module are not imported for their doctests (they have none):

- the CUDA kernels (``_cuda*.py``): they are the GPU path only and are tested by the
  ``cudasim`` session (``NUMBA_ENABLE_CUDASIM=1 pytest -m cudasim``, which must switch the
  simulator on before Numba is imported) and on a real GPU;
- a module that imports an optional dependency at its top level (the ``gpu`` extra, CuPy) when
  that dependency is not installed, so that the doctests run on a machine without it.

This file lives in ``src/`` beside the package, so it is not part of the wheel.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

# top-level packages of the optional extras that a module may import at its top level
OPTIONAL = ("cupy", "cupyx")


def pytest_ignore_collect(collection_path: Path, config):
    """True for the modules described above (None: let pytest decide)."""
    path = Path(collection_path)
    if path.suffix != ".py":
        return None
    if path.name.startswith("_cuda"):
        return True
    missing = [name for name in _top_level_imports(path) if name in OPTIONAL and importlib.util.find_spec(name) is None]
    return True if missing else None


def _top_level_imports(path: Path) -> set[str]:
    """First components of the modules that ``path`` imports at its top level."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return set()
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names
