"""Optional dependencies: import one, or say in one line which package is missing and how to install it.

The extras of ``pyproject.toml`` (``dashboard``, ``holoviews``, ``dask``, ``gpu``, ``learn``) each
enable one feature; the functions that need them call :func:`require` instead of importing, so a
user without the extra gets :class:`~alchemist.errors.MissingDependencyError` naming the package,
the extra and the command, not a bare ``ModuleNotFoundError`` from deep inside a library.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from alchemist.errors import MissingDependencyError

__all__ = ["require", "missing"]


def require(module: str, *, extra: str, feature: str, package: str | None = None) -> ModuleType:
    """Import an optional module, or raise an error that says how to install it.

    Parameters
    ----------
    module : str
        The module to import (``"holoviews"``, ``"datashader.bundling"``).
    extra : str
        The extra of ``pyproject.toml`` that installs it (``"holoviews"``).
    feature : str
        What needs it, for the message (``"render.graph_element"``).
    package : str, optional
        The distribution's name when it differs from the module's (``"scikit-learn"`` for ``sklearn``).

    Returns
    -------
    module
        The imported module.

    Raises
    ------
    MissingDependencyError
        If the module (or a package it imports) is not installed.

    Examples
    --------
    >>> require("json", extra="none", feature="a doctest").__name__
    'json'
    >>> require("no_such_module_here", extra="learn", feature="fit()")
    Traceback (most recent call last):
    ...
    alchemist.errors.MissingDependencyError: fit() needs no_such_module_here, which is not installed: pip install 'alchemist[learn]'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        name = package or (exc.name or module).split(".")[0]
        raise MissingDependencyError(f"{feature} needs {name}, which is not installed: "
                                     f"pip install 'alchemist[{extra}]'") from None


def missing(module: str) -> bool:
    """Whether a top-level module cannot be found (without importing it).

    Parameters
    ----------
    module : str

    Returns
    -------
    bool

    Examples
    --------
    >>> missing("json"), missing("no_such_module_here")
    (False, True)
    """
    return importlib.util.find_spec(module) is None
